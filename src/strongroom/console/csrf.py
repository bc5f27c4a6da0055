"""CSRF protection for every state-changing console request (asgi-csrf: a signed token in a
``__Host-`` cookie, and the same token in the form or the ``x-csrftoken`` header).

Every POST to the console must carry it, with or without other cookies (asgi-csrf would
let a cookie-less POST through; the console has no such exception: a sign-in form is
protected too). A refusal is a 403 page. A file upload's form carries the token in its
action URL instead (:class:`_MultipartTokenInQuery`)."""

from __future__ import annotations

from urllib.parse import parse_qs

from asgi_csrf import asgi_csrf  # type: ignore[import-untyped]
from starlette.types import ASGIApp, Receive, Scope, Send

COOKIE = "__Host-csrftoken"
FIELD = "csrftoken"  # asgi-csrf looks for this name in multipart bodies
HEADER = "x-csrftoken"


class _EveryPath:
    """asgi-csrf's ``always_protect``: every console path."""

    def __contains__(self, path: object) -> bool:
        return True


async def _refused(scope: Scope, send: Send, message_id: int) -> None:
    body = (
        b"<!doctype html><html lang=en><title>Refused</title><main><h1>Refused</h1>"
        b"<p>This form had expired or did not come from the console. Go back, reload the "
        b"page and try again.</p></main></html>"
    )
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [
                (b"content-type", b"text/html; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class _MultipartTokenInQuery:
    """Multipart forms (file uploads) carry their token in the form's action URL
    (``…/files?csrftoken=…``), handed to asgi-csrf as its header: the body, which may be
    gigabytes, is never read, buffered or parsed before the token is checked. (asgi-csrf's
    own multipart path needs an older python-multipart, and would hold the body read
    before the token in memory.) A multipart POST without the token is refused at once."""

    def __init__(self, checked: ASGIApp) -> None:
        self.checked = checked

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not _is_multipart(scope):
            await self.checked(scope, receive, send)
            return
        found = parse_qs(scope.get("query_string", b"").decode("latin-1")).get(FIELD)
        if not found or len(found) != 1:
            await _refused(scope, send, 0)
            return
        # asgi-csrf sees the token as its header, and a content type it does not parse (so
        # a wrong token is refused without reading the body); the route gets the real one.
        header = HEADER.encode("latin-1")
        headers = [(k, v) for k, v in scope["headers"] if k not in (header, b"content-type")]
        headers += [(header, found[0].encode("latin-1")), (b"content-type", _HIDDEN)]
        await self.checked({**scope, "headers": headers, _REAL: scope["headers"]}, receive, send)


_HIDDEN = b"application/x-strongroom-upload"
_REAL = "strongroom.upload_headers"


def _restoring(app: ASGIApp) -> ASGIApp:
    """What asgi-csrf let through: with an upload's own headers back."""

    async def restored(scope: Scope, receive: Receive, send: Send) -> None:
        if _REAL in scope:
            scope = {**scope, "headers": scope.pop(_REAL)}
        await app(scope, receive, send)

    return restored


def _is_multipart(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            return bytes(value).split(b";", 1)[0].strip().lower() == b"multipart/form-data"
    return False


def with_csrf(app: ASGIApp, signing_secret: bytes) -> ASGIApp:
    checked = asgi_csrf(
        _restoring(app),
        cookie_name=COOKIE,
        http_header=HEADER,
        signing_secret=signing_secret.hex(),
        always_protect=_EveryPath(),
        cookie_path="/",
        cookie_secure=True,
        cookie_samesite="Lax",
        send_csrf_failed=_refused,
    )
    return _MultipartTokenInQuery(checked)


def token(scope: Scope) -> str:
    """The CSRF token to put in this page's forms."""
    return str(scope["csrftoken"]())
