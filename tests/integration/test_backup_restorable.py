"""Every backup ``backup list`` shows restores, for the whole of its retention, on an
injected clock, on SQLite and PostgreSQL: across day 31 (once past the old 30-day keystore
retention) and across the last day; and the key a purge destroyed still leaves every
keystore backup within the promised window of its deletion."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from strongroom import open_strongroom
from strongroom.backup.manifest import Folder
from strongroom.bootstrap import Strongroom
from strongroom.clock import FixedClock
from strongroom.config import Settings
from strongroom.errors import KeyUnavailable, NotFound
from tests.e2e.test_cli import ok_json, run
from tests.integration.test_backup import contents, seed, target_dbs

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


def restores(
    sr: Strongroom, request: pytest.FixtureRequest, home: Settings, backup_id: str, name: str
) -> Any:
    """Restore ``backup_id`` into a new home and return it, opened (the caller closes it)."""
    target = Path(home.home).parent / name
    sr.backups.restore_home(backup_id, target, **target_dbs(request, home))
    return open_strongroom(target)


def assert_every_listed_backup_restores(
    sr: Strongroom,
    request: pytest.FixtureRequest,
    home: Settings,
    world: dict[str, Any],
    gone: str,
    label: str,
) -> None:
    """Restore each listed data backup: the kept project is whole, the purged one absent."""
    for entry in sr.backups.list():
        assert entry.restorable_until == entry.expires_at
        with restores(sr, request, home, entry.id, f"{label}-{entry.id}") as restored:
            assert contents(restored, world)["records"] == world["expected"]
            with pytest.raises(NotFound):
                restored.projects.get(world["ws"], gone)
            with pytest.raises(KeyUnavailable):
                restored.ctx.keyring.data_key(gone)


def keystore_backups_on_disk(home: Settings) -> set[str]:
    return set(Folder(home.backup_dir).ids("keystore"))


def test_a_lone_backup_restores_until_it_expires_and_the_purged_key_leaves_every_copy(
    sr: Strongroom, home: Settings, clock: FixedClock, request: pytest.FixtureRequest
) -> None:
    world = seed(sr, 5)
    world["expected"] = contents(sr, world)["records"]
    ws = world["ws"]
    gone = world["other"]  # deleted before the backup, purged after it
    deleted_at = clock.now()
    sr.projects.delete(ws, gone)
    clock.advance(20 * DAY)

    backup = sr.backups.create()  # day 20: the only backup ever taken
    first_keystore = str(backup.keystore_backup_id)
    expires = backup.created_at + 60 * DAY
    assert backup.expires_at == backup.restorable_until == expires
    listed = sr.backups.list()
    assert [(e.id, e.expires_at, e.restorable_until) for e in listed] == [
        (backup.id, expires, expires)
    ]

    clock.advance(10 * DAY + HOUR)  # day 30: the trash expires; the project key is destroyed
    assert len(sr.worker.run_once().done) == 1
    certificate = sr.certificates.get(str(sr.certificates.list(ws)[0]["certificate_id"]))
    named = {b["backup_id"]: b["expires_at"] for b in certificate["backups_holding_ciphertext"]}
    shred_deadline = deleted_at + 60 * DAY  # day 60: before the backup's own expiry (day 80)
    assert set(named) == {backup.id, first_keystore}
    assert named[first_keystore] == shred_deadline.isoformat().replace("+00:00", "Z")
    keystores = {e.id: e.expires_at for e in sr.backups.list("keystore")}
    assert keystores[first_keystore] == shred_deadline
    renewal = [k for k in keystores if k != first_keystore]
    assert len(renewal) == 1  # taken in the same pass, after the key was destroyed
    assert keystores[renewal[0]] == clock.now() + 60 * DAY
    assert [e.restorable_until for e in sr.backups.list()] == [expires]

    clock.advance(21 * DAY)  # day 51: 31 days after the backup
    sr.worker.run_once()
    assert_every_listed_backup_restores(sr, request, home, world, gone, "day31")

    clock.advance(9 * DAY)  # day 60 + 1 h: the destroyed key is gone from every keystore backup
    sr.worker.run_once()
    assert keystore_backups_on_disk(home) == set(renewal)
    second = sr.backups.create()
    clock.advance(20 * DAY - 2 * HOUR)  # day 80 - 1 h: the last hour of the first backup
    sr.worker.run_once()
    assert [e.id for e in sr.backups.list()] == [backup.id, second.id]
    assert_every_listed_backup_restores(sr, request, home, world, gone, "lastday")

    clock.advance(2 * HOUR)  # day 80 + 1 h: the first backup is gone, the second restores
    sr.worker.run_once()
    assert [e.id for e in sr.backups.list()] == [second.id]
    assert not (Path(home.backup_dir) / "data" / backup.id).exists()
    assert_every_listed_backup_restores(sr, request, home, world, gone, "after")
    # no keystore backup outlives its use: the renewal went once the second backup's came
    assert keystore_backups_on_disk(home) == {str(second.keystore_backup_id)}


def test_keystore_backups_stay_while_their_data_backups_do(
    sr: Strongroom, home: Settings, clock: FixedClock, request: pytest.FixtureRequest
) -> None:
    """Nothing purged: each keystore backup lives as long as the data backup taken with it,
    and no renewal is taken."""
    world = seed(sr, 2)
    world["expected"] = contents(sr, world)["records"]
    first = sr.backups.create()
    clock.advance(31 * DAY)
    sr.worker.run_once()
    assert [e.id for e in sr.backups.list("keystore")] == [first.keystore_backup_id]
    with restores(sr, request, home, first.id, "day31") as restored:
        assert contents(restored, world)["records"] == world["expected"]
    clock.advance(29 * DAY + HOUR)
    sr.worker.run_once()
    assert sr.backups.list() == [] and sr.backups.list("keystore") == []


def test_restorable_until_is_when_the_last_keystore_backup_able_to_restore_it_goes(
    sr: Strongroom, home: Settings, clock: FixedClock
) -> None:
    """A keystore backup lost (removed by hand) is shown, not hidden: the list says the data
    backup cannot be restored, and the next pass takes a fresh keystore backup."""
    seed(sr, 1)
    entry = sr.backups.create()
    folder = Folder(home.backup_dir)
    for part in folder.backup_dir("keystore", str(entry.keystore_backup_id)).iterdir():
        part.unlink()
    folder.backup_dir("keystore", str(entry.keystore_backup_id)).rmdir()
    assert [e.restorable_until for e in sr.backups.list()] == [None]
    report = sr.backups.expire()
    assert report.renewed is not None
    assert [e.restorable_until for e in sr.backups.list()] == [entry.expires_at]


def test_backup_list_shows_restorable_until_in_both_outputs(tmp_path: Path) -> None:
    home = tmp_path / "cli-home"
    assert run("init", home=home).returncode == 0
    ok_json("workspace", "create", "Acme", "--owner", "o@acme.example", home=home)
    created = ok_json("backup", "create", home=home)
    assert created["restorable_until"] == created["expires_at"]
    listed = {b["kind"]: b for b in ok_json("backup", "list", home=home)["backups"]}
    assert listed["data"]["restorable_until"] == listed["data"]["expires_at"]
    assert listed["keystore"]["restorable_until"] is None
    human = run("backup", "list", home=home, env={"COLUMNS": "200"}).stdout.decode()
    assert "restorable until" in human and "with a data backup" in human
    until = listed["data"]["restorable_until"][:16].replace("T", " ")
    data_row = next(line for line in human.splitlines() if created["id"] in line)
    assert data_row.count(until) == 2  # expires and restorable until: the same minute


def test_keystore_backups_dated_30_days_by_an_earlier_version_are_renewed(
    sr: Strongroom, home: Settings, clock: FixedClock
) -> None:
    """A keystore backup whose manifest says 30 days (the old default): the data backup it
    serves is shown restorable for 30 days only until the next pass renews it."""
    seed(sr, 1)
    entry = sr.backups.create()
    folder = Folder(home.backup_dir)
    old = folder.read_manifest("keystore", str(entry.keystore_backup_id))
    key = old.key(sr.ctx.keyring)
    old.expires_at = old.created_at + 30 * DAY
    old.seal_with(key)
    folder.write_manifest(old)
    assert [e.restorable_until for e in sr.backups.list()] == [old.created_at + 30 * DAY]

    sr.worker.run_once()
    assert [e.restorable_until for e in sr.backups.list()] == [entry.expires_at]
    clock.advance(30 * DAY + HOUR)
    sr.worker.run_once()
    assert [e.id for e in sr.backups.list()] == [entry.id]
    assert len(sr.backups.list("keystore")) == 1  # the renewal; the old one has expired
