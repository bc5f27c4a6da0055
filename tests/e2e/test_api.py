"""The API over real HTTPS: round trips, streaming files, tokens, limits, sign-in."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, update

from strongroom.crypto.policy import FILE_SEGMENT_BYTES, TAG_BYTES
from strongroom.storage import tables as t
from tests.e2e.api_support import LiveServer, backend_settings, live_server


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """One server per database: sign-in and its lock, tokens, records and files behave the
    same over HTTPS on SQLite and on PostgreSQL."""
    home = tmp_path_factory.mktemp("api") / "home"
    with live_server(home, file_max_bytes="4000000", **backend_settings(request)) as server:
        yield server


@pytest.fixture
def owner(live: LiveServer) -> Iterator[tuple[httpx.Client, str, str]]:
    ws = live.sr.workspaces.create("Acme", f"owner{os.urandom(4).hex()}@acme.example")
    project = live.sr.projects.create(ws.id, "Hiring")
    with live.client(live.sr.access.create_token(ws.id, "owner").token) as client:
        yield client, ws.id, project.id


def _count(live: LiveServer, table: object) -> int:
    with live.sr.ctx.store.read() as uow:
        return int(uow.conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_records_round_trip_and_paginate(owner: tuple[httpx.Client, str, str]) -> None:
    client, ws, prj = owner
    base = f"/v1/workspaces/{ws}/projects/{prj}/records"
    made = [
        client.post(base, json={"collection": "notes", "document": {"i": i}}).json()["id"]
        for i in range(7)
    ]
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"collection": "notes", "limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = client.get(base, params=params).json()
        seen += [r["id"] for r in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(made)
    updated = client.put(f"{base}/{made[0]}", json={"document": {"i": 100}})
    assert updated.json()["document"] == {"i": 100}
    deleted = client.delete(f"{base}/{made[1]}")
    assert deleted.status_code == 200
    assert deleted.json()["subject_id"] == made[1] and deleted.json()["kind"] == "record"
    assert client.get(f"{base}/{made[1]}").status_code == 404


def test_files_stream_in_and_out(owner: tuple[httpx.Client, str, str]) -> None:
    client, ws, prj = owner
    data = os.urandom(3 * 1024 * 1024 + 5)

    def chunks() -> Iterator[bytes]:  # a chunked upload: no Content-Length
        view = memoryview(data)
        for start in range(0, len(data), 256 * 1024):
            yield bytes(view[start : start + 256 * 1024])

    created = client.post(
        f"/v1/workspaces/{ws}/projects/{prj}/files",
        params={"name": "résumé.pdf"},
        content=chunks(),
        headers={"content-type": "application/octet-stream"},
    )
    assert created.status_code == 201, created.text
    file_id = created.json()["id"]
    with client.stream("GET", f"/v1/workspaces/{ws}/projects/{prj}/files/{file_id}/content") as r:
        assert r.status_code == 200
        assert "r%C3%A9sum%C3%A9.pdf" in r.headers["content-disposition"]
        body = b"".join(r.iter_bytes())
    assert body == data


SEGMENT = FILE_SEGMENT_BYTES + TAG_BYTES  # one stored segment: its ciphertext and tag
TAMPERED_SIZE = 4 * FILE_SEGMENT_BYTES + 37_856  # five segments, the last one short


def _tamper(raw: bytes, damage: str) -> tuple[bytes, int]:
    """The stored file damaged one way; and how many plaintext bytes may still come out
    (the segments before the first bad one)."""
    header = len(raw) - TAMPERED_SIZE - 5 * TAG_BYTES
    start = [header + i * SEGMENT for i in range(6)]  # start[5]: the end of the stream
    seg = [raw[start[i] : start[i + 1]] for i in range(5)]
    data = bytearray(raw)
    if damage == "flip in the fourth segment":
        data[start[3] + 1000] ^= 1
        return bytes(data), 3 * FILE_SEGMENT_BYTES
    if damage == "flip in the last segment":
        data[start[4] + 1000] ^= 1
        return bytes(data), 4 * FILE_SEGMENT_BYTES
    if damage == "flip in the last tag":
        data[-1] ^= 1
        return bytes(data), 4 * FILE_SEGMENT_BYTES
    if damage == "second segment dropped":
        return raw[: start[1]] + b"".join(seg[2:]), FILE_SEGMENT_BYTES
    if damage == "last segment dropped":  # a whole number of segments, cleanly cut
        return raw[: start[4]], 4 * FILE_SEGMENT_BYTES
    assert damage == "second and third swapped"
    return raw[: start[1]] + seg[2] + seg[1] + raw[start[3] :], FILE_SEGMENT_BYTES


@pytest.mark.parametrize(
    "damage",
    [
        "flip in the fourth segment",
        "flip in the last segment",
        "flip in the last tag",
        "second segment dropped",
        "last segment dropped",
        "second and third swapped",
    ],
)
def test_a_tampered_file_is_never_delivered_whole(
    live: LiveServer, owner: tuple[httpx.Client, str, str], damage: str
) -> None:
    client, ws, prj = owner
    plain = os.urandom(TAMPERED_SIZE)
    stored = live.sr.files.put(ws, prj, "big.bin", io.BytesIO(plain))
    blob = next(Path(live.sr.settings.blob_dir).rglob(stored.id))
    raw = blob.read_bytes()
    assert 0 < len(raw) - TAMPERED_SIZE - 5 * TAG_BYTES < 200  # a header, five tags
    damaged, at_most = _tamper(raw, damage)
    blob.write_bytes(damaged)
    received = b""
    url = f"/v1/workspaces/{ws}/projects/{prj}/files/{stored.id}/content"
    status = None
    try:  # either an error status before any byte, or a 200 response cut off mid-way
        with client.stream("GET", url) as r:
            status = r.status_code
            for chunk in r.iter_bytes():
                received += chunk
    except httpx.HTTPError:
        assert status == 200
        assert len(received) <= at_most < TAMPERED_SIZE
        assert plain.startswith(received)  # only what was authenticated, never a forged byte
    else:
        assert status == 500, f"status {status}, {len(received)} bytes"
        assert r.headers["content-type"] == "application/problem+json"
        assert "failed authentication" in json.loads(received)["detail"]
    actions = [e.action for e in live.sr.audit.events(ws, limit=1000)]
    assert actions[-1] == "decrypt.failed"


def test_bad_tokens_are_401_and_change_nothing(
    live: LiveServer, owner: tuple[httpx.Client, str, str]
) -> None:
    _client, ws, prj = owner
    path = f"/v1/workspaces/{ws}/projects/{prj}/records"
    body = {"collection": "notes", "document": {"x": 1}}
    before = _count(live, t.records)
    expired = live.sr.access.create_token(ws, "owner")
    with live.sr.ctx.store.write() as uow:
        uow.conn.execute(
            update(t.api_tokens)
            .where(t.api_tokens.c.id == expired.id)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        uow.commit()
    revoked = live.sr.access.create_token(ws, "owner")
    with live.client(revoked.token) as client:  # one keep-alive connection throughout
        created = client.post(path, json=body)
        assert created.status_code == 201
        assert client.get(f"{path}/{created.json()['id']}").status_code == 200
        with live.client(_client.headers["Authorization"].split()[1]) as admin:
            assert admin.delete(f"/v1/workspaces/{ws}/tokens/{revoked.id}").status_code == 204
        assert client.get(f"{path}/{created.json()['id']}").status_code == 401  # at once
        assert client.post(path, json=body).status_code == 401
    before += 1
    for token, reason in (
        (None, "required"),
        ("not-a-token", "not a Strongroom token"),
        ("srt_" + "A" * 43, "unknown"),
        (expired.token, "expired"),
        (revoked.token, "revoked"),
    ):
        with live.client(token) as client:
            response = client.post(path, json=body)
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert reason in response.json()["detail"]
    assert _count(live, t.records) == before


def test_bad_bodies_get_4xx_and_change_nothing(
    live: LiveServer, owner: tuple[httpx.Client, str, str]
) -> None:
    client, ws, prj = owner
    path = f"/v1/workspaces/{ws}/projects/{prj}/records"
    before = (_count(live, t.records), _count(live, t.audit_events))
    json_headers = {"content-type": "application/json"}
    assert (
        client.post(
            path, content=b'{"collection": "notes", "document": ', headers=json_headers
        ).status_code
        == 422
    )
    assert client.post(path, json={"collection": "notes", "document": [1]}).status_code == 422
    assert client.post(path, json={"collection": "Bad Name!", "document": {}}).status_code == 422
    assert (
        client.post(path, json={"collection": "notes", "document": {}, "x": 1}).status_code == 422
    )
    big = {"collection": "notes", "document": {"blob": "x" * (1024 * 1024 + 10)}}
    assert client.post(path, json=big).status_code == 413  # over the record limit
    huge = b'{"collection": "notes", "document": {"b": "' + b"x" * (3 * 1024 * 1024) + b'"}}'
    assert client.post(path, content=huge, headers=json_headers).status_code == 413
    chunked = client.post(path, content=iter([huge[: 1024 * 1024]] * 3), headers=json_headers)
    assert chunked.status_code == 413
    assert (_count(live, t.records), _count(live, t.audit_events)) == before
    for response in (client.post(path, json=big),):
        assert response.headers["content-type"] == "application/problem+json"


def test_an_upload_over_the_limit_leaves_nothing(
    live: LiveServer, owner: tuple[httpx.Client, str, str]
) -> None:
    client, ws, prj = owner
    blobs = Path(live.sr.settings.blob_dir)
    before = (_count(live, t.files), sorted(p.name for p in blobs.rglob("*") if p.is_file()))
    too_big = iter([b"x" * 1_000_000] * 5)  # chunked, 5 MB > 4 MB
    response = client.post(
        f"/v1/workspaces/{ws}/projects/{prj}/files",
        params={"name": "x"},
        content=too_big,
        headers={"content-type": "application/octet-stream"},
    )
    assert response.status_code == 413
    after = (_count(live, t.files), sorted(p.name for p in blobs.rglob("*") if p.is_file()))
    assert after == before


def test_meta_endpoints(live: LiveServer) -> None:
    with live.client() as client:
        text = client.get("/.well-known/security.txt").text
        assert text.startswith("Contact: mailto:") and "\nExpires: " in text
        spec = client.get("/openapi.json").json()
        assert spec["openapi"].startswith("3.") and "/v1/workspaces" in spec["paths"]
        health = client.get("/health")
        assert health.json()["status"] == "ok" and "certificate_expires_at" in health.json()
        for name in (
            "strict-transport-security",
            "content-security-policy",
            "x-content-type-options",
            "referrer-policy",
        ):
            assert name in health.headers
        assert health.headers["strict-transport-security"] == (
            "max-age=63072000; includeSubDomains"
        )
        assert "frame-ancestors 'none'" in health.headers["content-security-policy"]
        assert client.get("/nowhere").headers["content-type"] == "application/problem+json"


def test_a_download_shorter_than_recorded_is_never_complete(
    live: LiveServer, owner: tuple[httpx.Client, str, str]
) -> None:
    """A database edit of the plain size column must not make a cut file look whole."""
    client, ws, prj = owner
    stored = live.sr.files.put(ws, prj, "f.bin", io.BytesIO(os.urandom(196_708)))
    with live.sr.ctx.store.write() as uow:
        uow.conn.execute(update(t.files).where(t.files.c.id == stored.id).values(size=65536))
        uow.commit()
    url = f"/v1/workspaces/{ws}/projects/{prj}/files/{stored.id}/content"
    try:  # either an error status before any byte, or a response cut off mid-way
        with client.stream("GET", url) as r:
            status = r.status_code
            b"".join(r.iter_bytes())
    except httpx.HTTPError:
        status = None
    assert status != 200
    actions = [e.action for e in live.sr.audit.events(ws, limit=1000)]
    assert actions[-1] == "decrypt.failed"


def test_parallel_wrong_passwords_cannot_outrun_the_limit(live: LiveServer) -> None:
    from concurrent.futures import ThreadPoolExecutor

    email = f"target{os.urandom(4).hex()}@acme.example"
    live.sr.workspaces.create("Target", email)
    live.sr.access.set_password(email, "the real password")

    def attempt(_i: int) -> int:
        with live.client() as anonymous:
            return anonymous.post(
                "/v1/sessions", json={"email": email, "password": "guess"}
            ).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(attempt, range(16)))
    assert statuses.count(401) == 5 and statuses.count(429) == 11


def test_a_new_password_ends_sessions_and_users_own_what_they_create(live: LiveServer) -> None:
    email = f"eve{os.urandom(4).hex()}@acme.example"
    live.sr.workspaces.create("Eve's", email)
    live.sr.access.set_password(email, "first password!")
    with live.client() as anonymous:
        token = anonymous.post(
            "/v1/sessions", json={"email": email, "password": "first password!"}
        ).json()["token"]
    with live.client(token) as session:
        mine = session.post("/v1/workspaces", json={"name": "Mine", "owner_email": email})
        assert mine.status_code == 201
        theirs = session.post(
            "/v1/workspaces", json={"name": "Theirs", "owner_email": "victim@acme.example"}
        )
        assert theirs.status_code == 403
        live.sr.access.set_password(email, "second password!")
        assert session.get("/v1/workspaces").status_code == 401


def test_the_last_owner_stays_an_owner(live: LiveServer) -> None:
    email = f"solo{os.urandom(4).hex()}@acme.example"
    ws = live.sr.workspaces.create("Solo", email)
    owner_id = live.sr.workspaces.members(ws.id)[0].user_id
    with live.client(live.sr.access.create_token(ws.id, "owner").token) as client:
        response = client.put(f"/v1/workspaces/{ws.id}/members/{owner_id}", json={"role": "admin"})
    assert response.status_code == 409
