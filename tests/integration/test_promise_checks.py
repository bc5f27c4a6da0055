"""Promise checks over the data store (SQLite and PostgreSQL), without a server: the
windows after cancellation and a trial, privacy requests, the trash's dates, and what the
service keeps (results, their history, audit events on a change, a check that breaks).
The TLS promises need a live server: tests/e2e/test_trust_center.py and test_trust_tls.py."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from strongroom import open_strongroom
from strongroom.backup.manifest import DATA
from strongroom.bootstrap import Strongroom
from strongroom.clock import FixedClock
from strongroom.config import Settings
from strongroom.domain.promises import PromiseStatus, Verdict
from strongroom.lifecycle.worker import CHORE_LEASE
from strongroom.promises.registry import Deployment, Promise
from strongroom.storage import tables as t

ADA = [("email", "ada@example.com")]


@pytest.fixture
def clock() -> FixedClock:
    """Now: `init` dates the first root key version by the system clock."""
    return FixedClock(datetime.now(UTC).replace(microsecond=0))


def verdict(sr: Strongroom, promise_id: str) -> Verdict:
    return {p.id: v for p, v in sr.promises.check_all().results}[promise_id]


def test_the_export_window_after_cancellation(sr: Strongroom, clock: FixedClock) -> None:
    ws = sr.workspaces.create("Acme", "owner@acme.example")
    sr.plans.billing_event(ws.id, "cancelled", "evt-1")
    held = verdict(sr, "cancellation-window")
    assert held.holds and "1 cancelled workspaces" in held.evidence

    clock.advance(timedelta(days=30, hours=2))  # the window closed, no purge ran
    late = verdict(sr, "cancellation-window")
    assert not late.holds and "overdue" in late.evidence and ws.id not in late.evidence
    sr.worker.run_once()
    assert verdict(sr, "cancellation-window").holds


def test_a_cancellation_window_shorter_than_promised_fails(
    sr: Strongroom, clock: FixedClock
) -> None:
    ws = sr.workspaces.create("Acme", "owner@acme.example")
    sr.plans.billing_event(ws.id, "cancelled", "evt-1")
    with sr.ctx.store.write() as uow:  # a purge set sooner than the promised window
        c = t.deadlines.c
        uow.conn.execute(
            update(t.deadlines)
            .where(c.workspace_id == ws.id)
            .values(due_at=clock.now() + timedelta(days=10))
        )
        uow.commit()
    short = verdict(sr, "cancellation-window")
    assert not short.holds and "less than 30 days" in short.evidence


def test_an_ended_trial_purged_late_fails(sr: Strongroom, clock: FixedClock) -> None:
    ws = sr.workspaces.create("Trial Co", "owner@trial.example")
    sr.plans.billing_event(ws.id, "trial_started", "evt-1", trial_days=1)
    assert verdict(sr, "trial-retention").holds
    clock.advance(timedelta(days=1 + 30, hours=2))
    late = verdict(sr, "trial-retention")
    assert not late.holds and "trial_expired" in late.evidence
    sr.worker.run_once()
    assert verdict(sr, "trial-retention").holds


def test_a_privacy_request_past_its_due_date_fails(sr: Strongroom, clock: FixedClock) -> None:
    ws = sr.workspaces.create("Acme", "owner@acme.example")
    sr.privacy.create(ws.id, type="access", law="gdpr", identifiers=ADA)
    assert verdict(sr, "privacy-requests").holds
    clock.advance(timedelta(days=62))
    late = verdict(sr, "privacy-requests")
    assert not late.holds and late.evidence == "1 open privacy requests are past their due date"


def test_trash_kept_longer_than_the_settings_promise_fails(
    home: Settings, clock: FixedClock
) -> None:
    with open_strongroom(settings=home, clock=clock) as sr:
        ws = sr.workspaces.create("Acme", "owner@acme.example")
        project = sr.projects.create(ws.id, "Hiring")
        record = sr.records.put(ws.id, project.id, "notes", {"n": 1})
        sr.records.delete(ws.id, project.id, record.id)
        assert verdict(sr, "trash-window").holds
    with open_strongroom(settings=replace(home, trash_days=14), clock=clock) as sr:
        found = verdict(sr, "trash-window")
        assert not found.holds and "kept longer than 14 days" in found.evidence
        assert "14 days" in sr.promises.claims()["trash-window"]


# the service -----------------------------------------------------------------------------
def _broken(d: Deployment) -> Verdict:
    raise RuntimeError("the probe fell over\nwith a second line")


def test_a_check_that_raises_is_failing_not_holding(sr: Strongroom) -> None:
    sr.promises.registry = (Promise("broken", "Broken", lambda s: "claim", _broken),)
    run = sr.promises.check_all()
    [(_, found)] = run.results
    assert not found.holds
    assert (
        found.evidence == "the check could not run (RuntimeError); the worker's log has the reason"
    )
    assert sr.promises.report().promises[0].status is PromiseStatus.FAILING


def test_results_are_kept_pruned_and_audited_on_change(sr: Strongroom, clock: FixedClock) -> None:
    answers = iter([True, True, False, False] + [True] * 200)

    def flips(d: Deployment) -> Verdict:
        return Verdict(next(answers), "found")

    sr.promises.registry = (Promise("flip", "Flip", lambda s: "claim", flips),)
    for _ in range(4):
        sr.promises.check_all()
        clock.advance(timedelta(days=1))
    changes = [e.action for e in sr.audit.events(None, 0, 1000) if e.action.startswith("promise.")]
    assert changes == ["promise.holding", "promise.failing"]  # on change only
    first_pass = sr.promises.report().promises[0].last_passed_at
    assert sr.promises.report().promises[0].status is PromiseStatus.FAILING

    clock.advance(timedelta(days=sr.settings.promise_history_days + 1))
    sr.promises.check_all()  # holds again; prunes what is older than the history
    history = sr.promises.history("flip")
    assert [r.holds for r in history] == [True]
    assert first_pass is not None and history[0].checked_at > first_pass

    stale = sr.promises.report()
    assert stale.promises[0].status is PromiseStatus.HOLDING
    clock.advance(timedelta(minutes=sr.settings.promise_stale_minutes + 1))
    assert sr.promises.report().promises[0].status is PromiseStatus.STALE


def test_the_newest_pass_survives_pruning(sr: Strongroom, clock: FixedClock) -> None:
    answers = iter([True, False, False])
    sr.promises.registry = (
        Promise("p", "P", lambda s: "c", lambda d: Verdict(next(answers), "x")),
    )
    sr.promises.check_all()
    passed = sr.promises.report().promises[0].last_passed_at
    clock.advance(timedelta(days=sr.settings.promise_history_days + 5))
    sr.promises.check_all()
    clock.advance(timedelta(days=1))
    sr.promises.check_all()
    assert sr.promises.report().promises[0].last_passed_at == passed


# the worker's schedule ---------------------------------------------------------------------
@pytest.fixture
def quiet(sr: Strongroom) -> Iterator[Strongroom]:
    """The worker without the promise checks (they probe the network; not the point here)."""
    assert sr.worker.scheduled is not None
    sr.worker.scheduled.promises_due = lambda now: False
    sr.worker.scheduled.check_promises = lambda: None
    yield sr


def test_backups_drills_and_rotations_on_their_periods(
    quiet: Strongroom, clock: FixedClock
) -> None:
    sr = quiet
    version = sr.ctx.keyring.kms.current_version()
    sr.worker.run_once(scheduled=True)
    assert len(sr.backups.list(DATA)) == 1
    drills = [e for e in sr.audit.events(None, 0, 1000) if e.action == "backup.drill"]
    assert len(drills) == 1 and drills[0].subject["ok"] is True
    clock.advance(timedelta(hours=23))
    sr.worker.run_once(scheduled=True)
    assert len(sr.backups.list(DATA)) == 1
    assert sr.ctx.keyring.kms.current_version() == version
    clock.advance(timedelta(hours=1, minutes=1))
    sr.worker.run_once(scheduled=True)
    assert len(sr.backups.list(DATA)) == 2  # 24 hours after the first
    assert sr.ctx.keyring.kms.current_version() == version + 1  # the policy's 1 day
    clock.advance(timedelta(days=7))
    sr.worker.run_once(scheduled=True)
    drills = [e for e in sr.audit.events(None, 0, 1000) if e.action == "backup.drill"]
    assert len(drills) == 2


def test_workers_sharing_a_store_take_each_chore_once(home: Settings, clock: FixedClock) -> None:
    """Three workers on one data store, passing at the same moment: one backup, one drill,
    one shred epoch; while one holds a chore the others skip it."""
    with contextlib.ExitStack() as stack:
        workers = [stack.enter_context(open_strongroom(settings=home, clock=clock)) for _ in "abc"]
        for sr in workers:
            assert sr.worker.scheduled is not None
            sr.worker.scheduled.promises_due = lambda now: False
            sr.worker.scheduled.check_promises = lambda: None
        version = workers[0].ctx.keyring.kms.current_version()
        start = threading.Barrier(len(workers))
        failed: list[BaseException] = []

        def pass_(sr: Strongroom) -> None:
            start.wait()
            try:
                sr.worker.run_once(scheduled=True)
            except BaseException as e:
                failed.append(e)

        threads = [threading.Thread(target=pass_, args=(sr,)) for sr in workers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert failed == []
        sr = workers[0]
        assert len(sr.backups.list(DATA)) == 1
        events = [e.action for e in sr.audit.events(None, 0, 1000)]
        assert events.count("backup.drill") == 1
        assert events.count("key.shred_epoch") <= 1
        assert sr.ctx.keyring.kms.current_version() <= version + 1

        # A worker holding a chore (here: one killed mid-backup) keeps the others off it
        # until its lease runs out; then the next one takes it.
        clock.advance(timedelta(days=1, minutes=1))
        with sr.ctx.store.write() as uow:
            assert uow.chore_leases.claim(
                "backup", "killed", clock.now(), clock.now() + CHORE_LEASE
            )
            uow.commit()
        workers[1].worker.run_once(scheduled=True)
        assert len(sr.backups.list(DATA)) == 1
        clock.advance(CHORE_LEASE + timedelta(minutes=1))
        workers[1].worker.run_once(scheduled=True)
        assert len(sr.backups.list(DATA)) == 2


def test_no_backups_when_they_are_taken_elsewhere(home: Settings, clock: FixedClock) -> None:
    with open_strongroom(settings=replace(home, backup_every_hours=0), clock=clock) as sr:
        assert sr.worker.scheduled is not None
        sr.worker.scheduled.promises_due = lambda now: False
        sr.worker.run_once(scheduled=True)
        assert sr.backups.list(DATA) == []
        found = verdict(sr, "backup-purge-window")
        assert not found.holds and found.evidence == "no backup has been taken"
        assert "outside Strongroom" in sr.promises.claims()["backup-purge-window"]
