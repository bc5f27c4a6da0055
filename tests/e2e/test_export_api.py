"""Export over the real HTTPS server: create a job, let the worker run it, poll, download,
verify; who may; what an expired export answers."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from strongroom.clock import FixedClock
from tests.e2e.api_support import LiveServer, live_server
from tests.export_support import run_due_exports

MARKER = b"Quokka-plaintext-marker-93"


@pytest.fixture
def live(tmp_path: Path, clock: FixedClock) -> Iterator[LiveServer]:
    with live_server(tmp_path / "home", clock=clock) as server:
        yield server


def test_create_run_poll_download_verify_expire(
    live: LiveServer, tmp_path: Path, clock: FixedClock
) -> None:
    sr = live.sr
    ws = sr.workspaces.create("Tenant", "owner@t.example")
    project = sr.projects.create(ws.id, "Hiring")
    sr.records.put(ws.id, project.id, "notes", {"text": MARKER.decode()})
    sr.files.put(ws.id, project.id, "cv.txt", io.BytesIO(MARKER * 1000))
    owner = sr.access.create_token(ws.id, "owner").token
    base = f"/v1/workspaces/{ws.id}/exports"
    with live.client(owner) as client:
        created = client.post(base)
        assert created.status_code == 202, created.text
        job = created.json()
        assert job["state"] == "queued" and created.headers["location"] == job["links"]["self"]
        early = client.get(job["links"]["download"])
        assert early.status_code == 409
        assert early.headers["content-type"] == "application/problem+json"

        assert run_due_exports(sr) == ["export.run"]
        polled = client.get(job["links"]["self"]).json()
        assert polled["state"] == "done"
        assert polled["entries_done"] == polled["entries_total"] > 0
        download = client.get(job["links"]["download"])
        assert download.status_code == 200
        assert download.headers["content-type"] == "application/zip"
        assert len(download.content) == polled["size"]
    archive = tmp_path / "download.zip"
    archive.write_bytes(download.content)
    assert sr.exports.verify(archive).workspace_id == ws.id
    for blob in Path(sr.settings.blob_dir).rglob("exp_*"):
        assert MARKER not in blob.read_bytes()

    clock.advance(timedelta(days=sr.settings.export_ttl_days))
    assert run_due_exports(sr) == ["export.expire"]
    assert not list(Path(sr.settings.blob_dir).rglob("exp_*"))
    with live.client(owner) as client:
        gone = client.get(job["links"]["download"])
        assert gone.status_code == 410
        assert gone.json()["type"].endswith("/expired")
        assert client.get(job["links"]["self"]).json()["state"] == "expired"


def test_only_owners_and_admins_export_and_other_tenants_see_nothing(live: LiveServer) -> None:
    sr = live.sr
    ws = sr.workspaces.create("Tenant", "owner@t.example")
    other = sr.workspaces.create("Other", "owner@o.example")
    job = sr.exports.create_job(ws.id)
    sr.exports.run_job(job.id)
    paths = [
        ("POST", f"/v1/workspaces/{ws.id}/exports"),
        ("GET", f"/v1/workspaces/{ws.id}/exports/{job.id}"),
        ("GET", f"/v1/workspaces/{ws.id}/exports/{job.id}/download"),
    ]
    for role, expected in (("viewer", 403), ("member", 403), ("admin", None)):
        token = sr.access.create_token(ws.id, role).token
        with live.client(token) as client:
            for method, path in paths:
                status = client.request(method, path).status_code
                assert status == expected if expected else status in (200, 202), (role, path)
    stranger = sr.access.create_token(other.id, "owner").token
    with live.client(stranger) as client:
        for method, path in paths:
            assert client.request(method, path).status_code == 404
        # another tenant's job under the stranger's own workspace is 404 too
        own = f"/v1/workspaces/{other.id}/exports/{job.id}"
        assert client.get(own).status_code == 404
        assert client.get(own + "/download").status_code == 404
