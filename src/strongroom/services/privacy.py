"""Privacy requests: a data subject's request to a workspace, kept on the law's clock.

The subject's identifiers are stored sealed under the workspace's key, and as blind-index
digests per kind (the same digests a collection's personal fields are indexed by), never in
clear and never in the audit log. Every change of state is an audit event naming the
request, the actor and the time.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Protocol

from strongroom import ids
from strongroom.crypto.blind_index import BlindIndexer
from strongroom.crypto.envelope import Binding
from strongroom.domain import privacy_clock as clock
from strongroom.domain.model import ObjectState
from strongroom.domain.personal import PersonalKind, normalise, parse_path
from strongroom.domain.privacy import (
    CLOSED,
    Answered,
    Identifier,
    Match,
    PrivacyRequest,
    RequestState,
    RequestType,
    Work,
    check_work,
    parse_type,
    report,
)
from strongroom.domain.roles import Action
from strongroom.domain.rules import check_text
from strongroom.errors import Conflict, InvalidInput, NotFound, UndeclaredField
from strongroom.services import audit
from strongroom.services.context import Context
from strongroom.services.erasure import Erasure, ErasureStatus
from strongroom.services.guards import require_usable, require_workspace
from strongroom.services.records import Records
from strongroom.storage.rows import LocatedRow, PrivacyRequestRow
from strongroom.storage.unit_of_work import DataUnitOfWork

MAX_IDENTIFIERS = 20
MAX_IDENTIFIER_CHARS = 320
MAX_TEXT = 2000
MAX_CHANNEL = 64
OPEN_STATES = frozenset(s.value for s in RequestState if s not in CLOSED)


def _binding(workspace_id: str, request_id: str, part: str) -> Binding:
    return Binding("privacy-request", workspace_id, part, request_id)


def parse_law(value: str) -> clock.Law:
    try:
        return clock.Law(value)
    except ValueError:
        names = ", ".join(law.value for law in clock.Law)
        raise InvalidInput(f"unknown law {value[:32]!r}; choose one of {names}") from None


def _text(kind: str, value: str, limit: int, *, required: bool = True) -> str:
    value = check_text(kind, value).strip()
    if required and not value:
        raise InvalidInput(f"the {kind} cannot be empty")
    if len(value) > limit:
        raise InvalidInput(f"the {kind} has at most {limit} characters")
    return value


def _identifiers(given: Sequence[tuple[str, str]]) -> tuple[Identifier, ...]:
    if not given:
        raise InvalidInput(
            "a request names its subject: give at least one --email, --phone, --name or "
            "--identifier"
        )
    if len(given) > MAX_IDENTIFIERS:
        raise InvalidInput(f"a request names at most {MAX_IDENTIFIERS} identifiers")
    out = []
    for kind_text, value in given:
        try:
            kind = PersonalKind(kind_text)
        except ValueError:
            names = ", ".join(k.value for k in PersonalKind)
            raise InvalidInput(
                f"unknown identifier kind {kind_text[:32]!r}; choose one of {names}"
            ) from None
        value = _text(f"{kind.value} identifier", value, MAX_IDENTIFIER_CHARS)
        if kind is PersonalKind.EMAIL and "@" not in value:
            raise InvalidInput("an email identifier needs an @")
        if kind is PersonalKind.PHONE and sum(c.isdecimal() for c in value) < 3:
            raise InvalidInput("a phone identifier needs its digits")
        out.append(Identifier(kind.value, value))
    return tuple(dict.fromkeys(out))


class SubjectPackages(Protocol):
    """The subject's package (export/subject.py), handed in by the composition root."""

    def write(
        self,
        workspace_id: str,
        request_id: str,
        target: Path | str,
        actor: str = "system",
        progress: Callable[[int, int], None] | None = None,
        on_bytes: Callable[[int], None] | None = None,
    ) -> Any: ...

    def stream(
        self, workspace_id: str, request_id: str, actor: str = "system"
    ) -> tuple[str, Iterator[bytes]]: ...

    def import_package(
        self, workspace_id: str, project_id: str, path: Path | str, actor: str = "system"
    ) -> Any: ...


