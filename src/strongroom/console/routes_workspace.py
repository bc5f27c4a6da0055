"""A workspace's overview: its plan state and what is due, in days left."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import HTMLResponse, Response

from strongroom.console.visit import Reader

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
    )
