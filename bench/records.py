"""record_write_ratio and record_read_ratio: Strongroom records on SQLite against the same
documents stored as plain JSON in an equivalent SQLite table, through the same engine;
record_write_ratio_pg and record_read_ratio_pg: the same on PostgreSQL (the bench's own
databases on the server STRONGROOM_BENCH_POSTGRES_URL names, by default 127.0.0.1:5432,
made afresh each repetition and dropped after); kms_calls_per_1000_reads: the root key's
calls while 1,000 records are read with a warm key cache.

Each repetition makes a fresh Strongroom home and a fresh plain database side by side in
one folder, then writes the documents batch by batch, alternating which side goes first
on every batch, then reads every record back one by one (shuffled, the same order on
both sides), alternating in chunks. Rates are records per second of the summed timed
calls; each side's rate comes from the median batch (or chunk) time over all repetitions,
which a single slow fsync on a noisy machine cannot move.
"""

from __future__ import annotations

import gc
import json
import os
import random
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Engine,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    insert,
    text,
)
from sqlalchemy.engine import make_url

from bench.runner import Config, Result, Target, median, work_dir
from strongroom import ids
from strongroom.bootstrap import Strongroom, init_home, open_kms, open_strongroom
from strongroom.config import load_settings
from strongroom.crypto.kms.base import RootKms
from strongroom.storage.database import WRITE, make_engine
from strongroom.storage.driver import DriverQuery
from strongroom.storage.types import UtcDateTime

COLLECTION = "contacts"
DOCUMENT_BYTES = 1024
READ_CHUNK = 500
WARMUP_GETS = 50

WRITE_NOTES = (
    "Strongroom: sr.records.put_many(ws, prj, 'contacts', batch) on a fresh init_home "
    "(SQLite, WAL, synchronous=FULL), collection without personal fields. Baseline: the same "
    "documents json.dumps'ed (same separators) with new ids into table plain_records (the "
    "columns of `records`, `document TEXT` instead of `sealed BLOB`, the same "
    "(project_id, collection, id) index and the same foreign keys) on its own SQLite file from "
    "make_engine; per batch: engine.connect(), execution_options(WRITE) -> BEGIN IMMEDIATE, "
    "one executemany INSERT, commit, close. The baseline has no project check, no audit "
    "event and no encryption; those are Strongroom's overhead being measured."
)
READ_NOTES = (
    "Strongroom: sr.records.get(ws, prj, id) per record (one select joining the live project, "
    "at the driver level, no transaction of its own; HKDF + AES-GCM open, json.loads). "
    "Baseline: per record, engine.connect(), the same statement shape (SELECT the live plain "
    "row by (id, project_id, workspace_id) joined with its live project) at the driver level "
    "without a transaction of its own (storage/driver.DriverQuery, as Strongroom's read "
    "path), close, check state, json.loads. Shuffled ids, the same order on both sides."
)

