"""Strongroom with its blobs on S3 (a real SeaweedFS): files and export artifacts go to the
bucket as ciphertext, on SQLite and on PostgreSQL; a `file put` killed with SIGKILL leaves
nothing visible and the sweep aborts its upload."""

from __future__ import annotations

import hashlib
import io
import os
import signal
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest

from strongroom import init_home, open_strongroom
from strongroom.blobs.folder import PARTIAL_MAX_AGE
from strongroom.blobs.s3 import S3BlobStore
from strongroom.clock import FixedClock
from strongroom.errors import ConfigurationError
from strongroom.export.jobs import JobState
from tests.e2e.test_cli import STRONGROOM, ok_json, run
from tests.export_support import run_due_exports, zip_bytes_entries
from tests.s3_support import SeaweedS3

MiB = 1024 * 1024


def test_files_and_export_artifacts_are_kept_in_the_bucket(
    tmp_path: Path,
    backend: dict[str, str],
    s3_server: SeaweedS3,
    s3_credentials: dict[str, str],
    clock: FixedClock,
) -> None:
    bucket = s3_server.new_bucket()
    settings = init_home(tmp_path / "home", **backend, **s3_server.settings(bucket, "acme/"))
    with open_strongroom(settings=settings, clock=clock) as sr:
        assert isinstance(sr.ctx.blobs, S3BlobStore)
        ws = sr.workspaces.create("Acme", "owner@acme.example")
        project = sr.projects.create(ws.id, "Hiring")
        marker = b"MARKER-plaintext-" * 4096
        data = marker + os.urandom(20 * MiB)  # three parts
        stored = sr.files.put(ws.id, project.id, "cv.pdf", io.BytesIO(data))
        out = io.BytesIO()
        sr.files.read_into(ws.id, project.id, stored.id, out.write)
        assert out.getvalue() == data
        assert s3_server.objects(bucket) == [f"acme/{stored.id}"]
        raw = s3_server.client().get_object(Bucket=bucket, Key=f"acme/{stored.id}")["Body"].read()
        assert marker[:4096] not in raw and len(raw) > len(data)  # ciphertext only
        assert not list(Path(settings.blob_dir).rglob("fil_*"))  # nothing in the folder

        job = sr.exports.create_job(ws.id, actor="token:t1")
        assert run_due_exports(sr) == ["export.run"]
        done = sr.exports.job(ws.id, job.id)
        assert done.state is JobState.DONE
        assert f"acme/{job.id}" in s3_server.objects(bucket)
        _, chunks = sr.exports.open_artifact(ws.id, job.id)
        archive = b"".join(chunks)
        assert hashlib.sha256(archive).hexdigest() == done.sha256
        assert data in zip_bytes_entries(archive).values()

        clock.advance(timedelta(days=sr.settings.export_ttl_days))
        assert run_due_exports(sr) == ["export.expire"]
        assert s3_server.objects(bucket) == [f"acme/{stored.id}"]  # the artifact is gone
        assert s3_server.uploads(bucket) == []


def test_a_settings_file_with_a_secret_key_is_refused(tmp_path: Path) -> None:
    home = tmp_path / "home"
    init_home(home)
    config = home / "strongroom.toml"
    config.write_text(
        config.read_text()
        + 'blob_store = "s3"\ns3_bucket = "acme-blobs"\n'
        + 'aws_secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"\n'
    )
    with pytest.raises(ConfigurationError, match="AWS_SECRET_ACCESS_KEY") as refused:
        open_strongroom(home)
    assert "wJalrXUtnFEMI" not in str(refused.value)
    message = run("file", "list", "ws_x", "prj_x", home=home).stderr.decode()
    assert "credentials are never read from the settings" in message


def test_a_killed_file_put_leaves_nothing_visible_and_its_upload_is_swept(
    tmp_path: Path, s3_server: SeaweedS3, s3_credentials: dict[str, str]
) -> None:
    bucket = s3_server.new_bucket()
    home = tmp_path / "home"
    init_home(home, **s3_server.settings(bucket))
    ws = ok_json("workspace", "create", "Acme", "--owner", "o@acme.example", home=home)["id"]
    project = ok_json("project", "create", ws, "Hiring", home=home)["id"]
    source = tmp_path / "big.bin"
    with open(source, "wb") as f:  # sparse: no disk, still 512 MiB to encrypt and send
        f.truncate(512 * MiB)
    put = subprocess.Popen(
        [STRONGROOM, "file", "put", ws, project, str(source), "--home", str(home), "--json"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120  # generous: the machine is shared
    try:
        while put.poll() is None and time.monotonic() < deadline:
            if s3_server.uploads(bucket):  # an upload begun: its first part is sent
                put.send_signal(signal.SIGKILL)
                break
            time.sleep(0.05)  # polling for the event, not waiting for luck
        put.wait(timeout=30)
    finally:
        if put.poll() is None:
            put.kill()
            put.wait()
    assert put.returncode == -signal.SIGKILL, "file put ended before its upload was seen"

    [left] = s3_server.uploads(bucket)
    assert s3_server.objects(bucket) == []  # nothing visible
    assert ok_json("file", "list", ws, project, home=home)["files"] == []

    clock = FixedClock()
    with open_strongroom(home, clock=clock) as sr:
        assert sr.worker.sweep_partial_blobs() == 0  # fresh: it could be an upload going on
        assert s3_server.uploads(bucket) == [left]
        store = sr.ctx.blobs
        assert isinstance(store, S3BlobStore)
        later = time.time() + PARTIAL_MAX_AGE.total_seconds() + 3600
        assert store.sweep_abandoned(PARTIAL_MAX_AGE, now=later) == 1
    assert s3_server.uploads(bucket) == []
    assert s3_server.objects(bucket) == []


def test_a_backup_of_an_s3_home_restores_with_its_files(
    tmp_path: Path, s3_server: SeaweedS3, s3_credentials: dict[str, str]
) -> None:
    bucket = s3_server.new_bucket()
    settings = init_home(tmp_path / "home", **s3_server.settings(bucket))
    data = os.urandom(9 * MiB)
    with open_strongroom(settings=settings) as sr:
        ws = sr.workspaces.create("Acme", "owner@acme.example")
        project = sr.projects.create(ws.id, "Hiring")
        stored = sr.files.put(ws.id, project.id, "cv.pdf", io.BytesIO(data))
        entry = sr.backups.create()
        assert entry.counts["files"] == 1
        report = sr.backups.restore_home(entry.id, tmp_path / "restored")
        assert report.blobs == 1
    assert s3_server.objects(bucket) == [f"blobs/{stored.id}"]  # the live bucket untouched
    with open_strongroom(tmp_path / "restored") as restored:
        assert restored.settings.blob_store == "folder"  # the restore's blobs: its own folder
        out = io.BytesIO()
        restored.files.read_into(ws.id, project.id, stored.id, out.write)
        assert out.getvalue() == data
