"""The deployment readings behind GET /metrics, on SQLite and PostgreSQL: due and overdue
deadlines by action, parked ones left out, the purge lag, the newest backup."""

from __future__ import annotations

from datetime import timedelta

from strongroom.bootstrap import Strongroom
from strongroom.clock import FixedClock


def _trash_a_record(sr: Strongroom, workspace_id: str) -> None:
    project = sr.projects.create(workspace_id, "Hiring").id
    record = sr.records.put(workspace_id, project, "people", {"name": "Ada"})
    sr.records.delete(workspace_id, project, record.id)


def test_due_overdue_and_parked_purges(sr: Strongroom, clock: FixedClock) -> None:
    acme = sr.workspaces.create("Acme", "owner@acme.example").id
    held = sr.workspaces.create("Held", "owner@held.example").id
    _trash_a_record(sr, acme)
    _trash_a_record(sr, held)
    clock.advance(timedelta(hours=3))
    _trash_a_record(sr, acme)  # due 3 hours after the first two

    assert sr.readings.read().backlog == ()
    clock.advance(timedelta(days=30, hours=2))  # the first two 5 h late, the third 2 h
    readings = sr.readings.read()
    (trash,) = readings.backlog
    assert (trash.action, trash.due, trash.overdue) == ("purge.trash", 3, 3)
    assert readings.purge_lag_seconds() == 5 * 3600

    # A legal hold parks its workspace's purge when the worker comes to it: not due work.
    sr.plans.set_hold(held, None, "litigation")
    sr.worker.run_once()
    parked = sr.readings.read()
    assert parked.backlog == ()  # the other two were purged; the held one is parked
    assert parked.purge_lag_seconds() == 0

    clock.advance(timedelta(minutes=30))
    _trash_a_record(sr, acme)
    clock.advance(timedelta(days=30, minutes=30))  # due 30 min ago: due, not yet overdue
    (trash,) = sr.readings.read().backlog
    assert (trash.due, trash.overdue) == (1, 0)


def test_backup_age_is_the_newest_complete_backups(sr: Strongroom, clock: FixedClock) -> None:
    assert sr.readings.read().backup_age_seconds() == float("inf")
    sr.backups.create()
    clock.advance(timedelta(hours=1))
    newest = sr.backups.create()
    clock.advance(timedelta(minutes=10))
    readings = sr.readings.read()
    assert readings.newest_backup_at == newest.created_at
    assert readings.backup_age_seconds() == 600
