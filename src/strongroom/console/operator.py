"""The operators' side of the console: signing in with an operator token, and the
``OperatorVisit`` dependency the operators' pages (inbox, subprocessors, agreements,
promises) name.

Operators are the SaaS's staff. They run the deployment and see no customer data, so
an operator session carries no user and no workspace: only the operator token's id,
checked at every request (a revoked or expired token ends the session at once). The
token itself is typed once into the sign-in form and never kept in the session.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starsessions import get_session_handler, regenerate_session_id

from strongroom.bootstrap import Strongroom
from strongroom.console import pages
from strongroom.console.visit import TOKEN_ID, SignInNeeded, Visit, page_context
from strongroom.domain.access import PrincipalKind
from strongroom.errors import Unauthenticated

router = APIRouter(prefix="/operator")

#: The session key of an operator's session: their operator token's id.
OPERATOR_TOKEN_ID = "operator_token_id"  # noqa: S105 - a session key, not a secret
SIGN_IN = "/console/operator/sign-in"
MAX_TOKEN = 100


def _operator(request: Request) -> Visit:
    sr: Strongroom = request.app.state.strongroom
    token_id = request.session.get(OPERATOR_TOKEN_ID)
    if not token_id:
        raise SignInNeeded(request.url.path, SIGN_IN)
    try:
        principal = sr.access.resume_operator(str(token_id))
    except Unauthenticated:
        request.session.clear()
        raise SignInNeeded(request.url.path, SIGN_IN) from None
    return Visit(request, sr, principal, email=f"operator {principal.id}")


#: A page for operators only: the signed-in operator (members are sent to sign in here).
OperatorVisit = Annotated[Visit, Depends(_operator)]


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_form(request: Request) -> Response:
    return pages.render("operator_sign_in.html", page_context(request))


@router.post("/sign-in", response_class=HTMLResponse)
async def sign_in(
    request: Request, token: Annotated[str, Form(max_length=MAX_TOKEN)] = ""
) -> Response:
    """An operator token (``strongroom token create --operator``) opens an operator
    session; any other token, or none, is refused the same way."""
    sr: Strongroom = request.app.state.strongroom
    try:
        principal = await run_in_threadpool(sr.access.authenticate, token.strip())
    except Unauthenticated:
        principal = None
    if principal is None or principal.kind is not PrincipalKind.OPERATOR:
        return pages.render(
            "operator_sign_in.html",
            {**page_context(request), "error": "That is not an operator token in force."},
            status=401,
        )
    await get_session_handler(request).destroy()
    regenerate_session_id(request)
    request.session.clear()
    request.session[OPERATOR_TOKEN_ID] = principal.id
    return RedirectResponse("/console/operator/", status_code=303)


@router.post("/sign-out")
def sign_out(visit: OperatorVisit) -> Response:
    visit.request.session.clear()
    return RedirectResponse(SIGN_IN, status_code=303)


@router.get("/", response_class=HTMLResponse)
def home(visit: OperatorVisit) -> Response:
    return visit.render("operator_home.html", active="operator")


__all__ = ["TOKEN_ID", "OperatorVisit", "router"]
