"""Requests whose length two parsers could read differently, refused before anything else.

A request with both ``Content-Length`` and ``Transfer-Encoding`` can be read two ways: a
proxy in front may take one header and this server the other, and the rest of the body
becomes a second, smuggled request on the same connection. RFC 9112 section 6.1 lets a
server refuse it and requires it then to close the connection; h11 (uvicorn's parser)
accepts it, so :func:`ambiguous_length` is asked before any route runs
(:class:`~strongroom.api.app.StrongroomAPI`) and :func:`refuse` answers 400 with
``Connection: close`` (uvicorn closes the connection after a response that says so).
"""

from __future__ import annotations

import json

from strongroom.api.problems import PROBLEM, problem_body
from strongroom.api.security_headers import Scope, Send


def ambiguous_length(scope: Scope) -> bool:
    """True for an HTTP request that names both a Content-Length and a Transfer-Encoding."""
    names = {bytes(name).lower() for name, _ in scope.get("headers", ())}
    return b"content-length" in names and b"transfer-encoding" in names


async def refuse(send: Send) -> None:
    body = json.dumps(
        problem_body(
            400,
            "ambiguous-request",
            "a request names either Content-Length or Transfer-Encoding, not both",
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