class Privacy:
    """``sr.privacy``: create privacy requests and move them through their states."""

    def __init__(
        self,
        ctx: Context,
        records: Records,
        packages: SubjectPackages | None = None,
        run_deadline: Callable[[str], Any] | None = None,
    ) -> None:
        self.ctx = ctx
        self._records = records
        self._packages = packages
        self._erasure = Erasure(ctx)
        #: Runs one deadline now (the worker's ``run_once(only=…)``); None: the worker
        #: runs it on its next pass.
        self._run_deadline = run_deadline

    # settings -------------------------------------------------------------------------
    @property
    def _zone_name(self) -> str:
        return self.ctx.settings.privacy_time_zone

    @property
    def _holidays(self) -> frozenset[date]:
        text = self.ctx.settings.privacy_holidays
        return frozenset(date.fromisoformat(d.strip()) for d in text.split(",") if d.strip())

    def _region(self) -> str | None:
        return self.ctx.settings.phone_region or None

    def canonical(self, identifier: Identifier) -> str:
        return normalise(PersonalKind(identifier.kind), identifier.value, region=self._region())

    # writes ---------------------------------------------------------------------------
    def create(
        self,
        workspace_id: str,
        *,
        type: str,
        law: str,
        identifiers: Sequence[tuple[str, str]],
        received: datetime | date | None = None,
        due: date | None = None,
        channel: str = "unspecified",
        notes: str = "",
        actor: str = "system",
    ) -> PrivacyRequest:
        """Record a request; its due date follows from the law (``due`` only for 'other')."""
        kind = parse_type(type)
        law_ = parse_law(law)
        subject = _identifiers(identifiers)
        channel = _text("channel", channel, MAX_CHANNEL)
        notes = _text("notes", notes, MAX_TEXT, required=False)
        tz = clock.zone(self._zone_name)
        now = self.ctx.clock.now()
        if received is None:
            received_at = now
        elif isinstance(received, datetime):
            if received.tzinfo is None:
                raise InvalidInput("--received needs its offset, or give a date (YYYY-MM-DD)")
            received_at = received
        else:
            received_at = datetime.combine(received, time(0), tzinfo=tz)
        if received_at > now:
            raise InvalidInput("a request cannot be received in the future")
        received_on = clock.local_date(received_at, tz)
        dates = clock.deadlines(law_, received_on, given_due=due, holidays=self._holidays)
        request_id = ids.new_id("privacy-request")
        sealed = self.ctx.seal(
            workspace_id,
            _binding(workspace_id, request_id, "subject"),
            json.dumps(
                {"identifiers": [[i.kind, i.value] for i in subject], "notes": notes},
                ensure_ascii=False,
            ).encode(),
        )
        with self.ctx.store.write() as uow:
            require_usable(uow, workspace_id, Action.PRIVACY, now)
            digests = self._digests(workspace_id, subject)
            row = PrivacyRequestRow(
                id=request_id,
                workspace_id=workspace_id,
                kind=kind.value,
                law=law_.value,
                state=RequestState.RECEIVED.value,
                channel=channel,
                time_zone=self._zone_name,
                received_at=received_at,
                received_on=received_on,
                confirm_by=dates.confirm_by,
                original_due_on=dates.due,
                due_on=dates.due,
                extended_at=None,
                extension_reason_sealed=None,
                verified_at=None,
                verified_by_sealed=None,
                verification_sealed=None,
                closed_at=None,
                outcome_reason_sealed=None,
                subject_sealed=sealed,
                created_by=actor,
            )
            uow.privacy_requests.add(row, digests)
            audit.append(
                uow,
                now,
                actor,
                "privacy.create",
                workspace_id,
                request_id=request_id,
                type=kind.value,
                law=law_.value,
                due=dates.due.isoformat(),
            )
            uow.commit()
        return self._view(row, now)

    def verify(
        self, workspace_id: str, request_id: str, *, method: str, by: str, actor: str = "system"
    ) -> PrivacyRequest:
        """Record that the subject's identity was verified: who verified it, how, when."""
        method = _text("verification method", method, MAX_TEXT)
        by = _text("verifier", by, MAX_CHANNEL * 4)
        now = self.ctx.clock.now()
        values = {
            "verified_at": now,
            "verified_by_sealed": self._seal(workspace_id, request_id, "verified-by", by),
            "verification_sealed": self._seal(workspace_id, request_id, "verification", method),
        }
        return self._move(workspace_id, request_id, Work.VERIFY, values, actor, now)

    def extend(
        self,
        workspace_id: str,
        request_id: str,
        *,
        reason: str,
        days: int | None = None,
        months: int | None = None,
        actor: str = "system",
    ) -> PrivacyRequest:
        """Extend the due date once, as the law allows, before it passes."""
        reason = _text("reason", reason, MAX_TEXT)
        now = self.ctx.clock.now()
        with self.ctx.store.write() as uow:
            row = self._require(uow, workspace_id, request_id, now)
            check_work(RequestType(row.kind), RequestState(row.state), Work.EXTEND)
            new_due = clock.extend(
                clock.Law(row.law),
                row.original_due_on,
                already_extended=row.extended_at is not None,
                reason=reason,
                now=now,
                tz=clock.zone(row.time_zone),
                days=days,
                months=months,
            )
            values: dict[str, Any] = {
                "due_on": new_due,
                "extended_at": now,
                "extension_reason_sealed": self._seal(workspace_id, request_id, "extend", reason),
            }
            uow.privacy_requests.update(workspace_id, request_id, **values)
            audit.append(
                uow,
                now,
                actor,
                "privacy.extend",
                workspace_id,
                request_id=request_id,
                due=new_due.isoformat(),
            )
            uow.commit()
        return self._view(row._replace(**values), now)

    def reject(
        self, workspace_id: str, request_id: str, *, reason: str, actor: str = "system"
    ) -> PrivacyRequest:
        """Refuse the request, with the reason told to the subject (kept sealed)."""
        reason = _text("reason", reason, MAX_TEXT)
        now = self.ctx.clock.now()
        values = {
            "closed_at": now,
            "outcome_reason_sealed": self._seal(workspace_id, request_id, "outcome", reason),
            "subject_sealed": None,  # the record of requests keeps the subject as digests
        }
        return self._move(workspace_id, request_id, Work.REJECT, values, actor, now)

    def complete(self, workspace_id: str, request_id: str, actor: str = "system") -> PrivacyRequest:
        """Close the request as answered. From here on the record of requests keeps its
        subject only as digests: the identifiers and notes are dropped."""
        now = self.ctx.clock.now()
        values = {"closed_at": now, "subject_sealed": None}
        return self._move(workspace_id, request_id, Work.COMPLETE, values, actor, now)

    def locate(
        self, workspace_id: str, request_id: str, actor: str = "system"
    ) -> builtins.list[Match]:
        """Every record of the workspace holding one of the subject's identifiers in a
        personal field of the identifier's kind, in every project, live or in the trash
        (flagged): through the blind index only, nothing is decrypted."""
        now = self.ctx.clock.now()
        with self.ctx.store.write() as uow:
            row = self._require(uow, workspace_id, request_id)
            check_work(RequestType(row.kind), RequestState(row.state), Work.LOCATE)
            digests = uow.privacy_requests.digests(request_id)
            found = uow.record_index.locate(workspace_id, digests)
            matches = _matches(found)
            audit.append(
                uow,
                now,
                actor,
                "privacy.locate",
                workspace_id,
                request_id=request_id,
                records=len(matches),
            )
            uow.commit()
        return matches

    def correct(
        self,
        workspace_id: str,
        request_id: str,
        changes: Sequence[tuple[str, str]],
        actor: str = "system",
    ) -> dict[str, Any]:
        """Set new values for the subject's personal fields (``(path, value)`` pairs) in
        every record of theirs, live or restricted: only the values that are the subject's
        (another person's in the same record stay). Indexes are recomputed; the audit log
        keeps only digests of the values before and after."""
        if not changes:
            raise InvalidInput("give at least one --set FIELD=VALUE")
        changes = [(p, _text(f"new value of {p}", v, MAX_IDENTIFIER_CHARS)) for p, v in changes]
        for path, _value in changes:
            parse_path(path)
        now = self.ctx.clock.now()
        with self.ctx.store.write() as uow:
            row = self._require(uow, workspace_id, request_id, now)
            after = check_work(RequestType(row.kind), RequestState(row.state), Work.CORRECT)
            declared = self._records.personal_paths(uow, workspace_id)
            for path, _value in changes:
                if path not in declared:
                    raise UndeclaredField(
                        f"no collection of workspace {workspace_id} declares {path!r} personal",
                        workspace_id=workspace_id,
                    )
            digests = uow.privacy_requests.digests(request_id)
            subject = {(kind, digest) for kind, digest in digests}
            indexer = BlindIndexer(self.ctx.keyring.data_key(workspace_id))

            def matches(kind: PersonalKind, value: str) -> bool:
                canonical = normalise(kind, value, region=self._region())
                return (kind.value, indexer.kind_digest(kind, canonical)) in subject

            located = _matches(uow.record_index.locate(workspace_id, digests))
            changed: dict[str, int] = {}
            for match in located:
                if match.trashed:
                    continue
                for path, value in changes:
                    n = self._records.correct_in(
                        uow,
                        workspace_id,
                        match.project_id,
                        match.record_id,
                        path,
                        matches,
                        value,
                        now,
                    )
                    if n:
                        changed[match.record_id] = changed.get(match.record_id, 0) + n
            uow.privacy_requests.update(workspace_id, request_id, state=after.value)
            audit.append(
                uow,
                now,
                actor,
                "privacy.correct",
                workspace_id,
                request_id=request_id,
                records=sorted(changed),
                fields=sorted({p for p, _v in changes}),
                before=sorted(d.hex() for _k, d in subject),
                after=sorted(
                    indexer.kind_digest(kind, normalise(kind, v, region=self._region())).hex()
                    for p, v in changes
                    for kind in declared[p]
                ),
            )
            uow.commit()
        return {"records": len(changed), "values": sum(changed.values())}

    def restrict(self, workspace_id: str, request_id: str, actor: str = "system") -> int:
        """Restrict the subject's live records (GDPR Art. 18): out of every read, list,
        find and workspace export, for every role, until lifted. Returns how many records
        were restricted now."""
        return self._restriction(workspace_id, request_id, Work.RESTRICT, actor)

    def lift(self, workspace_id: str, request_id: str, actor: str = "system") -> int:
        """Lift the request's restriction; returns how many records it had restricted."""
        return self._restriction(workspace_id, request_id, Work.LIFT, actor)

    def _restriction(self, workspace_id: str, request_id: str, work: Work, actor: str) -> int:
        now = self.ctx.clock.now()
        with self.ctx.store.write() as uow:
            row = self._require(uow, workspace_id, request_id, now)
            check_work(RequestType(row.kind), RequestState(row.state), work)
            if work is Work.RESTRICT:
                digests = uow.privacy_requests.digests(request_id)
                found = uow.record_index.locate(workspace_id, digests)
                count = uow.privacy_requests.restrict(
                    workspace_id, request_id, (m.record_id for m in found), now
                )
            else:
                count = uow.privacy_requests.lift(workspace_id, request_id, now)
            audit.append(
                uow,
                now,
                actor,
                f"privacy.{work.value}",
                workspace_id,
                request_id=request_id,
                records=count,
            )
            uow.commit()
        return count

    def erase(
        self,
        workspace_id: str,
        request_id: str,
        *,
        redact: Sequence[str] = (),
        actor: str = "system",
    ) -> ErasureStatus:
        """Erase the subject of a verified deletion request: their records are purged now
        (not trashed), except those of the collections in ``redact``, from which only the
        subject's personal and file fields are removed; records under a legal hold are
        left pending. Ends with a signed deletion certificate (services/erasure.py).
        Returns where the erasure stands (done, unless the worker must finish it)."""
        deadline_id = self._erasure.schedule(workspace_id, request_id, redact, actor)
        if self._run_deadline is not None:
            self._run_deadline(deadline_id)
        status = self._erasure.status(workspace_id, request_id, deadline_id)
        assert status is not None  # just scheduled
        return status

    def erasure_status(self, workspace_id: str, request_id: str) -> ErasureStatus | None:
        """The request's last erasure: its counts, its certificate, what is pending."""
        with self.ctx.store.read() as uow:
            self._require(uow, workspace_id, request_id)
        return self._erasure.status(workspace_id, request_id)

    # the subject's package (access, portability) --------------------------------------
    def export(
        self,
        workspace_id: str,
        request_id: str,
        target: Path | str,
        actor: str = "system",
        progress: Callable[[int, int], None] | None = None,
        on_bytes: Callable[[int], None] | None = None,
    ) -> Any:
        """Write the subject's package (a verified access or portability request) to
        ``target``: one ZIP that ``export verify`` accepts, with the subject's live and
        restricted records and their files (docs/privacy.md). Moves the request to
        in_progress; audited with counts. Returns its summary (``as_json()``)."""
        return self._package_service().write(
            workspace_id, request_id, target, actor, progress, on_bytes
        )

    def export_stream(
        self, workspace_id: str, request_id: str, actor: str = "system"
    ) -> tuple[str, Iterator[bytes]]:
        """The package as a file name and its bytes as they are made (for a download)."""
        return self._package_service().stream(workspace_id, request_id, actor)

    def import_package(
        self, workspace_id: str, project_id: str, path: Path | str, actor: str = "system"
    ) -> Any:
        """Import a subject's package (portability) into a project: all or nothing, the
        ZIP verified first. Returns its summary (``as_json()``)."""
        return self._package_service().import_package(workspace_id, project_id, path, actor)

    def _package_service(self) -> SubjectPackages:
        if self._packages is None:
            raise Conflict("subject packages are not available in this build of Strongroom")
        return self._packages

    # reads ----------------------------------------------------------------------------
    def get(self, workspace_id: str, request_id: str) -> PrivacyRequest:
        """One request with its subject (decrypted): for the workspace's owners and admins."""
        now = self.ctx.clock.now()
        with self.ctx.store.read() as uow:
            require_workspace(uow, workspace_id)
            row = self._require(uow, workspace_id, request_id)
        return self._view(row, now, subject=True)

    def list(
        self, workspace_id: str, *, due_within: int | None = None
    ) -> builtins.list[PrivacyRequest]:
        """The workspace's requests, soonest due first. With ``due_within``: only the open
        ones due within that many days (overdue ones included). Without their subjects."""
        if due_within is not None and not 0 <= due_within <= 3650:
            raise InvalidInput("--due-within is a number of days from 0 to 3650")
        now = self.ctx.clock.now()
        with self.ctx.store.read() as uow:
            require_workspace(uow, workspace_id)
            if due_within is None:
                rows = uow.privacy_requests.list(workspace_id)
            else:
                # Zones differ per request: take a day of slack, then filter exactly.
                latest = now.date().toordinal() + due_within + 1
                rows = uow.privacy_requests.list(
                    workspace_id, open_states=OPEN_STATES, due_by=date.fromordinal(latest)
                )
        views = [self._view(r, now) for r in rows]
        if due_within is not None:
            views = [v for v in views if v.days_left <= due_within]
        return views

    def due(
        self, *, within_days: int = 10, workspace_id: str | None = None
    ) -> builtins.list[PrivacyRequest]:
        """Open requests of every workspace (or one) due within ``within_days`` days,
        overdue ones included, soonest first; without their subjects. For operators:
        ``lifecycle plan`` and ``/health``."""
        now = self.ctx.clock.now()
        latest = date.fromordinal(now.date().toordinal() + within_days + 1)
        with self.ctx.store.read() as uow:
            rows = uow.privacy_requests.open_due(workspace_id, latest, OPEN_STATES)
        views = [self._view(r, now) for r in rows]
        return [v for v in views if v.days_left <= within_days]

    def due_counts(self) -> dict[str, int]:
        """How many open requests are overdue, and due within 5 and 10 days."""
        due = self.due(within_days=10)
        return {
            "overdue": sum(r.overdue for r in due),
            "due_within_5_days": sum(0 <= r.days_left <= 5 for r in due),
            "due_within_10_days": sum(0 <= r.days_left <= 10 for r in due),
        }

    def report(self, workspace_id: str | None = None, year: int | None = None) -> dict[str, Any]:
        """Counts per request type of the requests received in ``year`` (default: all),
        in one workspace or (operators) the whole deployment."""
        if year is not None and not 2000 <= year <= 9999:
            raise InvalidInput("--year is a year such as 2026")
        with self.ctx.store.read() as uow:
            if workspace_id is not None:
                require_workspace(uow, workspace_id)
            rows = uow.privacy_requests.received(workspace_id, year)
        answered = [
            Answered(
                RequestType(r.kind),
                RequestState(r.state),
                None
                if r.closed_at is None
                else (clock.local_date(r.closed_at, clock.zone(r.time_zone)) - r.received_on).days,
            )
            for r in rows
        ]
        return {
            "workspace_id": workspace_id,
            "year": year,
            "types": report(answered),
        }

    # internals ------------------------------------------------------------------------
    def _move(
        self,
        workspace_id: str,
        request_id: str,
        work: Work,
        values: dict[str, Any],
        actor: str,
        now: datetime,
    ) -> PrivacyRequest:
        with self.ctx.store.write() as uow:
            row = self._require(uow, workspace_id, request_id, now)
            after = check_work(RequestType(row.kind), RequestState(row.state), work)
            values = {**values, "state": after.value}
            uow.privacy_requests.update(workspace_id, request_id, **values)
            audit.append(
                uow,
                now,
                actor,
                f"privacy.{work.value}",
                workspace_id,
                request_id=request_id,
                state=after.value,
            )
            uow.commit()
        return self._view(row._replace(**values), now)

    def _require(
        self,
        uow: DataUnitOfWork,
        workspace_id: str,
        request_id: str,
        now: datetime | None = None,
    ) -> PrivacyRequestRow:
        """The request; with ``now``, only if the workspace's plan allows privacy work."""
        if now is None:
            require_workspace(uow, workspace_id)
        else:
            require_usable(uow, workspace_id, Action.PRIVACY, now)
        ids.check_id("privacy-request", request_id)
        row = uow.privacy_requests.get(workspace_id, request_id)
        if row is None:
            raise NotFound(
                f"no privacy request {request_id} in workspace {workspace_id}",
                workspace_id=workspace_id,
            )
        return row

    def _digests(
        self, workspace_id: str, subject: Sequence[Identifier]
    ) -> builtins.list[tuple[str, bytes]]:
        indexer = BlindIndexer(self.ctx.keyring.data_key(workspace_id))
        return [(i.kind, indexer.kind_digest(i.kind, self.canonical(i))) for i in subject]

    def _seal(self, workspace_id: str, request_id: str, part: str, text: str) -> bytes:
        return self.ctx.seal(workspace_id, _binding(workspace_id, request_id, part), text.encode())

    def _open(
        self, row: PrivacyRequestRow, part: str, sealed: bytes | None, actor: str = "system"
    ) -> str | None:
        if sealed is None:
            return None
        binding = _binding(row.workspace_id, row.id, part)
        return self.ctx.open(row.workspace_id, binding, sealed, actor).decode()

    def _view(
        self, row: PrivacyRequestRow, now: datetime, *, subject: bool = False
    ) -> PrivacyRequest:
        tz = clock.zone(row.time_zone)
        view = PrivacyRequest(
            id=row.id,
            workspace_id=row.workspace_id,
            type=RequestType(row.kind),
            law=row.law,
            state=RequestState(row.state),
            channel=row.channel,
            time_zone=row.time_zone,
            received_at=row.received_at,
            received_on=row.received_on,
            due=row.due_on,
            original_due=row.original_due_on,
            confirm_by=row.confirm_by,
            days_left=clock.days_left(row.due_on, now, tz),
            extended_at=row.extended_at,
            verified_at=row.verified_at,
            closed_at=row.closed_at,
        )
        if not subject:
            return view
        details: dict[str, Any] = {"identifiers": [], "notes": ""}
        text = self._open(row, "subject", row.subject_sealed)
        if text is not None:
            details = json.loads(text)
        return replace(
            view,
            extension_reason=self._open(row, "extend", row.extension_reason_sealed),
            verified_by=self._open(row, "verified-by", row.verified_by_sealed),
            verification_method=self._open(row, "verification", row.verification_sealed),
            outcome_reason=self._open(row, "outcome", row.outcome_reason_sealed),
            identifiers=tuple(Identifier(k, v) for k, v in details["identifiers"]),
            notes=details["notes"],
        )


