"""Backups to S3 (``backup_url = "s3://bucket/prefix"``, backup/s3_place.py) against the
real SeaweedFS the session shares (tests/s3_support.py): a backup lands in the bucket
whole (no plaintext marker in any object, no upload left), restores, drills, and expires
from the bucket; a shred epoch deletes the older keystore backups there; with S3 down a
backup fails with a clear error and nothing is recorded as done."""

from __future__ import annotations

import io
import json
import socket
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from strongroom import init_home, open_strongroom
from strongroom.backup.manifest import BACKUPS_MADE, KEYSTORE
from strongroom.bootstrap import Strongroom
from strongroom.clock import FixedClock
from strongroom.config import Settings
from strongroom.errors import ConfigurationError, StorageUnavailable
from tests.e2e.test_cli import run
from tests.integration.test_backup import MARKERS, contents, seed
from tests.s3_support import SeaweedS3, credentials_env

pytestmark = pytest.mark.usefixtures("s3_credentials")

PREFIX = "backups/"


def _s3_home(tmp_path: Path, server: SeaweedS3, bucket: str, **more: Any) -> Settings:
    """A home whose files and backups are both in ``bucket``, side by side."""
    return init_home(
        tmp_path / "home",
        **server.settings(bucket, prefix="blobs/"),
        backup_url=f"s3://{bucket}/{PREFIX.rstrip('/')}",
        **more,
    )


def _backup_objects(server: SeaweedS3, bucket: str) -> list[str]:
    """The backups' objects (not the empty sign that backups were made there)."""
    made = f"{PREFIX}data/.backups-made"
    return sorted(k for k in server.objects(bucket) if k.startswith(PREFIX) and k != made)


def _scan(server: SeaweedS3, bucket: str, needles: list[str]) -> list[str]:
    client, hits = server.client(), []
    for key in _backup_objects(server, bucket):
        data = client.get_object(Bucket=bucket, Key=key)["Body"].read()
        hits += [f"{n} in {key}" for n in needles if n.encode() in data]
    return hits


@pytest.fixture
def on_s3(tmp_path: Path, s3_server: SeaweedS3) -> Any:
    bucket = s3_server.new_bucket()
    clock = FixedClock()
    settings = _s3_home(tmp_path, s3_server, bucket)
    with open_strongroom(settings=settings, clock=clock) as sr:
        yield sr, bucket, clock


def test_a_backup_on_s3_restores_drills_and_expires_from_the_bucket(
    on_s3: tuple[Strongroom, str, FixedClock], s3_server: SeaweedS3, tmp_path: Path
) -> None:
    sr, bucket, clock = on_s3
    world = seed(sr)
    entry = sr.backups.create()
    objects = _backup_objects(s3_server, bucket)
    assert f"{PREFIX}data/{entry.id}/manifest.json" in objects
    assert f"{PREFIX}keystore/{entry.keystore_backup_id}/manifest.json" in objects
    assert sum(k.startswith(f"{PREFIX}pool/") for k in objects) == 3  # the three files
    assert s3_server.uploads(bucket) == []
    assert not Path(sr.settings.backup_dir).exists()  # nothing in the local folder
    assert _scan(s3_server, bucket, MARKERS) == []
    assert [b.id for b in sr.backups.list()] == [entry.id]
    assert sr.backups.verify(entry.id).ok

    report = sr.backups.restore_home(entry.id, tmp_path / "restored")
    assert report.blobs == 3
    with open_strongroom(tmp_path / "restored") as restored:
        assert contents(restored, world) == contents(sr, world)
    drill = sr.backups.drill()
    assert drill.ok, drill.problems

    clock.advance(timedelta(days=sr.settings.backup_retention_days, hours=1))
    expired = sr.backups.expire()
    assert set(expired.deleted) == {entry.id, entry.keystore_backup_id}
    assert expired.pool_blobs_deleted == 3
    assert _backup_objects(s3_server, bucket) == []  # gone from the bucket, not hidden
    assert sr.backups.list_all() == []
    # A certificate can still say that no backup holds a deletion (the place is known
    # to be the one backups went to, not an empty bucket by mistake).
    assert sr.backups.folder.holds_backups()


def test_a_shred_epoch_deletes_the_older_keystore_backups_on_s3(
    on_s3: tuple[Strongroom, str, FixedClock], s3_server: SeaweedS3
) -> None:
    sr, bucket, _clock = on_s3
    ws = sr.workspaces.create("Epoch Ltd", "owner@epoch.example").id
    project = sr.projects.create(ws, "Kept").id
    record = sr.records.put(ws, project, "notes", {"n": 1}).id
    first, second = sr.backups.create(), sr.backups.create()
    old = {first.keystore_backup_id, second.keystore_backup_id}

    epoch = sr.shred_epochs.run(actor="test")
    assert set(epoch.backups.retired_keystore_backups) == old
    assert sorted(epoch.backups.rewrapped) == sorted([first.id, second.id])
    fresh = epoch.backups.keystore_backup_id
    keystores = {k.split("/")[2] for k in _backup_objects(s3_server, bucket) if "/keystore/" in k}
    assert keystores == {fresh}
    assert [b.id for b in sr.backups.list(KEYSTORE)] == [fresh]
    assert sr.backups.verify(second.id).ok  # moved to the new root version
    sr.ctx.keyring.forget_all()
    assert sr.records.get(ws, project, record).document == {"n": 1}


