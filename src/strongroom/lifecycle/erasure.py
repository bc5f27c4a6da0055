"""Running a data subject's erasure: the ``privacy.erase`` deadline, in the steps of every
purge (lifecycle/purge.py); what each step does is told in services/erasure.py, which
schedules it.

    start     → locate, split (erase, redact, pending under a hold), mark purging
    marked    → redact, a batch of records per transaction, the progress saved with each
    redacted  → the shredder deletes the listed records and files (blobs before rows)
    deleted   → the signed certificate and its tombstone in the deletion ledger
    certified → the audit event with the certificate's hash; the request's outcome

A worker killed at any instant resumes at the last recorded step; every step may run
twice (redacting a record already redacted finds nothing of the subject; deleting what
is gone does nothing; the tombstone is keyed by the certificate id chosen at start).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from strongroom import ids
from strongroom.backup import retention
from strongroom.crypto import certificates
from strongroom.crypto.keyring import DATA_KEY_VERSION
from strongroom.domain.lifecycle import (
    FIRST_STEP,
    PURGE_CERTIFIED,
    DeadlineState,
    PurgeKind,
    PurgeReason,
)
from strongroom.domain.model import ObjectState
from strongroom.domain.privacy import RequestState, RequestType, Work, check_work
from strongroom.lifecycle.steps import Step
from strongroom.services import audit
from strongroom.services.context import Context
from strongroom.services.erasure import (
    BATCH,
    CLOSED_STATES,
    ErasureProgress,
    split,
    subject_matcher,
)
from strongroom.services.records import Records
from strongroom.storage.rows import LedgerRow
from strongroom.storage.unit_of_work import DataUnitOfWork


class ErasureStep:
    """The steps of an erasure (STORED in ``deadlines.step``)."""

    START = FIRST_STEP
    MARKED = "marked"
    REDACTED = "redacted"
    DELETED = "deleted"
    CERTIFIED = "certified"


class _Run:
    def __init__(self, ctx: Context, records: Records, step: Step) -> None:
        self.ctx = ctx
        self.records = records
        self.step = step
        self.deadline = step.deadline
        self.progress = ErasureProgress.load(step.progress)

    def run(self) -> None:
        while self.step.name in _STEPS:
            _STEPS[self.step.name](self)

    def _save(self, uow: DataUnitOfWork, name: str) -> None:
        self.step.progress = self.progress.stored()
        self.step.save(uow, name)

    @property
    def workspace_id(self) -> str:
        return self.deadline.workspace_id

    # start: locate, split, mark ---------------------------------------------------------
    def start(self) -> None:
        ws, p = self.workspace_id, self.progress
        now = self.ctx.clock.now()
        with self.ctx.store.write() as uow:
            row = uow.privacy_requests.get(ws, p.request_id)
            if row is None or row.state in CLOSED_STATES:  # rejected or gone meanwhile
                self.step.finish(uow, now, DeadlineState.CANCELLED)
                uow.commit()
                return
            after = check_work(RequestType(row.kind), RequestState(row.state), Work.ERASE)
            digests = uow.privacy_requests.digests(p.request_id)
            found = uow.record_index.locate(ws, digests)
            holds = [(h.workspace_id, h.project_id, h.id) for h in uow.holds.active(ws)]
            erase, redact, pending = split(found, p.redact_collections, holds)
            files: list[str] = []
            for t in erase:
                files += self.records.subject_files(uow, ws, t.record_id)
            for t in erase:
                uow.records.set_state(t.record_id, ObjectState.PURGING, now)
            uow.privacy_requests.update(ws, p.request_id, state=after.value)
            self.progress = replace(
                p,
                certificate_id=ids.new_id("certificate"),
                deleted_at=now.isoformat(),
                digests=tuple((k, d.hex()) for k, d in sorted(digests)),
                erase=erase,
                redact=redact,
                files=tuple(dict.fromkeys(files)),
                pending=pending,
            )
            self._save(uow, ErasureStep.MARKED)
            uow.commit()

    # marked: redact ---------------------------------------------------------------------
    def redact(self) -> None:
        p = self.progress
        matches = subject_matcher(self.ctx, self.workspace_id, p.digests)
        while self.progress.redacted < len(p.redact):
            done = self.progress.redacted
            batch = p.redact[done : done + BATCH]
            now = self.ctx.clock.now()
            with self.ctx.store.write() as uow:
                values, files = 0, list(self.progress.files)
                for t in batch:
                    result = self.records.redact_subject_in(
                        uow, self.workspace_id, t.record_id, matches, now
                    )
                    values += result.values
                    files += result.files
                self.progress = replace(
                    self.progress,
                    redacted=done + len(batch),
                    values_redacted=self.progress.values_redacted + values,
                    files=tuple(dict.fromkeys(files)),
                )
                self._save(uow, ErasureStep.MARKED)
                uow.commit()
        with self.ctx.store.write() as uow:
            self._save(uow, ErasureStep.REDACTED)
            uow.commit()

    # redacted: delete -------------------------------------------------------------------
    def delete(self) -> None:
        def on_batch(uow: DataUnitOfWork, index_entries: int) -> None:
            self.progress = replace(
                self.progress, index_entries=self.progress.index_entries + index_entries
            )
            self._save(uow, ErasureStep.REDACTED)

        def last(uow: DataUnitOfWork, _removed: dict[str, int]) -> None:
            self._save(uow, ErasureStep.DELETED)

        self.ctx.shredder.delete_listed(
            self.workspace_id,
            [t.record_id for t in self.progress.erase],
            list(self.progress.files),
            self.ctx.clock.now(),
            on_batch=on_batch,
            last=last,
        )

    # deleted: the certificate -----------------------------------------------------------
    def certify(self) -> None:
        p, ws = self.progress, self.workspace_id
        now = self.ctx.clock.now()
        deleted_at = datetime.fromisoformat(p.deleted_at)
        signing_key = self.ctx.keyring.signing_key()
        backups = retention.holding(self.ctx, now, deleted_at, key_shredded=False)
        touched = sorted({t.project_id for t in (*p.erase, *p.redact)})
        with self.ctx.store.read() as uow:  # workspace exports made before: copies too
            exports = [
                {"export_id": j.id, "expires_at": j.expires_at.isoformat()}
                for j in uow.export_jobs.for_workspace(ws)
                if j.blob_key is not None
                and j.created_at <= deleted_at
                and j.expires_at is not None
                and j.expires_at > now
            ]

        def tombstone() -> LedgerRow:
            facts = certificates.Facts(
                certificate_id=p.certificate_id,
                kind=PurgeKind.SUBJECT,
                subject_id=p.request_id,
                workspace_id=ws,
                project_id=None,
                reason=PurgeReason.PRIVACY_REQUEST,
                deleted_at=deleted_at,
                purged_at=now,
                counts=p.counts(),
                destroyed_keys=[],
                backups=backups,
                retained_keys=[f"{project} v{DATA_KEY_VERSION}" for project in touched],
                erasure={
                    "request_id": p.request_id,
                    "per_collection": p.per_collection(),
                    "erased_records": sorted(t.record_id for t in p.erase),
                    "redacted_records": sorted(t.record_id for t in p.redact),
                    "redact_collections": list(p.redact_collections),
                    "files": sorted(p.files),
                    "pending_records": [
                        {"record_id": t.record_id, "hold_id": h} for t, h in p.pending
                    ],
                    "subject_digests": [list(d) for d in p.digests],
                    "exports_holding": exports,
                },
            )
            document = certificates.issue(facts, signing_key, now)
            return LedgerRow(
                0,
                facts.certificate_id,
                PurgeKind.SUBJECT,
                p.request_id,
                ws,
                None,
                PurgeReason.PRIVACY_REQUEST,
                deleted_at,
                now,
                json.dumps(document, sort_keys=True),
                certificates.digest(document),
            )

        self.ctx.ledger.append_once(p.certificate_id, tombstone)
        with self.ctx.store.write() as uow:
            self._save(uow, ErasureStep.CERTIFIED)
            uow.commit()

    # certified: the audit chain; the request's outcome ----------------------------------
    def finish(self) -> None:
        p, ws = self.progress, self.workspace_id
        tombstone = self.ctx.ledger.get(p.certificate_id)
        assert tombstone is not None  # written by the step before
        now = self.ctx.clock.now()
        with self.ctx.store.write() as uow:
            audit.append(
                uow,
                now,
                "system:lifecycle",
                PURGE_CERTIFIED,
                ws,
                kind=PurgeKind.SUBJECT,
                subject_id=p.request_id,
                reason=PurgeReason.PRIVACY_REQUEST,
                certificate_id=p.certificate_id,
                certificate_sha256=tombstone.certificate_sha256,
                counts=p.counts(),
            )
            row = uow.privacy_requests.get(ws, p.request_id)
            if row is not None and not p.pending and row.state not in CLOSED_STATES:
                uow.privacy_requests.update(
                    ws,
                    p.request_id,
                    state=RequestState.COMPLETED.value,
                    closed_at=now,
                    subject_sealed=None,
                )
                audit.append(
                    uow,
                    now,
                    "system:lifecycle",
                    "privacy.complete",
                    ws,
                    request_id=p.request_id,
                    state=RequestState.COMPLETED.value,
                )
            self.step.finish(uow, now)
            uow.commit()


_STEPS: dict[str, Callable[[_Run], None]] = {
    ErasureStep.START: _Run.start,
    ErasureStep.MARKED: _Run.redact,
    ErasureStep.REDACTED: _Run.delete,
    ErasureStep.DELETED: _Run.certify,
    ErasureStep.CERTIFIED: _Run.finish,
}


class Eraser:
    """The worker's handler of ``privacy.erase`` deadlines."""

    def __init__(self, ctx: Context, records: Records) -> None:
        self.ctx = ctx
        self._records = records

    def run(self, step: Step) -> None:
        _Run(self.ctx, self._records, step).run()
