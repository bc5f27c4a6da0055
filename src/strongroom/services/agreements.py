"""Agreements: operators publish DPA and SCC versions (immutable once published), owners
accept the newest DPA for their workspace and get a signed receipt, and a newer version
asks every workspace that accepted an earlier one to accept again by its effective date.

Accepting, step by step: the version must be the newest DPA, and the caller an owner;
the receipt is signed with the deployment's key before the transaction, then the
acceptance row (with the receipt sealed under the directory key: it names the owner,
their address and user agent) and its audit event are written together, or neither.
"""

from __future__ import annotations

import builtins
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from strongroom import ids
from strongroom.crypto import receipts
from strongroom.crypto.certificates import key_fingerprint
from strongroom.crypto.envelope import Binding
from strongroom.crypto.keyring import DIRECTORY
from strongroom.domain import agreements as rules
from strongroom.domain.agreements import AgreementKind, Published, Standing, Status
from strongroom.domain.lifecycle import effective_state
from strongroom.domain.model import WorkspaceState
from strongroom.domain.promises import Verdict
from strongroom.domain.roles import Role
from strongroom.domain.rules import check_email
from strongroom.errors import Conflict, IntegrityFailure, InvalidInput, NotFound
from strongroom.services import audit
from strongroom.services.context import Context
from strongroom.services.guards import require_workspace
from strongroom.services.workspaces import directory_index, user_email
from strongroom.storage.repositories.agreements import AcceptanceRow, AgreementVersionRow
from strongroom.storage.unit_of_work import DataUnitOfWork

#: Bounds of what a client says about itself (kept in the receipt, sealed at rest).
MAX_ADDRESS = 64
MAX_USER_AGENT = 512
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f]")
_IN_USE = {WorkspaceState.TRIAL, WorkspaceState.ACTIVE, WorkspaceState.CANCELLED}
#: The audit event of a publication: it records the text's SHA-256 in the hash-linked
#: chain, which the promise check compares each stored text with.
PUBLISHED = "agreement.publish"


@dataclass(frozen=True)
class AgreementVersion:
    kind: AgreementKind
    version: str
    sha256: str
    effective_on: date
    scc_version: str | None
    published_at: datetime
    body: str

    def as_json(self, with_body: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind.value,
            "version": self.version,
            "sha256": self.sha256,
            "effective_on": self.effective_on.isoformat(),
            "scc_version": self.scc_version,
            "published_at": self.published_at.isoformat(),
        }
        if with_body:
            out["body"] = self.body
        return out


@dataclass(frozen=True)
class Acceptor:
    """Who accepts: a user (session, console, CLI by email) or an API token, with their
    role in the workspace as the caller's check found it."""

    role: Role | None
    user_id: str | None = None
    token_id: str | None = None


def _version(row: AgreementVersionRow) -> AgreementVersion:
    return AgreementVersion(
        AgreementKind(row.kind),
        row.version,
        row.sha256,
        row.effective_on,
        row.scc_version,
        row.published_at,
        row.body,
    )


def _receipt_binding(acceptance_id: str) -> Binding:
    return Binding("agreement-receipt", "", "", acceptance_id)


def client_text(value: str | None, limit: int) -> str | None:
    """What a client says about itself, printable and bounded (it goes into a receipt)."""
    if value is None:
        return None
    return _UNPRINTABLE.sub("?", value)[:limit] or None


