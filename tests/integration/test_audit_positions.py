"""A tenant sees its audit events numbered 1, 2, 3, … among its own workspace's events,
never the global sequence whose gaps count other tenants' activity; the hash chain (and
`audit verify`) is the same as before. SQLite and PostgreSQL; the API over real HTTPS."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config

from strongroom.bootstrap import Strongroom
from strongroom.storage import migrations
from tests.e2e.api_support import LiveServer, live_server
from tests.export_support import entries


def _busy_neighbours(sr: Strongroom) -> tuple[str, str]:
    """Two workspaces whose events interleave in the global chain."""
    mine = sr.workspaces.create("Mine", "owner@mine.example")
    theirs = sr.workspaces.create("Theirs", "owner@theirs.example")
    my_project = sr.projects.create(mine.id, "Hiring")
    their_project = sr.projects.create(theirs.id, "Sales")
    for i in range(3):
        sr.records.put(mine.id, my_project.id, "notes", {"i": i})
        for j in range(4):
            sr.records.put(theirs.id, their_project.id, "notes", {"j": j})
    return mine.id, theirs.id


def test_each_workspace_sees_its_own_positions_without_gaps(sr: Strongroom) -> None:
    mine, theirs = _busy_neighbours(sr)
    my_events = sr.audit.workspace_events(mine, 0, 1000)
    their_events = sr.audit.workspace_events(theirs, 0, 1000)
    assert [e.position for e in my_events] == list(range(1, len(my_events) + 1))
    assert [e.position for e in their_events] == list(range(1, len(their_events) + 1))
    assert [e.action for e in my_events][-3:] == ["record.put"] * 3
    # The global sequence (the operator's view) has the gaps a tenant must not see.
    seqs = [e.seq for e in my_events]
    assert seqs != list(range(seqs[0], seqs[0] + len(seqs)))
    # Pages by position.
    page = sr.audit.workspace_events(mine, 2, 2)
    assert [e.position for e in page] == [3, 4]
    # The chain is unchanged: every event verifies, operators still page by seq.
    everything = sr.audit.events(None, 0, 10_000)
    assert sr.audit.verify() == len(everything)
    assert [e.seq for e in everything] == list(range(1, len(everything) + 1))
    assert {e.position for e in everything if e.workspace_id is None} == {None}


def test_the_migration_numbers_existing_events_in_chain_order(sr: Strongroom) -> None:
    mine, theirs = _busy_neighbours(sr)
    before = {ws: sr.audit.workspace_events(ws, 0, 1000) for ws in (mine, theirs)}
    config = Config()
    config.set_main_option("script_location", str(migrations.HERE / "data"))
    with sr.ctx.store.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0004")  # the positions are gone
    migrations.upgrade(sr.ctx.store.engine, "data")
    after = {ws: sr.audit.workspace_events(ws, 0, 1000) for ws in (mine, theirs)}
    assert after == before
    assert sr.audit.verify() == len(sr.audit.events(None, 0, 10_000))
    project = sr.projects.create(mine, "After the upgrade")
    latest = sr.audit.workspace_events(mine, len(before[mine]), 10)
    assert [(e.position, e.subject["project_id"]) for e in latest] == [
        (len(before[mine]) + 1, project.id)
    ]


def test_the_export_shows_positions_not_the_global_sequence(sr: Strongroom, tmp_path: Path) -> None:
    mine, _ = _busy_neighbours(sr)
    out = tmp_path / "export.zip"
    sr.exports.write(mine, out)
    lines = [json.loads(x) for x in entries(out)["audit.jsonl"].splitlines()]
    assert [x["position"] for x in lines] == list(range(1, len(lines) + 1))
    assert all("seq" not in x for x in lines)
    assert sr.exports.verify(out).entries > 0


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("positions") / "home") as server:
        yield server


def test_the_api_shows_a_tenant_its_positions_a_page_at_a_time(live: LiveServer) -> None:
    mine, _ = _busy_neighbours(live.sr)
    token = live.sr.access.create_token(mine, "owner").token
    seen: list[dict[str, object]] = []
    with live.client(token) as client:
        after: int | None = 0
        while after is not None:
            response = client.get(
                f"/v1/workspaces/{mine}/audit", params={"after": after, "limit": 2}
            )
            assert response.status_code == 200
            page = response.json()
            seen += page["items"]
            after = page["next_after"]
    assert [e["position"] for e in seen] == list(range(1, len(seen) + 1))
    assert all("seq" not in e for e in seen)
    assert seen[-1]["action"] == "token.create"
    assert {e["workspace_id"] for e in seen} == {mine}
    assert len(seen) == len(live.sr.audit.workspace_events(mine, 0, 1000))
