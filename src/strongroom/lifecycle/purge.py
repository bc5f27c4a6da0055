"""Purges, in idempotent steps recorded on their deadline row:

    start     → mark the subject purging (never restorable again), name the keys
    marked    → destroy the project key (a project) or the workspace keys (a workspace):
                from here on every copy of its ciphertext, backups included, is unreadable;
                then count what the certificate will report (nothing is deleted before
                "shredded" is recorded, so the count is exact; counting waits for the
                shredding, never the other way round: a count of 100,000 rows takes longer
                than the whole shred)
    shredded  → delete rows, blind-index entries and blobs in batches
    deleted   → write the tombstone and the signed certificate to the deletion ledger
    certified → append the certificate's hash to the audit chain; the deadline is done

A worker killed at any instant resumes at the last recorded step; every step may run
twice without harm (deletes of what is gone do nothing, the ledger row is keyed by the
certificate id chosen at ``start``).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from strongroom import ids
from strongroom.backup import retention
from strongroom.domain.lifecycle import DeadlineAction, EntryState, PurgeReason, TrashKind
from strongroom.domain.model import ObjectState, WorkspaceState
from strongroom.errors import Conflict
from strongroom.lifecycle import certificates
from strongroom.lifecycle.deadlines import CANCELLED
from strongroom.lifecycle.steps import NotDueYet, Step
from strongroom.services import audit
from strongroom.services.context import Context
from strongroom.services.keyring import DATA_KEY_VERSION
from strongroom.services.trash import set_subject_state
from strongroom.storage.rows import DeadlineRow, LedgerRow, WorkspaceRow
from strongroom.storage.unit_of_work import DataUnitOfWork

BATCH = 500


class Purger:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    # trash entries -------------------------------------------------------------------
    def purge_trash(self, step: Step) -> None:
        d = step.deadline
        if step.name == "start":
            self._start_trash(step)
        if step.name == CANCELLED:
            return
        kind = TrashKind(step.progress["kind"])
        scope, value = _scope(kind, step.progress)
        if step.name == "marked":
            if kind is TrashKind.PROJECT:
                self._save(step, "marked")  # still ours and still pending: then destroy
                self.ctx.keyring.destroy_data_key(step.progress["project_id"])
            self._count_and_save(step, scope, value)
        if step.name == "shredded":
            self._delete_in_batches(step, scope, value)
            with self.ctx.store.write() as uow:
                if kind is TrashKind.PROJECT:
                    _close_nested_entries(uow, d.workspace_id, value, self.ctx.clock.now())
                    uow.purging.delete_project(value)
                step.save(uow, "deleted")
                uow.commit()
        self._certify_and_finish(step, kind.value, step.progress["subject_id"])

    def _start_trash(self, step: Step) -> None:
        d = step.deadline
        now = self.ctx.clock.now()
        with self.ctx.store.write() as uow:
            entry = uow.trash.get(d.workspace_id, d.subject_id)
            if entry is None or entry.state != EntryState.TRASHED:
                _cancel(uow, step, now)  # restored meanwhile: nothing to purge
                return
            if d.reason == PurgeReason.TRASH_EXPIRED and now < entry.restore_until:
                raise NotDueYet(f"{entry.id} is restorable until {entry.restore_until}")
            if not uow.trash.transition(entry.id, EntryState.TRASHED, EntryState.PURGING, None):
                _cancel(uow, step, now)  # a restore won the race
                return
            kind = TrashKind(entry.kind)
            keys = (
                self.ctx.keyring.data_key_names(entry.project_id)
                if kind is TrashKind.PROJECT
                else []
            )
            step.progress.update(
                kind=entry.kind,
                subject_id=entry.subject_id,
                project_id=entry.project_id,
                deleted_at=entry.deleted_at.isoformat(),
                destroyed_keys=keys,
                certificate_id=ids.new_id("certificate"),
            )
            set_subject_state(uow, kind, entry.subject_id, ObjectState.PURGING, now, None)
            step.save(uow, "marked")
            uow.commit()

    # workspaces ------------------------------------------------------------------------
    def purge_workspace(self, step: Step) -> None:
        d = step.deadline
        if step.name == "start":
            self._start_workspace(step)
        if step.name == CANCELLED:
            return
        if step.name == "marked":
            self._save(step, "marked")  # still ours and still pending: then destroy
            self.ctx.keyring.destroy_workspace_keys(d.workspace_id)
            self._count_and_save(step, "workspace_id", d.workspace_id)
        if step.name == "shredded":
            self._delete_in_batches(step, "workspace_id", d.workspace_id)
            with self.ctx.store.read() as uow:
                blobs = uow.purging.export_blobs(d.workspace_id)
            for key in blobs:
                self.ctx.blobs.delete(key)
            with self.ctx.store.write() as uow:
                removed = uow.purging.delete_workspace(d.workspace_id, keep_deadline=d.id)
                step.progress["counts"].update(
                    projects=removed["projects"], members=removed["members"]
                )
                step.save(uow, "deleted")
                uow.commit()
        self._certify_and_finish(step, "workspace", d.workspace_id)

    def _start_workspace(self, step: Step) -> None:
        d = step.deadline
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
            step.progress.update(
                subject_id=d.workspace_id,
                project_id=None,
                deleted_at=_deleted_at(ws, d).isoformat(),
                destroyed_keys=names,
                certificate_id=ids.new_id("certificate"),
            )
            step.save(uow, "marked")
            uow.commit()

    # shared steps ------------------------------------------------------------------------
    def _count_and_save(self, step: Step, scope: str, value: str) -> None:
        """Count what is about to be deleted and record "shredded", in one transaction
        (the key is destroyed already; nothing is deleted until this commits)."""
        with self.ctx.store.write() as uow:
            counts = uow.purging.counts(scope, value)
            step.progress["counts"] = {**counts, "index_entries": 0}
            step.save(uow, "shredded")
            uow.commit()

    def _save(self, step: Step, name: str) -> None:
        with self.ctx.store.write() as uow:
            step.save(uow, name)
            uow.commit()

    def _delete_in_batches(self, step: Step, scope: str, value: str) -> None:
        """Records (with their index entries), then files (blob first, then row), one
        committed batch at a time; the lease is renewed with every batch."""
        while True:
            with self.ctx.store.write() as uow:
                record_ids = uow.purging.record_ids(scope, value, BATCH)
                if not record_ids:
                    break
                step.progress["counts"]["index_entries"] += uow.purging.delete_records(record_ids)
                step.save(uow, step.name)
                uow.commit()
        while True:
            with self.ctx.store.read() as uow:
                files = uow.purging.files(scope, value, BATCH)
            if not files:
                break
            for _file_id, blob_key in files:
                self.ctx.blobs.delete(blob_key)
            with self.ctx.store.write() as uow:
                uow.purging.delete_files([f for f, _ in files])
                step.save(uow, step.name)
                uow.commit()

    def _certify_and_finish(self, step: Step, kind: str, subject_id: str) -> None:
        d = step.deadline
        p = step.progress
        if step.name == "deleted":
            now = self.ctx.clock.now()
            signing_key = self.ctx.keyring.signing_key()  # (its own keystore transaction)
            backups = retention.holding(
                self.ctx,
                now,
                datetime.fromisoformat(p["deleted_at"]),
                key_shredded=kind in ("project", "workspace"),
            )
            with self.ctx.keyring.keystore.write() as keys:
                if keys.keys.tombstone(p["certificate_id"]) is None:
                    facts = certificates.Facts(
                        certificate_id=p["certificate_id"],
                        kind=kind,
                        subject_id=subject_id,
                        workspace_id=d.workspace_id,
                        project_id=p.get("project_id"),
                        reason=d.reason,
                        deleted_at=datetime.fromisoformat(p["deleted_at"]),
                        purged_at=now,
                        counts=p["counts"],
                        destroyed_keys=p["destroyed_keys"],
                        backups=backups,
                        retained_keys=_retained_keys(kind, p),
                    )
                    document = certificates.issue(facts, signing_key, now)
                    keys.keys.add_tombstone(
                        LedgerRow(
                            0,
                            facts.certificate_id,
                            kind,
                            subject_id,
                            d.workspace_id,
                            facts.project_id,
                            d.reason,
                            facts.deleted_at,
                            now,
                            json.dumps(document, sort_keys=True),
                            certificates.digest(document),
                        )
                    )
                    keys.commit()
            self._save(step, "certified")
        if step.name == "certified":
            with self.ctx.keyring.keystore.read() as keys:
                tombstone = keys.keys.tombstone(p["certificate_id"])
            assert tombstone is not None  # written by the step before
            now = self.ctx.clock.now()
            with self.ctx.store.write() as uow:
                audit.append(
                    uow,
                    now,
                    "system:lifecycle",
                    "purge.certified",
                    d.workspace_id,
                    kind=kind,
                    subject_id=subject_id,
                    reason=d.reason,
                    certificate_id=p["certificate_id"],
                    certificate_sha256=tombstone.certificate_sha256,
                    counts=p["counts"],
                    destroyed_keys=p["destroyed_keys"],
                )
                if kind != "workspace":
                    uow.trash.set_state(d.subject_id, EntryState.PURGED, now)
                step.finish(uow, now)
                uow.commit()


def _cancel(uow: DataUnitOfWork, step: Step, now: datetime) -> None:
    """End the deadline as cancelled: nothing to purge (nothing was written yet)."""
    step.finish(uow, now, CANCELLED)
    uow.commit()


def _retained_keys(kind: str, progress: dict[str, Any]) -> list[str]:
    """A record or file is purged without destroying its project's key: copies of its
    ciphertext made before the purge stay readable with that key until they expire."""
    if kind in (TrashKind.RECORD, TrashKind.FILE) and progress.get("project_id"):
        return [f"{progress['project_id']} v{DATA_KEY_VERSION}"]
    return []


def _deleted_at(ws: WorkspaceRow, deadline: DeadlineRow) -> datetime:
    """When the workspace's data was given up: the trial's end, or the cancellation or
    deletion (the state's start)."""
    if deadline.reason == PurgeReason.TRIAL_EXPIRED and ws.trial_ends_at is not None:
        return ws.trial_ends_at
    return ws.state_since or deadline.created_at


def _scope(kind: TrashKind, progress: dict[str, Any]) -> tuple[str, str]:
    """The column and value naming what a trash entry's purge deletes."""
    if kind is TrashKind.PROJECT:
        return "project_id", progress["subject_id"]
    return "id", progress["subject_id"]


def _close_nested_entries(
    uow: DataUnitOfWork, workspace_id: str, project_id: str, now: datetime
) -> None:
    """Entries of records and files inside a purged project: their data went with it."""
    for entry in uow.trash.of_project(project_id, EntryState.TRASHED):
        if entry.kind != TrashKind.PROJECT:
            uow.deadlines.cancel_for(entry.id, (DeadlineAction.PURGE_TRASH.value,), now)
            uow.trash.set_state(entry.id, EntryState.PURGED, now)
