"""Requests whose length two parsers could read differently, refused before anything else.

A request with both ``Content-Length`` and ``Transfer-Encoding`` can be read two ways: a
proxy in front may take one header and this server the other, and the rest of the body
becomes a second, smuggled request on the same connection. RFC 9112 section 6.1 lets a
server refuse it and requires it then to close the connection; h11 (uvicorn's parser)
accepts it, so :func:`ambiguous_length` is asked before any route runs
(:class:`~strongroom.api.app.StrongroomAPI`) and :func:`refuse` answers 400 with
``Connection: close`` (uvicorn closes the connection after a response that says so).
An HTTP/1.0 request with a ``Transfer-Encoding`` is refused the same way: 1.0 has no chunked
coding, so RFC 9112 section 6.1 treats its framing as faulty (a 1.0 proxy would not read it
as this server does).
"""

from __future__ import annotations

import json

from strongroom.api.problems import PROBLEM, problem_body
from strongroom.api.security_headers import Scope, Send


def ambiguous_length(scope: Scope) -> bool:
    """True for an HTTP request that names both a Content-Length and a Transfer-Encoding,
    or an HTTP/1.0 request that names a Transfer-Encoding."""
    names = {bytes(name).lower() for name, _ in scope.get("headers", ())}
    if b"transfer-encoding" not in names:
        return False
    return b"content-length" in names or scope.get("http_version") == "1.0"


async def refuse(send: Send) -> None:
    body = json.dumps(
        problem_body(
            400,
            "ambiguous-request",
            "the request's length is ambiguous: name Content-Length or Transfer-Encoding, "
            "not both, and Transfer-Encoding only in HTTP/1.1",
        )
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 400,
            "headers": [
                (b"content-type", PROBLEM.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
