"""Backups under damage and time: a flipped byte in any part is named; retention deletes
by absolute date on an injected clock; a process killed during a backup never leaves one
listed as complete; a half-written restore is refused, or redone by the same restore."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from strongroom import open_strongroom
from strongroom.backup.manifest import Folder
from strongroom.bootstrap import Strongroom
from strongroom.clock import FixedClock
from strongroom.config import Settings
from strongroom.errors import ConfigurationError, Conflict
from tests.integration.test_backup import contents, seed, target_dbs

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
ROOT = Path(__file__).resolve().parents[2]

_KILL_AFTER = """
import json, os, signal, sys
from pathlib import Path
from strongroom import open_strongroom
home, action, limit, args = sys.argv[1], sys.argv[2], int(sys.argv[3]), json.loads(sys.argv[4])
seen = 0
def progress(n):
    global seen
    seen += n
    if seen >= limit:
        os.kill(os.getpid(), signal.SIGKILL)
sr = open_strongroom(home)
if action == "create":
    sr.backups.create(on_progress=progress)
else:
    sr.backups.restore_home(args["id"], Path(args["to"]), on_progress=progress,
                            database_url=args.get("database_url", ""),
                            keystore_url=args.get("keystore_url", ""))
print("finished")
"""


def killed(home: Path, action: str, after_bytes: int, **args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", _KILL_AFTER, str(home), action, str(after_bytes), json.dumps(args)],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode in (-9, 0), done.stderr.decode()
    return "killed" if done.returncode == -9 else "finished"


def flip(path: Path, at: int) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


def test_a_flipped_byte_in_any_part_is_named(sr: Strongroom, home: Settings) -> None:
    seed(sr, 5)
    entry = sr.backups.create()
    root = Path(home.backup_dir)
    parts = sorted(p for p in root.rglob("*") if p.is_file() and p.name != ".lock")
    assert len(parts) == 2 + 3 + 2  # data snapshot and manifest, 3 blobs, keystore backup
    for path in parts:
        original = path.read_bytes()
        for at in (0, len(original) // 2, len(original) - 1):
            flip(path, at)
            report = sr.backups.verify(entry.id)
            path.write_bytes(original)
            assert not report.ok, f"a flipped byte at {at} of {path} went unnoticed"
            (bad,) = report.bad_parts
            rel = path.relative_to(root)
            if rel.parts[0] == "pool":
                assert bad["part"] == f"blob:{path.name}"
            elif rel.parts[0] == "keystore":
                expected = "manifest" if path.name == "manifest.json" else "snapshot"
                assert bad["part"] == f"keystore backup {rel.parts[1]}: {expected}"
            else:
                assert bad["part"] == ("manifest" if path.name == "manifest.json" else "snapshot")
    assert sr.backups.verify(entry.id).ok


def test_retention_deletes_by_absolute_date_whether_or_not_newer_backups_exist(
    sr: Strongroom, clock: FixedClock, home: Settings, request: pytest.FixtureRequest
) -> None:
    world = seed(sr, 2)
    first = sr.backups.create()
    gone = sr.files.delete(world["ws"], world["project"], world["files"][0])
    sr.trash.purge_now(world["ws"], gone.id)
    sr.worker.run_once()
    clock.advance(30 * DAY)
    second = sr.backups.create()
    pool = Folder(home.backup_dir).pool_path(world["files"][0])
    assert pool.exists()  # held by the first backup only

    clock.advance(30 * DAY - HOUR)  # first: an hour short of 60 days old
    sr.worker.run_once()
    assert [e.id for e in sr.backups.list()] == [first.id, second.id]
    assert [e.id for e in sr.backups.list("keystore")] == [
        first.keystore_backup_id,
        second.keystore_backup_id,
    ]  # each kept as long as the data backup taken with it

    clock.advance(DAY + HOUR)  # first: 61 days old
    sr.worker.run_once()
    assert [e.id for e in sr.backups.list()] == [second.id]
    assert not pool.exists()  # no backup names it any more
    assert not (Path(home.backup_dir) / "data" / first.id).exists()
    assert sr.backups.verify(second.id).ok
    assert [e.id for e in sr.backups.list("keystore")] == [second.keystore_backup_id]
    # 31 days old, the second backup still restores: its keystore backup lives as long
    target = Path(home.home).parent / "day-31"
    report = sr.backups.restore_home(second.id, target, **target_dbs(request, home))
    assert report.keystore_backup_id == second.keystore_backup_id


def test_a_backup_killed_at_any_point_is_never_listed_and_is_cleaned_up(
    sr: Strongroom, home: Settings
) -> None:
    """Killed before each of its steps in turn (tests/integration/backup_killer.py): a
    backup is listed only once its manifest is in place, and then it verifies; whatever a
    killed one left is removed by the next backup."""
    world = seed(sr, 200)
    for _ in range(3):
        sr.files.put(world["ws"], world["project"], "big", io.BytesIO(b"y" * 300_000))
    sweep = subprocess.run(
        [sys.executable, "-m", "tests.integration.backup_killer", str(home.home)],
        capture_output=True,
        timeout=600,
        check=False,
        cwd=ROOT,
    )
    assert sweep.returncode == 0, (sweep.stdout.decode()[-2000:], sweep.stderr.decode())
    runs = [json.loads(line) for line in sweep.stdout.decode().splitlines()]
    *kills, finished = runs
    assert not finished["killed"] and all(r["killed"] for r in kills)
    assert len(kills) >= 20, len(kills)  # chunks, files, fsyncs and renames (three before)
    first_listed = next(r["n"] for r in runs if r["listed"])
    assert first_listed >= len(kills) - 8  # only the last few steps come after the rename
    for r in runs:
        assert all(r["verified"].values()), r  # never a listed backup that is not whole
        if r["n"] < first_listed:
            assert r["listed"] == [], r
        assert len(r["folders"]) <= len(r["listed"]) + 1, r  # one killed run's leftovers
    # (A run killed after its keystore backup's manifest and before the data manifest
    # leaves that keystore backup listed: whole, as checked, and expiring on the keystore
    # schedule; the next backup does not remove it.)
    entry = sr.backups.create()
    listed = [e.id for e in sr.backups.list()]
    assert entry.id in listed
    assert sorted(Folder(home.backup_dir).ids("data")) == sorted(listed)  # ...and go
    assert sr.backups.verify(entry.id).ok


def test_a_killed_restore_is_refused_as_a_home_and_redone_by_the_same_restore(
    sr: Strongroom, home: Settings, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    world = seed(sr, 50)
    first = sr.backups.create()
    other = sr.backups.create()
    target = tmp_path / "restored"
    dbs = target_dbs(request, home)
    assert killed(home.home, "restore", 1, id=first.id, to=str(target), **dbs) == "killed"
    assert (target / ".strongroom-restore.json").exists()
    with pytest.raises(ConfigurationError, match="did not finish"):
        open_strongroom(target)
    with pytest.raises(Conflict, match="not empty"):
        sr.backups.restore_home(other.id, target, **dbs)
    report = sr.backups.restore_home(first.id, target, **dbs)  # redone from the start
    assert report.counts["records"] == 51
    with open_strongroom(target) as restored:
        assert contents(restored, world) == contents(sr, world)
        assert restored.audit.verify() > 0
