"""The console's CSRF check (asgi-csrf, and the bound on what it reads before the token)."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from strongroom.console import csrf

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

SECRET = b"k" * 32


def _client() -> tuple[TestClient, list[bytes]]:
    seen: list[bytes] = []

    async def form_page(request: Request) -> Response:
        return PlainTextResponse(f"token={csrf.token(request.scope)}")

    async def change(request: Request) -> Response:
        seen.append(await request.body())
        return PlainTextResponse("changed")

    app = Starlette(routes=[Route("/form", form_page), Route("/change", change, methods=["POST"])])
    client = TestClient(csrf.with_csrf(app, SECRET), base_url="https://testserver")
    return client, seen


def _token(client: TestClient) -> str:
    found = re.search(r"token=(\S+)", client.get("/form").text)
    assert found
    return found.group(1)


def test_a_post_without_a_token_is_refused_before_the_route_runs() -> None:
    client, seen = _client()
    _token(client)  # the cookie is set: only the form field is missing
    answer = client.post("/change", data={"name": "x"})
    assert answer.status_code == 403 and seen == []


def test_a_post_without_any_cookie_is_refused_too() -> None:
    client, seen = _client()
    answer = client.post("/change", data={"csrftoken": "forged", "name": "x"})
    assert answer.status_code == 403 and seen == []


def test_a_form_with_the_token_reaches_the_route_whole() -> None:
    client, seen = _client()
    token = _token(client)
    answer = client.post("/change", data={"csrftoken": token, "name": "x"})
    assert answer.status_code == 200 and seen == [f"csrftoken={token}&name=x".encode()]


def test_an_upload_carries_its_token_in_the_url_and_its_body_reaches_the_route_whole() -> None:
    client, seen = _client()
    token = _token(client)
    payload = bytes(range(256)) * 4096  # 1 MiB
    answer = client.post(f"/change?csrftoken={token}", files={"file": ("a.bin", payload)})
    assert answer.status_code == 200
    assert payload in seen[0]


@pytest.mark.parametrize("query", ["", "?csrftoken=forged", "?csrftoken=a&csrftoken=b"])
def test_an_upload_without_its_token_in_the_url_is_refused_unread(query: str) -> None:
    client, seen = _client()
    token = _token(client)
    body_read = False

    def body() -> Iterator[bytes]:
        nonlocal body_read
        body_read = True
        yield b'--b\r\nContent-Disposition: form-data; name="csrftoken"\r\n\r\n'
        yield token.encode() + b"\r\n--b--\r\n"

    answer = client.post(
        "/change" + query,
        content=body(),
        headers={"content-type": "multipart/form-data; boundary=b"},
    )
    assert answer.status_code == 403 and seen == []


def test_a_multipart_body_without_a_boundary_is_refused_not_a_server_error() -> None:
    client, seen = _client()
    _token(client)
    answer = client.post(
        "/change", content=b"--x--", headers={"content-type": "multipart/form-data"}
    )
    assert answer.status_code == 403 and seen == []


def test_a_bearer_header_does_not_skip_the_check() -> None:
    client, seen = _client()
    _token(client)
    answer = client.post("/change", data={"name": "x"}, headers={"authorization": "Bearer x"})
    assert answer.status_code == 403 and seen == []


def test_a_form_body_to_an_upload_path_is_refused_unread() -> None:
    client, seen = _client()
    token = _token(client)
    answer = client.post("/some/files", data={"csrftoken": token, "a": "x" * 100_000})
    assert answer.status_code == 415 and seen == []


def test_two_content_types_are_refused() -> None:
    client, seen = _client()
    token = _token(client)
    answer = client.post(
        "/change",
        content=f"csrftoken={token}".encode(),
        headers=[
            ("content-type", "text/plain"),
            ("content-type", "multipart/form-data"),
        ],
    )
    assert answer.status_code == 400 and seen == []


def test_a_body_that_is_not_utf8_is_refused_not_a_server_error() -> None:
    client, seen = _client()
    _token(client)
    answer = client.post(
        "/change",
        content=b"csrftoken=\xff\xfe",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 403 and seen == []
