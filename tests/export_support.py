"""Helpers of the export tests: run due export work through the lifecycle worker, and
rewrite archives to damage them."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from strongroom.bootstrap import Strongroom
from strongroom.export import jobs


def run_due_exports(sr: Strongroom) -> list[str]:
    """Run a worker pass; returns the export actions that were due, in order."""
    now = sr.ctx.clock.now()
    with sr.ctx.store.read() as uow:
        due = [d.action for d in uow.deadlines.due(now, 100, lock=False) if d.reason == jobs.REASON]
    report = sr.worker.run_once()
    assert not report.failed, report.as_json()
    return due


def rewrite_zip(
    source: Path,
    target: Path,
    *,
    drop: str | None = None,
    add: tuple[str, bytes] | None = None,
    replace: tuple[str, bytes] | None = None,
) -> None:
    """Copy an archive entry by entry, dropping, adding or replacing one."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as dst:
        for info in src.infolist():
            if info.filename == drop:
                continue
            data = src.read(info.filename)
            if replace is not None and info.filename == replace[0]:
                data = replace[1]
            dst.writestr(info.filename, data, compress_type=info.compress_type)
        if add is not None:
            dst.writestr(add[0], add[1])


def entries(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist()}


def zip_bytes_entries(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {name: z.read(name) for name in z.namelist()}
