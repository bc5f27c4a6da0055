"""The body deadline of api/limits.py on its own: it bounds the body, and nothing after."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from strongroom.api.limits import BodyLimit

SCOPE = {
    "type": "http",
    "method": "POST",
    "path": "/v1/sessions",
    "headers": [(b"content-length", b"2")],
}


#: A bound on each whole exchange, far above its deadlines: without a deadline the test
#: fails here instead of hanging.
EXCHANGE_BOUND = 5.0


def _run(
    app: Any, messages: list[dict[str, Any] | float | None], body_timeout: float = 0.2
) -> list[dict[str, Any]]:
    """``messages``: what receive() gives in turn; a number is a pause of that many seconds
    before the next one (a client trickling its body), None waits for ever (a stalled
    client)."""
    sent: list[dict[str, Any]] = []
    pending = list(messages)

    async def receive() -> dict[str, Any]:
        while pending and isinstance(pending[0], float):
            await asyncio.sleep(pending.pop(0))  # type: ignore[arg-type]
        message = pending.pop(0) if pending else None
        if message is None:
            await asyncio.Event().wait()
        assert isinstance(message, dict)
        return message

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    limited = BodyLimit(app, json_limit=1000, upload_limit=5000, body_timeout=body_timeout)
    asyncio.run(asyncio.wait_for(limited(SCOPE, receive, send), EXCHANGE_BOUND))
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


def _chunk(body: bytes, more: bool = True) -> dict[str, Any]:
    return {"type": "http.request", "body": body, "more_body": more}


async def _read_all_then_answer(_scope: Any, receive: Any, send: Any) -> None:
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"read"})


def test_a_body_trickled_in_small_pieces_meets_one_deadline_for_the_whole() -> None:
    """A client that sends a byte now and then, each piece well within the deadline, is
    still cut off when the whole body has taken longer than the deadline (a deadline per
    read would let it hold the connection for ever)."""
    pieces: list[dict[str, Any] | float | None] = []
    for _ in range(12):  # 12 x 0.1 s: four times the deadline
        pieces += [0.1, _chunk(b"{")]
    pieces += [0.1, _chunk(b"}", more=False)]
    started = time.monotonic()
    sent = _run(_read_all_then_answer, pieces, body_timeout=0.3)
    assert sent[0]["status"] == 408
    assert json.loads(sent[1]["body"])["detail"] == (
        "the request body did not arrive within 0.3 seconds"
    )
    assert time.monotonic() - started < 1.2  # cut off before the last piece came


@pytest.mark.parametrize(("pause", "body_timeout"), [(0.05, 0.2), (1.2, 2.5)])
def test_a_slow_body_within_the_deadline_is_read_whole(pause: float, body_timeout: float) -> None:
    """The deadline is the configured one, counted from the headers, for the whole body: a
    piece that comes well within it is waited for (with a short deadline, and with one that
    leaves a piece over a second)."""
    pieces: list[dict[str, Any] | float | None] = [_chunk(b"{"), pause, _chunk(b"}", False)]
    sent = _run(_read_all_then_answer, pieces, body_timeout=body_timeout)
    assert [m.get("status") for m in sent] == [200, None]
    assert sent[1]["body"] == b"read"


def test_a_read_begun_after_the_deadline_fails_at_once() -> None:
    """The route comes back for more only after the deadline has passed (a busy event
    loop), and the client has stalled: 408 at once, not a fresh wait."""

    async def app(_scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await asyncio.sleep(0.5)  # past the 0.2 s deadline
        await receive()
        raise AssertionError("the rest of the body never came")  # pragma: no cover

    started = time.monotonic()
    sent = _run(app, [_chunk(b"{"), None])
    assert sent[0]["status"] == 408
    assert time.monotonic() - started < EXCHANGE_BOUND / 2


def test_a_body_that_stalls_after_the_answer_began_adds_no_second_answer() -> None:
    """A route that starts answering before it has read everything: past the deadline its
    read fails, the rest of its answer is dropped, and no 408 is sent on top of it."""

    async def app(_scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await receive()  # the client stalls
        await send({"type": "http.response.body", "body": b"never"})  # pragma: no cover

    sent = _run(app, [None])
    assert [(m["type"], m.get("status")) for m in sent] == [("http.response.start", 200)]
