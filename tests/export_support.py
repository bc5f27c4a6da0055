"""Run due export deadlines the way the lifecycle worker will: claim with a lease, call the
step, finish the deadline. (The real worker is built elsewhere; until it lands, tests use
this.)"""

from __future__ import annotations

import io
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

from strongroom.bootstrap import Strongroom
from strongroom.export import jobs

OWNER = "test-worker"


def run_due_exports(sr: Strongroom, now: datetime | None = None) -> list[str]:
    """Perform every due export deadline; returns the actions performed, in order."""
    now = now or sr.ctx.clock.now()
    with sr.ctx.store.write() as uow:
        due = [d for d in uow.deadlines.due(now, 100, lock=False) if d.reason == jobs.REASON]
        for d in due:
            uow.deadlines.lease(d.id, OWNER, now + timedelta(minutes=5))
        uow.commit()
    done = []
    for d in due:
        if d.action == jobs.RUN:
            sr.exports.run_job(d.subject_id)
        elif d.action == jobs.EXPIRE:
            sr.exports.expire_job(d.subject_id)
        with sr.ctx.store.write() as uow:
            uow.deadlines.finish(d.id, OWNER, now, "done")
            uow.commit()
        done.append(d.action)
    return done


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
