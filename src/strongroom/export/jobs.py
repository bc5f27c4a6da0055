"""Export jobs of the API: queued with a durable deadline, run by the lifecycle worker into
a sealed artifact, downloadable until they expire.

- ``create_job`` inserts the job (queued), its ``export.run`` deadline (due now) and an
  audit event in one transaction.
- ``run_job`` (the worker, for ``export.run``) writes the ZIP through segmented AES-GCM
  under the workspace data key into the blob store, reads it back once (every segment
  authenticates, the SHA-256 matches), and only then marks the job done and sets its
  ``export.expire`` deadline. Run again after a crash it starts over; on a done job it
  does nothing.
- ``expire_job`` (the worker, for ``export.expire``) marks the job expired and deletes the
  artifact; run again it only deletes again.

No plaintext reaches the disk: the ZIP goes from the writer straight into encryption.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from strongroom import ids
from strongroom.crypto import segments
from strongroom.crypto.envelope import Binding
from strongroom.crypto.keyring import DATA_KEY_VERSION
from strongroom.crypto.segment_writer import SegmentWriter
from strongroom.domain.lifecycle import DeadlineAction
from strongroom.errors import Conflict, Expired, IntegrityFailure, NotFound, StrongroomError
from strongroom.export.archive import ExportSummary, Progress, write_export
from strongroom.export.source import WorkspaceSource, check_exportable
from strongroom.lifecycle.steps import Step
from strongroom.services import audit
from strongroom.services.context import Context
from strongroom.services.deadlines import new_deadline
from strongroom.services.workspaces import Workspaces
from strongroom.storage.rows import ExportJobRow

#: Deadline actions (STORED in the deadlines table; the worker dispatches on them).
REASON = "export"
#: How many database updates of entries_done a run makes at most (besides the last).
PROGRESS_UPDATES = 100


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"  # the last attempt failed; the worker tries again
    EXPIRED = "expired"


@dataclass(frozen=True)
class ExportJob:
    id: str
    workspace_id: str
    requested_by: str
    state: JobState
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    expires_at: datetime | None
    entries_done: int
    entries_total: int | None
    size: int | None
    sha256: str | None
    error: str | None

    @classmethod
    def of(cls, row: ExportJobRow) -> ExportJob:
        return cls(
            row.id,
            row.workspace_id,
            row.requested_by,
            JobState(row.state),
            row.created_at,
            row.started_at,
            row.finished_at,
            row.expires_at,
            row.entries_done,
            row.entries_total,
            row.size,
            row.sha256,
            row.error,
        )


def artifact_binding(workspace_id: str, job_id: str) -> Binding:
    return Binding("export", workspace_id, "", job_id)


def create_job(ctx: Context, workspace_id: str, actor: str) -> ExportJob:
    check_exportable(Workspaces(ctx).get(workspace_id, actor))
    now = ctx.clock.now()
    row = ExportJobRow(
        ids.new_id("export"),
        workspace_id,
        actor,
        JobState.QUEUED,
        now,
        None,
        None,
        None,
        0,
        None,
        None,
        None,
        None,
        None,
    )
    with ctx.store.write() as uow:
        uow.export_jobs.add(row)
        uow.deadlines.add(
            new_deadline(DeadlineAction.EXPORT_RUN, workspace_id, row.id, REASON, now, now)
        )
        audit.append(uow, now, actor, "export.create", workspace_id, export_id=row.id)
        uow.commit()
    ctx.wake_worker()
    return ExportJob.of(row)


def get_job(ctx: Context, workspace_id: str, job_id: str) -> ExportJob:
    ids.check_id("workspace", workspace_id)
    ids.check_id("export", job_id)
    with ctx.store.read() as uow:
        row = uow.export_jobs.get(workspace_id, job_id)
    if row is None:
        raise NotFound(f"no export {job_id} in workspace {workspace_id}", export_id=job_id)
    return ExportJob.of(row)


def list_jobs(ctx: Context, workspace_id: str) -> list[ExportJob]:
    """A workspace's export jobs, newest first."""
    ids.check_id("workspace", workspace_id)
    with ctx.store.read() as uow:
        rows = uow.export_jobs.for_workspace(workspace_id)
    jobs = [ExportJob.of(r) for r in rows]
    return sorted(jobs, key=lambda j: (j.created_at, j.id), reverse=True)


def _row(ctx: Context, job_id: str) -> ExportJobRow:
    ids.check_id("export", job_id)
    with ctx.store.read() as uow:
        row = uow.export_jobs.by_id(job_id)
    if row is None:
        raise NotFound(f"no export {job_id}", export_id=job_id)
    return row


def _update(ctx: Context, job_id: str, **values: object) -> None:
    with ctx.store.write() as uow:
        uow.export_jobs.update(job_id, **values)
        uow.commit()


def run_job(ctx: Context, job_id: str, progress: Progress | None = None) -> ExportJob:
    row = _row(ctx, job_id)
    if row.state in (JobState.DONE, JobState.EXPIRED):
        return ExportJob.of(row)
    ctx.blobs.delete(job_id)  # what a crashed attempt may have left
    reset = {"blob_key": None, "size": None, "sha256": None, "error": None, "entries_done": 0}
    _update(ctx, job_id, state=JobState.RUNNING, started_at=ctx.clock.now(), **reset)
    try:
        summary = _write_artifact(ctx, row, progress)
        _check_artifact(ctx, row.workspace_id, job_id, summary)
    except BaseException as error:
        ctx.blobs.delete(job_id)
        message = str(error) if isinstance(error, StrongroomError) else type(error).__name__
        with contextlib.suppress(Exception):
            _update(ctx, job_id, state=JobState.FAILED, error=message[:500])
        raise
    return _finish(ctx, row, summary)


