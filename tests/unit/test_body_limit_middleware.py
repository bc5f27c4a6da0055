"""The body-limit middleware on its own, for what the real server never lets through to it
(h11 refuses a malformed Content-Length first) and for scopes that are not requests."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from strongroom.api.limits import SMALL_LIMIT, BodyLimit


def _call(
    scope: dict[str, Any], body: bytes = b"", json_limit: int = 1000, upload_limit: int = 5000
) -> tuple[list[dict[str, Any]], bool]:
    sent: list[dict[str, Any]] = []
    reached = False

    async def app(_scope: Any, receive: Any, send: Any) -> None:
        nonlocal reached
        reached = True
        await receive()
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    limited = BodyLimit(app, json_limit=json_limit, upload_limit=upload_limit)
    asyncio.run(limited(scope, receive, send))
    return sent, reached


def _request(headers: list[tuple[bytes, bytes]], path: str = "/v1/sessions") -> dict[str, Any]:
    return {"type": "http", "method": "POST", "path": path, "headers": headers}


def test_a_content_length_that_is_not_a_number_is_a_clear_400() -> None:
    sent, reached = _call(_request([(b"content-length", b"12abc")]))
    assert not reached
    start, body = sent
    assert start["status"] == 400
    assert (b"content-type", b"application/problem+json") in start["headers"]
    problem = json.loads(body["body"])
    assert problem["status"] == 400 and "Content-Length is not a number" in problem["detail"]
    assert (b"content-length", str(len(body["body"])).encode()) in start["headers"]


def test_a_declared_length_over_the_limit_never_reaches_the_route() -> None:
    sent, reached = _call(_request([(b"content-length", str(SMALL_LIMIT + 1).encode())]))
    assert not reached and sent[0]["status"] == 413
    problem = json.loads(sent[1]["body"])
    assert problem["detail"] == f"the body is over the limit of {SMALL_LIMIT} bytes"


def test_scopes_that_are_not_requests_pass_untouched() -> None:
    sent, reached = _call({"type": "lifespan"})
    assert reached and sent[0]["status"] == 204


def test_a_body_within_the_limit_reaches_the_route_and_its_answer_goes_out() -> None:
    sent, reached = _call(_request([(b"content-length", b"3")]), body=b"abc")
    assert reached and [m["type"] for m in sent] == ["http.response.start", "http.response.body"]


def test_only_the_certificate_check_shares_the_record_limit() -> None:
    """Paths that sort near /v1/certificates/verify keep the small limit."""
    over_small = [(b"content-length", str(SMALL_LIMIT + 1).encode())]
    for path in ("/health", "/v1/certificates", "/v1/certificates/crt_x", "/.well-known/x"):
        sent, reached = _call(_request(over_small, path), json_limit=2 * SMALL_LIMIT)
        assert not reached and sent[0]["status"] == 413, path
    sent, reached = _call(
        _request(over_small, "/v1/certificates/verify"), json_limit=2 * SMALL_LIMIT
    )
    assert reached


def test_a_body_over_the_limit_after_the_answer_began_adds_no_second_answer() -> None:
    """A route that starts answering before it has read everything: once the count passes
    the limit, the rest of its answer is dropped and no 413 is sent on top of it."""
    sent: list[dict[str, Any]] = []

    async def app(_scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await receive()  # more than the limit, chunked: the read fails
        await send({"type": "http.response.body", "body": b"never"})

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"x" * (SMALL_LIMIT + 1), "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(BodyLimit(app, json_limit=1000, upload_limit=5000)(_request([]), receive, send))
    assert [m["type"] for m in sent] == ["http.response.start"]
    assert sent[0]["status"] == 200


def test_only_a_post_to_files_gets_the_upload_limit() -> None:
    over_small = [(b"content-length", str(SMALL_LIMIT + 1).encode())]
    path = "/v1/workspaces/ws_a/projects/prj_b/files"
    for method in ("DELETE", "GET", "PATCH", "PUT"):
        scope = {"type": "http", "method": method, "path": path, "headers": over_small}
        sent, reached = _call(scope, upload_limit=2 * SMALL_LIMIT)
        assert not reached and sent[0]["status"] == 413, method
    post = {"type": "http", "method": "POST", "path": path, "headers": over_small}
    assert _call(post, upload_limit=2 * SMALL_LIMIT)[1]
