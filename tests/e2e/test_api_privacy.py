"""Privacy requests over the real HTTPS API: recorded, read with the subject only one by
one, refused with problem+json (and nothing changed) when the law or the state says no."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from strongroom.domain.privacy_clock import add_months
from strongroom.export.verify import verify_archive
from tests.e2e.api_support import LiveServer, live_server

ADA = {"kind": "email", "value": "ada@example.com"}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("privacy") / "home") as server:
        yield server


@pytest.fixture
def admin(live: LiveServer) -> tuple[str, str]:
    ws = live.sr.workspaces.create("Acme", "owner@acme.example").id
    return ws, live.sr.access.create_token(ws, "admin").token


def _path(ws: str, tail: str = "") -> str:
    return f"/v1/workspaces/{ws}/privacy-requests{tail}"


def test_a_request_through_its_states(live: LiveServer, admin: tuple[str, str]) -> None:
    ws, token = admin
    with live.client(token) as client:
        created = client.post(
            _path(ws),
            json={
                "type": "access",
                "law": "gdpr",
                "identifiers": [ADA],
                "channel": "web form",
            },
        )
        assert created.status_code == 201, created.text
        body = created.json()
        due = add_months(date.fromisoformat(body["received_on"]), 1)
        assert (body["due"], body["state"], body["identifiers"]) == (
            due.isoformat(),
            "received",
            None,
        )
        req = body["id"]

        refused = client.post(_path(ws, f"/{req}/complete"))
        assert refused.status_code == 409
        assert refused.headers["content-type"] == "application/problem+json"

        verified = client.post(
            _path(ws, f"/{req}/verify"), json={"method": "id check", "by": "eve"}
        )
        assert verified.json()["state"] == "verified"
        extended = client.post(_path(ws, f"/{req}/extend"), json={"reason": "complex", "months": 2})
        assert extended.json()["due"] == add_months(due, 2).isoformat()
        too_long = client.post(_path(ws, f"/{req}/extend"), json={"reason": "more", "days": 1})
        assert too_long.status_code == 409

        shown = client.get(_path(ws, f"/{req}")).json()
        assert shown["identifiers"] == [ADA]
        assert (shown["verified_by"], shown["extension_reason"]) == ("eve", "complex")
        listed = client.get(_path(ws)).json()["items"]
        assert [(r["id"], r["identifiers"]) for r in listed] == [(req, None)]
        assert "ada@example.com" not in client.get(_path(ws)).text


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"type": "access", "law": "gdpr", "identifiers": []}, 422),
        ({"type": "forget", "law": "gdpr", "identifiers": [ADA]}, 422),
        ({"type": "access", "law": "gdpr", "identifiers": [{"kind": "ssn", "value": "1"}]}, 422),
        ({"type": "access", "law": "gdpr", "identifiers": [ADA], "received": "2999-01-01"}, 400),
        ({"type": "access", "law": "other", "identifiers": [ADA]}, 400),
        ({"type": "access", "law": "gdpr", "identifiers": [ADA], "extra": 1}, 422),
    ],
)
def test_bad_requests_are_refused_and_change_nothing(
    live: LiveServer, admin: tuple[str, str], body: dict[str, object], status: int
) -> None:
    ws, token = admin
    with live.client(token) as client:
        response = client.post(_path(ws), json=body)
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert client.get(_path(ws)).json() == {"items": []}


def test_duplicate_keys_are_refused(live: LiveServer, admin: tuple[str, str]) -> None:
    ws, token = admin
    raw = b'{"type": "access", "type": "deletion", "law": "gdpr", "identifiers": []}'
    with live.client(token) as client:
        response = client.post(_path(ws), content=raw, headers={"content-type": "application/json"})
        assert response.status_code == 400
        assert client.get(_path(ws)).json() == {"items": []}


def test_the_subject_never_reaches_the_audit_log(live: LiveServer) -> None:
    ws = live.sr.workspaces.create("Logs", "owner@logs.example").id
    token = live.sr.access.create_token(ws, "owner").token
    secret = "grace.hopper.secret@example.com"
    with live.client(token) as client:
        response = client.post(
            _path(ws),
            json={
                "type": "deletion",
                "law": "ccpa",
                "identifiers": [{"kind": "email", "value": secret}],
            },
        )
        assert response.status_code == 201
    events = live.sr.audit.events(ws)
    assert events[-1].action == "privacy.create"
    assert secret not in repr(events)


def test_health_counts_overdue_requests_and_warns(live: LiveServer, admin: tuple[str, str]) -> None:
    ws, _token = admin
    with live.client(None) as anonymous:
        before = anonymous.get("/health").json()["privacy_requests"]
    late = live.sr.privacy.create(
        ws,
        type="access",
        law="other",
        identifiers=[("email", "late@example.com")],
        received=date(2026, 1, 1),
        due=date(2026, 1, 2),
    )
    with live.client(None) as anonymous:
        health = anonymous.get("/health").json()
    assert health["privacy_requests"]["overdue"] == before["overdue"] + 1
    assert health["status"] == "warning"
    assert any("overdue" in w for w in health["warnings"])
    assert late.id not in str(health) and ws not in str(health)  # counts only: no token needed
    live.sr.privacy.reject(ws, late.id, reason="duplicate")
    with live.client(None) as anonymous:
        assert anonymous.get("/health").json()["privacy_requests"] == before


def test_the_subjects_package_is_a_streamed_zip_download(
    live: LiveServer, admin: tuple[str, str], tmp_path: Path
) -> None:
    ws, token = admin
    sr = live.sr
    project = sr.projects.create(ws, "Hiring").id
    sr.records.declare_collection(ws, "contacts", ["email"])
    ada = sr.records.put(ws, project, "contacts", {"email": "ada@example.com", "n": 1}).id
    sr.records.put(ws, project, "contacts", {"email": "eve@example.com", "n": 2})
    req = sr.privacy.create(ws, type="access", law="gdpr", identifiers=[("email", ADA["value"])])
    with live.client(token) as client:
        refused = client.post(_path(ws, f"/{req.id}/export"))
        assert refused.status_code == 409
        assert refused.headers["content-type"] == "application/problem+json"
        sr.privacy.verify(ws, req.id, method="id check", by="eve")
        response = client.post(_path(ws, f"/{req.id}/export"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="strongroom-subject-{ws}-{req.id}.zip"'
    )
    package = tmp_path / "ada.zip"
    package.write_bytes(response.content)
    verified = verify_archive(package)
    assert verified.format == "strongroom-subject-export" and verified.counts["records"] == 1
    with zipfile.ZipFile(package) as archive:
        jsonl = archive.read(f"records/{project}/contacts.jsonl")
    assert ada.encode() in jsonl and b"eve@example.com" not in jsonl
    assert sr.privacy.get(ws, req.id).state.value == "in_progress"


def test_an_erasure_needs_confirmation_and_a_verified_request(
    live: LiveServer, admin: tuple[str, str]
) -> None:
    ws, token = admin
    project = live.sr.projects.create(ws, "Hiring").id
    live.sr.records.declare_collection(ws, "people", ["email"])
    record = live.sr.records.put(ws, project, "people", {"email": "ada@example.com"}).id
    with live.client(token) as client:
        req = client.post(
            _path(ws), json={"type": "deletion", "law": "gdpr", "identifiers": [ADA]}
        ).json()["id"]
        for body, status in [
            ({"confirm": True}, 409),  # not verified
            ({"confirm": False}, 400),
            ({}, 422),
            ({"confirm": True, "redact": "people"}, 422),
            ({"confirm": "true"}, 422),  # only a JSON true confirms
            ({"confirm": 1}, 422),
        ]:
            response = client.post(_path(ws, f"/{req}/erase"), json=body)
            assert response.status_code == status, response.text
            assert response.headers["content-type"] == "application/problem+json"
        assert client.get(_path(ws, f"/{req}/erasure")).status_code == 404
        client.post(_path(ws, f"/{req}/verify"), json={"method": "reply", "by": "dpo"})
        refused = client.post(_path(ws, f"/{req}/erase"), json={"confirm": False})
        assert refused.status_code == 400
        assert live.sr.records.get(ws, project, record).id == record  # nothing changed

        erased = client.post(_path(ws, f"/{req}/erase"), json={"confirm": True})

        assert erased.status_code == 200, erased.text
        body = erased.json()
        assert body["state"] == "done" and body["counts"]["records_erased"] == 1
        assert client.get(_path(ws, f"/{req}/erasure")).json() == body
        assert (
            client.get(f"/v1/workspaces/{ws}/projects/{project}/records/{record}").status_code
            == 404
        )
        again = client.post(_path(ws, f"/{req}/erase"), json={"confirm": True})
        assert again.status_code == 409  # the request is completed
    # Operators read and verify the erasure's certificate like any other.
    with live.client(live.sr.access.create_operator_token().token) as operator:
        certificate = operator.get(f"/v1/certificates/{body['certificate_id']}")
        assert certificate.status_code == 200, certificate.text
        document = certificate.json()
        assert document["erasure"]["request_id"] == req and "ada@" not in certificate.text
        verified = operator.post("/v1/certificates/verify", json=document)
        assert verified.status_code == 200 and verified.json()["valid"] is True
        document["erasure"]["erased_records"] = []
        forged = operator.post("/v1/certificates/verify", json=document)
        assert forged.status_code == 422  # the signature covers the erasure's facts