plain_metadata = MetaData()
# The parents the foreign keys of `records` point at, as in the data store.
plain_workspaces = Table(
    "plain_workspaces", plain_metadata, Column("id", String(40), primary_key=True)
)
plain_projects = Table(
    "plain_projects",
    plain_metadata,
    Column("id", String(40), primary_key=True),
    Column("state", String(16), nullable=False),
)
plain_records = Table(
    "plain_records",
    plain_metadata,
    Column("id", String(40), primary_key=True),
    Column("workspace_id", String(40), ForeignKey("plain_workspaces.id"), nullable=False),
    Column("project_id", String(40), ForeignKey("plain_projects.id"), nullable=False),
    Column("collection", String(64), nullable=False),
    Column("document", Text, nullable=False),
    Column("size", Integer, nullable=False),
    Column("state", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_plain_records_project_collection", "project_id", "collection", "id"),
)

# Built once, as the storage layer's hot-path statements are (storage/repositories/).
_INSERT_PLAIN = insert(plain_records)
_SELECT_PLAIN = text(
    "SELECT r.id, r.workspace_id, r.project_id, r.collection, r.document, r.size, r.state,"
    " r.created_at, r.updated_at FROM plain_records AS r"
    " JOIN plain_projects AS p ON p.id = r.project_id"
    " WHERE r.id = :id AND r.project_id = :project_id AND r.workspace_id = :ws"
    " AND r.state = 'live' AND p.state = 'live'"
).columns(*plain_records.c)
_PLAIN_GET = DriverQuery(_SELECT_PLAIN)


# documents -------------------------------------------------------------------------------
def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_FIRST = _words(
    "Amara Bilal Chen Dagny Emeka Farah Goran Hana Ines Jonas Kiri Lena Mateo Nadia Oskar "
    "Priya Quinn Rosa Sven Tariq Uma Vera Wen Ximena Yusuf Zofia"
)
_LAST = _words(
    "Okafor Lindqvist Haddad Novak Tanaka Ferreira Kowalski Mensah Schultz Ramirez Ivanova "
    "Nakamura O'Brien Costa Virtanen Adeyemi Moreau Jensen Petrov Alvarez"
)
_COMPANIES = (
    "Northwind Labs",
    "Bluefin Analytics",
    "Cedar & Stone",
    "Helix Robotics",
    "Quarry Health",
    "Lumen Payments",
    "Tidewater Logistics",
    "Orbital Foods",
)
_TITLES = (
    "Senior Backend Engineer",
    "Data Scientist",
    "Product Designer",
    "Engineering Manager",
    "Site Reliability Engineer",
    "Account Executive",
    "Technical Recruiter",
)
_CITIES = (
    ("Berlin", "DE"),
    ("Lisbon", "PT"),
    ("Toronto", "CA"),
    ("Austin", "US"),
    ("Nairobi", "KE"),
    ("Warsaw", "PL"),
    ("Osaka", "JP"),
)
_SKILLS = _words(
    "python postgres kubernetes go rust terraform react figma sql spark kafka aws gcp "
    "leadership hiring negotiation"
)
_STAGES = ("referred", "screening", "phone_screen", "onsite", "offer", "hired", "declined")
_NOTE_WORDS = _words(
    "met at the meetup and talked about migrating a monolith to services; strong on "
    "observability, pragmatic about testing, wants a hybrid role near the office; "
    "notice period two months; referred by a former teammate who vouches for ownership "
    "and calm incident handling; follow up after the holidays with the hiring manager"
)


def contact(rng: random.Random, i: int) -> dict[str, Any]:
    """A referral-hiring contact whose canonical JSON is exactly DOCUMENT_BYTES bytes."""
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    city, country = rng.choice(_CITIES)
    slug = f"{first}.{last}".lower().replace("'", "")
    doc: dict[str, Any] = {
        "full_name": f"{first} {last}",
        "email": f"{slug}{i}@example.com",
        "phone": f"+1-{rng.randint(200, 989)}-555-{rng.randint(0, 9999):04d}",
        "linkedin": f"https://www.linkedin.com/in/{slug.replace('.', '-')}-{i}",
        "location": {"city": city, "country": country},
        "current_company": rng.choice(_COMPANIES),
        "current_title": rng.choice(_TITLES),
        "role_applied": rng.choice(_TITLES),
        "requisition": f"REQ-{rng.randint(1000, 9999)}",
        "referred_by": {
            "employee_id": f"E{rng.randint(10000, 99999)}",
            "name": f"{rng.choice(_FIRST)} {rng.choice(_LAST)}",
            "team": rng.choice(("platform", "data", "design", "sales", "people")),
        },
        "stage": rng.choice(_STAGES),
        "skills": rng.sample(_SKILLS, 4),
        "consent": {
            "contact": True,
            "retention_days": 365,
            "given_at": f"2026-10-0{rng.randint(1, 9)}T09:30:00Z",
        },
        "bonus_eligible": rng.random() < 0.7,
        "note": "",
    }
    room = DOCUMENT_BYTES - len(_encode(doc))
    words: list[str] = []
    while len(" ".join(words)) < room:
        words.append(rng.choice(_NOTE_WORDS))
    doc["note"] = " ".join(words)[:room]
    assert len(_encode(doc)) == DOCUMENT_BYTES
    return doc


def contacts(n: int, seed: int = 2026) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [contact(rng, i) for i in range(n)]


def _encode(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


# the plain side --------------------------------------------------------------------------
class PlainRecords:
    """The same documents, unencrypted, through the same storage layer."""

    def __init__(self, engine: Engine, workspace_id: str, project_id: str) -> None:
        self.engine = engine
        self.workspace_id = workspace_id
        self.project_id = project_id

    def put_many(self, documents: Sequence[dict[str, Any]]) -> list[str]:
        now = datetime.now(UTC)
        rows: list[dict[str, Any]] = []
        record_ids: list[str] = []
        for document in documents:
            text = json.dumps(document, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
            record_ids.append(ids.new_id("record"))
            rows.append(
                {
                    "id": record_ids[-1],
                    "workspace_id": self.workspace_id,
                    "project_id": self.project_id,
                    "collection": COLLECTION,
                    "document": text,
                    "size": len(text.encode("utf-8")),
                    "state": "live",
                    "created_at": now,
                    "updated_at": now,
                }
            )
        conn = self.engine.connect()
        try:
            conn = conn.execution_options(**WRITE)  # BEGIN IMMEDIATE, as DataStore.write()
            tx = conn.begin()
            conn.execute(_INSERT_PLAIN, rows)
            tx.commit()
        finally:
            conn.close()
        return record_ids

    def get(self, record_id: str) -> dict[str, Any]:
        """One statement at the driver level, without a transaction of its own: what
        Strongroom's read path does (DataStore.lookup, storage/driver.py)."""
        conn = self.engine.connect()
        try:
            row = _PLAIN_GET.first(
                conn, {"id": record_id, "project_id": self.project_id, "ws": self.workspace_id}
            )
        finally:
            conn.close()
        if row is None or row[6] != "live":  # state
            raise KeyError(record_id)
        document: dict[str, Any] = json.loads(row[4])  # document
        return document


# one repetition --------------------------------------------------------------------------
@dataclass
class RepTimes:
    """Seconds per batch (writes) or per chunk of READ_CHUNK gets (reads), each side."""

    sr_write: list[float] = field(default_factory=list)
    plain_write: list[float] = field(default_factory=list)
    sr_read: list[float] = field(default_factory=list)
    plain_read: list[float] = field(default_factory=list)


@dataclass
class Sides:
    sr: Strongroom
    workspace_id: str
    project_id: str
    plain: PlainRecords


#: The PostgreSQL server of the ``_pg`` figures (a superuser: the bench makes databases).
POSTGRES_URL = os.environ.get(
    "STRONGROOM_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
PG_DATABASES = ("strongroom_bench_data", "strongroom_bench_keys", "strongroom_bench_plain")


@contextmanager
def pg_databases() -> Iterator[dict[str, str]]:
    """The bench's own databases on the server, fresh; dropped afterwards. Yields the URLs
    of the data store, the keystore and the plain table's database."""
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    base = make_url(POSTGRES_URL)

    def drop_all() -> None:
        with admin.connect() as conn:
            for name in PG_DATABASES:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    try:
        drop_all()
        with admin.connect() as conn:
            for name in PG_DATABASES:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        urls = [base.set(database=n).render_as_string(hide_password=False) for n in PG_DATABASES]
        yield {"database_url": urls[0], "keystore_url": urls[1], "plain": urls[2]}
    finally:
        drop_all()
        admin.dispose()


def _open_sides(folder: Path, pg: dict[str, str] | None = None) -> Sides:
    if pg is None:
        init_home(folder / "home")
        plain_url = f"sqlite:///{folder / 'plain.db'}"
    else:
        init_home(folder / "home", database_url=pg["database_url"], keystore_url=pg["keystore_url"])
        plain_url = pg["plain"]
    sr = open_strongroom(folder / "home")
    ws = sr.workspaces.create("Bench Recruiting", "owner@example.com")
    prj = sr.projects.create(ws.id, "Referrals")
    engine = make_engine(plain_url)
    plain_metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(plain_workspaces).values(id=ws.id))
        conn.execute(insert(plain_projects).values(id=prj.id, state="live"))
    return Sides(sr, ws.id, prj.id, PlainRecords(engine, ws.id, prj.id))


def _close_sides(sides: Sides) -> None:
    sides.sr.close()
    sides.plain.engine.dispose()


def run_rep(
    config: Config, documents: list[dict[str, Any]], rep: int, read: bool, pg: bool = False
) -> RepTimes:
    with work_dir(config.work, "records-") as folder:
        if not pg:
            return _timed_rep(config, documents, rep, read, _open_sides(folder))
        with pg_databases() as urls:
            return _timed_rep(config, documents, rep, read, _open_sides(folder, urls))


def _timed_rep(
    config: Config, documents: list[dict[str, Any]], rep: int, read: bool, sides: Sides
) -> RepTimes:
    times = RepTimes()
    batch = config.record_batch
    sr, ws, prj, plain = sides.sr, sides.workspace_id, sides.project_id, sides.plain
    try:
        # Warm-up (untimed): statement caches, key cache, page cache.
        warm = documents[:batch]
        warm_sr = sr.records.put_many(ws, prj, COLLECTION, warm)
        warm_plain = plain.put_many(warm)
        for a, b in zip(warm_sr[:WARMUP_GETS], warm_plain[:WARMUP_GETS], strict=True):
            sr.records.get(ws, prj, a)
            plain.get(b)
        gc.collect()

        sr_ids: list[str] = []
        plain_ids: list[str] = []
        for n, start in enumerate(range(0, len(documents), batch)):
            chunk = documents[start : start + batch]
            for side in _order(rep + n):
                t0 = time.perf_counter()
                if side == "sr":
                    sr_ids += sr.records.put_many(ws, prj, COLLECTION, chunk)
                    times.sr_write.append(time.perf_counter() - t0)
                else:
                    plain_ids += plain.put_many(chunk)
                    times.plain_write.append(time.perf_counter() - t0)
        _check_same(sides, sr_ids[0], plain_ids[0])
        if not read:
            return times

        order = list(range(len(sr_ids)))
        random.Random(rep).shuffle(order)
        gc.collect()
        for n, start in enumerate(range(0, len(order), READ_CHUNK)):
            chunk_idx = order[start : start + READ_CHUNK]
            for side in _order(rep + n):
                if side == "sr":
                    wanted = [sr_ids[i] for i in chunk_idx]
                    t0 = time.perf_counter()
                    for record_id in wanted:
                        sr.records.get(ws, prj, record_id)
                    times.sr_read.append(time.perf_counter() - t0)
                else:
                    wanted = [plain_ids[i] for i in chunk_idx]
                    t0 = time.perf_counter()
                    for record_id in wanted:
                        plain.get(record_id)
                    times.plain_read.append(time.perf_counter() - t0)
    finally:
        _close_sides(sides)
    return times


def _order(n: int) -> tuple[str, str]:
    return ("sr", "plain") if n % 2 == 0 else ("plain", "sr")


def _check_same(sides: Sides, sr_id: str, plain_id: str) -> None:
    """Both sides must hand back the same document (the comparison is like for like)."""
    a = sides.sr.records.get(sides.workspace_id, sides.project_id, sr_id).document
    b = sides.plain.get(plain_id)
    if a != b:
        raise AssertionError("Strongroom and the plain table returned different documents")


def _rate(reps: list[RepTimes], side: str, per_sample: int) -> float:
    """Records per second from the median sample of all repetitions: one slow fsync or a
    neighbour's burst moves a sum, not a median."""
    samples = [t for r in reps for t in getattr(r, side)]
    return per_sample / median(samples)


# entry point -----------------------------------------------------------------------------
PG_NOTE = (
    " The _pg figures: the same on PostgreSQL instead of SQLite; the data store, the "
    "keystore and the plain table each in a database of their own on the same server "
    "(127.0.0.1:5432 unless STRONGROOM_BENCH_POSTGRES_URL), "
    "through the same make_engine (psycopg); BEGIN instead of BEGIN IMMEDIATE."
)


def run(config: Config, wanted: frozenset[str]) -> list[Result]:
    return _run(config, wanted, "")


def run_pg(config: Config, wanted: frozenset[str]) -> list[Result]:
    return _run(config, wanted, "_pg")


def _run(config: Config, wanted: frozenset[str], suffix: str) -> list[Result]:
    read = f"record_read_ratio{suffix}" in wanted
    documents = contacts(config.record_count)
    pg = suffix == "_pg"
    reps = [run_rep(config, documents, rep, read, pg) for rep in range(config.reps)]
    n = len(documents)
    sizes = f"{n:,} records of {DOCUMENT_BYTES} B JSON in batches of {config.record_batch}"
    detail = f" Median batch/chunk time over {config.reps} repetitions ({sizes})."
    if pg:
        detail += PG_NOTE
    results = []
    if f"record_write_ratio{suffix}" in wanted:
        results.append(
            Result(
                f"record_write_ratio{suffix}",
                _rate(reps, "sr_write", config.record_batch),
                _rate(reps, "plain_write", config.record_batch),
                "records/s",
                Target("ratio", ">=", 0.80),
                WRITE_NOTES + detail,
            )
        )
    if read:
        results.append(
            Result(
                f"record_read_ratio{suffix}",
                _rate(reps, "sr_read", READ_CHUNK),
                _rate(reps, "plain_read", READ_CHUNK),
                "records/s",
                Target("ratio", ">=", 0.80),
                READ_NOTES + detail,
            )
        )
    return results


# root key calls --------------------------------------------------------------------------
KMS_READS = 1000


class CountingKms:
    """The root key's interface, passed through, every call counted (not ``backend`` and
    the other plain attributes: only methods that may reach the KMS)."""

    def __init__(self, kms: RootKms) -> None:
        self._kms = kms
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._kms, name)
        if not callable(value) or name == "close":
            return value

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return value(*args, **kwargs)

        return counted


def run_kms_calls(config: Config, wanted: frozenset[str]) -> list[Result]:
    """Write records, reopen the home (a cold key cache), read a few to warm it, then count
    the root key's calls over KMS_READS reads of other records."""
    warm_reads = 50
    with work_dir(config.work, "kms-calls-") as folder:
        home = folder / "home"
        init_home(home)
        with open_strongroom(home) as sr:
            ws = sr.workspaces.create("Bench Recruiting", "owner@example.com")
            projects = [sr.projects.create(ws.id, f"Referrals {i}").id for i in range(4)]
            documents = contacts(KMS_READS + warm_reads)
            written = [
                (prj, record_id)
                for i, prj in enumerate(projects)
                for record_id in sr.records.put_many(ws.id, prj, COLLECTION, documents[i::4])
            ]
        random.Random(7).shuffle(written)
        kms = CountingKms(open_kms(load_settings(home)))
        with open_strongroom(home, kms=kms) as sr:  # type: ignore[arg-type]
            for prj, record_id in written[:warm_reads]:
                sr.records.get(ws.id, prj, record_id)
            cold = kms.calls
            for prj, record_id in written[warm_reads : warm_reads + KMS_READS]:
                sr.records.get(ws.id, prj, record_id)
            warm = kms.calls - cold
    return [
        Result(
            "kms_calls_per_1000_reads",
            warm * 1000 / KMS_READS,
            float(cold),
            "calls",
            Target("value", "<=", 1),
            f"Root-key calls (a counting wrapper around the KMS interface, every method) while "
            f"{KMS_READS} records of 4 projects of one workspace are read by id after "
            f"{warm_reads} warm-up reads of the same projects on a freshly opened home (local "
            "KMS; the count, not the backend's speed, is measured). Baseline: the calls the "
            "warm-up made (cold cache); ratio = warm calls / cold calls.",
        )
    ]
