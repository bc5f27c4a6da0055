"""CSRF protection for every state-changing console request (asgi-csrf: a signed token in a
``__Host-`` cookie, and the same token in the form or the ``x-csrftoken`` header).

Every POST to the console must carry it, with or without other cookies (asgi-csrf would
let a cookie-less POST through; the console has no such exception: a sign-in form is
protected too). A refusal is a 403 page. A file upload's form carries the token in its
action URL instead, and :class:`_ConsoleRequests` checks what asgi-csrf cannot be trusted
with before it reads anything (see there)."""

from __future__ import annotations

from urllib.parse import parse_qs

from asgi_csrf import asgi_csrf  # type: ignore[import-untyped]
from starlette.types import ASGIApp, Receive, Scope, Send

COOKIE = "__Host-csrftoken"
FIELD = "csrftoken"
HEADER = "x-csrftoken"

_HIDDEN = b"application/x-strongroom-upload"
_REAL = "strongroom.upload_headers"
_STATE = "strongroom.csrf_state"
_MESSAGES = {
    400: b"The request was malformed.",
    403: b"This form had expired or did not come from the console. Go back, reload the page "
    b"and try again.",
    415: b"A file is uploaded with the upload form (multipart/form-data).",
}


class _EveryPath:
    """asgi-csrf's ``always_protect``: every console path."""

    def __contains__(self, path: object) -> bool:
        return True


async def _refuse(send: Send, status: int) -> None:
    body = (
        b"<!doctype html><html lang=en><title>Refused</title><main><h1>Refused</h1><p>"
        + _MESSAGES[status]
        + b"</p></main></html>"
    )
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/html; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _refused(scope: Scope, send: Send, message_id: int) -> None:
    """asgi-csrf's refusal."""
    await _refuse(send, 403)


class _ConsoleRequests:
    """What the console lets asgi-csrf see, and what it refuses first:

    * an ``Authorization`` header is dropped (the console signs in by cookie only; asgi-csrf
      would skip its check for any ``Bearer`` header);
    * a request with more than one ``Content-Type`` is 400 (asgi-csrf and the route could
      read different ones);
    * a POST to an upload path (``…/files``) that is not ``multipart/form-data`` is 415:
      such paths have the upload body limit and no body deadline (api/limits.py), which
      asgi-csrf, reading a form body whole, must never be given;
    * a multipart form (a file upload) carries its token in the form's action URL
      (``…/files?csrftoken=…``), handed to asgi-csrf as its header with a content type it
      does not parse: the body, which may be gigabytes, is never read, buffered or parsed
      before the token is checked; without exactly one such token it is 403 at once;
    * anything asgi-csrf fails on before the route runs (a body that is not UTF-8) is 403,
      not a server error.
    """

    def __init__(self, checked: ASGIApp) -> None:
        self.checked = checked

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.checked(scope, receive, send)
            return
        headers = [(k, v) for k, v in scope["headers"] if k != b"authorization"]
        types = [bytes(v) for k, v in headers if k == b"content-type"]
        if len(types) > 1:
            await _refuse(send, 400)
            return
        state = {"passed": False}
        scope = {**scope, "headers": headers, _STATE: state}
        if scope["method"] == "POST":
            media = types[0].split(b";", 1)[0].strip().lower() if types else b""
            multipart = media == b"multipart/form-data"
            if scope["path"].endswith("/files") and not multipart:
                await _refuse(send, 415)
                return
            if multipart:
                found = parse_qs(scope.get("query_string", b"").decode("latin-1")).get(FIELD)
                if not found or len(found) != 1:
                    await _refuse(send, 403)
                    return
                header = HEADER.encode("latin-1")
                hidden = [(k, v) for k, v in headers if k not in (header, b"content-type")]
                hidden += [(header, found[0].encode("latin-1")), (b"content-type", _HIDDEN)]
                scope = {**scope, "headers": hidden, _REAL: headers}
        try:
            await self.checked(scope, receive, send)
        except Exception:
            if state["passed"]:
                raise
            await _refuse(send, 403)


def _passed(app: ASGIApp) -> ASGIApp:
    """What asgi-csrf let through: marked as passed, with an upload's own headers back."""

    async def passed(scope: Scope, receive: Receive, send: Send) -> None:
        if _STATE in scope:
            scope[_STATE]["passed"] = True
        if _REAL in scope:
            scope = {**scope, "headers": scope[_REAL]}
        await app(scope, receive, send)

    return passed


def with_csrf(app: ASGIApp, signing_secret: bytes) -> ASGIApp:
    checked = asgi_csrf(
        _passed(app),
        cookie_name=COOKIE,
        http_header=HEADER,
        signing_secret=signing_secret.hex(),
        always_protect=_EveryPath(),
        cookie_path="/",
        cookie_secure=True,
        cookie_samesite="Lax",
        send_csrf_failed=_refused,
    )
    return _ConsoleRequests(checked)


def token(scope: Scope) -> str:
    """The CSRF token to put in this page's forms."""
    return str(scope["csrftoken"]())
