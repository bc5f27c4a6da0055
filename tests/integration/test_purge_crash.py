"""The crash test (issue 4, items 5 and 9): a lifecycle worker process is SIGKILLed while it
purges a project of many records and files, started again, killed again, until the purge
finishes; after every kill the promises hold:

- the live project's records and files read back exactly as written;
- a record in the trash whose time has not come is still there and restorable;
- nothing is purged before its time: a project due later keeps its key and its data;
- once the purge is past ``marked`` the project's data key is gone and its ciphertext,
  even a copy taken before the purge, no longer opens;
- the ledger never holds more than one tombstone for the project, and the audit chain
  never more than one ``purge.certified`` event; the chain verifies after every kill;
- at the end: the deadline is done, no row or blob of the project remains, exactly one
  certificate, which verifies.

Workers run as child processes (tests/integration/purge_worker.py) with a clock fixed by
the test; every round runs a little over one lease later than the one before, so a
killed worker's lease has run out, as it would have in real time.
"""

from __future__ import annotations

import io
import json
import random
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from strongroom import init_home, open_strongroom
from strongroom.bootstrap import Strongroom
from strongroom.clock import FixedClock
from strongroom.config import Settings
from strongroom.crypto import envelope
from strongroom.errors import KeyUnavailable
from strongroom.lifecycle.worker import CLAIM_BATCH, LEASE
from strongroom.services.records import record_binding
from strongroom.services.shredder import BATCH
from strongroom.storage import tables as t
from tests.conftest import PostgresServer

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime.fromisoformat("2026-01-01T00:00:00+00:00")
DUE = T0 + timedelta(days=31)  # project A was deleted at T0 (a 30-day trash)
ROUND = LEASE + timedelta(minutes=1)  # a killed worker's lease has run out by the next round
A_RECORDS, A_FILES = 2_000, 30
PAST_MARKED = ("shredded", "deleted", "certified", "done")
# Progress events of a whole purge of A: five step saves and the finish, the key destroyed,
# a save per batch of records and of files, and a blob deleted per file.
PURGE_EVENTS = 7 + A_RECORDS // BATCH + 1 + A_FILES


# the data ---------------------------------------------------------------------------
def _document(project: str, n: int) -> dict[str, object]:
    return {"project": project, "n": n, "email": f"person{n}@example.com", "notes": "x" * 40}


def _content(project: str, n: int) -> bytes:
    return f"{project} file {n} ".encode() * 40  # about 1 KiB


