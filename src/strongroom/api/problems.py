"""Errors as RFC 9457 problem details: the one mapping from the error hierarchy to HTTP,
and what the log says of each.

The log gets one line for a condition the service expects (a client that hangs up in the
middle of a request is INFO, with the request's method and path; a 4xx is not logged at
all) and one traceback for an unexpected error (:func:`log_unexpected`, called by
:class:`~strongroom.api.app.StrongroomAPI` once Starlette has answered the 500, so uvicorn
does not log the same error a second time).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from strongroom import errors as e

PROBLEM = "application/problem+json"
log = logging.getLogger("strongroom.api")

#: Most specific first: the first class an error is an instance of decides.
STATUS: list[tuple[type[e.StrongroomError], int, str]] = [
    (e.MalformedDocument, 422, "malformed-document"),
    (e.TooLarge, 413, "too-large"),
    (e.UndeclaredField, 422, "undeclared-field"),
    (e.NotAccepted, 422, "not-accepted"),
    (e.InvalidInput, 400, "invalid-input"),
    (e.InTrash, 404, "in-trash"),
    (e.NotFound, 404, "not-found"),
    (e.Unauthenticated, 401, "unauthenticated"),
    (e.PermissionDenied, 403, "permission-denied"),
    (e.RateLimited, 429, "rate-limited"),
    (e.ServerBusy, 503, "server-busy"),
    (e.RequestTimeout, 408, "request-timeout"),
    (e.Conflict, 409, "conflict"),
    (e.Expired, 410, "expired"),
    (e.KeyUnavailable, 410, "key-unavailable"),
    (e.IntegrityFailure, 500, "integrity-failure"),
    (e.KmsFailure, 503, "kms-unavailable"),
    (e.StorageUnavailable, 503, "storage-unavailable"),
    (e.MailNotSent, 503, "mail-not-sent"),
    (e.ConfigurationError, 500, "configuration-error"),
    (e.AuditChainBroken, 500, "audit-chain-broken"),
]


def problem_body(status: int, kind: str, detail: str, **extra: Any) -> dict[str, Any]:
    """An RFC 9457 problem detail as a JSON object."""
    return {
        "type": f"https://strongroom.dev/problems/{kind}",
        "title": kind.replace("-", " "),
        "status": status,
        "detail": detail,
        **extra,
    }


def problem(status: int, kind: str, detail: str, **extra: Any) -> JSONResponse:
    body = problem_body(status, kind, detail, **extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def status_of(error: e.StrongroomError) -> tuple[int, str]:
    """The HTTP status and problem kind of an error (the console's pages use them too)."""
    for cls, code, name in STATUS:
        if isinstance(error, cls):
            return code, name
    return 500, "internal-error"


def from_error(error: e.StrongroomError) -> JSONResponse:
    status, kind = status_of(error)
    response = problem(status, kind, " ".join(str(error).split()), **error.ids)
    if isinstance(error, e.Unauthenticated):
        response.headers["WWW-Authenticate"] = 'Bearer realm="strongroom"'
    if isinstance(error, e.RateLimited | e.ServerBusy):
        response.headers["Retry-After"] = str(error.retry_after)
    if isinstance(error, e.RequestTimeout):  # the rest of the body is never read (RFC 9110)
        response.headers["Connection"] = "close"
    return response


def unexpected_error() -> JSONResponse:
    return problem(500, "internal-error", "an unexpected error; it has been logged")


def install(app: FastAPI) -> None:
    async def strongroom_error(_request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, e.StrongroomError)
        return from_error(error)

    async def http_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, HTTPException)
        response = problem(error.status_code, "http-" + str(error.status_code), str(error.detail))
        for name, value in (error.headers or {}).items():
            response.headers[name] = value
        if error.status_code == 405:  # every method the path has, not just one route's
            response.headers["Allow"] = ", ".join(_methods_of(request))
        return response

    async def validation_error(_request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        errors = [
            {"loc": [str(part) for part in item.get("loc", ())], "msg": str(item.get("msg", ""))}
            for item in error.errors()
        ]
        return problem(
            422, "validation-error", "the request does not match the schema", errors=errors
        )

    async def client_gone(request: Request, _error: Exception) -> Response:
        # Expected: a client may hang up at any time (a cancelled upload, a closed
        # laptop). What the route had begun is undone as for any failure.
        log.info("client disconnected during %s %s", request.method, request.url.path)
        return Response(status_code=400)  # nobody is left to read it

    async def unexpected(_request: Request, _error: Exception) -> JSONResponse:
        return unexpected_error()  # logged once, by log_unexpected

    app.add_exception_handler(e.StrongroomError, strongroom_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(ClientDisconnect, client_gone)
    app.add_exception_handler(Exception, unexpected)


def log_unexpected(scope: Any, error: BaseException) -> None:
    """One traceback for an error no handler expected, naming the request it broke."""
    log.error("unexpected error in %s %s", scope.get("method"), scope.get("path"), exc_info=error)


def _methods_of(request: Request) -> list[str]:
    paths: dict[str, dict[str, object]] = request.app.openapi()["paths"]
    found: set[str] = set()
    for template, operations in paths.items():
        if re.fullmatch(re.sub(r"\{[^/]+?\}", "[^/]+", template), request.url.path):
            found.update(method.upper() for method in operations)
    return sorted(found)
