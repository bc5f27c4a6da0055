"""Signing in and out, and picking a workspace."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starsessions import get_session_handler, regenerate_session_id

from strongroom.api.admission import Lanes
from strongroom.api.admission import lanes as lanes_of
from strongroom.bootstrap import Strongroom
from strongroom.console import pages
from strongroom.console.visit import TOKEN_ID, Signed, page_context
from strongroom.domain.model import WorkspaceState
from strongroom.errors import InvalidInput, NotFound, RateLimited, ServerBusy, Unauthenticated

router = APIRouter()

MAX_EMAIL = 320
MAX_PASSWORD = 1024


def _safe_next(next_path: str | None) -> str:
    """Only a console path: never another site (``//evil``, ``/\\evil``, a scheme)."""
    if (
        not next_path
        or not next_path.startswith("/console/")
        or next_path.startswith("//")
        or "\\" in next_path
        or any(ord(c) < 32 for c in next_path)
    ):
        return "/console/"
    return next_path


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_form(request: Request, next: str | None = None) -> Response:
    if request.session.get(TOKEN_ID):
        return RedirectResponse(_safe_next(next), status_code=303)
    return pages.render(
        "sign_in.html", {**page_context(request), "next": _safe_next(next), "email": ""}
    )


@router.post("/sign-in", response_class=HTMLResponse)
async def sign_in(
    request: Request,
    lanes: Annotated[Lanes, Depends(lanes_of)],
    email: Annotated[str, Form(max_length=MAX_EMAIL)] = "",
    password: Annotated[str, Form(max_length=MAX_PASSWORD)] = "",
    next: Annotated[str, Form(max_length=2048)] = "/console/",
) -> Response:
    """The API's sign-in (argon2id, the failed-sign-in limits per email and per address,
    the sign-ins' own threads), then a fresh session id for this browser."""
    sr: Strongroom = request.app.state.strongroom
    address = request.client.host if request.client else None
    context = {**page_context(request), "next": _safe_next(next), "email": email}
    try:
        with lanes.sign_ins.admit():
            issued = await lanes.sign_ins.run(
                lambda: sr.access.login(email, password, address=address)
            )
    except (Unauthenticated, InvalidInput):
        return pages.render(
            "sign_in.html", {**context, "error": "Wrong email or password."}, status=401
        )
    except (RateLimited, ServerBusy) as refused:
        response = pages.render("sign_in.html", {**context, "error": str(refused)}, status=429)
        response.headers["Retry-After"] = str(refused.retry_after)
        return response
    previous = request.session.get(TOKEN_ID)
    if previous:  # signing in over a session ends it: its cookie must not keep working
        await run_in_threadpool(_end_quietly, sr, str(previous))
    await get_session_handler(request).destroy()
    regenerate_session_id(request)  # never keep a session id from before the sign-in
    request.session.clear()
    request.session[TOKEN_ID] = issued.id
    return RedirectResponse(_safe_next(next), status_code=303)


def _end_quietly(sr: Strongroom, token_id: str) -> None:
    try:
        found = sr.access.presence(token_id)
        sr.access.end_session(found.principal, token_id)
    except (Unauthenticated, NotFound):
        pass  # ended already


@router.post("/sign-out")
def sign_out(visit: Signed) -> Response:
    visit.sr.access.end_session(visit.principal, visit.principal.id)
    visit.request.session.clear()
    return RedirectResponse("/console/sign-in", status_code=303)


@router.get("/", response_class=HTMLResponse)
def workspaces(visit: Signed) -> Response:
    """The workspaces the member belongs to; straight to the one if there is one."""
    sr = visit.sr
    visible = [
        sr.workspaces.get(w, actor=visit.actor)
        for w in sr.access.visible_workspaces(visit.principal)
    ]
    visible.sort(key=lambda w: (w.name.casefold(), w.id))
    if len(visible) == 1 and visit.request.query_params.get("all") is None:
        return RedirectResponse(f"/console/w/{visible[0].id}", status_code=303)
    roles = {w.id: sr.access.role_in(visit.principal, w.id) for w in visible}
    return visit.render(
        "workspaces.html", workspaces=visible, roles=roles, closed=WorkspaceState.CLOSED
    )
