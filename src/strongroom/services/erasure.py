"""A data subject's erasure, for a verified deletion request (GDPR Art. 17, CCPA
§1798.105): a purge now, not a trip through the trash, in the steps of every purge,
recorded on a ``privacy.erase`` deadline that this module schedules and
lifecycle/erasure.py runs:

    start     → locate the subject through the blind index (live, restricted and trashed
                records, in every project). The subject's own records are erased whole,
                with the files their file fields name, except in the collections named to
                be redacted, whose records keep what is not the subject's
                (domain/personal.redact_person); so do other people's records in which
                the subject only appears in an array (a referral: :func:`split`). A record
                in a workspace or project under a legal hold is left pending, with the hold
                named. Records to erase are marked purging (gone from every read at once);
                the request moves to in_progress
    marked    → redact, a batch of records per transaction, the progress saved with each
    redacted  → the shredder deletes the listed records and files (blobs before rows)
    deleted   → the signed certificate (request, counts per collection, records by id,
                backups still holding older ciphertext) and its tombstone in the ledger
    certified → the audit event with the certificate's hash; the request completes, or
                stays in progress while records are pending; its sealed identifiers are
                dropped once nothing is pending (the record of requests keeps digests)

A worker killed at any instant resumes at the last recorded step; every step may run
twice. The tombstone names the records and the subject's blind-index digests, so the
replay after a restore (:func:`replay`) erases and redacts again, in the restored home,
whatever an older backup brought back.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from strongroom import ids
from strongroom.crypto.blind_index import BlindIndexer
from strongroom.domain.lifecycle import DeadlineAction, DeadlineState, PurgeReason
from strongroom.domain.model import ObjectState
from strongroom.domain.personal import PersonalKind, describes_the_record, normalise
from strongroom.domain.privacy import RequestState, RequestType, Work, check_work
from strongroom.domain.roles import Action
from strongroom.errors import Conflict, InvalidInput, NotFound
from strongroom.services import audit
from strongroom.services.context import Context
from strongroom.services.deadlines import new_deadline
from strongroom.services.guards import require_usable
from strongroom.services.plans import hold_binding
from strongroom.services.records import Records
from strongroom.storage.rows import LocatedRow
from strongroom.storage.unit_of_work import DataUnitOfWork

#: Records redacted per transaction.
BATCH = 100
#: States of a closed request.
CLOSED_STATES = (RequestState.COMPLETED.value, RequestState.REJECTED.value)
#: Collections a request may name to redact.
MAX_REDACT = 100

Matcher = Callable[[PersonalKind, str], bool]


@dataclass(frozen=True)
class Target:
    """One matched record, as the erasure lists it."""

    project_id: str
    collection: str
    record_id: str

    def stored(self) -> list[str]:
        return [self.project_id, self.collection, self.record_id]


@dataclass(frozen=True)
class ErasureProgress:
    """What an erasure has established so far (STORED as its deadline's progress)."""

    request_id: str
    redact_collections: tuple[str, ...]
    certificate_id: str = ""
    deleted_at: str = ""
    digests: tuple[tuple[str, str], ...] = ()  # (kind, hex digest)
    erase: tuple[Target, ...] = ()
    redact: tuple[Target, ...] = ()
    files: tuple[str, ...] = ()
    pending: tuple[tuple[Target, str], ...] = ()  # (record, the hold's id)
    redacted: int = 0  # how many of ``redact`` are done
    values_redacted: int = 0
    index_entries: int = 0

    @classmethod
    def load(cls, stored: dict[str, Any]) -> ErasureProgress:
        def targets(key: str) -> tuple[Target, ...]:
            return tuple(Target(*t) for t in stored.get(key, ()))

        return cls(
            request_id=stored["request_id"],
            redact_collections=tuple(stored.get("redact_collections", ())),
            certificate_id=stored.get("certificate_id", ""),
            deleted_at=stored.get("deleted_at", ""),
            digests=tuple((k, d) for k, d in stored.get("digests", ())),
            erase=targets("erase"),
            redact=targets("redact"),
            files=tuple(stored.get("files", ())),
            pending=tuple((Target(*t), h) for *t, h in stored.get("pending", ())),
            redacted=stored.get("redacted", 0),
            values_redacted=stored.get("values_redacted", 0),
            index_entries=stored.get("index_entries", 0),
        )

    def stored(self) -> dict[str, Any]:
        return {
            "request_id": self.request_id,
            "redact_collections": list(self.redact_collections),
            "certificate_id": self.certificate_id,
            "deleted_at": self.deleted_at,
            "digests": [list(d) for d in self.digests],
            "erase": [t.stored() for t in self.erase],
            "redact": [t.stored() for t in self.redact],
            "files": list(self.files),
            "pending": [[*t.stored(), h] for t, h in self.pending],
            "redacted": self.redacted,
            "values_redacted": self.values_redacted,
            "index_entries": self.index_entries,
        }

    def per_collection(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for key, targets in (
            ("erased", self.erase),
            ("redacted", self.redact),
            ("pending", tuple(t for t, _ in self.pending)),
        ):
            for t in targets:
                counts = out.setdefault(t.collection, {"erased": 0, "redacted": 0, "pending": 0})
                counts[key] += 1
        return dict(sorted(out.items()))

    def counts(self) -> dict[str, int]:
        return {
            "records_erased": len(self.erase),
            "records_redacted": len(self.redact),
            "values_redacted": self.values_redacted,
            "files": len(self.files),
            "records_pending": len(self.pending),
            "index_entries": self.index_entries,
        }


@dataclass(frozen=True)
class ErasureStatus:
    """Where a request's last erasure stands, for ``privacy show`` and the erase command."""

    deadline_id: str
    state: str  # pending | done | cancelled
    step: str
    certificate_id: str
    counts: dict[str, int]
    per_collection: dict[str, dict[str, int]]
    pending: list[dict[str, str]] = field(default_factory=list)
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "deadline_id": self.deadline_id,
            "state": self.state,
            "step": self.step,
            "certificate_id": self.certificate_id or None,
            "counts": self.counts,
            "per_collection": self.per_collection,
            "pending": self.pending,
            "error": self.error,
        }


def parse_redact(collections: Sequence[str]) -> tuple[str, ...]:
    names = tuple(sorted({c.strip() for c in collections}))
    if len(names) > MAX_REDACT:
        raise InvalidInput(f"name at most {MAX_REDACT} collections to redact")
    for name in names:
        if not name or len(name) > 64:
            raise InvalidInput("a collection to redact is named by 1 to 64 characters")
    return names


class Erasure:
    """Schedules a request's erasure and tells where it stands; lifecycle/erasure.py runs
    it."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    # scheduling -------------------------------------------------------------------------
    def schedule(
        self, workspace_id: str, request_id: str, redact: Sequence[str], actor: str
    ) -> str:
        """Check the request (a verified deletion request, no erasure of it under way) and
        make its erasure deadline, due now; returns the deadline's id. Nothing is erased
        here: the worker (or the caller, at once) runs it."""
        names = parse_redact(redact)
        now = self.ctx.clock.now()
        with self.ctx.store.write() as uow:
            require_usable(uow, workspace_id, Action.PRIVACY, now)
            ids.check_id("privacy-request", request_id)
            row = uow.privacy_requests.get(workspace_id, request_id)
            if row is None:
                raise NotFound(
                    f"no privacy request {request_id} in workspace {workspace_id}",
                    workspace_id=workspace_id,
                )
            check_work(RequestType(row.kind), RequestState(row.state), Work.ERASE)
            # Write the request's row first: a second erase of it waits here for this
            # transaction (a row lock on PostgreSQL, the one writer on SQLite), then sees
            # the deadline made below.
            uow.privacy_requests.update(workspace_id, request_id, state=row.state)
            if uow.deadlines.pending_for(request_id, DeadlineAction.PRIVACY_ERASE):
                raise Conflict(f"an erasure of {request_id} is under way already")
            known = {c.name for c in uow.collections.rows(workspace_id)}
            unknown = [n for n in names if n not in known]
            if unknown:
                raise InvalidInput(
                    f"workspace {workspace_id} has no declared collection {unknown[0]!r} to redact"
                )
            deadline = new_deadline(
                DeadlineAction.PRIVACY_ERASE,
                workspace_id,
                request_id,
                PurgeReason.PRIVACY_REQUEST,
                now,
                now,
                request_id=request_id,
                redact_collections=list(names),
            )
            uow.deadlines.add(deadline)
            audit.append(
                uow,
                now,
                actor,
                "privacy.erase",
                workspace_id,
                request_id=request_id,
                redact=list(names),
                deadline_id=deadline.id,
            )
            uow.commit()
        self.ctx.wake_worker()
        return deadline.id

    def status(
        self, workspace_id: str, request_id: str, deadline_id: str | None = None
    ) -> ErasureStatus | None:
        """The request's erasure ``deadline_id``, or its last one (one under way first);
        None if none was asked for."""
        with self.ctx.store.read() as uow:
            rows = [
                r
                for r in uow.deadlines.of_subject(request_id, DeadlineAction.PRIVACY_ERASE)
                if r.workspace_id == workspace_id and deadline_id in (None, r.id)
            ]
            if not rows:
                return None
            # The one under way, else the last to finish (the last made, on a tie).
            _, row = max(
                enumerate(rows),
                key=lambda ir: (
                    ir[1].state == DeadlineState.PENDING,
                    ir[1].finished_at or ir[1].created_at,
                    ir[0],
                ),
            )
            holds = {h.id: h for h in uow.holds.active(workspace_id)}
        p = ErasureProgress.load(json.loads(row.progress))
        pending = []
        for target, hold_id in p.pending:
            hold = holds.get(hold_id)
            reason = None
            if hold is not None:
                reason = self.ctx.open(
                    workspace_id, hold_binding(workspace_id, hold_id), hold.reason_sealed, "system"
                ).decode()
            pending.append(
                {
                    "project_id": target.project_id,
                    "collection": target.collection,
                    "record_id": target.record_id,
                    "hold_id": hold_id,
                    "hold_reason": reason if reason is not None else "(hold cleared since)",
                }
            )
        return ErasureStatus(
            deadline_id=row.id,
            state=row.state,
            step=row.step,
            certificate_id=p.certificate_id,
            counts=p.counts(),
            per_collection=p.per_collection(),
            pending=pending,
            error=row.last_error,
        )


def split(
    found: Sequence[LocatedRow],
    redact_collections: Sequence[str],
    holds: Sequence[tuple[str, str | None, str]],
) -> tuple[tuple[Target, ...], tuple[Target, ...], tuple[tuple[Target, str], ...]]:
    """Matched records → (to erase, to redact, pending under a hold with its id).

    A record is the subject's own when one of its personal fields outside any array of
    objects matched (``email``, not ``referrals[].email``): it is erased whole, unless its
    collection is named to be redacted. A record where the subject appears only inside an
    array of objects is another person's (the subject referred someone): the subject is
    redacted from it. Records a purge is deleting already are left to it."""
    fields: dict[str, list[str]] = {}
    targets: dict[str, Target] = {}
    for m in found:
        if m.state == ObjectState.PURGING or m.project_state == ObjectState.PURGING:
            continue
        targets.setdefault(m.record_id, Target(m.project_id, m.collection, m.record_id))
        fields.setdefault(m.record_id, []).append(m.field)
    erase: list[Target] = []
    redact: list[Target] = []
    pending: list[tuple[Target, str]] = []
    for record_id, target in targets.items():
        hold = next((h for _ws, project, h in holds if project in (None, target.project_id)), None)
        own = any(describes_the_record(f) for f in fields[record_id])
        if hold is not None:
            pending.append((target, hold))
        elif own and target.collection not in redact_collections:
            erase.append(target)
        else:
            redact.append(target)
    return tuple(erase), tuple(redact), tuple(pending)


def subject_matcher(ctx: Context, workspace_id: str, digests: Sequence[tuple[str, str]]) -> Matcher:
    """Whether a value of a personal field of a kind is the subject's: its canonical form's
    blind-index digest is one of the request's."""
    wanted = {(kind, bytes.fromhex(d)) for kind, d in digests}
    indexer = BlindIndexer(ctx.keyring.data_key(workspace_id))
    region = ctx.settings.phone_region or None

    def matches(kind: PersonalKind, value: str) -> bool:
        try:
            canonical = normalise(kind, value, region=region)
        except InvalidInput:
            return False
        return (kind.value, indexer.kind_digest(kind, canonical)) in wanted

    return matches


def replay(ctx: Context, records: Records, certificate: dict[str, Any]) -> None:
    """After a restore, in the restored home: erase and redact the subject of an erasure
    certificate again (:func:`replay_in`), then shred what it marked."""
    workspace_id = certificate["subject"]["workspace_id"]
    now = ctx.clock.now()
    with ctx.store.write() as uow:
        erase_ids, files = replay_in(uow, ctx, records, certificate, now)
        uow.commit()
    ctx.shredder.delete_listed(workspace_id, erase_ids, files, now)


def replay_in(
    uow: DataUnitOfWork,
    ctx: Context,
    records: Records,
    certificate: dict[str, Any],
    now: datetime,
) -> tuple[list[str], list[str]]:
    """Inside the caller's transaction, in a home that may hold data from before an
    erasure (a restored backup, or one workspace restored into the live home): mark
    purging the records the certificate erased, and every record of the subject's own that
    her digests locate and that was not written since the erasure (an older backup may hold
    values since changed; what was written after it is not the erasure's); redact the others
    by the same rules; close the request if it is there. The records it left pending stay.
    Returns (records, files) for the shredder to delete. Idempotent."""
    erasure = certificate["erasure"]
    workspace_id = certificate["subject"]["workspace_id"]
    erased_at = datetime.fromisoformat(certificate["deleted_at"])
    digests = [(k, d) for k, d in erasure["subject_digests"]]
    pending = {p["record_id"] for p in erasure["pending_records"]}
    if uow.workspaces.get(workspace_id) is None:
        return [], []
    found = [
        m
        for m in uow.record_index.locate(workspace_id, [(k, bytes.fromhex(d)) for k, d in digests])
        if m.record_id not in pending and _written_by(uow, workspace_id, m.record_id, erased_at)
    ]
    erase, redact, _held = split(found, erasure["redact_collections"], [])
    erase_ids = {t.record_id for t in erase} | set(erasure["erased_records"])
    redact_ids = ({t.record_id for t in redact} | set(erasure["redacted_records"])) - erase_ids
    files = set(erasure["files"])
    for record_id in sorted(erase_ids):
        files.update(records.subject_files(uow, workspace_id, record_id))
        uow.records.set_state(record_id, ObjectState.PURGING, now)
    matches = subject_matcher(ctx, workspace_id, digests)
    for record_id in sorted(redact_ids):
        if _written_by(uow, workspace_id, record_id, erased_at):
            files.update(
                records.redact_subject_in(uow, workspace_id, record_id, matches, now).files
            )
    request = uow.privacy_requests.get(workspace_id, erasure["request_id"])
    if request is not None and request.state not in CLOSED_STATES and not pending:
        uow.privacy_requests.update(
            workspace_id,
            request.id,
            state=RequestState.COMPLETED.value,
            closed_at=now,
            subject_sealed=None,
        )
    return sorted(erase_ids), sorted(files)


def _written_by(uow: DataUnitOfWork, workspace_id: str, record_id: str, moment: datetime) -> bool:
    row = uow.records.by_id(workspace_id, record_id)
    return row is not None and row.updated_at <= moment
