"""Shred epochs (lifecycle/shred_epoch.py): a new root version, every key rewrapped, a
keystore backup, every older root version destroyed in the KMS. Afterwards an old copy of
the keystore (a keystore backup, free pages, a replica) unwraps nothing, while the newest
backup restores; a purged project's lingering key copy stays unreadable even though its
workspace lives on. On the local KMS and on SoftHSM2, on SQLite and PostgreSQL; the
worker's epoch under an injected clock, including one that stopped half-way."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from strongroom import init_home, open_strongroom
from strongroom.backup.manifest import DATA, KEYSTORE, MANIFEST, Folder, parse
from strongroom.bootstrap import Strongroom
from strongroom.clock import FixedClock
from strongroom.config import Settings
from strongroom.crypto import envelope
from strongroom.crypto.keyring import _data_key_binding, _root_context, workspace_key_id
from strongroom.errors import KeyUnavailable, KmsFailure
from strongroom.storage.rows import WrappedKeyRow
from tests.aws_kms_support import MotoKms
from tests.integration.test_backup import target_dbs
from tests.pkcs11_support import new_softhsm_token
from tests.transit_support import BaoServer


@pytest.fixture
def clock() -> FixedClock:
    """Starts a minute after now: ``home.init``, which the first epoch's period counts
    from, is recorded by the system clock, just before."""
    return FixedClock(datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=1))


def _world(sr: Strongroom) -> dict[str, str]:
    ws = sr.workspaces.create("Epoch Ltd", "owner@epoch.example").id
    project = sr.projects.create(ws, "Kept").id
    record = sr.records.put(ws, project, "notes", {"n": 1, "text": "kept"}).id
    return {"ws": ws, "project": project, "record": record}


def _root_wrapped(sr: Strongroom) -> list[tuple[str, WrappedKeyRow]]:
    """A copy of every root-wrapped key in the keystore, as an old copy of it holds them."""
    with sr.ctx.keyring.keystore.read() as uow:
        found = [("workspace", row) for row in uow.keys.workspace_keys()]
        directory = uow.keys.directory_key()
    assert directory is not None
    return [*found, ("directory", directory)]


def _unwrap(sr: Strongroom, kind: str, row: WrappedKeyRow) -> object:
    context = _root_context(kind, row.key_id, row.version)
    return sr.ctx.keyring.kms.unwrap(row.wrapping_version, row.wrapped, context, "old copy")


def _versions(sr: Strongroom) -> list[int]:
    return [v.version for v in sr.ctx.keyring.kms.versions()]


def _epoch_leaves_only_the_newest(
    sr: Strongroom, tmp_path: Path, request: pytest.FixtureRequest, home: Settings
) -> None:
    world = _world(sr)
    backup = sr.backups.create()
    folder = Folder(sr.settings.backup_dir)
    old_keystore = backup.keystore_backup_id
    assert old_keystore is not None
    lingering = tmp_path / "lingering-keystore-backup"
    shutil.copytree(folder.backup_dir(KEYSTORE, old_keystore), lingering)
    old_copy = _root_wrapped(sr)
    for kind, row in old_copy:  # the copy opens today
        assert _unwrap(sr, kind, row)

    epoch = sr.shred_epochs.run(actor="test")

    assert epoch.previous_root_version == 1 and epoch.root_version == 2
    assert epoch.destroyed_versions == [1]
    assert _versions(sr) == [2]
    assert epoch.backups.rewrapped == [backup.id]
    assert epoch.backups.retired_keystore_backups == [old_keystore]
    # The old copies unwrap nothing: every key in them is wrapped by a destroyed version,
    # and so is the old keystore backup's own key.
    for kind, row in old_copy:
        with pytest.raises(KeyUnavailable):
            _unwrap(sr, kind, row)
    with pytest.raises(KeyUnavailable):
        parse((lingering / MANIFEST).read_bytes()).key(sr.ctx.keyring)
    assert not folder.backup_dir(KEYSTORE, old_keystore).exists()
    assert [b.id for b in sr.backups.list(KEYSTORE)] == [epoch.backups.keystore_backup_id]
    # The data backup was moved to the new version: it verifies and restores.
    assert [b.id for b in sr.backups.list(DATA)] == [backup.id]
    assert sr.backups.verify(backup.id).ok
    assert sr.records.get(world["ws"], world["project"], world["record"]).document["n"] == 1
    target = tmp_path / "restored"
    report = sr.backups.restore_home(backup.id, target, **target_dbs(request, home))
    assert report.keystore_backup_id == epoch.backups.keystore_backup_id
    with open_strongroom(target, clock=FixedClock()) as restored:
        got = restored.records.get(world["ws"], world["project"], world["record"])
        assert got.document == {"n": 1, "text": "kept"}

    again = sr.shred_epochs.run(actor="test")  # the next epoch: the same again
    assert again.destroyed_versions == [2] and _versions(sr) == [3]
    events = [e.action for e in sr.audit.events(None, 0, 1000)]
    assert events.count("key.shred_epoch") == 2


def test_an_epoch_destroys_old_root_versions_and_restores_from_the_newest_backup(
    sr: Strongroom, tmp_path: Path, request: pytest.FixtureRequest, home: Settings
) -> None:
    _epoch_leaves_only_the_newest(sr, tmp_path, request, home)
    assert not (sr.settings.kms_dir / "root-000001.key").exists()
    assert sorted(p.name for p in sr.settings.kms_dir.iterdir()) == ["root-000003.key"]


def test_a_kms_outage_while_backups_move_destroys_nothing(
    sr: Strongroom, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = _world(sr)
    backup = sr.backups.create()

    def down(*_args: object) -> tuple[int, bytes]:
        raise KmsFailure("the KMS cannot be reached")

    monkeypatch.setattr(sr.ctx.keyring, "rewrap_backup_key", down)
    with pytest.raises(KmsFailure):
        sr.shred_epochs.run(actor="test")
    assert _versions(sr) == [1, 2]  # rotated, nothing destroyed: the backup still opens
    assert sr.backups.verify(backup.id).ok
    monkeypatch.undo()

    finished = sr.shred_epochs.run(actor="test", rotate=False)
    assert finished.root_version == 2 and finished.destroyed_versions == [1]
    assert finished.backups.rewrapped == [backup.id]
    assert len(finished.backups.retired_keystore_backups) == 2  # the old one, the stopped run's
    assert sr.backups.verify(backup.id).ok
    sr.ctx.keyring.forget_all()
    assert sr.records.get(world["ws"], world["project"], world["record"]).document["n"] == 1


@pytest.mark.pkcs11
def test_an_epoch_destroys_the_old_versions_inside_a_softhsm_token(
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    backend: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    token = new_softhsm_token(tmp_path_factory)
    monkeypatch.setenv("STRONGROOM_PKCS11_PIN", token.pin)
    home = init_home(
        tmp_path / "home",
        kms="pkcs11",
        pkcs11_module=token.module_path,
        pkcs11_token_label=token.token_label,
        **backend,
    )
    with open_strongroom(settings=home, clock=FixedClock()) as sr:
        assert sr.ctx.keyring.kms.backend == "pkcs11"
        _epoch_leaves_only_the_newest(sr, tmp_path, request, home)


@pytest.mark.transit
def test_an_epoch_trims_the_old_versions_from_vault_transit(
    tmp_path: Path, transit: BaoServer, backend: dict[str, str], request: pytest.FixtureRequest
) -> None:
    key = transit.new_key()
    home = init_home(
        tmp_path / "home", kms="transit", transit_url=transit.url, transit_key=key, **backend
    )
    with open_strongroom(settings=home, clock=FixedClock()) as sr:
        _epoch_leaves_only_the_newest(sr, tmp_path, request, home)
    meta = transit.client().secrets.transit.read_key(key)["data"]
    assert meta["latest_version"] == 3
    assert meta["min_decryption_version"] == meta["min_available_version"] == 3


@pytest.fixture
def purged(sr: Strongroom) -> Iterator[dict[str, Any]]:
    """A workspace with a kept and a purged project, and copies of the purged project's
    wrapped data key and workspace key taken before the purge (what free pages, replicas
    and keystore backups hold)."""
    world = _world(sr)
    ws = world["ws"]
    doomed = sr.projects.create(ws, "Doomed").id
    record = sr.records.put(ws, doomed, "notes", {"secret": "gone"}).id
    with sr.ctx.keyring.keystore.read() as uow:
        data_key = uow.keys.data_key(doomed, 1)
        kek = uow.keys.workspace_key(ws)
    assert data_key is not None and kek is not None
    entry = sr.projects.delete(ws, doomed)
    sr.trash.purge_now(ws, entry.id)
    assert len(sr.worker.run_once().done) == 1
    yield {**world, "doomed": doomed, "doomed_record": record, "data_key": data_key, "kek": kek}


def _open_data_key_copy(sr: Strongroom, world: dict[str, Any]) -> bytes:
    """Open the copy of the purged data key with whatever the deployment still has."""
    ws, row = world["ws"], world["data_key"]

    def kek(key_id: str, version: int) -> Any:
        assert key_id == workspace_key_id(ws)
        return sr.ctx.keyring.workspace_key(ws, version)[1]

    binding = _data_key_binding(ws, world["doomed"], row.version)
    return envelope.open_sealed(row.wrapped, binding, kek)


def test_a_purged_projects_key_copy_is_unrecoverable_after_the_epoch(
    sr: Strongroom, purged: dict[str, Any], clock: FixedClock
) -> None:
    world = purged
    # Before the epoch the live workspace key still opens the copy: this is what the
    # epoch is for.
    assert len(_open_data_key_copy(sr, world)) == 32
    (entry,) = sr.certificates.list(world["ws"])
    certificate = sr.certificates.get(entry["certificate_id"])
    by = certificate["key_unrecoverable_everywhere_by"]
    deleted_at = entry["deleted_at"]
    window = timedelta(days=sr.settings.backup_purge_window_days)
    assert datetime.fromisoformat(by) <= datetime.fromisoformat(deleted_at) + window
    assert datetime.fromisoformat(by) >= datetime.fromisoformat(entry["purged_at"])
    assert sr.certificates.verify(json.dumps(certificate)).certificate_id == entry["certificate_id"]

    clock.advance(timedelta(minutes=5))
    epoch = sr.shred_epochs.run(actor="test")
    assert epoch.rotated_workspaces == [world["ws"]]
    sr.ctx.keyring.forget_all()
    with pytest.raises(KeyUnavailable):
        _open_data_key_copy(sr, world)
    with pytest.raises(KeyUnavailable):  # and the old workspace key's own copy is dead
        _unwrap(sr, "workspace", world["kek"])
    # The workspace lives on: its other project reads.
    got = sr.records.get(world["ws"], world["project"], world["record"]).document
    assert got == {"n": 1, "text": "kept"}
    again = sr.shred_epochs.run(actor="test")  # rotated already after that purge
    assert again.rotated_workspaces == []


@pytest.fixture
def quiet(sr: Strongroom) -> Strongroom:
    """The worker without the promise checks (not the point here)."""
    assert sr.worker.scheduled is not None
    sr.worker.scheduled.promises_due = lambda now: False
    sr.worker.scheduled.check_promises = lambda: None
    return sr


def test_the_worker_runs_epochs_on_the_period_and_finishes_a_stopped_one(
    quiet: Strongroom, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    sr = quiet
    sr.worker.run_once(scheduled=True)
    assert _versions(sr) == [1]
    clock.advance(timedelta(hours=23))
    sr.worker.run_once(scheduled=True)
    assert _versions(sr) == [1]
    clock.advance(timedelta(hours=1, minutes=1))
    sr.worker.run_once(scheduled=True)
    assert _versions(sr) == [2]  # the policy's day: a new version, the old one destroyed

    # The next epoch stops after its rotation (a power cut before the destroy)...
    keyring = sr.ctx.keyring

    def cut(version: int) -> list[int]:
        raise RuntimeError("power cut")

    monkeypatch.setattr(keyring, "destroy_root_versions_before", cut)
    clock.advance(timedelta(days=1, minutes=1))
    sr.worker.run_once(scheduled=True)
    assert _versions(sr) == [2, 3]
    monkeypatch.undo()
    # ...and the next pass finishes it, without yet another version.
    clock.advance(timedelta(minutes=2))
    sr.worker.run_once(scheduled=True)
    assert _versions(sr) == [3]
    epochs = [e for e in sr.audit.events(None, 0, 1000) if e.action == "key.shred_epoch"]
    assert [e.subject["rotated"] for e in epochs] == [True, False]
    assert epochs[-1].subject["destroyed_versions"] == [2]


@pytest.mark.aws_kms
def test_on_aws_kms_the_certificate_waits_for_the_scheduled_deletion(
    tmp_path: Path, aws_kms: MotoKms, clock: FixedClock
) -> None:
    """AWS KMS only schedules a key's deletion (7 days): the certificate's date counts
    them, and still falls inside the backup window. KMS here is moto (no IAM, no
    signatures): what it shows is the key state Strongroom asked for."""
    alias = aws_kms.new_alias()
    home = init_home(
        tmp_path / "home",
        kms="aws-kms",
        aws_kms_key=alias,
        aws_kms_region="us-east-1",
        aws_kms_endpoint_url=aws_kms.url,
    )
    with open_strongroom(settings=home, clock=clock) as sr:
        world = _world(sr)
        doomed = sr.projects.create(world["ws"], "Doomed").id
        sr.records.put(world["ws"], doomed, "notes", {"secret": "gone"})
        sr.trash.purge_now(world["ws"], sr.projects.delete(world["ws"], doomed).id)
        assert len(sr.worker.run_once().done) == 1
        (entry,) = sr.certificates.list(world["ws"])
        certificate = sr.certificates.get(entry["certificate_id"])
        by = datetime.fromisoformat(certificate["key_unrecoverable_everywhere_by"])
        deleted_at = datetime.fromisoformat(entry["deleted_at"])
        purged_at = datetime.fromisoformat(entry["purged_at"])
        # the daily epoch (due a day after init at the latest), then AWS's 7-day wait
        assert purged_at + timedelta(days=7) <= by <= clock.now() + timedelta(days=8)
        assert by <= deleted_at + timedelta(days=home.backup_purge_window_days)

        client = aws_kms.client()
        old_key = client.describe_key(KeyId=f"{alias}/v000001")["KeyMetadata"]["KeyId"]
        clock.advance(timedelta(minutes=5))
        epoch = sr.shred_epochs.run(actor="test")
        assert epoch.destroyed_versions == [1] and _versions(sr) == [2]
        meta = client.describe_key(KeyId=old_key)["KeyMetadata"]
        assert meta["KeyState"] == "PendingDeletion"
        deletion = meta["DeletionDate"]
        assert deletion - datetime.now(UTC) > timedelta(days=6, hours=23)
        sr.ctx.keyring.forget_all()
        got = sr.records.get(world["ws"], world["project"], world["record"]).document
        assert got == {"n": 1, "text": "kept"}