class Agreements:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    # publishing (operators) -----------------------------------------------------------
    def publish(
        self,
        kind: str,
        version: str,
        body: bytes,
        effective_on: date,
        scc_version: str | None = None,
        actor: str = "system",
    ) -> AgreementVersion:
        """Publish a version: its text and SHA-256 are fixed from now on. A DPA names the
        SCC version it incorporates (the newest published one if not given)."""
        parsed = rules.parse_kind(kind)
        rules.check_version(version)
        text = rules.check_body(body)
        now = self.ctx.clock.now()
        rules.check_effective(effective_on, now)
        with self.ctx.store.write() as uow:
            # Versions are ordered by publication time: each strictly after the one before,
            # even when the clock stands still or steps back.
            newest = uow.agreements.newest_publication()
            if newest is not None and now <= newest:
                now = newest + timedelta(microseconds=1)
            scc = self._incorporated(uow, parsed, scc_version)
            row = AgreementVersionRow(
                ids.new_id("agreement"),
                parsed.value,
                version,
                text,
                rules.body_sha256(text),
                effective_on,
                scc,
                now,
                actor[:128],
            )
            uow.agreements.publish(row)
            audit.append(
                uow,
                now,
                actor,
                PUBLISHED,
                None,
                kind=parsed.value,
                version=version,
                sha256=row.sha256,
                effective_on=effective_on.isoformat(),
                scc_version=scc,
            )
            uow.commit()
        return _version(row)

    def _incorporated(
        self, uow: DataUnitOfWork, kind: AgreementKind, scc_version: str | None
    ) -> str | None:
        if kind is AgreementKind.SCC:
            if scc_version is not None:
                raise InvalidInput("only a DPA incorporates an SCC version")
            return None
        if scc_version is None:
            published = uow.agreements.versions(AgreementKind.SCC)
            if not published:
                raise InvalidInput("publish the SCCs first: a DPA incorporates an SCC version")
            return published[-1].version
        rules.check_version(scc_version)
        if uow.agreements.version(AgreementKind.SCC, scc_version) is None:
            raise InvalidInput(f"no SCC version {scc_version} is published")
        return scc_version

    def list(self, kind: str | None = None) -> builtins.list[AgreementVersion]:
        """Every version (of one kind), oldest first."""
        parsed = None if kind is None else rules.parse_kind(kind)
        with self.ctx.store.read() as uow:
            return [_version(r) for r in uow.agreements.versions(parsed)]

    def get(self, kind: str, version: str) -> AgreementVersion:
        parsed = rules.parse_kind(kind)
        rules.check_version(version)
        with self.ctx.store.read() as uow:
            row = uow.agreements.version(parsed, version)
        if row is None:
            raise NotFound(f"no {parsed.value} version {version}")
        return _version(row)

    def current(self, kind: str) -> AgreementVersion:
        """The newest published version of ``kind``; NotFound if none is."""
        versions = self.list(kind)
        if not versions:
            raise NotFound(f"no {kind} version is published")
        return versions[-1]

    # accepting (owners) ---------------------------------------------------------------
    def accept(
        self,
        workspace_id: str,
        version: str,
        acceptor: Acceptor,
        client_address: str | None = None,
        user_agent: str | None = None,
        actor: str = "system",
    ) -> dict[str, Any]:
        """Accept DPA ``version`` for the workspace; returns the signed receipt."""
        ids.check_id("workspace", workspace_id)
        rules.check_version(version)
        rules.check_may_accept(acceptor.role)
        key = self.ctx.keyring.signing_key()
        who = self._who(acceptor)  # decrypted before the write: a failure audits on its own
        now = self.ctx.clock.now()
        acceptance_id = ids.new_id("acceptance")
        with self.ctx.store.write() as uow:
            require_workspace(uow, workspace_id)
            dpa = self._acceptable(uow, workspace_id, version)
            scc = uow.agreements.version(AgreementKind.SCC, dpa.scc_version or "")
            receipt = receipts.issue(
                {
                    "receipt_id": acceptance_id,
                    "workspace_id": workspace_id,
                    "accepted_by": who,
                    "agreement": _named(dpa),
                    "incorporates": None if scc is None else _named(scc),
                    "client": {
                        "address": client_text(client_address, MAX_ADDRESS),
                        "user_agent": client_text(user_agent, MAX_USER_AGENT),
                    },
                },
                key,
                now,
            )
            text = json.dumps(receipt, sort_keys=True).encode()
            sealed = self.ctx.seal(DIRECTORY, _receipt_binding(acceptance_id), text)
            sha = receipts.digest(receipt)
            uow.agreements.accept(
                AcceptanceRow(
                    acceptance_id,
                    workspace_id,
                    dpa.id,
                    dpa.sha256,
                    acceptor.user_id,
                    now,
                    sealed,
                    sha,
                )
            )
            audit.append(
                uow,
                now,
                actor,
                "agreement.accept",
                workspace_id,
                acceptance_id=acceptance_id,
                kind=dpa.kind,
                version=dpa.version,
                sha256=dpa.sha256,
                receipt_sha256=sha,
            )
            uow.commit()
        return receipt

    def accept_as(
        self, workspace_id: str, version: str, email: str, actor: str = "system"
    ) -> dict[str, Any]:
        """Accept as the owner with this email (embedded use, the CLI)."""
        ids.check_id("workspace", workspace_id)
        index = directory_index(self.ctx, check_email(email))
        with self.ctx.store.read() as uow:
            require_workspace(uow, workspace_id)
            user = uow.users.find_by_email_index(index)
            member = None if user is None else uow.members.get(workspace_id, user.id)
        if user is None or member is None:
            raise NotFound(f"no member with that email in {workspace_id}")
        return self.accept(workspace_id, version, Acceptor(Role(member.role), user.id), actor=actor)

    def _acceptable(
        self, uow: DataUnitOfWork, workspace_id: str, version: str
    ) -> AgreementVersionRow:
        versions = uow.agreements.versions(AgreementKind.DPA)
        row = next((v for v in versions if v.version == version), None)
        if row is None:
            raise NotFound(f"no dpa version {version}")
        if row is not versions[-1]:
            raise Conflict(f"dpa version {version} is superseded: accept {versions[-1].version}")
        if any(v == row.id for _ws, v, _at in uow.agreements.accepted(workspace_id)):
            raise Conflict(f"{workspace_id} already accepted dpa version {version}")
        return row

    def _who(self, acceptor: Acceptor) -> dict[str, Any]:
        if acceptor.user_id is None:
            return {"token_id": acceptor.token_id, "role": Role.OWNER.value}
        with self.ctx.store.lookup() as uow:
            user = uow.users.get(acceptor.user_id)
        if user is None:
            raise NotFound(f"no user {acceptor.user_id}")
        email = user_email(self.ctx, user.id, user.email_sealed, "agreements")
        return {"user_id": user.id, "email": email, "role": Role.OWNER.value}

    def receipts(self, workspace_id: str, actor: str = "system") -> builtins.list[dict[str, Any]]:
        """The workspace's signed receipts, oldest first (opened from the directory key)."""
        ids.check_id("workspace", workspace_id)
        with self.ctx.store.read() as uow:
            found = uow.agreements.acceptances(workspace_id)
        out = []
        for row in found:
            text = self.ctx.open(DIRECTORY, _receipt_binding(row.id), row.receipt_sealed, actor)
            out.append(json.loads(text))
        return out

    # verifying ------------------------------------------------------------------------
    def verify_receipt(self, text: str | bytes) -> dict[str, Any]:
        """Check a receipt: signed by this deployment's key, recorded unchanged, and the
        text it names still hashing to the SHA-256 it names. IntegrityFailure names the
        first check that fails."""
        document = receipts.parse(text)
        public = receipts.check_signature(document, self.ctx.keyring.public_keys())
        sha = receipts.digest(document)
        receipt_id = str(document.get("receipt_id", ""))
        if not ids.is_id("acceptance", receipt_id):
            raise IntegrityFailure("the receipt names no acceptance")
        with self.ctx.store.read() as uow:
            row = uow.agreements.acceptance(receipt_id)
            versions = {v.id: v for v in uow.agreements.versions()}
        if row is None:
            raise IntegrityFailure(f"this deployment recorded no acceptance {receipt_id}")
        if row.receipt_sha256 != sha:
            raise IntegrityFailure("the receipt differs from the one recorded at acceptance")
        accepted = versions[row.version_id]
        if rules.body_sha256(accepted.body) != row.sha256:
            raise IntegrityFailure("the accepted text no longer hashes to its recorded SHA-256")
        return {
            "valid": True,
            "receipt_id": receipt_id,
            "workspace_id": row.workspace_id,
            "kind": accepted.kind,
            "version": accepted.version,
            "sha256": row.sha256,
            "accepted_at": row.accepted_at.isoformat(),
            "receipt_sha256": sha,
            "signing_key": key_fingerprint(public),
        }

    # standing -------------------------------------------------------------------------
    def status(self, workspace_id: str) -> Status:
        """Where the workspace stands with the DPA, now."""
        ids.check_id("workspace", workspace_id)
        with self.ctx.store.read() as uow:
            workspace = require_workspace(uow, workspace_id)
            versions = uow.agreements.versions(AgreementKind.DPA)
            accepted = uow.agreements.accepted(workspace_id)
        found = self._standing(versions, accepted, {workspace_id: workspace.created_at}, None)
        return found[workspace_id]

    def statuses(self, now: datetime | None = None) -> dict[str, Status]:
        """The standing of every workspace in use (trial, active, or cancelled and in its
        export window: its data is still processed), by workspace id. An ended trial is
        left out: nobody can use it, nor accept anything in it, until it is activated."""
        now = now or self.ctx.clock.now()
        with self.ctx.store.read() as uow:
            in_use = {
                w.id: w.created_at
                for w in uow.workspaces.list()
                if effective_state(w.state, w.trial_ends_at, now) in _IN_USE
            }
            versions = uow.agreements.versions(AgreementKind.DPA)
            accepted = uow.agreements.accepted()
        return self._standing(versions, accepted, in_use, now)

    def _standing(
        self,
        versions: Iterable[AgreementVersionRow],
        accepted: Iterable[tuple[str, str, datetime]],
        created: dict[str, datetime],
        now: datetime | None,
    ) -> dict[str, Status]:
        days = self.ctx.settings.dpa_first_acceptance_days
        return _standing(versions, accepted, created, now or self.ctx.clock.now(), days)

    def verdict(self, now: datetime) -> Verdict:
        """The trust page's "a DPA incorporating the EU SCCs; no modifications" promise."""
        with self.ctx.store.read() as uow:
            versions = [_version(r) for r in uow.agreements.versions()]
            recorded = _recorded_hashes(uow.audit.subjects(PUBLISHED))
        return _verdict(versions, recorded, self.statuses(now))


