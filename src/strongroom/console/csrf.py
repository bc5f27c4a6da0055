"""CSRF protection for every state-changing console request (asgi-csrf: a signed token in a
``__Host-`` cookie, and the same token in the form or the ``x-csrftoken`` header).

Every POST to the console must carry it, with or without other cookies (asgi-csrf would
let a cookie-less POST through; the console has no such exception: a sign-in form is
protected too). A refusal is a 403 page and nothing is read past the token."""

from __future__ import annotations

from asgi_csrf import asgi_csrf  # type: ignore[import-untyped]
from starlette.types import ASGIApp, Scope, Send

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


def with_csrf(app: ASGIApp, signing_secret: bytes) -> ASGIApp:
    return asgi_csrf(  # type: ignore[no-any-return]
        app,
        cookie_name=COOKIE,
        http_header=HEADER,
        signing_secret=signing_secret.hex(),
        always_protect=_EveryPath(),
        cookie_path="/",
        cookie_secure=True,
        cookie_samesite="Lax",
        send_csrf_failed=_refused,
    )


def token(scope: Scope) -> str:
    """The CSRF token to put in this page's forms."""
    return str(scope["csrftoken"]())
