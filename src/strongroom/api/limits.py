"""Request body limits, enforced before a route reads anything: by Content-Length when it
is given, and by counting when the body is chunked."""

from __future__ import annotations

import contextlib
import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from strongroom.api.problems import PROBLEM, problem_body

#: Every body but a record's, a certificate's or an upload: sign-in, names, roles, tokens.
SMALL_LIMIT = 64 * 1024


class BodyLimit:
    """413 for a body over the limit of its route: uploads (POST …/files) get
    ``upload_limit``, record writes and certificates to verify ``json_limit`` (a
    workspace's certificate lists every key it destroyed), everything else SMALL_LIMIT (FastAPI
    reads a JSON body before authentication, so an anonymous client may send this much)."""

    def __init__(self, app: ASGIApp, json_limit: int, upload_limit: int) -> None:
        self.app = app
        self.json_limit = json_limit
        self.upload_limit = upload_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if scope["method"] == "POST" and path.endswith("/files"):
            limit = self.upload_limit
        elif "/records" in path or path == "/v1/certificates/verify":
            limit = self.json_limit
        else:
            limit = SMALL_LIMIT
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await _reject(send, 400, "invalid-input", "Content-Length is not a number")
                    return
                if declared > limit:
                    await _reject(
                        send, 413, "too-large", f"the body is over the limit of {limit} bytes"
                    )
                    return
        received = 0
        rejected = False
        started = False

        async def counted() -> Message:
            # A chunked body is counted as it arrives. Over the limit, the app's read fails;
            # whatever it answers is dropped, and the 413 goes out once it has finished (so
            # an upload's partial blob is gone before the client hears of it).
            nonlocal received, rejected
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    rejected = True
                    raise BodyTooLarge(limit)
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if not rejected:
                started = started or message["type"] == "http.response.start"
                await send(message)

        with contextlib.suppress(BodyTooLarge):
            await self.app(scope, counted, guarded_send)
        if rejected and not started:
            await _reject(send, 413, "too-large", f"the body is over the limit of {limit} bytes")


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"the body is over the limit of {limit} bytes")


async def _reject(send: Send, status: int, kind: str, detail: str) -> None:
    body = json.dumps(problem_body(status, kind, detail)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", PROBLEM.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
