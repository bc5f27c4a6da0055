"""Only an owner grants or removes the owner role, over the real API.

The workspaces here have two owners, so the "a workspace keeps one owner" rule cannot be
what refuses a demotion: the refusal has to come from the caller's role."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from strongroom.bootstrap import Strongroom
from tests.e2e.api_support import LiveServer, live_server


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("owners") / "home") as server:
        yield server


@dataclass
class TwoOwners:
    ws: str
    first_owner: str  # user ids
    second_owner: str
    admin: str


@pytest.fixture
def two_owners(live: LiveServer) -> TwoOwners:
    sr: Strongroom = live.sr
    tag = os.urandom(4).hex()
    ws = sr.workspaces.create("Two Owners", f"first{tag}@acme.example").id
    first = sr.workspaces.members(ws)[0].user_id
    second = sr.workspaces.add_member(ws, f"second{tag}@acme.example", "owner").user_id
    admin = sr.workspaces.add_member(ws, f"admin{tag}@acme.example", "admin").user_id
    return TwoOwners(ws, first, second, admin)


def _roles(live: LiveServer, ws: str) -> dict[str, str]:
    return {m.user_id: m.role.value for m in live.sr.workspaces.members(ws)}


@pytest.mark.parametrize("new_role", ["admin", "member", "viewer"])
def test_an_admin_cannot_demote_an_owner(
    live: LiveServer, two_owners: TwoOwners, new_role: str
) -> None:
    before = _roles(live, two_owners.ws)
    with live.client(live.sr.access.create_token(two_owners.ws, "admin").token) as admin:
        response = admin.put(
            f"/v1/workspaces/{two_owners.ws}/members/{two_owners.second_owner}",
            json={"role": new_role},
        )
    assert response.status_code == 403, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "owner" in response.json()["detail"]
    assert _roles(live, two_owners.ws) == before


def test_an_admin_cannot_make_anyone_an_owner(live: LiveServer, two_owners: TwoOwners) -> None:
    before = _roles(live, two_owners.ws)
    with live.client(live.sr.access.create_token(two_owners.ws, "admin").token) as admin:
        response = admin.put(
            f"/v1/workspaces/{two_owners.ws}/members/{two_owners.admin}", json={"role": "owner"}
        )
    assert response.status_code == 403
    assert _roles(live, two_owners.ws) == before


def test_an_admin_still_changes_the_roles_below_owner(
    live: LiveServer, two_owners: TwoOwners
) -> None:
    """The guard is about the owner role, not a blanket refusal: the same admin token moves
    an admin to viewer and back."""
    with live.client(live.sr.access.create_token(two_owners.ws, "admin").token) as admin:
        url = f"/v1/workspaces/{two_owners.ws}/members/{two_owners.admin}"
        assert admin.put(url, json={"role": "viewer"}).json()["role"] == "viewer"
        assert admin.put(url, json={"role": "admin"}).json()["role"] == "admin"


def test_an_owner_removes_the_owner_role_of_another_owner(
    live: LiveServer, two_owners: TwoOwners
) -> None:
    with live.client(live.sr.access.create_token(two_owners.ws, "owner").token) as owner:
        response = owner.put(
            f"/v1/workspaces/{two_owners.ws}/members/{two_owners.second_owner}",
            json={"role": "admin"},
        )
    assert response.status_code == 200 and response.json()["role"] == "admin"
    roles = _roles(live, two_owners.ws)
    assert roles[two_owners.second_owner] == "admin" and roles[two_owners.first_owner] == "owner"