@dataclass
class Custody:
    """What the test wrote, and what must hold about it after every kill."""

    home: Path
    workspace_id: str
    a: str  # the project being purged
    a_deadline: str
    a_sealed: dict[str, bytes]  # a copy of some of A's ciphertext, as a backup would hold
    a_files: list[str]
    later: str  # a project in the trash, due after every round of the test
    later_records: dict[str, dict[str, object]]
    b: str  # a live project
    b_records: dict[str, dict[str, object]]
    b_files: dict[str, bytes]
    b_trashed: str  # a record of B in the trash, not due yet
    b_trashed_document: dict[str, object]
    b_trash_entry: str
    kills: list[str] = field(default_factory=list)  # the step each kill interrupted

    def open(self, now: datetime) -> Strongroom:
        return open_strongroom(self.home, clock=FixedClock(now))

    def step(self, sr: Strongroom) -> str:
        with sr.ctx.store.read() as uow:
            deadline = uow.deadlines.get(self.a_deadline)
        assert deadline is not None
        return deadline.state if deadline.state != "pending" else deadline.step

    def check(self, now: datetime) -> str:
        """Every invariant; returns the step A's purge has recorded."""
        with self.open(now) as sr:
            step = self.step(sr)
            self._check_live(sr)
            self._check_not_due(sr)
            self._check_purged(sr, step)
            self._check_once(sr)
            sr.audit.verify()
        return step

    def _check_live(self, sr: Strongroom) -> None:
        ws = self.workspace_id
        for record_id, document in self.b_records.items():
            assert sr.records.get(ws, self.b, record_id).document == document
        for file_id, content in self.b_files.items():
            out = io.BytesIO()
            sr.files.read_into(ws, self.b, file_id, out.write)
            assert out.getvalue() == content

    def _check_not_due(self, sr: Strongroom) -> None:
        entry = sr.trash.get(self.workspace_id, self.b_trash_entry)
        assert entry.state == "trashed"
        with sr.ctx.store.read() as uow:
            (deadline,) = uow.deadlines.pending_for(self.b_trash_entry)
            sealed = uow.conn.execute(
                select(t.records.c.sealed).where(t.records.c.id == self.b_trashed)
            ).scalar_one()
            later = dict(
                uow.conn.execute(
                    select(t.records.c.id, t.records.c.sealed).where(
                        t.records.c.project_id == self.later
                    )
                ).all()
            )
        assert deadline.step == "start" and deadline.attempts == 0
        binding = record_binding(self.workspace_id, self.b, self.b_trashed)
        plain = envelope.open_sealed(sealed, binding, sr.ctx.keyring.lookup)
        assert json.loads(plain) == self.b_trashed_document
        assert later.keys() == self.later_records.keys()  # due later: all still there
        for record_id, document in self.later_records.items():
            binding = record_binding(self.workspace_id, self.later, record_id)
            plain = envelope.open_sealed(later[record_id], binding, sr.ctx.keyring.lookup)
            assert json.loads(plain) == document

    def _check_purged(self, sr: Strongroom, step: str) -> None:
        with sr.ctx.store.read() as uow:
            left = uow.conn.execute(
                select(t.records.c.id).where(t.records.c.project_id == self.a)
            ).all()
            files_left = uow.conn.execute(
                select(t.files.c.id).where(t.files.c.project_id == self.a)
            ).all()
        if step in ("start", "marked"):  # rows are deleted only in "shredded"
            assert (len(left), len(files_left)) == (A_RECORDS, A_FILES)
        with sr.ctx.keyring.keystore.read() as keys:
            key_versions = keys.keys.data_key_versions(self.a)
        if step == "start":  # not begun: the key and the data are all there
            assert key_versions
            record_id, sealed = next(iter(self.a_sealed.items()))
            binding = record_binding(self.workspace_id, self.a, record_id)
            envelope.open_sealed(sealed, binding, sr.ctx.keyring.lookup)
        if step in PAST_MARKED:
            assert key_versions == []
            for record_id, sealed in self.a_sealed.items():
                binding = record_binding(self.workspace_id, self.a, record_id)
                with pytest.raises(KeyUnavailable):
                    envelope.open_sealed(sealed, binding, sr.ctx.keyring.lookup)
        if step in ("deleted", "certified", "done"):
            assert left == [] and files_left == []
            assert not any(sr.ctx.blobs.exists(f) for f in self.a_files)

    def _check_once(self, sr: Strongroom) -> None:
        assert len(self.tombstones(sr)) <= 1
        assert len(self.certified_events(sr)) <= 1

    def tombstones(self, sr: Strongroom) -> list[dict[str, object]]:
        return [c for c in sr.certificates.list(self.workspace_id) if c["subject_id"] == self.a]

    def certified_events(self, sr: Strongroom) -> list[dict[str, object]]:
        return [
            e.subject
            for e in sr.audit.events(self.workspace_id, limit=10_000)
            if e.action == "purge.certified" and e.subject["subject_id"] == self.a
        ]

    def check_finished(self, now: datetime) -> None:
        assert self.check(now) == "done", self.kills
        with self.open(now) as sr:
            (tombstone,) = self.tombstones(sr)
            (event,) = self.certified_events(sr)
            certificate = sr.certificates.get(str(tombstone["certificate_id"]))
            verification = sr.certificates.verify(json.dumps(certificate))
            assert verification.certificate_id == event["certificate_id"]
            assert certificate["counts"]["records"] == A_RECORDS
            assert certificate["counts"]["files"] == A_FILES
            with sr.ctx.store.read() as uow:
                assert uow.projects.get(self.workspace_id, self.a) is None

    def restore_not_due(self, now: datetime) -> None:
        """The record of B that was not due comes back whole."""
        with self.open(now) as sr:
            sr.trash.restore(self.workspace_id, self.b_trash_entry)
            restored = sr.records.get(self.workspace_id, self.b, self.b_trashed)
            assert restored.document == self.b_trashed_document


