"""Every HTTP request's id, time and log line: the outermost step inside the app (see the
order in api/app.py).

1. The request id: the client's ``X-Request-Id`` if it is one value of 1 to 128 letters,
   digits and ``. _ : -`` (so an id can never carry a line break, an address or markup
   into the log), else 32 random hex digits. It is echoed in the response's
   ``X-Request-Id`` and set in :data:`~strongroom.observability.logs.REQUEST_ID` while
   the request is answered, so every log line written for it carries it.
2. The time to answer, into ``strongroom_http_request_duration_seconds`` by method, route
   TEMPLATE (``/v1/workspaces/{workspace_id}``, never the path with its ids; a request no
   route took is ``unmatched``; a console page is ``/console/{path}``: the console's
   middleware routes a copy of the request, whose route is not seen here) and status
   class.
3. One INFO line ``strongroom.request`` with the same method, route and status, and the
   time in milliseconds.
"""

from __future__ import annotations

import logging
import re
import secrets
from time import perf_counter
from typing import Any

from starlette.routing import Route

from strongroom.api.fast_reads import RECORD_PATH
from strongroom.api.security_headers import ASGIApp, Message, Receive, Scope, Send
from strongroom.observability.instruments import REQUEST_SECONDS, status_class
from strongroom.observability.logs import REQUEST_ID

log = logging.getLogger("strongroom.request")

HEADER = b"x-request-id"
_VALID_ID = re.compile(rb"[A-Za-z0-9._:\-]{1,128}")
#: The route FastReads answers without routing (api/fast_reads.py).
RECORD_TEMPLATE = "/v1/workspaces/{workspace_id}/projects/{project_id}/records/{record_id}"
UNMATCHED = "unmatched"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def request_id(headers: list[tuple[bytes, bytes]]) -> str:
    """The client's id if valid (exactly one X-Request-Id header), else a new one."""
    given = [value for name, value in headers if name == HEADER]
    if len(given) == 1 and _VALID_ID.fullmatch(given[0]):
        return given[0].decode("ascii")
    return secrets.token_hex(16)


def route_template(scope: Scope) -> str:
    """The template of the route that took the request (after it did), with the prefix of
    the app it is mounted in (the console's ``/console``)."""
    route = scope.get("route")
    root: str = scope.get("root_path", "")
    if isinstance(route, Route):
        return root + route.path_format
    if root:  # a mounted app (the console) routes a copy of the scope: its route is not here
        return root + "/{path}"
    if RECORD_PATH.fullmatch(scope.get("path", "")):
        return RECORD_TEMPLATE
    return UNMATCHED


async def observe(scope: Scope, receive: Receive, send: Send, app: ASGIApp) -> None:
    """Answer the HTTP request ``scope`` with ``app``, with its id, time and log line.

    The time is taken and the line written as the response's last part is handed to the
    server (so they are in before the client has the whole answer), or when ``app``
    returns or raises without one."""
    rid = request_id(scope.get("headers", []))
    status = 500  # unless a response starts
    token = REQUEST_ID.set(rid)
    started = perf_counter()
    accounted = False

    def account() -> None:
        nonlocal accounted
        if not accounted:
            accounted = True
            _account(scope, status, perf_counter() - started)

    async def send_with_id(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            message = {**message, "headers": [*message.get("headers", ()), (HEADER, rid.encode())]}
        elif message["type"] == "http.response.body" and not message.get("more_body", False):
            account()
        await send(message)

    try:
        await app(scope, receive, send_with_id)
    finally:
        account()
        REQUEST_ID.reset(token)


def _account(scope: Scope, status: int, seconds: float) -> None:
    method = scope.get("method", "")
    method = method if method in _METHODS else "OTHER"
    route = route_template(scope)
    REQUEST_SECONDS.labels(method, route, status_class(status)).observe(seconds)
    if log.isEnabledFor(logging.INFO):
        fields: dict[str, Any] = {
            "method": method,
            "route": route,
            "status": status,
            "duration_ms": round(seconds * 1000, 3),
        }
        log.info("%s %s %s %.1f ms", method, route, status, seconds * 1000, extra=fields)