def _matches(rows: Sequence[LocatedRow]) -> builtins.list[Match]:
    """One match per record, with every field that matched (rows come sorted by project,
    collection, record and field)."""
    out: builtins.list[Match] = []
    for row in rows:
        trashed = row.state == ObjectState.TRASHED or row.project_state != ObjectState.LIVE
        restricted = row.state == ObjectState.RESTRICTED
        last = out[-1] if out else None
        if last is not None and last.record_id == row.record_id:
            if row.field not in last.fields:
                out[-1] = replace(last, fields=(*last.fields, row.field))
            continue
        out.append(
            Match(row.project_id, row.collection, row.record_id, (row.field,), trashed, restricted)
        )
    return out


#: Requests deleted per transaction when their record expires.
EXPIRE_BATCH = 500


def expire_records(ctx: Context, now: datetime) -> int:
    """Delete the requests closed more than ``privacy_record_months`` ago (the record of
    requests kept, CCPA §7101), audited per workspace by request id; a request whose
    restriction is in force stays. Returns how many went."""
    months = ctx.settings.privacy_record_months
    cutoff = datetime.combine(clock.add_months(now.date(), -months), time(0), tzinfo=now.tzinfo)
    total = 0
    while True:
        with ctx.store.write() as uow:
            gone = uow.privacy_requests.expire(cutoff, EXPIRE_BATCH)
            by_workspace: dict[str, builtins.list[str]] = {}
            for workspace_id, request_id in gone:
                by_workspace.setdefault(workspace_id, []).append(request_id)
            for workspace_id, request_ids in sorted(by_workspace.items()):
                audit.append(
                    uow,
                    now,
                    "system:lifecycle",
                    "privacy.record_expired",
                    workspace_id,
                    request_ids=request_ids,
                    months=months,
                )
            uow.commit()
        total += len(gone)
        if len(gone) < EXPIRE_BATCH:
            return total
