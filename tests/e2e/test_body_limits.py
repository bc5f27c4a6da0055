"""Request body limits at their edges, over the real HTTPS server: each kind of route gets
its own limit, a body one byte over is refused before anything is read (by Content-Length
or, chunked, by counting), a body exactly at the limit gets through to the route.

Limits here: records and certificates ``2 * record_max_bytes + 64 KiB``, uploads
``file_max_bytes``, every other body 64 KiB. The middleware's refusal names its limit, so
it is told apart from a route's own "too large" answer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.api_support import LiveServer, live_server

RECORD_MAX = 1024
JSON_LIMIT = 2 * RECORD_MAX + 64 * 1024
UPLOAD_LIMIT = 100_000
SMALL_LIMIT = 64 * 1024
JSON = {"content-type": "application/json"}
OCTETS = {"content-type": "application/octet-stream"}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(
        tmp_path_factory.mktemp("limits") / "home",
        record_max_bytes=str(RECORD_MAX),
        file_max_bytes=str(UPLOAD_LIMIT),
    ) as server:
        yield server


@pytest.fixture(scope="module")
def place(live: LiveServer) -> tuple[str, str, str]:
    ws = live.sr.workspaces.create("Limits", "owner@limits.example").id
    project = live.sr.projects.create(ws, "P").id
    return ws, project, live.sr.access.create_token(ws, "owner").token


def _json_of_size(size: int) -> bytes:
    """A JSON sign-in body of exactly ``size`` bytes."""
    head, tail = b'{"email": "a@limits.example", "password": "', b'"}'
    return head + b"p" * (size - len(head) - len(tail)) + tail


def _refused_by_the_limit(response: httpx.Response, limit: int) -> bool:
    return (
        response.status_code == 413
        and response.headers["content-type"] == "application/problem+json"
        and f"over the limit of {limit} bytes" in response.json()["detail"]
    )


def _chunks(body: bytes, size: int = 16 * 1024) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


@pytest.mark.parametrize("chunked", [False, True])
def test_a_sign_in_body_over_64_kib_is_refused(live: LiveServer, chunked: bool) -> None:
    with live.client() as anonymous:
        for size, refused in ((SMALL_LIMIT + 1, True), (SMALL_LIMIT, False)):
            body = _json_of_size(size)
            content = _chunks(body) if chunked else body
            response = anonymous.post("/v1/sessions", content=content, headers=JSON)
            assert _refused_by_the_limit(response, SMALL_LIMIT) is refused, (size, response.text)
            if not refused:
                assert response.status_code in (401, 422)  # the route judged it


@pytest.mark.parametrize("chunked", [False, True])
def test_a_record_body_gets_the_record_limit(
    live: LiveServer, place: tuple[str, str, str], chunked: bool
) -> None:
    ws, project, token = place
    path = f"/v1/workspaces/{ws}/projects/{project}/records"
    with live.client(token) as client:
        for size, refused in (
            (JSON_LIMIT + 1, True),
            (JSON_LIMIT, False),
            (SMALL_LIMIT + 1, False),
        ):
            body = b'{"collection": "notes", "document": {"t": "' + b"x" * size + b'"}}'
            body = body[: size - 3] + b'"}}'
            assert len(body) == size
            content = _chunks(body) if chunked else body
            response = client.post(path, content=content, headers=JSON)
            assert _refused_by_the_limit(response, JSON_LIMIT) is refused, size
            if not refused:  # the route's own rule: the document is over record_max_bytes
                assert response.status_code == 413 and "bytes" in response.json()["detail"]
                assert f"limit of {JSON_LIMIT}" not in response.json()["detail"]


def test_a_certificate_to_verify_gets_the_record_limit(live: LiveServer) -> None:
    """A workspace's certificate lists every key it destroyed: it may exceed 64 KiB."""
    body = b'{"certificate": "' + b"c" * (SMALL_LIMIT + 100) + b'"}'
    with live.client() as anonymous:
        response = anonymous.post("/v1/certificates/verify", content=body, headers=JSON)
        assert not _refused_by_the_limit(response, SMALL_LIMIT)
        assert response.status_code in (401, 403, 422)
        too_big = b'{"certificate": "' + b"c" * JSON_LIMIT + b'"}'
        response = anonymous.post("/v1/certificates/verify", content=too_big, headers=JSON)
        assert _refused_by_the_limit(response, JSON_LIMIT)


@pytest.mark.parametrize("chunked", [False, True])
def test_an_upload_gets_the_file_limit_and_leaves_nothing_when_over(
    live: LiveServer, place: tuple[str, str, str], chunked: bool
) -> None:
    ws, project, token = place
    path = f"/v1/workspaces/{ws}/projects/{project}/files"
    blobs = Path(live.sr.settings.blob_dir)

    def stored() -> tuple[int, list[str]]:
        files = len(live.sr.files.list(ws, project))
        return files, sorted(p.name for p in blobs.rglob("*") if p.is_file())

    with live.client(token) as client:
        before = stored()
        body = b"u" * (UPLOAD_LIMIT + 1)
        content = _chunks(body) if chunked else body
        response = client.post(path, params={"name": "big.bin"}, content=content, headers=OCTETS)
        assert _refused_by_the_limit(response, UPLOAD_LIMIT)
        assert stored() == before
        body = b"u" * UPLOAD_LIMIT
        content = _chunks(body) if chunked else body
        response = client.post(path, params={"name": "edge.bin"}, content=content, headers=OCTETS)
        assert response.status_code == 201, response.text
        assert response.json()["size"] == UPLOAD_LIMIT


def test_only_uploads_get_the_file_limit(live: LiveServer, place: tuple[str, str, str]) -> None:
    """A body of upload size sent anywhere else meets the small limit."""
    ws, project, token = place
    body = b'{"name": "' + b"n" * (SMALL_LIMIT + 10) + b'"}'
    with live.client(token) as client:
        for method, path in (
            ("POST", f"/v1/workspaces/{ws}/projects"),
            ("PUT", f"/v1/workspaces/{ws}/projects/{project}/files"),
            ("POST", f"/v1/workspaces/{ws}/members"),
        ):
            response = client.request(method, path, content=body, headers=JSON)
            assert _refused_by_the_limit(response, SMALL_LIMIT), (method, path)
