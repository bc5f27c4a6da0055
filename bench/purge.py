"""purge_shred_ms and purge_rate: how soon a purged project's data becomes undecryptable,
and how fast its rows are then removed.

One SQLite home holds, for each size, projects of that many records and FILES files of
1 KiB (the number of files matters, not their size), plus a live project the purges must
not touch. Each project is deleted to the trash and purged at once
(``sr.trash.purge_now``, then ``sr.worker.run_once(only=deadline)``), one at a time:

- purge_shred_ms: from the worker's claim of the deadline (its ``on_claimed`` callback)
  until a fresh read of one of the project's records (another Strongroom instance on the
  same home, key cache emptied, the record's ciphertext read from the data store) fails
  with KeyUnavailable. That spans the steps ``start`` (mark the project purging, name its
  keys) and ``marked`` up to and including the key's destruction in the keystore. It must
  not grow with the project: the target holds for every size.
- purge_rate: records removed per second in the ``shredded`` step (rows, blind-index
  entries, then each file's blob and row, in committed batches), timed around the
  shredder's batch deletes, over the largest projects.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from bench.runner import Config, Result, Target, median, work_dir
from strongroom.bootstrap import Strongroom, init_home, open_strongroom
from strongroom.crypto import envelope
from strongroom.errors import KeyUnavailable
from strongroom.services.records import MAX_BATCH, record_binding
from strongroom.storage import tables as t

SIZES = (10_000, 100_000)
QUICK_SIZES = (1_000, 5_000)
FILES, QUICK_FILES = 1_000, 20
REPS, QUICK_REPS = 3, 1
FILE_BYTES = 1024
SHRED_TARGET_MS = 100.0


@dataclass
class Purged:
    records: int
    shred_s: float  # claim -> a fresh read fails
    start_s: float  # claim -> the key's destruction begins
    destroy_s: float  # the destruction itself (keystore delete, commit, WAL checkpoint)
    delete_s: float  # the shredded step's batch deletes


def _document(n: int) -> dict[str, Any]:
    return {"name": f"Person {n}", "email": f"person{n}@example.com", "notes": "n" * 160}


def _fill(sr: Strongroom, ws: str, name: str, records: int, files: int) -> str:
    project = sr.projects.create(ws, name).id
    for start in range(0, records, MAX_BATCH):
        count = min(MAX_BATCH, records - start)
        sr.records.put_many(ws, project, "contacts", [_document(start + n) for n in range(count)])
    for n in range(files):
        sr.files.put(ws, project, f"file{n}.bin", io.BytesIO(bytes(FILE_BYTES)))
    return project


def _fresh_read_fails(reader: Strongroom, ws: str, project: str, record_id: str) -> None:
    """Read one record's ciphertext and try to open it with no cached key."""
    reader.ctx.keyring.forget_all()
    with reader.ctx.store.read() as uow:
        sealed = uow.conn.execute(
            select(t.records.c.sealed).where(t.records.c.id == record_id)
        ).scalar_one()
    try:
        envelope.open_sealed(
            sealed, record_binding(ws, project, record_id), reader.ctx.keyring.lookup
        )
    except KeyUnavailable:
        return
    raise AssertionError(f"project {project} is still readable after its key's destruction")


