"""The web console: server-rendered pages under ``/console/``, over the same services and
role matrix as the API.

What a console request meets, outermost first (inside the API app it is mounted in, so
after the framing check and the body limits of api/app.py):

1. ``ConsoleHeaders``: the console's Content-Security-Policy (no inline script or style);
2. asgi-csrf: every POST carries the form's token (console/csrf.py), else 403;
3. starsessions: the ``__Host-strongroom`` session, kept in the data store
   (console/sessions.py);
4. the routes, whose refusals become pages (:func:`_install_error_pages`).
"""

from __future__ import annotations

from types import ModuleType

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from strongroom.api.admission import Lanes
from strongroom.api.app import StrongroomAPI, create_app
from strongroom.bootstrap import Strongroom
from strongroom.console import (
    pages,
    routes_agreements,
    routes_audit,
    routes_certificates,
    routes_contact,
    routes_data,
    routes_deletion,
    routes_exports,
    routes_files,
    routes_grants,
    routes_members,
    routes_operator_inbox,
    routes_privacy,
    routes_subprocessors,
    routes_trash,
    routes_trust,
)
from strongroom.console.csrf import with_csrf
from strongroom.console.operator import router as operator_router
from strongroom.console.routes_account import router as account_router
from strongroom.console.routes_workspace import router as workspace_router
from strongroom.console.sessions import with_sessions
from strongroom.console.visit import SignInNeeded, page_context
from strongroom.errors import StrongroomError

PREFIX = "/console"


class ConsoleHeaders:
    """The console's CSP on every response (api/security_headers.py keeps a CSP the app
    set, and adds HSTS and the rest around it)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._csp = (b"content-security-policy", pages.CONTENT_SECURITY_POLICY.encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_csp(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if bytes(k).lower() != b"content-security-policy"
                ]
                headers.append(self._csp)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_csp)


def _context(request: Request) -> dict[str, object]:
    try:
        return page_context(request)
    except Exception:  # a page about an error must not fail on the way
        return {"request": request, "csrf_token": "", "flash": None}


def _install_error_pages(app: FastAPI) -> None:
    async def strongroom_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, StrongroomError)
        return pages.from_error(error, _context(request))

    async def sign_in_needed(request: Request, error: Exception) -> Response:
        assert isinstance(error, SignInNeeded)
        if request.headers.get("hx-request"):  # htmx: take the whole page to the sign-in
            response = Response(status_code=204)
            response.headers["HX-Redirect"] = error.url
            return response
        return RedirectResponse(error.url, status_code=303)

    async def http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        title = {404: "Not found", 405: "Not allowed"}.get(error.status_code, "Refused")
        detail = "There is no such page." if error.status_code == 404 else str(error.detail)
        return pages.error_page(error.status_code, title, detail, _context(request))

    async def bad_input(request: Request, error: Exception) -> Response:
        assert isinstance(error, RequestValidationError)
        fields = sorted({str(e["loc"][-1]) for e in error.errors() if e.get("loc")})
        detail = "Check " + ", ".join(fields) + "." if fields else "Check what was sent."
        return pages.error_page(422, "Not accepted", detail, _context(request))

    app.add_exception_handler(StrongroomError, strongroom_error)
    app.add_exception_handler(SignInNeeded, sign_in_needed)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, bad_input)


def create_console(sr: Strongroom, lanes: Lanes | None = None) -> ASGIApp:
    """The console; ``lanes``: the API's (sign-ins and uploads share their threads and
    limits with the API's)."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None, redirect_slashes=False)
    app.state.strongroom = sr
    app.state.lanes = lanes or Lanes.of(sr.settings)
    _install_error_pages(app)
    app.mount("/static", StaticFiles(directory=pages.STATIC), name="static")
    app.include_router(account_router)
    app.include_router(workspace_router)
    app.include_router(operator_router)
    for router in _page_routers():
        app.include_router(router)
    sessions = with_sessions(app, sr.browser_sessions)
    protected = with_csrf(sessions, sr.access.console_signing_secret())
    return ConsoleHeaders(protected)


def _page_routers() -> list[APIRouter]:
    """The routers of the console's other pages (each in a module of its own)."""
    modules = (
        routes_data,
        routes_files,
        routes_trash,
        routes_exports,
        routes_certificates,
        routes_privacy,
        routes_members,
        routes_audit,
        routes_deletion,
        routes_operator_inbox,  # the request inbox, for operators
        routes_trust,  # the operators' promises page
        routes_agreements,
        routes_subprocessors,
        routes_grants,  # break-glass grants (issue 17)
    )
    return [module.router for module in modules]


def _public_routers() -> list[APIRouter]:
    """The public pages' routers (no sign-in, outside ``/console``): each module's
    ``public`` router, rendered with :func:`pages.render_public`."""
    modules: tuple[ModuleType, ...] = (
        routes_trust,  # the trust center (/trust)
        routes_contact,  # the request inbox's contact form (/contact)
        routes_agreements,  # the DPA and SCCs (/agreements/{kind})
        routes_subprocessors,  # the subprocessor list (/subprocessors)
    )
    return [module.public for module in modules]


def create_site(sr: Strongroom, *, fast_reads: bool = True) -> StrongroomAPI:
    """The API with the console mounted at ``/console`` and the public pages beside it
    (what ``strongroom serve`` serves)."""
    app = create_app(sr, fast_reads=fast_reads)
    for router in _public_routers():
        app.include_router(router, include_in_schema=False)
    console = create_console(sr, app.state.lanes)

    async def to_console(request: Request) -> Response:
        return RedirectResponse(f"{PREFIX}/", status_code=303)

    app.add_api_route("/", to_console, include_in_schema=False)
    app.add_api_route(PREFIX, to_console, include_in_schema=False)
    app.mount(PREFIX, console)
    # Matched first: a console request would otherwise be tried against every API route.
    app.router.routes.insert(0, app.router.routes.pop())
    return app
