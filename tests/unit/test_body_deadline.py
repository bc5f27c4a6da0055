"""The body deadline of api/limits.py on its own: it bounds the body, and nothing after."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from strongroom.api.limits import BodyLimit

SCOPE = {
    "type": "http",
    "method": "POST",
    "path": "/v1/sessions",
    "headers": [(b"content-length", b"2")],
}


def _run(app: Any, messages: list[dict[str, Any] | None]) -> list[dict[str, Any]]:
    """``messages``: what receive() gives in turn; None waits for ever (a stalled client)."""
    sent: list[dict[str, Any]] = []
    pending = list(messages)

    async def receive() -> dict[str, Any]:
        message = pending.pop(0) if pending else None
        if message is None:
            await asyncio.Event().wait()
        assert message is not None
        return message

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(
        BodyLimit(app, json_limit=1000, upload_limit=5000, body_timeout=0.2)(SCOPE, receive, send)
    )
    return sent


def test_a_body_that_stalls_is_answered_408_with_connection_close() -> None:
    async def app(_scope: Any, receive: Any, send: Any) -> None:
        await receive()
        raise AssertionError("the body never came")  # pragma: no cover

    sent = _run(app, [None])
    assert sent[0]["status"] == 408
    assert (b"connection", b"close") in sent[0]["headers"]
    assert json.loads(sent[1]["body"])["type"].endswith("request-timeout")


def test_after_the_body_a_wait_for_the_client_to_leave_has_no_deadline() -> None:
    """A streamed answer listens for the client leaving, for as long as it streams."""

    async def app(_scope: Any, receive: Any, send: Any) -> None:
        await receive()  # the whole body
        await send({"type": "http.response.start", "status": 200, "headers": []})
        try:
            async with asyncio.timeout(1.0):  # five body deadlines
                await receive()
        except TimeoutError:
            pass
        await send({"type": "http.response.body", "body": b"streamed"})

    sent = _run(app, [{"type": "http.request", "body": b"{}", "more_body": False}, None])
    assert [m.get("status") for m in sent] == [200, None]
    assert sent[1]["body"] == b"streamed"
    assert (b"connection", b"close") not in sent[0]["headers"]
