"""Purges, in idempotent steps recorded on their deadline row:

    start     → mark the subject purging (never restorable again), name the keys
    marked    → destroy the project key (a project) or the workspace keys (a workspace):
                from here on every copy of its ciphertext, backups included, is unreadable;
                then count what the certificate will report (nothing is deleted before
                "shredded" is recorded, so the count is exact; counting waits for the
                shredding, never the other way round: a count of 100,000 rows takes longer
                than the whole shred)
    shredded  → delete rows, blind-index entries and blobs in batches (services/shredder.py)
    deleted   → write the tombstone and the signed certificate to the deletion ledger
    certified → append the certificate's hash to the audit chain; the deadline is done

A worker killed at any instant resumes at the last recorded step; every step may run
twice without harm (deletes of what is gone do nothing, the ledger row is keyed by the
certificate id chosen at ``start``).

Each step is a handler in :data:`_STEPS`; one loop runs the handler of the step the
deadline is in until the deadline ends (done or cancelled).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from strongroom import ids
from strongroom.backup import retention
from strongroom.crypto import certificates
from strongroom.crypto.keyring import DATA_KEY_VERSION
from strongroom.domain.lifecycle import (
    FIRST_STEP,
    PURGE_CERTIFIED,
    DeadlineAction,
    DeadlineState,
    EntryState,
    PurgeKind,
    PurgeReason,
    TrashKind,
)
from strongroom.domain.model import ObjectState, WorkspaceState
from strongroom.errors import Conflict
from strongroom.lifecycle.shred_epoch import key_unrecoverable_by
from strongroom.lifecycle.steps import NotDueYet, Step
from strongroom.services import audit
from strongroom.services.context import Context
from strongroom.services.shredder import Subject
from strongroom.services.trash import set_subject_state
from strongroom.storage.rows import DeadlineRow, LedgerRow, WorkspaceRow
from strongroom.storage.unit_of_work import DataUnitOfWork

__all__ = ["PurgeProgress", "PurgeStep", "Purger", "Step"]


class PurgeStep(StrEnum):
    """The steps of a purge. STORED in ``deadlines.step``: a renamed value strands every
    purge under way."""

    START = FIRST_STEP
    MARKED = "marked"
    SHREDDED = "shredded"
    DELETED = "deleted"
    CERTIFIED = "certified"


@dataclass(frozen=True)
class PurgeProgress:
    """What a purge has established so far, as its deadline row stores it (JSON, keys as
    below: STORED, a purge under way reads what an older version wrote)."""

    kind: PurgeKind
    project_id: str | None
    subject_id: str = ""
    deleted_at: str = ""  # ISO 8601, when the subject was given up
    destroyed_keys: tuple[str, ...] = ()
    certificate_id: str = ""
    counts: dict[str, int] | None = None  # set when "shredded" is recorded

    @classmethod
    def load(cls, action: str, stored: dict[str, Any]) -> PurgeProgress:
        """A trash purge's stored progress names its kind; a workspace purge's does not."""
        workspace = action == DeadlineAction.PURGE_WORKSPACE
        return cls(
            kind=PurgeKind.WORKSPACE if workspace else PurgeKind(stored["kind"]),
            project_id=stored.get("project_id"),
            subject_id=stored.get("subject_id", ""),
            deleted_at=stored.get("deleted_at", ""),
            destroyed_keys=tuple(stored.get("destroyed_keys", ())),
            certificate_id=stored.get("certificate_id", ""),
            counts=stored.get("counts"),
        )

    def stored(self) -> dict[str, Any]:
        out: dict[str, Any] = {} if self.kind is PurgeKind.WORKSPACE else {"kind": self.kind}
        out.update(
            subject_id=self.subject_id,
            project_id=self.project_id,
            deleted_at=self.deleted_at,
            destroyed_keys=list(self.destroyed_keys),
            certificate_id=self.certificate_id,
        )
        if self.counts is not None:
            out["counts"] = dict(self.counts)
        return out

    def with_counts(self, **counts: int) -> PurgeProgress:
        return replace(self, counts={**(self.counts or {}), **counts})

    @property
    def retained_keys(self) -> list[str]:
        """A record or file is purged without destroying its project's key: copies of its
        ciphertext made before the purge stay readable with that key until they expire."""
        if self.kind in (PurgeKind.RECORD, PurgeKind.FILE) and self.project_id:
            return [f"{self.project_id} v{DATA_KEY_VERSION}"]
        return []


class Purger:
    """Runs purge deadlines (the worker's handler of both purge actions)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def purge_trash(self, step: Step) -> None:
        _Purge(self.ctx, step).run()

    def purge_workspace(self, step: Step) -> None:
        _Purge(self.ctx, step).run()


class _Purge:
    """One purge deadline being worked on: its typed progress and the step handlers."""

    def __init__(self, ctx: Context, step: Step) -> None:
        self.ctx = ctx
        self.step = step
        self.deadline = step.deadline
        self.progress = PurgeProgress.load(step.deadline.action, step.progress)

    def run(self) -> None:
        """Run the handler of the recorded step until the deadline is done or cancelled."""
        while self.step.name in _STEPS:
            _STEPS[PurgeStep(self.step.name)](self)

    @property
    def subject(self) -> Subject:
        subject_id = self.progress.subject_id or self.deadline.workspace_id
        return Subject(self.progress.kind, self.deadline.workspace_id, subject_id)

    def _save(self, uow: DataUnitOfWork, name: PurgeStep) -> None:
        self.step.progress = self.progress.stored()
        self.step.save(uow, name)

    def _save_alone(self, name: PurgeStep) -> None:
        with self.ctx.store.write() as uow:
            self._save(uow, name)
            uow.commit()

    def _cancel(self, uow: DataUnitOfWork, now: datetime) -> None:
        """End the deadline as cancelled: nothing to purge (nothing was written yet)."""
        self.step.finish(uow, now, DeadlineState.CANCELLED)
        uow.commit()

    # start ---------------------------------------------------------------------------------
    def start(self) -> None:
        if self.progress.kind is PurgeKind.WORKSPACE:
            self._start_workspace()
        else:
            self._start_trash()

    def _start_trash(self) -> None:
        d = self.deadline
        now = self.ctx.clock.now()
        with self.ctx.store.write() as uow:
            entry = uow.trash.get(d.workspace_id, d.subject_id)
            if entry is None or entry.state != EntryState.TRASHED:
                self._cancel(uow, now)  # restored meanwhile: nothing to purge
                return
            if d.reason == PurgeReason.TRASH_EXPIRED and now < entry.restore_until:
                raise NotDueYet(f"{entry.id} is restorable until {entry.restore_until}")
            if not uow.trash.transition(entry.id, EntryState.TRASHED, EntryState.PURGING, None):
                self._cancel(uow, now)  # a restore won the race
                return
            kind = TrashKind(entry.kind)
            keys = (
                self.ctx.keyring.data_key_names(entry.project_id)
                if kind is TrashKind.PROJECT
                else []
            )
            self.progress = PurgeProgress(
                kind=PurgeKind(kind),
                subject_id=entry.subject_id,
                project_id=entry.project_id,
                deleted_at=entry.deleted_at.isoformat(),
                destroyed_keys=tuple(keys),
                certificate_id=ids.new_id("certificate"),
            )
            set_subject_state(uow, kind, entry.subject_id, ObjectState.PURGING, now, None)
            self._save(uow, PurgeStep.MARKED)
            uow.commit()

    def _start_workspace(self) -> None:
        d = self.deadline
        now = self.ctx.clock.now()
        with self.ctx.store.write() as uow:
            ws = uow.workspaces.get(d.workspace_id)
            if ws is None:
                raise Conflict(f"workspace {d.workspace_id} is gone but its purge never began")
            if ws.state != WorkspaceState.CLOSED:
                uow.workspaces.set_plan(d.workspace_id, WorkspaceState.CLOSED, None, now)
            uow.tokens.revoke_workspace(d.workspace_id, now)
            uow.deadlines.cancel_workspace(d.workspace_id, keep=d.id, now=now)
            names = self.ctx.keyring.workspace_key_names(d.workspace_id)
            self.progress = PurgeProgress(
                kind=PurgeKind.WORKSPACE,
                subject_id=d.workspace_id,
                project_id=None,
                deleted_at=_deleted_at(ws, d).isoformat(),
                destroyed_keys=tuple(names),
                certificate_id=ids.new_id("certificate"),
            )
            self._save(uow, PurgeStep.MARKED)
            uow.commit()

    # marked: destroy the key, then count ---------------------------------------------------
    def shred_key_and_count(self) -> None:
        subject = self.subject
        if subject.kind.shreds_a_key:
            self._save_alone(PurgeStep.MARKED)  # still ours and still pending: then destroy
            self.ctx.shredder.destroy_keys(subject)
        # Counted and "shredded" recorded in one transaction (the key is destroyed already;
        # nothing is deleted until this commits).
        with self.ctx.store.write() as uow:
            counts = self.ctx.shredder.count(uow, subject)
            self.progress = replace(self.progress, counts={**counts, "index_entries": 0})
            self._save(uow, PurgeStep.SHREDDED)
            uow.commit()

    # shredded: delete rows and blobs -------------------------------------------------------
    def delete(self) -> None:
        def on_batch(uow: DataUnitOfWork, index_entries: int) -> None:
            done = (self.progress.counts or {}).get("index_entries", 0)
            self.progress = self.progress.with_counts(index_entries=done + index_entries)
            self._save(uow, PurgeStep.SHREDDED)  # the lease is renewed with every batch

        def last(uow: DataUnitOfWork, removed: dict[str, int]) -> None:
            if self.progress.kind is PurgeKind.WORKSPACE:
                self.progress = self.progress.with_counts(
                    projects=removed["projects"], members=removed["members"]
                )
            self._save(uow, PurgeStep.DELETED)

        self.ctx.shredder.delete(
            self.subject,
            self.ctx.clock.now(),
            keep_deadline=self.deadline.id,
            on_batch=on_batch,
            last=last,
        )

    # deleted: the tombstone and the certificate ------------------------------------------
    def certify(self) -> None:
        d, p = self.deadline, self.progress
        now = self.ctx.clock.now()
        deleted_at = datetime.fromisoformat(p.deleted_at)
        signing_key = self.ctx.keyring.signing_key()  # (its own keystore transaction)
        backups = retention.holding(self.ctx, now, deleted_at, key_shredded=p.kind.shreds_a_key)
        # The next shred epoch destroys the root versions wrapping every lingering copy.
        unrecoverable = (
            key_unrecoverable_by(self.ctx, deleted_at, now) if p.kind.shreds_a_key else None
        )

        def tombstone() -> LedgerRow:
            facts = certificates.Facts(
                certificate_id=p.certificate_id,
                kind=p.kind,
                subject_id=self.subject.subject_id,
                workspace_id=d.workspace_id,
                project_id=p.project_id,
                reason=d.reason,
                deleted_at=deleted_at,
                purged_at=now,
                counts=dict(p.counts or {}),
                destroyed_keys=list(p.destroyed_keys),
                backups=backups,
                retained_keys=p.retained_keys,
                key_unrecoverable_by=unrecoverable,
            )
            document = certificates.issue(facts, signing_key, now)
            return LedgerRow(
                0,
                facts.certificate_id,
                p.kind,
                facts.subject_id,
                d.workspace_id,
                facts.project_id,
                d.reason,
                facts.deleted_at,
                now,
                json.dumps(document, sort_keys=True),
                certificates.digest(document),
            )

        self.ctx.ledger.append_once(p.certificate_id, tombstone)
        self._save_alone(PurgeStep.CERTIFIED)

    # certified: the audit chain, and the deadline is done ----------------------------------
    def finish(self) -> None:
        d, p = self.deadline, self.progress
        tombstone = self.ctx.ledger.get(p.certificate_id)
        assert tombstone is not None  # written by the step before
        now = self.ctx.clock.now()
        with self.ctx.store.write() as uow:
            audit.append(
                uow,
                now,
                "system:lifecycle",
                PURGE_CERTIFIED,
                d.workspace_id,
                kind=p.kind,
                subject_id=self.subject.subject_id,
                reason=d.reason,
                certificate_id=p.certificate_id,
                certificate_sha256=tombstone.certificate_sha256,
                counts=p.counts,
                destroyed_keys=list(p.destroyed_keys),
            )
            if p.kind is not PurgeKind.WORKSPACE:
                uow.trash.set_state(d.subject_id, EntryState.PURGED, now)
            self.step.finish(uow, now)
            uow.commit()


#: The handler of each step; each records the next step when its work is done.
_STEPS: dict[PurgeStep, Callable[[_Purge], None]] = {
    PurgeStep.START: _Purge.start,
    PurgeStep.MARKED: _Purge.shred_key_and_count,
    PurgeStep.SHREDDED: _Purge.delete,
    PurgeStep.DELETED: _Purge.certify,
    PurgeStep.CERTIFIED: _Purge.finish,
}


def _deleted_at(ws: WorkspaceRow, deadline: DeadlineRow) -> datetime:
    """When the workspace's data was given up: the trial's end, or the cancellation or
    deletion (the state's start)."""
    if deadline.reason == PurgeReason.TRIAL_EXPIRED and ws.trial_ends_at is not None:
        return ws.trial_ends_at
    return ws.state_since or deadline.created_at