def make_custody(home: Settings) -> Custody:
    clock = FixedClock(T0)
    with open_strongroom(settings=home, clock=clock) as sr:
        ws = sr.workspaces.create("Crash", "owner@example.com").id
        sr.records.declare_collection(ws, "contacts", ["email"])
        a = sr.projects.create(ws, "A").id
        a_ids: list[str] = []
        for start in range(0, A_RECORDS, 500):
            batch = [_document("A", n) for n in range(start, start + 500)]
            a_ids += sr.records.put_many(ws, a, "contacts", batch)
        a_files = [
            sr.files.put(ws, a, f"a{n}.txt", io.BytesIO(_content("A", n))).id
            for n in range(A_FILES)
        ]
        b = sr.projects.create(ws, "B").id
        b_docs = [_document("B", n) for n in range(50)]
        b_records = dict(zip(sr.records.put_many(ws, b, "contacts", b_docs), b_docs, strict=True))
        b_files = {
            sr.files.put(ws, b, f"b{n}.txt", io.BytesIO(_content("B", n))).id: _content("B", n)
            for n in range(5)
        }
        later = sr.projects.create(ws, "Later").id
        later_docs = [_document("Later", n) for n in range(20)]
        later_ids = sr.records.put_many(ws, later, "contacts", later_docs)
        with sr.ctx.store.read() as uow:
            sample = set(a_ids[:: A_RECORDS // 20])
            a_sealed = {
                r.id: r.sealed
                for r in uow.conn.execute(
                    select(t.records.c.id, t.records.c.sealed).where(t.records.c.project_id == a)
                )
                if r.id in sample
            }
        a_entry = sr.projects.delete(ws, a)
        clock.advance(timedelta(days=5))
        sr.projects.delete(ws, later)  # due at T0 + 35 days
        clock.advance(timedelta(days=15))
        b_trashed, *_ = b_records
        b_trashed_document = b_records.pop(b_trashed)
        b_entry = sr.records.delete(ws, b, b_trashed)  # due at T0 + 50 days
        with sr.ctx.store.read() as uow:
            (deadline,) = uow.deadlines.pending_for(a_entry.id)
    return Custody(
        home=home.home,
        workspace_id=ws,
        a=a,
        a_deadline=deadline.id,
        a_sealed=a_sealed,
        a_files=a_files,
        later=later,
        later_records=dict(zip(later_ids, later_docs, strict=True)),
        b=b,
        b_records=b_records,
        b_files=b_files,
        b_trashed=b_trashed,
        b_trashed_document=b_trashed_document,
        b_trash_entry=b_entry.id,
    )


# the worker process -------------------------------------------------------------------
@dataclass
class Pass:
    returncode: int
    claimed: list[str]
    report: dict[str, list[str]] | None  # None: killed
    stderr: str

    @property
    def killed(self) -> bool:
        return self.returncode == -signal.SIGKILL


def start_worker(home: Path, now: datetime, *options: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.integration.purge_worker",
            str(home),
            now.isoformat(),
            *options,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish_worker(proc: subprocess.Popen[str]) -> Pass:
    out, err = proc.communicate(timeout=120)
    lines = out.splitlines()
    claimed = [line.split()[1] for line in lines if line.startswith("claimed ")]
    report = json.loads(lines[-1]) if proc.returncode == 0 else None
    assert proc.returncode in (0, -signal.SIGKILL), err
    return Pass(proc.returncode, claimed, report, err)


def run_worker(home: Path, now: datetime, *options: str) -> Pass:
    """One worker pass; its options say where (if anywhere) it kills itself."""
    return finish_worker(start_worker(home, now, *options))


# the tests ----------------------------------------------------------------------------
@pytest.mark.slow
def test_nothing_is_purged_before_its_time_and_a_kill_in_every_step_is_survived(
    home: Settings,
) -> None:
    custody = make_custody(home)
    assert custody.check(DUE) == "start"

    early = run_worker(custody.home, DUE - timedelta(days=1, minutes=1))
    assert early.report == {"done": [], "held": [], "failed": []}
    assert custody.check(DUE) == "start"

    now = DUE
    # Each kill lands at the worst instant of its step: its work done (rows deleted, the
    # key destroyed, the ledger written), its progress not yet recorded.
    for die in (
        ["--die-in", "start"],
        ["--die-in", "marked"],
        ["--die-in", "shredded@2"],  # after the second batch of records, before its commit
        ["--die-after-blobs", "7"],  # blobs of some files gone, their rows still there
        ["--die-in", "deleted"],  # the tombstone is written, the step not recorded
        ["--die-in", "certified"],
    ):
        before = custody.check(now)
        crashed = run_worker(custody.home, now, *die)
        assert crashed.killed and crashed.claimed == [custody.a_deadline], crashed.stderr
        after = custody.check(now)
        custody.kills.append(f"{' '.join(die)}: {before} -> {after}")
        now += ROUND

    assert [k.split(": ")[1] for k in custody.kills] == [
        "start -> start",
        "start -> marked",  # start recorded, the key destroyed, "shredded" not recorded
        "marked -> shredded",  # one batch committed
        "shredded -> shredded",
        "shredded -> deleted",
        "deleted -> certified",
    ], custody.kills
    last = run_worker(custody.home, now)
    assert last.report == {"done": [custody.a_deadline], "held": [], "failed": []}, last.stderr
    custody.check_finished(now)
    again = run_worker(custody.home, now + ROUND)
    assert again.report == {"done": [], "held": [], "failed": []}
    custody.check_finished(now + ROUND)
    custody.restore_not_due(now + ROUND)


@pytest.mark.slow
def test_a_purge_killed_at_random_instants_finishes_once(home: Settings) -> None:
    custody = make_custody(home)
    rng = random.Random(20260409)
    now = DUE
    # Each kill lands at a progress event drawn at random from the whole purge (a step
    # saved, a blob deleted, the key destroyed: purge_worker.py --die-at), never at a
    # wall-clock instant; a round resumes where the last recorded step left off, so later
    # draws land further on, or past the end (the pass then finishes).
    rounds = 0
    while True:
        rounds += 1
        assert rounds <= 20, custody.kills
        before = custody.check(now)
        if before == "done":
            break
        die_at = rng.randint(1, PURGE_EVENTS) if rounds <= 8 else None
        done = run_worker(custody.home, now, *(["--die-at", str(die_at)] if die_at else []))
        after = custody.check(now)
        if done.killed:
            custody.kills.append(f"event {die_at}: {before} -> {after}")
        else:
            assert done.report is not None and done.report["failed"] == [], done.stderr
        now += ROUND
    assert len(custody.kills) >= 3, custody.kills  # (every step: the test above)
    assert len({k.split(": ")[1] for k in custody.kills}) >= 2, custody.kills
    custody.check_finished(now)
    custody.restore_not_due(now)


# several workers on PostgreSQL ----------------------------------------------------------
# More due purges than one worker claims at once (CLAIM_BATCH), so both workers get some.
PROJECTS, RECORDS, FILES = CLAIM_BATCH + 4, 20, 1


def make_due_projects(home: Settings) -> tuple[str, dict[str, str]]:
    """A workspace with PROJECTS projects in the trash, all due at DUE; returns the
    workspace id and {deadline id: project id}."""
    with open_strongroom(settings=home, clock=FixedClock(T0)) as sr:
        ws = sr.workspaces.create("Many", "owner@example.com").id
        due: dict[str, str] = {}
        for p in range(PROJECTS):
            project = sr.projects.create(ws, f"P{p}").id
            sr.records.put_many(ws, project, "c", [_document(project, n) for n in range(RECORDS)])
            for n in range(FILES):
                sr.files.put(ws, project, f"f{n}", io.BytesIO(_content(project, n)))
            entry = sr.projects.delete(ws, project)
            with sr.ctx.store.read() as uow:
                (deadline,) = uow.deadlines.pending_for(entry.id)
            due[deadline.id] = project
    return ws, due


def check_each_purged_once(home: Settings, ws: str, due: dict[str, str], now: datetime) -> None:
    with open_strongroom(settings=home, clock=FixedClock(now)) as sr:
        with sr.ctx.store.read() as uow:
            states = {d: uow.deadlines.get(d) for d in due}
            records = uow.conn.execute(
                select(t.records.c.id).where(t.records.c.workspace_id == ws)
            ).all()
        assert {d: s.state for d, s in states.items() if s} == dict.fromkeys(due, "done")
        assert records == []
        tombstones = sr.certificates.list(ws)
        assert sorted(c["subject_id"] for c in tombstones) == sorted(due.values())
        certified = [
            e.subject["subject_id"]
            for e in sr.audit.events(ws, limit=10_000)
            if e.action == "purge.certified"
        ]
        assert sorted(certified) == sorted(due.values())
        for c in tombstones:
            sr.certificates.verify(json.dumps(sr.certificates.get(str(c["certificate_id"]))))
        sr.audit.verify()


@pytest.fixture
def pg_home(tmp_path: Path, postgres: PostgresServer) -> Settings:
    data, keys = postgres.fresh_pair()
    return init_home(tmp_path / "home", database_url=data, keystore_url=keys)


@pytest.mark.postgres
def test_two_workers_started_at_once_purge_each_project_once(pg_home: Settings) -> None:
    ws, due = make_due_projects(pg_home)
    workers = [start_worker(pg_home.home, DUE) for _ in range(2)]
    passes = [finish_worker(w) for w in workers]
    reports = [p.report for p in passes]
    assert all(r is not None and r["failed"] == [] for r in reports), [p.stderr for p in passes]
    done = [d for r in reports if r is not None for d in r["done"]]
    assert sorted(done) == sorted(due)  # each deadline run to its end by one worker
    assert all(r and r["done"] for r in reports), reports  # both worked
    check_each_purged_once(pg_home, ws, due, DUE)


@pytest.mark.postgres
def test_two_processes_making_the_signing_key_at_once_share_one(pg_home: Settings) -> None:
    """The first certificates of two workers at once: one signing key, no failed purge
    (before the fix the loser's insert failed and its purge waited a retry)."""
    import threading

    instances = [open_strongroom(settings=pg_home) for _ in range(2)]
    barrier = threading.Barrier(2)
    public: list[bytes] = []

    def make(sr: Strongroom) -> None:
        barrier.wait()
        public.append(sr.ctx.keyring.signing_key().public_key().public_bytes_raw())

    threads = [threading.Thread(target=make, args=(sr,)) for sr in instances]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for sr in instances:
        sr.close()
    assert len(public) == 2 and public[0] == public[1]
    with open_strongroom(settings=pg_home) as sr:
        assert sr.ctx.keyring.public_keys() == [public[0]]
