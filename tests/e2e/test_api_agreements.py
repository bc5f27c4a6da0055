"""Agreements over a live HTTPS server: operators publish, anyone reads the current text,
an owner (and only an owner) accepts and gets a receipt that verifies, and every request
to change a published text is refused with 422."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.e2e.api_support import LiveServer, live_server

DPA = "SAMPLE DPA for an API test. No modifications accepted.\n"


def _tomorrow() -> str:
    """The earliest effective date a version may have: it takes effect after today."""
    return (datetime.now(UTC).date() + timedelta(days=1)).isoformat()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("agreements") / "home") as server:
        yield server


@pytest.fixture(scope="module")
def published(live: LiveServer) -> str:
    operator = live.sr.access.create_operator_token().token
    today = _tomorrow()
    with live.client(operator) as client:
        scc = {"kind": "scc", "version": "2021-06", "body": "SAMPLE SCCs.\n", "effective_on": today}
        assert client.post("/v1/agreements", json=scc).status_code == 201
        dpa = {"kind": "dpa", "version": "1", "body": DPA, "effective_on": today}
        created = client.post("/v1/agreements", json=dpa)
        assert created.status_code == 201, created.text
        assert created.json()["sha256"] == hashlib.sha256(DPA.encode()).hexdigest()
        again = client.post("/v1/agreements", json=dpa)
        assert again.status_code == 409
        assert again.headers["content-type"] == "application/problem+json"
    return operator


def test_the_current_text_is_public_with_its_hash(live: LiveServer, published: str) -> None:
    with live.client() as client:
        found = client.get("/agreements/dpa.json")
        assert found.status_code == 200
        assert found.json()["body"] == DPA
        assert found.json()["sha256"] == hashlib.sha256(DPA.encode()).hexdigest()
        assert found.json()["scc_version"] == "2021-06"
        assert client.get("/v1/agreements/scc/2021-06").json()["body"] == "SAMPLE SCCs.\n"
        assert client.get("/agreements/msa.json").status_code == 422
        assert client.get("/v1/agreements").status_code == 401  # the list: operators


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_every_change_to_a_published_text_is_422(
    live: LiveServer, published: str, method: str
) -> None:
    with live.client(published) as client:
        response = client.request(method, "/v1/agreements/dpa/1", json={"body": "softer terms"})
        assert response.status_code == 422
        assert "no modifications are accepted" in response.json()["detail"]
        assert client.get("/v1/agreements/dpa/1").json()["body"] == DPA


def test_bad_publications_are_refused(live: LiveServer, published: str) -> None:
    today = _tomorrow()
    with live.client(published) as client:
        for body in [
            {"kind": "dpa", "version": "2", "body": "\ud800", "effective_on": today},
            {"kind": "dpa", "version": "2", "body": "x", "effective_on": "2000-01-01"},
            {"kind": "dpa", "version": "a/b", "body": "x", "effective_on": today},
            {"kind": "dpa", "version": "2", "body": "x", "effective_on": today, "x": 1},
            {"kind": "dpa", "version": "2", "body": "\u0007", "effective_on": today},
        ]:
            sent = json.dumps(body)  # ASCII: a lone surrogate goes as \\ud800
            refused = client.post(
                "/v1/agreements", content=sent, headers={"content-type": "application/json"}
            )
            assert refused.status_code in (400, 422), refused.text
            assert refused.headers["content-type"] == "application/problem+json"
        same_day = {
            "kind": "dpa",
            "version": "2",
            "body": "x",
            "effective_on": datetime.now(UTC).date().isoformat(),
        }
        refused = client.post("/v1/agreements", json=same_day)  # 00:00 UTC today has passed
        assert refused.status_code == 400  # InvalidInput, as for every other bad field
        assert refused.headers["content-type"] == "application/problem+json"
        assert "is today" in refused.json()["detail"]
    owner = live.sr.workspaces.create("Nobody", "n@n.example").id
    token = live.sr.access.create_token(owner, "owner").token
    with live.client(token) as client:  # an owner is no operator
        body = {"kind": "dpa", "version": "9", "body": "x", "effective_on": today}
        assert client.post("/v1/agreements", json=body).status_code == 403
    assert [v.version for v in live.sr.agreements.list("dpa")] == ["1"]


def test_only_an_owner_accepts_and_the_receipt_verifies(
    live: LiveServer, published: str, tmp_path: Path
) -> None:
    ws = live.sr.workspaces.create("Acme", "owner@acme.example").id
    other = live.sr.workspaces.create("Other", "boss@other.example").id
    tokens = {r: live.sr.access.create_token(ws, r).token for r in ("admin", "member", "viewer")}
    outsider = live.sr.access.create_token(other, "owner").token
    path = f"/v1/workspaces/{ws}/agreements/acceptances"
    for token in tokens.values():
        with live.client(token) as client:
            assert client.post(path, json={"version": "1"}).status_code == 403
            assert client.get(f"/v1/workspaces/{ws}/agreements").json()["standing"] == (
                "not_accepted"
            )
    with live.client(outsider) as client:
        assert client.post(path, json={"version": "1"}).status_code == 404
        assert client.get(f"/v1/workspaces/{ws}/agreements").status_code == 404

    live.sr.access.set_password("owner@acme.example", "correct horse battery 9")
    with live.client() as client:
        session = client.post(
            "/v1/sessions",
            json={"email": "owner@acme.example", "password": "correct horse battery 9"},
        ).json()["token"]
    with live.client(session) as client:
        accepted = client.post(path, json={"version": "1"}, headers={"User-Agent": "test/1.0"})
        assert accepted.status_code == 201, accepted.text
        receipt = accepted.json()
        assert receipt["accepted_by"]["email"] == "owner@acme.example"
        assert receipt["client"] == {"address": "127.0.0.1", "user_agent": "test/1.0"}
        assert client.post(path, json={"version": "1"}).status_code == 409
        status = client.get(f"/v1/workspaces/{ws}/agreements").json()
        assert (status["standing"], status["accepted_version"]) == ("current", "1")
        checked = client.post("/v1/agreements/receipts/verify", json=receipt)
        assert checked.status_code == 200 and checked.json()["valid"] is True
        receipt["workspace_id"] = other
        failed = client.post("/v1/agreements/receipts/verify", json=receipt)
        assert failed.status_code == 422
        assert "signature does not match" in failed.json()["detail"]


def test_a_text_at_the_size_limit_publishes_and_one_byte_more_is_refused(
    live: LiveServer, published: str
) -> None:
    today = _tomorrow()
    limit = 256 * 1024
    with live.client(published) as client:
        at_limit = {
            "kind": "scc",
            "version": "big",
            "body": "\u00e9" * (limit // 2),
            "effective_on": today,
        }
        created = client.post("/v1/agreements", json=at_limit)
        assert created.status_code == 201, created.text
        over = {**at_limit, "version": "bigger", "body": "a" * (limit + 1)}
        refused = client.post("/v1/agreements", json=over)
        assert refused.status_code == 422  # the schema's bound: before any work
    assert live.sr.agreements.get("scc", "big").body == at_limit["body"]
