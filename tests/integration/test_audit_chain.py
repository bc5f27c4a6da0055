"""The audit chain reports an edited, deleted or reordered event by its position."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from strongroom import AuditChainBroken
from strongroom.bootstrap import Strongroom
from strongroom.storage import tables as t

STRONGROOM = str(Path(sys.executable).parent / "strongroom")


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


@pytest.mark.parametrize("deleted", [1, 2, 3])
def test_deleted_tail_is_caught_by_the_head(chain: Strongroom, deleted: int) -> None:
    """The last ``deleted`` events cut off: reported at the first one missing."""
    _execute(chain, delete(t.audit_events).where(t.audit_events.c.seq > 9 - deleted))
    error = _broken(chain)
    assert error.reason == "head" and error.position == 10 - deleted
    assert f"ends at position {9 - deleted} but its head says 9" in str(error)


def _chained_hash(prev: str, row: Any, subject: str) -> str:
    """The chain's hash, written out here from its documented definition (not imported), so
    a forger's rewrite is exactly as good as one made with the service's own code."""
    fields = json.dumps(
        [row.seq, row.at.isoformat(), row.actor, row.action, row.workspace_id],
        separators=(",", ":"),
    )
    return hashlib.sha256("\n".join((prev, fields, subject)).encode("utf-8")).hexdigest()


def test_rewritten_tail_is_caught_by_the_head(chain: Strongroom) -> None:
    """The last two events rewritten with every hash and link recomputed: each event checks
    out against the one before it, and only the stored head still names the old last hash."""
    with chain.ctx.store.read() as uow:
        rows = {r.seq: r for r in uow.audit.scan(0, 100)}
    prev = rows[7].hash
    statements = []
    for seq in (8, 9):
        forged = json.dumps({"record_ids": [f"rec_forged{seq}"]}, separators=(",", ":"))
        digest = _chained_hash(prev, rows[seq], forged)
        statements.append(
            update(t.audit_events)
            .where(t.audit_events.c.seq == seq)
            .values(subject=forged, prev_hash=prev, hash=digest)
        )
        prev = digest
    _execute(chain, *statements)
    with chain.ctx.store.read() as uow:
        assert [r.hash for r in uow.audit.scan(7, 100)] != [rows[8].hash, rows[9].hash]
    error = _broken(chain)
    assert error.reason == "head"
    assert error.position == 9  # the last event, the one that no longer matches the head
    assert "position 9" in str(error) and "rewritten" in str(error)
    command = subprocess.run(  # and as an operator sees it
        [STRONGROOM, "audit", "verify", "--home", chain.settings.home],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert command.returncode == 1, command.stderr
    assert "position 9" in command.stderr and "rewritten" in command.stderr


def test_untouched_chain_verifies_and_counts(chain: Strongroom) -> None:
    assert chain.audit.verify() == 9
    with chain.ctx.store.read() as uow:
        hashes = uow.conn.execute(select(t.audit_events.c.hash)).scalars().all()
    assert len(set(hashes)) == 9