def _named(row: AgreementVersionRow) -> dict[str, Any]:
    return {
        "kind": row.kind,
        "version": row.version,
        "sha256": row.sha256,
        "effective_on": row.effective_on.isoformat(),
    }


def _standing(
    versions: Iterable[AgreementVersionRow],
    accepted: Iterable[tuple[str, str, datetime]],
    created: dict[str, datetime],
    now: datetime,
    first_acceptance_days: int,
) -> dict[str, Status]:
    """Standing of each workspace in ``created`` (workspace id: when it was created)."""
    rows = list(versions)
    labels = {r.id: r.version for r in rows}
    published = [Published(r.version, r.effective_on) for r in rows]
    by_workspace: dict[str, dict[str, datetime]] = {ws: {} for ws in created}
    for ws, version_id, at in accepted:
        if ws in by_workspace:
            by_workspace[ws][labels[version_id]] = at
    return {
        ws: rules.standing(
            published,
            taken,
            now,
            created_at=created[ws],
            first_acceptance_days=first_acceptance_days,
        )
        for ws, taken in by_workspace.items()
    }


def _recorded_hashes(subjects: Iterable[str]) -> dict[tuple[str, str], str]:
    """(kind, version): the SHA-256 its first ``agreement.publish`` event recorded."""
    out: dict[tuple[str, str], str] = {}
    for subject in subjects:
        fields = json.loads(subject)
        key = (str(fields.get("kind")), str(fields.get("version")))
        out.setdefault(key, str(fields.get("sha256")))
    return out


