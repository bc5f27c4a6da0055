"""The public trust center (/trust) and the operators' promises page
(/console/operator/promises, with "check now"). Both render the one trust report that
/trust.json serves (promises/report.py), so no page can say what the JSON does not."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, Response

from strongroom.api.routes_trust import CACHE_CONTROL
from strongroom.bootstrap import Strongroom
from strongroom.console import pages
from strongroom.console.operator import OperatorVisit

#: Public pages, beside the API (console/app.py ``_public_routers``).
public = APIRouter()
#: The operators' page, inside the console.
router = APIRouter(prefix="/operator")


@public.get("/trust", response_class=HTMLResponse)
def trust(request: Request) -> Response:
    sr: Strongroom = request.app.state.strongroom
    response = pages.render_public(
        "trust.html", {"report": sr.promises.report(), "active": "trust"}
    )
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response


@router.get("/promises", response_class=HTMLResponse)
def promises(visit: OperatorVisit) -> Response:
    return visit.render(
        "operator_promises.html", active="promises", report=visit.sr.promises.report()
    )


@router.post("/promises/check")
async def check_now(visit: OperatorVisit) -> Response:
    """Run every check now (CSRF-checked like every console POST)."""
    run = await run_in_threadpool(visit.sr.promises.check_all, f"operator:{visit.principal.id}")
    failing = sum(not v.holds for _, v in run.results)
    flash = "Every promise holds." if not failing else f"{failing} promise(s) failing."
    return visit.redirect("/console/operator/promises", flash)
