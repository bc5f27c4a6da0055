"""The erasure crash test (issue 12, item 12): a worker process is SIGKILLed at the worst
instant of every step of a data subject's erasure (its work done, its progress not yet
committed), then once more between a file's blob and its row; after every kill:

- other people's records read back exactly as written;
- each of the subject's own records is either untouched (before the start committed) or
  gone from every read; each record where the subject is a referral is either untouched
  or redacted exactly, never anything in between;
- the ledger never holds more than one tombstone of the erasure, the audit chain never
  more than one ``purge.certified`` event of it, and the chain verifies;

and at the end: the deadline is done, the subject is found nowhere, the files named by
their records are gone (blob and row), the request is completed, and one certificate,
which verifies, counts exactly what went.

Workers are child processes (tests/integration/purge_worker.py: the same worker, the same
kill switches), each round a little over one lease after the one before.
"""

from __future__ import annotations

import contextlib
import io
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from strongroom import open_strongroom
from strongroom.bootstrap import Strongroom
from strongroom.clock import FixedClock
from strongroom.config import Settings
from strongroom.errors import NotFound
from strongroom.lifecycle.worker import LEASE
from strongroom.services.erasure import BATCH, Erasure
from tests.integration.test_purge_crash import run_worker

T0 = datetime.fromisoformat("2026-03-01T09:00:00+00:00")
ROUND = LEASE + timedelta(minutes=1)
ADA = "ada@example.com"
OWN, REFERRALS, OTHERS, FILES = 120, BATCH + 30, 40, 6  # two batches of redactions


@dataclass
class Subject:
    home: Path
    ws: str
    request_id: str
    deadline_id: str
    own: dict[str, tuple[str, dict[str, Any]]]  # record id → (project, document)
    referrals: dict[str, tuple[str, dict[str, Any]]]
    others: dict[str, tuple[str, dict[str, Any]]]
    files: list[tuple[str, str]]  # (project, file id) named by the subject's records
    blob_keys: list[str] = field(default_factory=list)
    kills: list[str] = field(default_factory=list)

    def open(self, now: datetime) -> Strongroom:
        return open_strongroom(self.home, clock=FixedClock(now))

    def step(self, sr: Strongroom) -> str:
        with sr.ctx.store.read() as uow:
            row = uow.deadlines.get(self.deadline_id)
        assert row is not None
        return row.step if row.state == "pending" else row.state

    def check(self, now: datetime) -> str:
        with self.open(now) as sr:
            for record_id, (project, document) in self.others.items():
                assert sr.records.get(self.ws, project, record_id).document == document
            for record_id, (project, document) in self.own.items():
                with contextlib.suppress(NotFound):
                    assert sr.records.get(self.ws, project, record_id).document == document
            for record_id, (project, document) in self.referrals.items():
                now_doc = sr.records.get(self.ws, project, record_id).document
                assert now_doc in (document, _redacted(document)), now_doc
            assert len(self.tombstones(sr)) <= 1
            assert len(self.certified_events(sr)) <= 1
            assert sr.audit.verify() > 0  # raises if the chain is broken
            return self.step(sr)

    def tombstones(self, sr: Strongroom) -> list[Any]:
        return [t for t in sr.ctx.ledger.all(self.ws) if t.subject_id == self.request_id]

    def certified_events(self, sr: Strongroom) -> list[Any]:
        return [
            e
            for e in sr.audit.events(self.ws, limit=10_000)
            if e.action == "purge.certified" and e.subject.get("subject_id") == self.request_id
        ]


def _document(n: int, email: str) -> dict[str, Any]:
    return {"email": email, "n": n, "notes": "x" * 40}


def _referral(n: int) -> dict[str, Any]:
    return {
        "email": f"person{n}@example.com",
        "refs": [{"email": ADA, "name": "Ada", "at": n}, {"email": "cy@example.com"}],
    }


def _redacted(document: dict[str, Any]) -> dict[str, Any]:
    return {**document, "refs": [{"at": document["refs"][0]["at"]}, {"email": "cy@example.com"}]}


