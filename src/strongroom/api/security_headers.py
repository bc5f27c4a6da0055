"""Security headers on every HTTPS response, and the plain-HTTP listener's redirect (P3).

:class:`SecurityHeaders` is pure ASGI (no buffering, streaming responses stay streaming).
HSTS, ``X-Content-Type-Options``, ``Referrer-Policy`` and ``X-Frame-Options`` are always
ours, replacing any value the app set. ``Content-Security-Policy`` and ``Cache-Control``
are defaults: a response that sets its own keeps it (a web console page may widen the
CSP; a public page may allow caching).

:func:`https_redirect_app` answers every plain-HTTP request with a 308 to the same host,
path and query on the HTTPS port, and does nothing else.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Awaitable, Callable, Collection, MutableMapping
from typing import Any
from urllib.parse import quote

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

HSTS_MAX_AGE = 63072000  # two years, as Mozilla's profiles ask
STRICT_TRANSPORT_SECURITY = f"max-age={HSTS_MAX_AGE}; includeSubDomains"
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)

#: Set on every response, replacing the app's value.
ENFORCED_HEADERS: tuple[tuple[str, str], ...] = (
    ("strict-transport-security", STRICT_TRANSPORT_SECURITY),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
)
#: Set unless the app set its own.
DEFAULT_HEADERS: tuple[tuple[str, str], ...] = (
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("cache-control", "no-store"),
)


class SecurityHeaders:
    """ASGI middleware adding the security headers to every HTTP response."""

    def __init__(self, app: ASGIApp, *, content_security_policy: str = CONTENT_SECURITY_POLICY):
        self.app = app
        self._enforced = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in ENFORCED_HEADERS]
        defaults = dict(DEFAULT_HEADERS)
        defaults["content-security-policy"] = content_security_policy
        self._defaults = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in defaults.items()]
        self._replaced = {k for k, _ in self._enforced}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = self._add(message.get("headers", ()))
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _add(self, headers: Any) -> list[tuple[bytes, bytes]]:
        kept = [(k, v) for k, v in headers if bytes(k).lower() not in self._replaced]
        present = {bytes(k).lower() for k, _ in kept}
        kept.extend(self._enforced)
        kept.extend((k, v) for k, v in self._defaults if k not in present)
        return kept


_HOST_NAME = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?"
)
#: Characters left as they are in the redirect's path and query; others are %-encoded.
_URL_SAFE = "/:@!$&'()*+,;=-._~%?"


def https_redirect_app(https_port: int, *, allowed_hosts: Collection[str] | None = None) -> ASGIApp:
    """An ASGI app that redirects every HTTP request to ``https://<host>[:port]<path>``.

    The host comes from the ``Host`` header, which the client controls: it must be a
    plain DNS name or IP address (anything else, or a host not in ``allowed_hosts`` when
    given, is answered with 400), and path and query are percent-encoded, so nothing the
    client sends can inject another host, a header or markup.
    """
    allowed = None if allowed_hosts is None else {h.lower().rstrip(".") for h in allowed_hosts}
    port_suffix = "" if https_port == 443 else f":{https_port}"

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":  # websocket: refuse
            await send({"type": "websocket.close", "code": 1008})
            return
        host = _request_host(scope)
        if host is None or (allowed is not None and host.lower().rstrip(".") not in allowed):
            await _respond(
                send,
                400,
                [(b"content-type", b"text/plain; charset=utf-8")],
                b"Bad Request: use https\n",
            )
            return
        location = f"https://{host}{port_suffix}{_path_and_query(scope)}"
        await _respond(send, 308, [(b"location", location.encode("ascii"))], b"")

    return app


async def _respond(
    send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes
) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode()), (b"connection", b"close")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _request_host(scope: Scope) -> str | None:
    """The host (without port) named by the Host header, or None if it is unusable."""
    values = [v for k, v in scope.get("headers", ()) if bytes(k).lower() == b"host"]
    if len(values) != 1:
        return None
    try:
        raw = bytes(values[0]).decode("ascii").strip()
    except UnicodeDecodeError:
        return None
    if raw.startswith("["):  # [IPv6]:port
        end = raw.find("]")
        if end < 0 or not re.fullmatch(r"(?::\d{1,5})?", raw[end + 1 :]):
            return None
        try:
            address = ipaddress.IPv6Address(raw[1:end])
        except ValueError:
            return None
        return f"[{address.compressed}]"
    name, _, port = raw.partition(":")
    if port and not re.fullmatch(r"\d{1,5}", port):
        return None
    if len(name) > 253 or not _HOST_NAME.fullmatch(name):
        return None
    return name


def _path_and_query(scope: Scope) -> str:
    raw = scope.get("raw_path")
    path = bytes(raw).decode("latin-1") if raw else quote(str(scope.get("path", "/")))
    if not path.startswith("/"):  # an absolute-form target ("http://other/x") or "*"
        path = "/"
    path = quote(path, safe=_URL_SAFE.replace("?", ""))
    query = bytes(scope.get("query_string", b"")).decode("latin-1")
    return f"{path}?{quote(query, safe=_URL_SAFE)}" if query else path
