"""Break-glass grants, as the customer sees them (docs/break-glass.md): owners and admins
see every grant of the workspace (pending, active, ended) and each read it made; owners
approve, refuse and revoke (POST forms with the CSRF token). The same service and role
matrix as the API's grant routes (api/routes_grants.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from starlette.responses import HTMLResponse, Response

from strongroom.console.visit import AuditReader, Visit, member
from strongroom.domain.grants import Decision
from strongroom.domain.roles import Action
from strongroom.ids import pattern

router = APIRouter()

GrantId = Annotated[str, Path(pattern=pattern("grant"))]
DecisionName = Annotated[str, Path(pattern="^(approve|refuse|revoke)$")]
GrantDecider = Annotated[Visit, member(Action.DECIDE_GRANTS)]
_DONE = {Decision.APPROVE: "Approved", Decision.REFUSE: "Refused", Decision.REVOKE: "Revoked"}


@router.get("/w/{workspace_id}/grants", response_class=HTMLResponse)
def grants(visit: AuditReader) -> Response:
    assert visit.workspace_id is not None
    views = visit.sr.grants.list(visit.workspace_id, actor=visit.actor)
    return visit.render(
        "grants_list.html",
        pending_grants=[g for g in views if g.status.value == "pending"],
        active_grants=[g for g in views if g.status.value == "active"],
        ended_grants=[g for g in views if g.status.ended],
    )


@router.get("/w/{workspace_id}/grants/{grant_id}", response_class=HTMLResponse)
def grant(visit: AuditReader, grant_id: GrantId) -> Response:
    assert visit.workspace_id is not None
    view = visit.sr.grants.get(visit.workspace_id, grant_id, actor=visit.actor)
    return visit.render("grant_view.html", grant=view)


@router.post("/w/{workspace_id}/grants/{grant_id}/{decision}", response_class=HTMLResponse)
def decide(visit: GrantDecider, grant_id: GrantId, decision: DecisionName) -> Response:
    assert visit.workspace_id is not None
    chosen = Decision(decision)
    visit.sr.grants.decide(visit.workspace_id, grant_id, chosen, actor=visit.actor)
    return visit.redirect(
        visit.url(f"/grants/{grant_id}"), flash=f"{_DONE[chosen]} grant {grant_id}."
    )