def _write_artifact(ctx: Context, row: ExportJobRow, progress: Progress | None) -> ExportSummary:
    source = WorkspaceSource(ctx, row.requested_by)
    plan = source.plan(row.workspace_id)
    total = plan.entries_total
    _update(ctx, row.id, entries_total=total)
    step = max(1, total // PROGRESS_UPDATES)

    def on_entry(done: int, expected: int) -> None:
        if done % step == 0:
            _update(ctx, row.id, entries_done=done, entries_total=expected)
        if progress is not None:
            progress(done, expected)

    key = ctx.keyring.data_key(row.workspace_id)
    binding = artifact_binding(row.workspace_id, row.id)
    with ctx.blobs.writer(row.id) as blob:
        sealed = SegmentWriter(blob.write, key, row.workspace_id, DATA_KEY_VERSION, binding)
        summary = write_export(source, plan, sealed.write, on_entry)
        sealed.close()
    return summary


def _check_artifact(ctx: Context, workspace_id: str, job_id: str, summary: ExportSummary) -> None:
    """Read the artifact back: every segment authenticates and the plaintext is the ZIP
    that was written (size and SHA-256)."""
    digest = hashlib.sha256()
    size = 0
    for chunk in _plaintext(ctx, workspace_id, job_id, "system"):
        digest.update(chunk)
        size += len(chunk)
    if size != summary.size or digest.hexdigest() != summary.sha256:
        raise IntegrityFailure(f"export {job_id} read back differs from what was written")


def _finish(ctx: Context, row: ExportJobRow, summary: ExportSummary) -> ExportJob:
    now = ctx.clock.now()
    expires = now + timedelta(days=ctx.settings.export_ttl_days)
    done = {
        "state": JobState.DONE,
        "finished_at": now,
        "expires_at": expires,
        "entries_done": summary.entries,
        "entries_total": summary.entries,
        "blob_key": row.id,
        "size": summary.size,
        "sha256": summary.sha256,
        "error": None,
    }
    with ctx.store.write() as uow:
        uow.export_jobs.update(row.id, **done)
        uow.deadlines.add(
            new_deadline(
                DeadlineAction.EXPORT_EXPIRE, row.workspace_id, row.id, REASON, expires, now
            )
        )
        audit.append(
            uow,
            now,
            "worker",
            "export.done",
            row.workspace_id,
            export_id=row.id,
            size=summary.size,
            sha256=summary.sha256,
            **summary.counts,
        )
        uow.commit()
    return get_job(ctx, row.workspace_id, row.id)


def expire_job(ctx: Context, job_id: str) -> ExportJob:
    row = _row(ctx, job_id)
    if row.state != JobState.EXPIRED:
        now = ctx.clock.now()
        with ctx.store.write() as uow:
            uow.export_jobs.update(job_id, state=JobState.EXPIRED, blob_key=None)
            audit.append(uow, now, "worker", "export.expire", row.workspace_id, export_id=job_id)
            uow.commit()
    ctx.blobs.delete(job_id)  # after the commit, and again on every rerun
    return get_job(ctx, row.workspace_id, job_id)


def open_artifact(
    ctx: Context, workspace_id: str, job_id: str, actor: str
) -> tuple[ExportJob, Iterator[bytes]]:
    """The done job and its ZIP, decrypted segment by segment as it is read. Expired (410)
    once its time is up, Conflict (409) before it is done."""
    job = get_job(ctx, workspace_id, job_id)
    now = ctx.clock.now()
    if job.state is JobState.EXPIRED or (job.expires_at is not None and now >= job.expires_at):
        raise Expired(f"export {job_id} expired; create a new one", export_id=job_id)
    if job.state is not JobState.DONE:
        raise Conflict(
            f"export {job_id} is {job.state.value}; download it when it is done", export_id=job_id
        )
    audit.record(ctx.store, now, actor, "export.download", workspace_id, export_id=job_id)
    return job, _plaintext(ctx, workspace_id, job_id, actor)


def _plaintext(ctx: Context, workspace_id: str, job_id: str, actor: str) -> Iterator[bytes]:
    binding = artifact_binding(workspace_id, job_id)
    try:
        with ctx.blobs.open(job_id) as blob:
            yield from segments.iter_decrypt(blob, binding, ctx.expect_key(workspace_id))
    except IntegrityFailure:
        ctx.audit_failure(actor, binding)
        raise


# the worker's handlers -----------------------------------------------------------------------
#: How often a long export renews its deadline's lease (well inside the worker's lease).
LEASE_RENEWAL_SECONDS = 60.0


def run_deadline(ctx: Context, step: Step) -> None:
    """``export.run``: make the artifact, then close the deadline. The lease is renewed as
    the export goes, so no other worker takes a long export over (LeaseLost stops it)."""
    renewed = time.monotonic()

    def renew(_done: int, _total: int) -> None:
        nonlocal renewed
        if time.monotonic() - renewed >= LEASE_RENEWAL_SECONDS:
            with ctx.store.write() as uow:
                step.save(uow, step.name)
                uow.commit()
            renewed = time.monotonic()

    run_job(ctx, step.deadline.subject_id, progress=renew)
    with ctx.store.write() as uow:
        step.finish(uow, ctx.clock.now())
        uow.commit()


def expire_deadline(ctx: Context, step: Step) -> None:
    """``export.expire``: delete the artifact, then close the deadline."""
    expire_job(ctx, step.deadline.subject_id)
    with ctx.store.write() as uow:
        step.finish(uow, ctx.clock.now())
        uow.commit()
