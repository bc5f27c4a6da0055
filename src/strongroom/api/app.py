"""The FastAPI application: routes, error mapping, body limits.

What a request meets, outermost first:

1. ``SecurityHeaders``: added by the HTTPS server around every app it serves
   (api/server.py, api/security_headers.py);
2. the request's telemetry: its id (``X-Request-Id``, on every log line written for it),
   its time by route template and its log line (``StrongroomAPI.__call__``,
   api/request_telemetry.py): around all that follows, so a refused or failed request is
   timed and logged with its id too;
3. the framing check: a request of ambiguous length is refused before anything else
   (``StrongroomAPI._answer``, api/framing.py);
4. Starlette's ``ServerErrorMiddleware`` (the 500 handler);
5. ``FastReads``: ``GET …/records/{id}`` answered here (api/fast_reads.py);
6. ``BodyLimit``: body sizes and the body-read deadline (api/limits.py);
7. FastAPI's exception handlers, then the routes.

Items 5 and 6 are :data:`create_app`'s ``add_middleware`` calls (the last added runs
first): ``app.user_middleware`` lists them in this order.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from strongroom import __version__
from strongroom.api import framing, problems, request_telemetry
from strongroom.api.admission import Lanes
from strongroom.api.fast_reads import FastReads
from strongroom.api.limits import BodyLimit
from strongroom.api.routes_admin import router as admin_router
from strongroom.api.routes_agreements import router as agreements_router
from strongroom.api.routes_data import router as data_router
from strongroom.api.routes_exports import router as exports_router
from strongroom.api.routes_grants import router as grants_router
from strongroom.api.routes_inbox import router as inbox_router
from strongroom.api.routes_lifecycle import router as lifecycle_router
from strongroom.api.routes_metrics import router as metrics_router
from strongroom.api.routes_privacy import report_router as privacy_report_router
from strongroom.api.routes_privacy import router as privacy_router
from strongroom.api.routes_subprocessors import router as subprocessors_router
from strongroom.api.routes_trust import router as trust_router
from strongroom.api.routes_workspaces import router as workspaces_router
from strongroom.api.schemas import Problem
from strongroom.api.security_headers import Receive, Scope, Send
from strongroom.bootstrap import Strongroom

DESCRIPTION = """Custody of SaaS customer data: every record, file and name is encrypted
under a key hierarchy whose root stays in a KMS or HSM. Authenticate with
`Authorization: Bearer <token>`. Errors are RFC 9457 problem details."""


def _problem_responses() -> dict[int | str, dict[str, Any]]:
    """Every route may answer these; each is a problem+json body."""
    content = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    reasons = {
        400: "Bad input",
        401: "No, bad, expired or revoked token",
        403: "The role does not allow it",
        404: "Not found (or another tenant's)",
        409: "Conflicts with the current state",
        410: "Crypto-shredded, or expired",
        413: "Body over the limit",
        422: "Body or parameters do not match the schema",
        429: "Too many attempts",
        503: "KMS or database unavailable, or every upload or sign-in place is taken",
    }
    return {code: {"description": text, "content": content} for code, text in reasons.items()}


class StrongroomAPI(FastAPI):
    """The FastAPI app, with requests of ambiguous length refused first (api/framing.py)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        await request_telemetry.observe(scope, receive, send, self._answer)

    async def _answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        if framing.ambiguous_length(scope):
            await framing.refuse(send)
            return
        try:
            await super().__call__(scope, receive, send)
        except Exception as error:
            # Starlette re-raises an error after its 500 handler has answered, so that the
            # server logs it; logged here instead, once, with the request's path. (A
            # response already under way is cut off: uvicorn closes the connection.)
            problems.log_unexpected(scope, error)


def create_app(sr: Strongroom, *, fast_reads: bool = True) -> StrongroomAPI:
    """The API over ``sr``. ``fast_reads=False`` leaves ``GET …/records/{id}`` to its FastAPI
    route too (the fast path's parity test compares the two)."""
    app = StrongroomAPI(
        responses=_problem_responses(),
        title="Strongroom",
        version=__version__,
        description=DESCRIPTION,
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
        # Starlette's redirect to the path with or without a trailing slash builds its
        # Location from the client's Host header (an open redirect); no path has two forms.
        redirect_slashes=False,
    )
    app.state.strongroom = sr
    app.state.lanes = Lanes.of(sr.settings)  # uploads' and sign-ins' own threads
    _register_problem_schema(app)
    problems.install(app)
    app.include_router(workspaces_router)
    app.include_router(data_router)
    app.include_router(exports_router)
    app.include_router(admin_router)
    app.include_router(lifecycle_router)
    app.include_router(privacy_router)
    app.include_router(privacy_report_router)
    app.include_router(inbox_router)  # the request inbox (public intake, operators)
    app.include_router(trust_router)  # /trust.json (public) and the operators' check
    app.include_router(agreements_router)
    app.include_router(subprocessors_router)
    app.include_router(grants_router)  # break-glass grants (issue 17)
    if sr.settings.metrics == "on":  # GET /metrics, operators only (issue 15 item 6)
        app.include_router(metrics_router)
    # Innermost first: each add_middleware wraps what was added before it.
    app.add_middleware(
        BodyLimit,
        json_limit=sr.settings.record_max_bytes * 2 + 65536,
        upload_limit=sr.settings.file_max_bytes,
        body_timeout=sr.settings.body_timeout_seconds,
    )
    if fast_reads:
        app.add_middleware(FastReads, sr=sr)
    return app


def _register_problem_schema(app: FastAPI) -> None:
    """Put the Problem schema into the OpenAPI components the error responses refer to."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = (
                Problem.model_json_schema()
            )
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
