"""Exports as a service (``Strongroom.exports``): write an export to a path or stream, and
the API's export jobs (see jobs.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from strongroom.atomic_file import write_atomically
from strongroom.export import jobs
from strongroom.export.archive import ExportSummary, Progress, write_export
from strongroom.export.jobs import ExportJob
from strongroom.export.source import WorkspaceSource
from strongroom.export.verify import Verified, verify_archive
from strongroom.services import audit
from strongroom.services.context import Context


class Exports:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def write(
        self,
        workspace_id: str,
        target: Path | str | BinaryIO,
        progress: Progress | None = None,
        actor: str = "system",
        on_bytes: Callable[[int], None] | None = None,
    ) -> ExportSummary:
        """Export a workspace as a ZIP into ``target``: a path (the file appears, mode 0600,
        only once the archive is complete) or a writable binary stream. ``progress`` hears of
        each finished entry; ``on_bytes`` of every chunk written, so a large file moves a
        progress display too."""
        source = WorkspaceSource(self.ctx, actor)
        plan = source.plan(workspace_id)
        if isinstance(target, str | Path):
            summary = write_atomically(
                Path(target),
                lambda write: write_export(source, plan, _counted(write, on_bytes), progress),
            )
        else:
            summary = write_export(source, plan, _counted(target.write, on_bytes), progress)
        audit.record(
            self.ctx.store,
            self.ctx.clock.now(),
            actor,
            "export.write",
            workspace_id,
            size=summary.size,
            sha256=summary.sha256,
            **summary.counts,
        )
        return summary

    def verify(self, path: Path | str) -> Verified:
        return verify_archive(Path(path))

    # jobs (API) -------------------------------------------------------------------------
    def create_job(self, workspace_id: str, actor: str = "system") -> ExportJob:
        return jobs.create_job(self.ctx, workspace_id, actor)

    def job(self, workspace_id: str, job_id: str) -> ExportJob:
        return jobs.get_job(self.ctx, workspace_id, job_id)

    def jobs(self, workspace_id: str) -> list[ExportJob]:
        """The workspace's export jobs, newest first."""
        return jobs.list_jobs(self.ctx, workspace_id)

    def run_job(self, job_id: str, progress: Progress | None = None) -> ExportJob:
        return jobs.run_job(self.ctx, job_id, progress)

    def expire_job(self, job_id: str) -> ExportJob:
        return jobs.expire_job(self.ctx, job_id)

    def open_artifact(
        self, workspace_id: str, job_id: str, actor: str = "system"
    ) -> tuple[ExportJob, Iterator[bytes]]:
        return jobs.open_artifact(self.ctx, workspace_id, job_id, actor)


def _counted(
    write: Callable[[bytes], object], on_bytes: Callable[[int], None] | None
) -> Callable[[bytes], object]:
    if on_bytes is None:
        return write

    def counting(data: bytes) -> object:
        written = write(data)
        on_bytes(len(data))
        return written

    return counting
