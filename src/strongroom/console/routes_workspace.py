"""A workspace's overview: its plan state and what is due, in days left."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import HTMLResponse, Response

from strongroom.console.visit import Reader, Visit
from strongroom.domain.roles import Action
from strongroom.services.grants import GrantView

router = APIRouter()


@router.get("/w/{workspace_id}", response_class=HTMLResponse)
def overview(visit: Reader) -> Response:
    assert visit.workspace_id is not None
    sr = visit.sr
    plan = sr.plans.status(visit.workspace_id)
    projects = sr.projects.list(visit.workspace_id, actor=visit.actor)
    return visit.render(
        "overview.html",
        plan=plan,
        projects=projects,
        now=sr.ctx.clock.now(),
        agreement=sr.agreements.status(visit.workspace_id),
        staff_access=_staff_access(visit),
    )


def _staff_access(visit: Visit) -> list[GrantView]:
    """Break-glass grants waiting or in force, for those who see grants (an emergency one,
    self-approved by the operator, shows here first thing)."""
    if visit.workspace_id is None or not visit.may(Action.READ_AUDIT):
        return []
    grants = visit.sr.grants.list(visit.workspace_id, actor=visit.actor)
    return [g for g in grants if not g.status.ended]
