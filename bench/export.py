"""export_ratio and export_peak_rss_mb: a workspace of ~200 MiB (three quarters files of a
few MiB, one quarter JSON records) exported by Strongroom, against the plain way of making
the same ZIP with the standard library from the same plaintext.

Both sides write the same entries with the same compression: records as JSON Lines and CSV
per collection (the CSV header from a first pass over the records, as Strongroom does),
deflated at level 1; files stored. Strongroom reads through its services (decrypting every
record twice and every file segment once), hashes each entry for the manifest and writes
the ZIP through a temporary file it fsyncs and renames. The baseline reads the records'
JSON from a plain SQLite table and the files from plain files, writes the ZIP and fsyncs it.

Peak memory: ru_maxrss of a child process that opens the home and runs the export (see
bench/files.py for the launcher), against a child that only opens the home.
"""

from __future__ import annotations

import csv
import gc
import io
import json
import os
import random
import shutil
import sqlite3
import time
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.files import child_peak_rss_mib
from bench.runner import MIB, Config, Result, Target, alternate, median, work_dir
from strongroom.bootstrap import init_home, open_strongroom

MB = 1_000_000
WORDS = [
    "referral",
    "candidate",
    "interview",
    "offer",
    "engineer",
    "backend",
    "frontend",
    "design",
    "manager",
    "senior",
    "junior",
    "remote",
    "hybrid",
    "salary",
    "notice",
    "reference",
    "portfolio",
    "onsite",
    "recruiter",
    "pipeline",
]


@dataclass(frozen=True)
class Sizes:
    file_bytes: int
    file_count: int
    records: int  # per collection, two collections

    @classmethod
    def of(cls, config: Config) -> Sizes:
        if config.quick:
            return cls(file_bytes=2 * MIB, file_count=8, records=2_500)
        return cls(file_bytes=3 * MIB, file_count=50, records=25_000)


@dataclass
class Prepared:
    home: Path
    workspace_id: str
    plain_db: Path
    plain_files: list[Path]
    data_bytes: int


def _document(rng: random.Random, i: int) -> dict[str, object]:
    return {
        "name": f"Candidate {i}",
        "email": f"candidate{i}@example.com",
        "stage": rng.choice(("applied", "screen", "onsite", "offer")),
        "score": round(rng.random() * 10, 2),
        "skills": rng.sample(WORDS, 4),
        "notes": " ".join(rng.choices(WORDS, k=110)),
    }


def _prepare(folder: Path, sizes: Sizes) -> Prepared:
    home = folder / "home"
    init_home(home)
    rng = random.Random(7)
    plain_dir = folder / "plain"
    plain_dir.mkdir()
    db = sqlite3.connect(folder / "plain.db")
    db.execute("CREATE TABLE records (id TEXT PRIMARY KEY, collection TEXT, created_at TEXT,"
               " updated_at TEXT, document TEXT)")  # fmt: skip
    files: list[Path] = []
    total = 0
    with open_strongroom(home) as sr:
        ws = sr.workspaces.create("Bench Export", "owner@example.com")
        project = sr.projects.create(ws.id, "Hiring")
        for collection in ("candidates", "notes"):
            for start in range(0, sizes.records, 5_000):
                docs = [_document(rng, i) for i in range(start, min(start + 5_000, sizes.records))]
                ids = sr.records.put_many(ws.id, project.id, collection, docs)
                now = datetime.now(UTC).isoformat()
                rows = []
                for record_id, doc in zip(ids, docs, strict=True):
                    text = json.dumps(doc, separators=(",", ":"), sort_keys=True)
                    total += len(text)
                    rows.append((record_id, collection, now, now, text))
                db.executemany("INSERT INTO records VALUES (?, ?, ?, ?, ?)", rows)
        db.commit()
        for i in range(sizes.file_count):
            data = os.urandom(sizes.file_bytes)
            path = plain_dir / f"attachment-{i}.bin"
            path.write_bytes(data)
            files.append(path)
            sr.files.put(ws.id, project.id, path.name, io.BytesIO(data))
            total += len(data)
    db.close()
    return Prepared(home, ws.id, folder / "plain.db", files, total)


def _info(path: str, deflate: bool) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(path, date_time=(2026, 1, 1, 0, 0, 0))
    if deflate:
        info.compress_type = zipfile.ZIP_DEFLATED
        info._compresslevel = 1  # type: ignore[attr-defined]
    return info