def _purge(sr: Strongroom, reader: Strongroom, ws: str, project: str, records: int) -> Purged:
    with sr.ctx.store.read() as uow:
        record_id = uow.conn.execute(
            select(t.records.c.id).where(t.records.c.project_id == project).limit(1)
        ).scalar_one()
    entry = sr.projects.delete(ws, project)
    deadline_id = sr.trash.purge_now(ws, entry.id)

    marks: dict[str, float] = {}
    keyring = sr.ctx.keyring
    destroy = keyring.destroy_data_key
    shredder = sr.ctx.shredder
    delete_records, delete_files = shredder._delete_records, shredder._delete_files

    def timed_destroy(key_id: str) -> None:
        marks.setdefault("destroy", time.perf_counter())
        destroy(key_id)
        marks.setdefault("destroyed", time.perf_counter())
        _fresh_read_fails(reader, ws, project, record_id)
        marks.setdefault("unreadable", time.perf_counter())

    def timed(delete: Any) -> Any:
        def run(*args: Any) -> None:  # the batch deletes: records, then files
            t0 = time.perf_counter()
            delete(*args)
            marks["delete"] = marks.get("delete", 0.0) + time.perf_counter() - t0

        return run

    keyring.destroy_data_key = timed_destroy  # type: ignore[method-assign]
    shredder._delete_records = timed(delete_records)  # type: ignore[method-assign]
    shredder._delete_files = timed(delete_files)  # type: ignore[method-assign]
    try:
        report = sr.worker.run_once(
            on_claimed=lambda _d: marks.setdefault("claimed", time.perf_counter()),
            only=deadline_id,
        )
    finally:
        del keyring.destroy_data_key, shredder._delete_records, shredder._delete_files
    if report.done != [deadline_id]:
        raise AssertionError(f"the purge did not finish: {report.as_json()}")
    return Purged(
        records,
        marks["unreadable"] - marks["claimed"],
        marks["destroy"] - marks["claimed"],
        marks["destroyed"] - marks["destroy"],
        marks["delete"],
    )


def _run_size(config: Config, records: int, files: int, reps: int) -> list[Purged]:
    with work_dir(config.work, "purge-") as folder:
        home = init_home(folder / "home")
        with open_strongroom(settings=home) as sr, open_strongroom(settings=home) as reader:
            ws = sr.workspaces.create("Purge bench", "owner@example.com").id
            sr.records.declare_collection(ws, "contacts", ["email"])
            live = _fill(sr, ws, "live", 100, 10)
            projects = [_fill(sr, ws, f"p{n}", records, files) for n in range(reps)]
            purged = [_purge(sr, reader, ws, p, records) for p in projects]
            sr.records.list(ws, live, "contacts", limit=100)  # the live project is whole
    return purged


def _ms(xs: list[float]) -> str:
    return f"{median(xs) * 1000:.1f} ms"


def run(config: Config, wanted: frozenset[str]) -> list[Result]:
    sizes = QUICK_SIZES if config.quick else SIZES
    files = QUICK_FILES if config.quick else FILES
    reps = QUICK_REPS if config.quick else REPS
    by_size = {n: _run_size(config, n, files, reps) for n in sizes}
    medians = {n: median(p.shred_s for p in ps) * 1000 for n, ps in by_size.items()}
    detail = "; ".join(
        f"{n:,} records: shred {_ms([p.shred_s for p in ps])} (start "
        f"{_ms([p.start_s for p in ps])}, key destruction {_ms([p.destroy_s for p in ps])})"
        for n, ps in by_size.items()
    )
    results: list[Result] = []
    if "purge_shred_ms" in wanted:
        smallest = sizes[0]
        results.append(
            Result(
                "purge_shred_ms",
                max(medians.values()),
                medians[smallest],
                "ms",
                Target("value", "<=", SHRED_TARGET_MS),
                f"Value: the slowest size's median, baseline: the {smallest:,}-record median "
                f"(ratio ~1: it does not grow with size). Claim of the deadline -> a fresh "
                f"read of a record fails (KeyUnavailable), SQLite, projects of {files:,} "
                f"files of {FILE_BYTES} B, median of {reps} purges per size. {detail}.",
            )
        )
    if "purge_rate" in wanted:
        rates = {n: median(p.records / p.delete_s for p in ps) for n, ps in by_size.items()}
        results.append(
            Result(
                "purge_rate",
                rates[sizes[-1]],
                rates[sizes[0]],
                "records/s",
                None,
                f"Records removed per second in the shredded step (the records with their "
                f"blind-index entries, then {files:,} files, blob and row, in committed "
                f"batches of 500), median of {reps} purges, SQLite. Value: {sizes[-1]:,}-record "
                f"projects, baseline: {sizes[0]:,}-record projects (the files weigh more "
                f"there).",
            )
        )
    return results
