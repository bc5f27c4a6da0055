"""A billing event delivered again (webhooks are retried) changes nothing, over the real API.

The replays come days later on the server's clock, so an implementation that applied the
event again would show it: a purge due date that moves, a second purge, a workspace
cancelled again after it was reactivated."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from strongroom.clock import FixedClock
from tests.e2e.api_support import LiveServer, live_server


@pytest.fixture(scope="module")
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, clock: FixedClock) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("billing") / "home", clock=clock) as server:
        yield server


@pytest.fixture
def operator(live: LiveServer) -> Iterator[httpx.Client]:
    with live.client(live.sr.access.create_operator_token().token) as client:
        yield client


def _workspace(live: LiveServer) -> str:
    ws = live.sr.workspaces.create("Billed", f"owner{os.urandom(4).hex()}@acme.example").id
    project = live.sr.projects.create(ws, "P").id
    live.sr.records.put(ws, project, "notes", {"text": "kept until the purge"})
    return ws


def _event(client: httpx.Client, ws: str, kind: str, event_id: str) -> dict[str, Any]:
    response = client.post(
        f"/v1/workspaces/{ws}/billing-events", json={"kind": kind, "event_id": event_id}
    )
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


def _scheduled(client: httpx.Client, ws: str) -> list[dict[str, Any]]:
    items = client.get("/v1/lifecycle/plan", params={"limit": 500}).json()["items"]
    return [p for p in items if p["workspace_id"] == ws]


def test_a_replayed_cancellation_does_not_move_the_purge(
    live: LiveServer, clock: FixedClock, operator: httpx.Client
) -> None:
    ws = _workspace(live)
    event_id = f"inv-{os.urandom(4).hex()}"
    first = _event(operator, ws, "cancelled", event_id)
    assert first["state"] == "cancelled" and first["purge_due_at"] is not None
    due = datetime.fromisoformat(first["purge_due_at"])
    audit_before = len(live.sr.audit.events(ws, limit=1000))

    clock.advance(timedelta(days=10))
    again = _event(operator, ws, "cancelled", event_id)
    assert again["state"] == "cancelled"
    assert datetime.fromisoformat(again["purge_due_at"]) == due
    assert datetime.fromisoformat(again["state_since"]) == datetime.fromisoformat(
        first["state_since"]
    )
    scheduled = _scheduled(operator, ws)
    assert len(scheduled) == 1 and datetime.fromisoformat(scheduled[0]["due_at"]) == due
    assert len(live.sr.audit.events(ws, limit=1000)) == audit_before

    # and the date holds: nothing is purged before it, the workspace is purged at it
    clock.advance(due - clock.now() - timedelta(minutes=1))
    live.sr.worker.run_once()
    assert live.sr.plans.status(ws).state.value == "cancelled"
    assert live.sr.certificates.list(ws) == []
    clock.advance(timedelta(minutes=2))
    live.sr.worker.run_once()
    assert [c["kind"] for c in live.sr.certificates.list(ws)] == ["workspace"]


def test_a_cancellation_replayed_after_reactivation_changes_nothing(
    live: LiveServer, clock: FixedClock, operator: httpx.Client
) -> None:
    ws = _workspace(live)
    cancelled = f"inv-{os.urandom(4).hex()}"
    _event(operator, ws, "cancelled", cancelled)
    reactivated = _event(operator, ws, "reactivated", f"inv-{os.urandom(4).hex()}")
    assert reactivated["state"] == "active" and reactivated["purge_due_at"] is None

    clock.advance(timedelta(days=5))
    replayed = _event(operator, ws, "cancelled", cancelled)
    assert replayed["state"] == "active" and replayed["purge_due_at"] is None
    assert _scheduled(operator, ws) == []
    with live.client(live.sr.access.create_token(ws, "member").token) as member:
        project = member.get(f"/v1/workspaces/{ws}/projects").json()["items"][0]["id"]
        written = member.post(
            f"/v1/workspaces/{ws}/projects/{project}/records",
            json={"collection": "notes", "document": {"still": "writable"}},
        )
    assert written.status_code == 201
