"""S3 stopped under a running API (a real SeaweedFS killed with SIGKILL, a live HTTPS
server): file requests answer 503 storage-unavailable in problem+json, nothing half-kept;
records go on; the CLI says so in one line; files work again once S3 is back, without
restarting Strongroom."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from strongroom.cli.exit_codes import exit_code
from strongroom.errors import StorageUnavailable
from tests.e2e.api_support import LiveServer, backend_settings, live_server
from tests.e2e.test_cli import bad
from tests.s3_support import SeaweedS3

MiB = 1024 * 1024


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def outage(
    request: pytest.FixtureRequest, tmp_path: Path, s3_credentials: dict[str, str]
) -> Iterator[tuple[LiveServer, SeaweedS3, str]]:
    """A live server whose blobs are on an S3 server of its own (this test stops it)."""
    s3 = SeaweedS3(tmp_path / "seaweedfs")
    try:
        s3.start()
    except Exception as e:
        from tests.conftest import need_service

        need_service(f"SeaweedFS (S3) could not be started: {e}")
    try:
        bucket = s3.new_bucket()
        settings = {**backend_settings(request), **s3.settings(bucket)}
        with live_server(tmp_path / "home", **settings) as live:
            yield live, s3, bucket
    finally:
        s3.stop()


def test_s3_down_makes_file_requests_503_while_records_work(
    outage: tuple[LiveServer, SeaweedS3, str],
) -> None:
    live, s3, bucket = outage
    ws = live.sr.workspaces.create("Acme", "owner@acme.example")
    project = live.sr.projects.create(ws.id, "Hiring")
    base = f"/v1/workspaces/{ws.id}/projects/{project.id}"
    data = os.urandom(9 * MiB + 3)  # two parts
    with live.client(live.sr.access.create_token(ws.id, "owner").token) as client:
        kept = client.post(
            f"{base}/files",
            params={"name": "before.pdf"},
            content=data,
            headers={"content-type": "application/octet-stream"},
        )
        assert kept.status_code == 201, kept.text
        file_id = kept.json()["id"]

        s3.stop()
        started = time.monotonic()
        download = client.get(f"{base}/files/{file_id}/content")
        _unavailable(download)
        upload = client.post(
            f"{base}/files",
            params={"name": "during.pdf"},
            content=os.urandom(MiB),
            headers={"content-type": "application/octet-stream"},
        )
        _unavailable(upload)
        assert time.monotonic() - started < 60  # fails in seconds, not minutes
        listed = client.get(f"{base}/files")
        assert [f["name"] for f in listed.json()["items"]] == ["before.pdf"]  # none half-kept

        record = client.post(
            f"{base}/records", json={"collection": "notes", "document": {"during": "outage"}}
        )
        assert record.status_code == 201, record.text
        got = client.get(f"{base}/records/{record.json()['id']}")
        assert got.status_code == 200 and got.json()["document"] == {"during": "outage"}
        out = live.sr.settings.home.parent / "out.bin"
        message = bad(
            "file", "get", ws.id, project.id, file_id, "-o", str(out),
            home=live.sr.settings.home, code=exit_code(StorageUnavailable("")),
        )  # fmt: skip
        assert "S3" in message and "unreachable" in message and not out.exists()

        s3.start()  # same ports, same data: Strongroom itself is not restarted
        back = time.monotonic() + 60  # SeaweedFS's volumes load after its S3 port opens
        while (again := client.get(f"{base}/files/{file_id}/content")).status_code == 503:
            assert time.monotonic() < back, again.text
            time.sleep(0.5)
        assert again.status_code == 200 and again.content == data
    assert s3.uploads(bucket) == []


def _unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"].endswith("storage-unavailable")
    assert "S3" in problem["detail"] and "\n" not in problem["detail"]
    assert "strongroom-test-secret" not in response.text
