"""The audit log as its readers see it: a workspace's events and only those, in order and in
pages; a chain longer than one verification page checks out, and a break beyond the first
page is still found at its position."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from strongroom import AuditChainBroken
from strongroom.bootstrap import Strongroom
from strongroom.clock import FixedClock
from strongroom.services import audit
from strongroom.storage import tables as t


def test_a_workspaces_events_are_its_own_in_order_and_in_pages(
    sr: Strongroom, clock: FixedClock
) -> None:
    mine = sr.workspaces.create("Mine", "owner@mine.example").id
    theirs = sr.workspaces.create("Theirs", "owner@theirs.example").id
    project = sr.projects.create(mine, "P").id
    for i in range(5):
        clock.advance(timedelta(minutes=1))
        sr.records.put(mine, project, "notes", {"i": i})
        sr.projects.create(theirs, f"T{i}")
    events = sr.audit.events(mine, limit=100)
    assert [e.action for e in events] == ["workspace.create", "project.create"] + ["record.put"] * 5
    assert {e.workspace_id for e in events} == {mine}
    assert [e.at for e in events] == sorted(e.at for e in events)
    first = sr.audit.events(mine, limit=3)
    rest = sr.audit.events(mine, after=first[-1].seq, limit=100)
    assert [e.hash for e in first + rest] == [e.hash for e in events]
    body = events[2].as_json()
    assert body["action"] == "record.put" and body["workspace_id"] == mine
    assert body["actor"] == "system" and body["hash"] == events[2].hash
    assert body["at"] == events[2].at.isoformat() and body["seq"] == events[2].seq
    assert isinstance(body["subject"], dict) and body["subject"]
    everything = sr.audit.events(None, limit=1000)
    assert {e.workspace_id for e in everything} >= {mine, theirs, None}


@pytest.fixture
def long_chain(sr: Strongroom) -> Strongroom:
    """More events than one verification page (1,000) holds, and a bit."""
    with sr.ctx.store.write() as uow:
        for i in range(2100):
            audit.append(uow, sr.ctx.clock.now(), "test", "test.event", None, n=i)
        uow.commit()
    return sr


def test_a_chain_longer_than_a_page_verifies_whole(long_chain: Strongroom) -> None:
    assert long_chain.audit.verify() == 2101  # with home.init
    # the chain starts from 64 zeros, as documented, so others can verify it too
    assert long_chain.audit.events(limit=1)[0].seq == 1
    with long_chain.ctx.store.read() as uow:
        first = uow.conn.execute(
            select(t.audit_events.c.prev_hash).where(t.audit_events.c.seq == 1)
        ).scalar_one()
    assert first == "0" * 64
    # and a reader gets it a page of 100 at a time unless they ask otherwise
    assert [e.seq for e in long_chain.audit.events()] == list(range(1, 101))
    assert [e.seq for e in audit.events(long_chain.ctx.store)] == list(range(1, 101))


def test_a_break_beyond_the_first_page_is_found_where_it_is(long_chain: Strongroom) -> None:
    with long_chain.ctx.store.write() as uow:
        uow.conn.execute(
            update(t.audit_events).where(t.audit_events.c.seq == 1500).values(actor="forger")
        )
        uow.commit()
    with pytest.raises(AuditChainBroken) as raised:
        long_chain.audit.verify()
    assert raised.value.position == 1500 and raised.value.reason == "hash"


def test_events_appended_in_parallel_make_one_chain(sr: Strongroom) -> None:
    """Writers in several threads (on PostgreSQL really side by side): each append locks
    the head, so the chain never forks and verifies whole."""
    writers, each = 6, 15
    start = threading.Barrier(writers)

    def write(n: int) -> None:
        start.wait(timeout=300)
        for i in range(each):
            audit.record(sr.ctx.store, sr.ctx.clock.now(), f"writer-{n}", "test.event", None, i=i)

    with ThreadPoolExecutor(max_workers=writers) as pool:
        list(pool.map(write, range(writers)))
    assert sr.audit.verify() == 1 + writers * each


def test_a_workspaces_events_come_a_page_of_100_from_its_first(sr: Strongroom) -> None:
    """Read without saying where to start or how many: its first 100 events, from
    position 1 (the service and the module alike)."""
    ws = sr.workspaces.create("Busy", "owner@busy.example").id
    with sr.ctx.store.write() as uow:
        for i in range(120):
            audit.append(uow, sr.ctx.clock.now(), "test", "test.event", ws, n=i)
        uow.commit()
    for read in (sr.audit.workspace_events(ws), audit.workspace_events(sr.ctx.store, ws)):
        assert [e.position for e in read] == list(range(1, 101))
        assert read[0].action == "workspace.create" and read[1].subject == {"n": 0}