def plain_export(prepared: Prepared, out: Path) -> float:
    """The baseline: the same entries from plaintext with zipfile; returns seconds."""
    t0 = time.perf_counter()
    db = sqlite3.connect(prepared.plain_db)
    with open(out, "wb") as f, zipfile.ZipFile(f, "w") as z:
        for (collection,) in db.execute("SELECT DISTINCT collection FROM records ORDER BY 1"):
            query = (
                "SELECT id, created_at, updated_at, document FROM records"
                " WHERE collection = ? ORDER BY id"
            )
            fields: dict[str, None] = {}
            with z.open(_info(f"records/{collection}.jsonl", True), "w", force_zip64=True) as e:
                for rid, created, updated, text in db.execute(query, (collection,)):
                    doc = json.loads(text)
                    fields.update(dict.fromkeys(doc))
                    line = {
                        "id": rid,
                        "created_at": created,
                        "updated_at": updated,
                        "document": doc,
                    }
                    e.write(
                        (
                            json.dumps(
                                line, ensure_ascii=False, separators=(",", ":"), sort_keys=True
                            )
                            + "\n"
                        ).encode()
                    )
            with z.open(_info(f"records/{collection}.csv", True), "w", force_zip64=True) as e:
                text_out = io.TextIOWrapper(e, encoding="utf-8", newline="")
                writer = csv.writer(text_out, lineterminator="\r\n")
                names = list(fields)
                writer.writerow(["$id", "$created_at", "$updated_at", *names])
                for rid, created, updated, text in db.execute(query, (collection,)):
                    doc = json.loads(text)
                    cells = [
                        v if isinstance(v, str) else json.dumps(v, separators=(",", ":"))
                        for v in (doc.get(n, "") for n in names)
                    ]
                    writer.writerow([rid, created, updated, *cells])
                text_out.flush()
                text_out.detach()
        for path in prepared.plain_files:
            with (
                open(path, "rb") as src,
                z.open(_info(f"files/{path.name}", False), "w", force_zip64=True) as e,
            ):
                shutil.copyfileobj(src, e, MIB)
        f.flush()
        os.fsync(f.fileno())
    db.close()
    elapsed = time.perf_counter() - t0
    out.unlink()
    return elapsed


def strongroom_export(prepared: Prepared, out: Path) -> float:
    with open_strongroom(prepared.home) as sr:
        t0 = time.perf_counter()
        sr.exports.write(prepared.workspace_id, out)
        elapsed = time.perf_counter() - t0
        sr.exports.verify(out)  # untimed: the archive is complete and right
    out.unlink()
    return elapsed


def run(config: Config, wanted: frozenset[str]) -> list[Result]:
    sizes = Sizes.of(config)
    results: list[Result] = []
    with work_dir(config.work, "export-") as folder:
        prepared = _prepare(folder, sizes)
        out = folder / "export.zip"
        mib = prepared.data_bytes / MIB
        if "export_ratio" in wanted:
            ours: list[float] = []
            theirs: list[float] = []
            plain_export(prepared, out)  # warm-up: plaintext and blobs in the page cache
            for rep in range(config.file_reps):
                gc.collect()
                if alternate(rep):
                    ours.append(strongroom_export(prepared, out))
                    theirs.append(plain_export(prepared, out))
                else:
                    theirs.append(plain_export(prepared, out))
                    ours.append(strongroom_export(prepared, out))
            results.append(
                Result(
                    "export_ratio",
                    median(prepared.data_bytes / MB / s for s in ours),
                    median(prepared.data_bytes / MB / s for s in theirs),
                    "MB/s",
                    Target("ratio", ">=", 0.70),
                    f"workspace of {mib:.0f} MiB of plaintext ({sizes.file_count} random files of "
                    f"{sizes.file_bytes // MIB} MiB, {2 * sizes.records} JSON records of ~1 KiB in "
                    "two collections). Strongroom: sr.exports.write to a path (records via the "
                    "Records service twice, JSON Lines + CSV, files via the Files service, SHA-256 "
                    "per entry, manifest, fsync + rename). Baseline: the same entries with zipfile "
                    "from a plain SQLite table and plain files, fsync; same compression (deflate "
                    f"level 1 for records, files stored); median of {config.file_reps} runs.",
                )
            )
        if "export_peak_rss_mb" in wanted:
            worked: list[float] = []
            idle: list[float] = []
            export_args = ["export", str(prepared.home), prepared.workspace_id, str(out)]
            for rep in range(config.rss_reps):
                if alternate(rep):
                    worked.append(child_peak_rss_mib(export_args))
                    idle.append(child_peak_rss_mib(["open", str(prepared.home)]))
                else:
                    idle.append(child_peak_rss_mib(["open", str(prepared.home)]))
                    worked.append(child_peak_rss_mib(export_args))
            results.append(
                Result(
                    "export_peak_rss_mb",
                    median(worked),
                    median(idle),
                    "MiB",
                    Target("value", "<=", 200),
                    f"ru_maxrss (os.wait4) of a child doing open_strongroom + exports.write of the "
                    f"{mib:.0f} MiB workspace above; baseline: a child that only opens the home; "
                    f"median of {config.rss_reps} runs each.",
                )
            )
    return results
