"""The audit chain reports an edited, deleted or reordered event by its position."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, update

from strongroom import AuditChainBroken
from strongroom.bootstrap import Strongroom
from strongroom.storage import tables as t


@pytest.fixture
def chain(sr: Strongroom) -> Strongroom:
    ws = sr.workspaces.create("Chain Co", "owner@chain.example")
    project = sr.projects.create(ws.id, "P")
    for i in range(6):
        sr.records.put(ws.id, project.id, "notes", {"i": i})
    assert sr.audit.verify() == 9  # home.init, workspace, project, 6 puts
    return sr


def _execute(sr: Strongroom, *statements: object) -> None:
    with sr.ctx.store.write() as uow:
        for statement in statements:
            uow.conn.execute(statement)  # type: ignore[call-overload]
        uow.commit()


def _broken(sr: Strongroom) -> AuditChainBroken:
    with pytest.raises(AuditChainBroken) as raised:
        sr.audit.verify()
    return raised.value


def test_edited_event_is_reported_at_its_position(chain: Strongroom) -> None:
    _execute(
        chain,
        update(t.audit_events)
        .where(t.audit_events.c.seq == 4)
        .values(subject='{"record_ids":["rec_forged"]}'),
    )
    error = _broken(chain)
    assert error.position == 4 and error.reason == "hash"
    assert "position 4" in str(error)


def test_edited_actor_is_reported(chain: Strongroom) -> None:
    _execute(
        chain, update(t.audit_events).where(t.audit_events.c.seq == 2).values(actor="someone-else")
    )
    assert _broken(chain).position == 2


def test_deleted_event_is_reported_where_the_gap_is(chain: Strongroom) -> None:
    _execute(chain, delete(t.audit_events).where(t.audit_events.c.seq == 5))
    error = _broken(chain)
    assert error.position == 5 and error.reason == "sequence"


def test_reordered_events_are_reported(chain: Strongroom) -> None:
    with chain.ctx.store.read() as uow:
        rows = {r.seq: r for r in uow.audit.scan(0, 100)}
    a, b = rows[3], rows[6]
    columns = ("at", "actor", "action", "workspace_id", "subject", "prev_hash", "hash")
    _execute(
        chain,
        update(t.audit_events)
        .where(t.audit_events.c.seq == 3)
        .values(**{c: getattr(b, c) for c in columns}),
        update(t.audit_events)
        .where(t.audit_events.c.seq == 6)
        .values(**{c: getattr(a, c) for c in columns}),
    )
    error = _broken(chain)
    assert error.position == 3 and error.reason == "link"


def test_rewritten_tail_is_caught_by_the_head(chain: Strongroom) -> None:
    _execute(chain, delete(t.audit_events).where(t.audit_events.c.seq == 9))
    error = _broken(chain)
    assert error.reason == "head" and error.position == 9


def test_untouched_chain_verifies_and_counts(chain: Strongroom) -> None:
    assert chain.audit.verify() == 9
    with chain.ctx.store.read() as uow:
        hashes = uow.conn.execute(select(t.audit_events.c.hash)).scalars().all()
    assert len(set(hashes)) == 9