def make_subject(home: Settings) -> Subject:
    with open_strongroom(home.home, clock=FixedClock(T0)) as sr:
        ws = sr.workspaces.create("Acme", "owner@acme.example").id
        a = sr.projects.create(ws, "A").id
        b = sr.projects.create(ws, "B").id
        sr.records.declare_collection(
            ws, "people", ["email", "refs[].email", "refs[].name"], file_fields=["photo"]
        )
        files = [
            (a, sr.files.put(ws, a, f"ada{i}.jpg", io.BytesIO(b"ADA" * 300)).id)
            for i in range(FILES)
        ]
        own_docs = [_document(i, ADA.upper() if i % 2 else ADA) for i in range(OWN)]
        for i, (_project, file_id) in enumerate(files):
            own_docs[i]["photo"] = file_id
        own_ids = sr.records.put_many(ws, a, "people", own_docs)
        ref_docs = [_referral(i) for i in range(REFERRALS)]
        ref_ids = sr.records.put_many(ws, b, "people", ref_docs)
        other_docs = [_document(i, f"other{i}@example.com") for i in range(OTHERS)]
        other_ids = sr.records.put_many(ws, a, "people", other_docs)
        request = sr.privacy.create(ws, type="deletion", law="gdpr", identifiers=[("email", ADA)])
        sr.privacy.verify(ws, request.id, method="signed letter", by="dpo")
        deadline = Erasure(sr.ctx).schedule(ws, request.id, (), "test")
        with sr.ctx.store.read() as uow:
            blob_keys = [uow.files.get(ws, p, f).blob_key for p, f in files]  # type: ignore[union-attr]
    return Subject(
        home=home.home,
        ws=ws,
        request_id=request.id,
        deadline_id=deadline,
        own={r: (a, d) for r, d in zip(own_ids, own_docs, strict=True)},
        referrals={r: (b, d) for r, d in zip(ref_ids, ref_docs, strict=True)},
        others={r: (a, d) for r, d in zip(other_ids, other_docs, strict=True)},
        files=files,
        blob_keys=blob_keys,
    )


@pytest.mark.slow
def test_an_erasure_killed_in_every_step_finishes_once(home: Settings) -> None:
    subject = make_subject(home)
    now = T0
    assert subject.check(now) == "start"
    for die in (
        ["--die-in", "start"],  # located and marked, not committed
        ["--die-in", "marked"],  # the first batch redacted, not committed
        ["--die-in", "marked@2"],  # the second batch
        ["--die-in", "redacted"],  # the first batch of records deleted, not committed
        ["--die-after-blobs", "2"],  # two files' blobs gone, their rows still there
        ["--die-in", "deleted"],  # the tombstone written, the step not recorded
        ["--die-in", "certified"],  # the audit event and the outcome, not committed
    ):
        before = subject.check(now)
        crashed = run_worker(subject.home, now, *die)
        assert crashed.killed, (die, crashed.stderr)
        after = subject.check(now)
        subject.kills.append(f"{' '.join(die)}: {before} -> {after}")
        now += ROUND
    assert [k.split(": ")[1] for k in subject.kills] == [
        "start -> start",
        "start -> marked",
        "marked -> marked",
        "marked -> redacted",
        "redacted -> redacted",
        "redacted -> deleted",
        "deleted -> certified",
    ], subject.kills

    finished = run_worker(subject.home, now)
    assert finished.report is not None and finished.report["done"] == [subject.deadline_id]
    assert subject.check(now) == "done"
    with subject.open(now) as sr:
        for record_id, (project, _document) in subject.own.items():
            with pytest.raises(NotFound):
                sr.records.get(subject.ws, project, record_id)
        for project, file_id in subject.files:
            with pytest.raises(NotFound):
                sr.files.info(subject.ws, project, file_id)
        for record_id, (project, document) in subject.referrals.items():
            assert sr.records.get(subject.ws, project, record_id).document == _redacted(document)
        assert sr.privacy.locate(subject.ws, subject.request_id) == []
        assert sr.privacy.get(subject.ws, subject.request_id).state.value == "completed"
        (tomb,) = subject.tombstones(sr)
        (event,) = subject.certified_events(sr)
        assert event.subject["certificate_id"] == tomb.certificate_id
        certificate = json.loads(tomb.certificate)
        assert certificate["counts"]["records_erased"] == OWN
        assert certificate["counts"]["records_redacted"] == REFERRALS
        assert certificate["counts"]["files"] == FILES
        assert sr.certificates.verify(tomb.certificate).certificate_id == tomb.certificate_id
    blobs = Path(home.blob_dir)
    stored = {p.name for p in blobs.rglob("*") if p.is_file()}
    assert not any(key.rsplit("/", 1)[-1] in stored for key in subject.blob_keys)