def _verdict(
    versions: builtins.list[AgreementVersion],
    recorded: dict[tuple[str, str], str],
    statuses: dict[str, Status],
) -> Verdict:
    # Each text is compared with the hash the audit chain recorded when it was published,
    # not with the one stored beside it, which whoever replaced the text could rewrite too.
    unrecorded = [v for v in versions if (v.kind.value, v.version) not in recorded]
    if unrecorded:
        names = ", ".join(f"{v.kind.value} {v.version}" for v in unrecorded)
        return Verdict.failed(f"no publication recorded in the audit chain for: {names}")
    altered = [
        v
        for v in versions
        if {v.sha256, rules.body_sha256(v.body)} != {recorded[(v.kind.value, v.version)]}
    ]
    if altered:
        names = ", ".join(f"{v.kind.value} {v.version}" for v in altered)
        return Verdict.failed(
            f"stored text no longer matches the SHA-256 recorded at publication: {names}"
        )
    dpas = [v for v in versions if v.kind is AgreementKind.DPA]
    sccs = {v.version: v for v in versions if v.kind is AgreementKind.SCC}
    if not dpas:
        return Verdict.failed("no DPA version is published")
    dpa = dpas[-1]
    scc = sccs.get(dpa.scc_version or "")
    if scc is None:
        return Verdict.failed(f"DPA {dpa.version} names no published SCC version")
    overdue = [s for s in statuses.values() if s.standing is Standing.OVERDUE]
    if overdue:
        never = sum(s.accepted is None for s in overdue)
        return Verdict.failed(
            f"{len(overdue)} workspace(s) past the date to accept DPA {dpa.version} "
            f"without a valid acceptance ({never} of them never accepted any version)"
        )
    current = sum(s.standing is Standing.CURRENT for s in statuses.values())
    due = sum(s.standing is Standing.REACCEPT_DUE for s in statuses.values())
    first = sum(s.standing is Standing.NOT_ACCEPTED for s in statuses.values())
    return Verdict.passed(
        f"DPA {dpa.version} (sha256 {dpa.sha256[:12]}…) incorporates SCC {scc.version} "
        f"(sha256 {scc.sha256[:12]}…); all {len(versions)} published texts match the hashes "
        f"recorded at publication; {current} of {len(statuses)} workspaces accepted it, "
        f"{due} re-acceptance(s) due, {first} first acceptance(s) due, none overdue"
    )