def test_a_backup_that_fails_half_way_is_never_listed_and_the_next_one_clears_it(
    on_s3: tuple[Strongroom, str, FixedClock],
    s3_server: SeaweedS3,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sr, bucket, _clock = on_s3
    seed(sr)

    def lost(_key: str) -> Any:
        raise StorageUnavailable("S3 went away")

    with monkeypatch.context() as patched, pytest.raises(StorageUnavailable):
        patched.setattr(sr.ctx.blobs, "open", lost)  # after the snapshot, at the first file
        sr.backups.create()
    half = _backup_objects(s3_server, bucket)
    assert any(k.endswith("/snapshot.sr") for k in half)  # written, yet no backup:
    assert not any(k.endswith("manifest.json") and "/data/" in k for k in half)
    assert sr.backups.list() == []

    entry = sr.backups.create()
    data = {k.split("/")[2] for k in _backup_objects(s3_server, bucket) if "/data/" in k}
    assert data == {entry.id}  # the half-written one was removed first
    assert sr.backups.verify(entry.id).ok


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def test_with_s3_down_a_backup_fails_clearly_and_nothing_is_recorded(tmp_path: Path) -> None:
    home = tmp_path / "home"
    settings = init_home(
        home,
        s3_endpoint_url=f"http://127.0.0.1:{_closed_port()}",
        backup_url="s3://srtest-down/backups",
    )
    with open_strongroom(settings=settings) as sr:
        sr.workspaces.create("Down Ltd", "owner@down.example")
        with pytest.raises(StorageUnavailable, match="unreachable"):
            sr.backups.create()
        events = [e.action for e in sr.audit.events(None, 0, 1000)]
    assert "backup.created" not in events and not (home / BACKUPS_MADE).exists()

    done = run("backup", "create", "--json", home=home, env=credentials_env())
    assert done.returncode == 2
    message = done.stderr.decode()
    assert "S3" in message and "unreachable" in message and message.count("\n") == 1
    assert credentials_env()["AWS_SECRET_ACCESS_KEY"] not in message


def test_the_backup_commands_work_on_s3(tmp_path: Path, s3_server: SeaweedS3) -> None:
    bucket = s3_server.new_bucket()
    home = tmp_path / "home"
    _s3_home(tmp_path, s3_server, bucket)
    with open_strongroom(home) as sr:
        ws = sr.workspaces.create("Cli Ltd", "owner@cli.example").id
        project = sr.projects.create(ws, "Files").id
        sr.files.put(ws, project, "a.txt", io.BytesIO(b"attached" * 100))

    def cli(*args: str) -> Any:
        done = run(*args, "--json", home=home, env=credentials_env())
        assert done.returncode == 0, done.stderr.decode()
        return json.loads(done.stdout)

    made = cli("backup", "create")
    listed = cli("backup", "list")["backups"]
    assert [b["id"] for b in listed if b["kind"] == "data"] == [made["id"]]
    assert cli("backup", "verify", made["id"])["ok"] is True
    restored = cli("backup", "restore", made["id"], "--to", str(tmp_path / "restored"))
    assert restored["blobs_copied"] == 1
    assert cli("backup", "drill")["ok"] is True
    assert f"{PREFIX}data/{made['id']}/manifest.json" in s3_server.objects(bucket)


def test_backup_urls_that_break_a_guarantee_are_refused(
    tmp_path: Path, s3_server: SeaweedS3
) -> None:
    with pytest.raises(ConfigurationError, match="overlaps"):
        init_home(
            tmp_path / "a",
            **s3_server.settings("srtest-same", prefix=""),
            backup_url="s3://srtest-same/b",
        )
    with pytest.raises(ConfigurationError, match="s3://BUCKET/PREFIX"):
        init_home(tmp_path / "b", backup_url="https://example.com/backups")
    # a bucket that keeps old versions would keep an expired backup's bytes
    bucket = s3_server.new_bucket()
    s3_server.client().put_bucket_versioning(
        Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}
    )
    settings = _s3_home(tmp_path, s3_server, bucket)
    with (
        open_strongroom(settings=settings) as sr,
        pytest.raises(ConfigurationError, match="keeps object versions"),
    ):
        sr.backups.create()
    assert _backup_objects(s3_server, bucket) == []
