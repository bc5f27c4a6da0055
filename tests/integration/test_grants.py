"""Break-glass grants through the services, on SQLite and PostgreSQL: only an owner
decides; a deleted workspace's purge takes its grants and their reads with it."""

from __future__ import annotations

import pytest

from strongroom.bootstrap import Strongroom
from strongroom.domain.grants import Decision
from strongroom.domain.roles import Action
from strongroom.errors import InvalidInput, NotFound, PermissionDenied

ANN = "ann@saas.example"


def _grant(sr: Strongroom) -> tuple[str, str]:
    ws = sr.workspaces.create("Acme", "owner@acme.example").id
    sr.workspaces.add_member(ws, "admin@acme.example", "admin")
    sr.staff.add("Ann Operator", ANN)
    sr.staff.record_agreement(ANN, "1", "2025-01-01")
    return ws, sr.grants.request(ws, ANN, "a case", "T-1", 1).id


def test_only_an_owner_decides(sr: Strongroom) -> None:
    ws, grant = _grant(sr)
    with pytest.raises(PermissionDenied):
        sr.grants.decide_as(ws, grant, Decision.APPROVE, "admin@acme.example")
    with pytest.raises(NotFound):
        sr.grants.decide_as(ws, grant, Decision.APPROVE, "stranger@acme.example")
    other = sr.workspaces.create("Other", "owner@other.example").id
    with pytest.raises(NotFound):  # another workspace's grant, even for its own owner
        sr.grants.decide_as(other, grant, Decision.APPROVE, "owner@other.example")
    approved = sr.grants.decide_as(ws, grant, Decision.APPROVE, "owner@acme.example")
    assert approved.status.value == "active" and approved.decided_by.startswith("user:")


def test_a_purged_workspace_takes_its_grants_and_reads(sr: Strongroom) -> None:
    ws, grant = _grant(sr)
    sr.grants.decide(ws, grant, Decision.APPROVE)
    _view, issued = sr.grants.issue_token(grant)
    caller = sr.access.authenticate(issued.token)
    sr.access.require(caller, ws, Action.READ, None, "GET /v1/workspaces/x", safe=True)
    sr.plans.delete_workspace(ws, "Acme")
    sr.worker.run_once()
    with sr.ctx.store.read() as uow:
        assert uow.grants.for_workspace(ws) == []
        assert uow.grants.read_counts(ws) == {}
    assert [o.email for o in sr.staff.list()] == [ANN]  # staff are not the customer's


def test_revoking_a_grants_token_ends_the_grant(sr: Strongroom) -> None:
    ws, grant = _grant(sr)
    sr.grants.decide(ws, grant, Decision.APPROVE)
    _view, issued = sr.grants.issue_token(grant)
    sr.access.revoke(issued.id, workspace_id=ws)  # as an owner does on the tokens page
    assert sr.grants.get(ws, grant).status.value == "revoked"


def test_what_held_when_asked_is_checked_again_when_approved(sr: Strongroom) -> None:
    """A lowered grant_max_hours, or a newer agreement version now required, stops a
    grant asked for before the change."""
    ws, grant = _grant(sr)
    long = sr.grants.request(ws, ANN, "a long case", "T-2", 8).id
    object.__setattr__(sr.ctx.settings, "grant_max_hours", 4)
    with pytest.raises(InvalidInput):
        sr.grants.decide_as(ws, long, Decision.APPROVE, "owner@acme.example")
    object.__setattr__(sr.ctx.settings, "staff_agreement_version", "2")
    with pytest.raises(PermissionDenied, match="confidentiality agreement"):
        sr.grants.decide_as(ws, grant, Decision.APPROVE, "owner@acme.example")
    sr.staff.record_agreement(ANN, "2", "2025-06-01")
    approved = sr.grants.decide_as(ws, grant, Decision.APPROVE, "owner@acme.example")
    assert approved.status.value == "active"
