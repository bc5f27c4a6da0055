"""Request body limits, enforced before a route reads anything: by Content-Length when it
is given, and by counting when the body is chunked; and a deadline for the whole body of
every request but an upload (whose body has an idle deadline of its own: api/body.py)."""

from __future__ import annotations

import contextlib
import json

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from strongroom.api.problems import PROBLEM, problem_body
from strongroom.domain.agreements import MAX_BODY_BYTES

#: Every body but a record's, a certificate's or an upload: sign-in, names, roles, tokens.
SMALL_LIMIT = 64 * 1024
#: The request inbox's texts (a request from the public, an operator's reply or note):
#: 20,000 characters, which a form sends percent-encoded at up to 9 bytes each.
INBOX_LIMIT = 256 * 1024
INBOX_PATHS = ("/v1/inbox", "/contact", "/console/operator/inbox/")
#: An agreement version to publish (issue 14): its text may hold MAX_BODY_BYTES of UTF-8,
#: which JSON may escape to 12 bytes per character (a surrogate pair); a body the schema
#: lets through is never cut off, and a longer one is refused by the schema (422).
AGREEMENT_LIMIT = 12 * MAX_BODY_BYTES + SMALL_LIMIT


class BodyLimit:
    """413 for a body over the limit of its route: uploads (POST …/files) get
    ``upload_limit``, record writes and certificates to verify ``json_limit`` (a
    workspace's certificate lists every key it destroyed), everything else SMALL_LIMIT (FastAPI
    reads a JSON body before authentication, so an anonymous client may send this much)."""

    def __init__(
        self, app: ASGIApp, json_limit: int, upload_limit: int, body_timeout: float = 30.0
    ) -> None:
        self.app = app
        self.json_limit = json_limit
        self.upload_limit = upload_limit
        self.body_timeout = body_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        upload = scope["method"] == "POST" and path.endswith("/files")
        # The headers are in: the whole body must follow within body_timeout (read in the
        # event loop, a stalled one would otherwise hold a connection for ever).
        deadline = None if upload else anyio.current_time() + self.body_timeout
        if upload:
            limit = self.upload_limit
        elif "/records" in path or path == "/v1/certificates/verify":
            limit = self.json_limit
        elif path.startswith(INBOX_PATHS):
            limit = INBOX_LIMIT
        elif path == "/v1/agreements" and scope["method"] == "POST":
            limit = AGREEMENT_LIMIT
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
        rejected: int | None = None  # the status that replaces the app's answer
        started = False
        body_pending = _has_body(scope)

        async def counted() -> Message:
            # A chunked body is counted as it arrives. Over the limit (or past the
            # deadline), the app's read fails; whatever it answers is dropped, and the 413
            # (408) goes out once it has finished (so an upload's partial blob is gone
            # before the client hears of it).
            nonlocal received, rejected, body_pending
            # Only the body has a deadline: once it is in, a receive() waits for the
            # client to leave (a streamed download listens so), for as long as it takes.
            left = None if deadline is None or not body_pending else deadline - anyio.current_time()
            try:
                with anyio.fail_after(left):
                    message = await receive()
            except TimeoutError:
                rejected = 408
                raise BodyTimedOut from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                body_pending = body_pending and bool(message.get("more_body", False))
                if received > limit:
                    rejected = 413
                    raise BodyTooLarge(limit)
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if rejected is None:
                if message["type"] == "http.response.start":
                    started = True
                    if body_pending:  # answered early: the rest of the body is never read
                        message = {**message, "headers": _closing(message.get("headers", []))}
                await send(message)

        with contextlib.suppress(BodyTooLarge, BodyTimedOut):
            await self.app(scope, counted, guarded_send)
        if rejected == 413 and not started:
            await _reject(send, 413, "too-large", f"the body is over the limit of {limit} bytes")
        elif rejected == 408 and not started:
            await _reject(
                send,
                408,
                "request-timeout",
                f"the request body did not arrive within {self.body_timeout:g} seconds",
            )


def _has_body(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"transfer-encoding" or (name == b"content-length" and value.strip() != b"0"):
            return True
    return False


def _closing(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """``headers`` with ``Connection: close`` (once)."""
    kept = [(name, value) for name, value in headers if name.lower() != b"connection"]
    return [*kept, (b"connection", b"close")]


class BodyTimedOut(Exception):
    pass


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
                # the body is left unread (or cut short): the connection cannot carry on
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
