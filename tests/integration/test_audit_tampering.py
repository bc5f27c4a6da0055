"""Edits an intruder with database access could make to the audit log, and that `audit
verify` must report: a moved timestamp, a tail replaced by a well-formed chain of other
events. Each edit goes through the tables, as an intruder's would; each check is what
`strongroom audit verify` runs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, select, update

from strongroom import AuditChainBroken
from strongroom.bootstrap import Strongroom
from strongroom.storage import tables as t


@pytest.fixture
def chain(sr: Strongroom) -> tuple[Strongroom, str, str]:
    ws = sr.workspaces.create("Chain Co", "owner@chain.example")
    project = sr.projects.create(ws.id, "P")
    for i in range(4):
        sr.records.put(ws.id, project.id, "notes", {"i": i})
    assert sr.audit.verify() == 7  # home.init, workspace, project, 4 puts
    return sr, ws.id, project.id


def _execute(sr: Strongroom, *statements: object) -> None:
    with sr.ctx.store.write() as uow:
        for statement in statements:
            uow.conn.execute(statement)  # type: ignore[call-overload]
        uow.commit()


def _events(sr: Strongroom) -> list[dict[str, object]]:
    with sr.ctx.store.read() as uow:
        rows = uow.conn.execute(select(t.audit_events).order_by(t.audit_events.c.seq))
        return [dict(r._mapping) for r in rows]


def _head(sr: Strongroom) -> tuple[int, str]:
    with sr.ctx.store.read() as uow:
        row = uow.conn.execute(select(t.audit_head.c.seq, t.audit_head.c.hash)).one()
    return int(row[0]), str(row[1])


@pytest.mark.parametrize("shift", [timedelta(hours=-3), timedelta(days=1), timedelta(seconds=1)])
def test_a_moved_timestamp_is_reported_at_its_position(
    chain: tuple[Strongroom, str, str], shift: timedelta
) -> None:
    """When something happened is part of the record: an event moved in time (to hide that
    a deletion came before a request, say) breaks the chain where it was moved."""
    sr, _ws, _project = chain
    event = _events(sr)[4]
    _execute(
        sr,
        update(t.audit_events)
        .where(t.audit_events.c.seq == event["seq"])
        .values(at=event["at"] + shift),  # type: ignore[operator]
    )
    with pytest.raises(AuditChainBroken) as raised:
        sr.audit.verify()
    assert raised.value.position == 5 and raised.value.reason == "hash"


def test_a_rewritten_tail_is_reported_by_the_stored_head(
    chain: tuple[Strongroom, str, str],
) -> None:
    """The last event is replaced by another one that links and hashes correctly (appended
    by Strongroom itself after the original was cut off). Every event checks out on its own;
    only the stored head still names the original last event, and verification uses it."""
    sr, ws, project = chain
    head = _head(sr)
    last = _events(sr)[-1]
    _execute(
        sr,
        delete(t.audit_events).where(t.audit_events.c.seq == last["seq"]),
        update(t.audit_head).values(seq=head[0] - 1, hash=last["prev_hash"]),
    )
    sr.records.put(ws, project, "notes", {"forged": True})  # a well-formed replacement
    assert sr.audit.verify() == 7  # the forged tail is a valid chain on its own
    assert _events(sr)[-1]["hash"] != head[1]
    _execute(sr, update(t.audit_head).values(seq=head[0], hash=head[1]))
    with pytest.raises(AuditChainBroken) as raised:
        sr.audit.verify()
    assert raised.value.reason == "head"
    assert raised.value.position == 7 and "position 7" in str(raised.value)  # the forged one


@pytest.mark.parametrize("forged", ["0" * 64, "f" * 64])
def test_a_head_naming_another_last_hash_is_reported(
    chain: tuple[Strongroom, str, str], forged: str
) -> None:
    sr, _ws, _project = chain
    _execute(sr, update(t.audit_head).values(hash=forged))
    with pytest.raises(AuditChainBroken) as raised:
        sr.audit.verify()
    assert raised.value.reason == "head"


def test_a_head_counting_more_events_than_the_chain_holds_is_reported(
    chain: tuple[Strongroom, str, str],
) -> None:
    """The last event cut off and the head's hash set to the new last one: only the count
    still tells."""
    sr, _ws, _project = chain
    events = _events(sr)
    _execute(
        sr,
        delete(t.audit_events).where(t.audit_events.c.seq == events[-1]["seq"]),
        update(t.audit_head).values(hash=events[-2]["hash"]),
    )
    with pytest.raises(AuditChainBroken) as raised:
        sr.audit.verify()
    assert raised.value.reason == "head" and raised.value.position == 7


@pytest.mark.parametrize("forged", ["0" * 64, "f" * 64])
def test_an_event_relinked_to_another_predecessor_is_reported_as_a_broken_link(
    chain: tuple[Strongroom, str, str], forged: str
) -> None:
    sr, _ws, _project = chain
    _execute(sr, update(t.audit_events).where(t.audit_events.c.seq == 4).values(prev_hash=forged))
    with pytest.raises(AuditChainBroken) as raised:
        sr.audit.verify()
    assert raised.value.position == 4 and raised.value.reason == "link"
