"""One customer's data through the services on a home whose root key lives in a SoftHSM2
token, on SQLite and PostgreSQL: records and files written and read, root and workspace
keys rotated, a backup taken, a project purged (a ciphertext copy taken before the purge
no longer opens), and the backup restored into a new home on the same token, where the
purge still holds and everything else reads back.

python-pkcs11 with SoftHSM2 is not thread-safe: the tests here use the token from one
thread at a time, and the backend serialises its own calls."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from strongroom import init_home, open_strongroom
from strongroom.bootstrap import Strongroom
from strongroom.clock import FixedClock
from strongroom.crypto import envelope
from strongroom.errors import IntegrityFailure, KeyUnavailable, NotFound
from strongroom.services.records import record_binding
from strongroom.storage import tables as t
from tests.integration.test_backup import target_dbs
from tests.pkcs11_support import new_softhsm_token

pytestmark = pytest.mark.pkcs11


def _sealed(sr: Strongroom, record_id: str) -> bytes:
    with sr.ctx.store.read() as uow:
        sealed = uow.conn.execute(select(t.records.c.sealed).where(t.records.c.id == record_id))
        return bytes(sealed.scalar_one())


def _file(sr: Strongroom, ws: str, project: str, file_id: str) -> bytes:
    out = io.BytesIO()
    sr.files.read_into(ws, project, file_id, out.write)
    return out.getvalue()


def _world(sr: Strongroom) -> dict[str, Any]:
    ws = sr.workspaces.create("HSM Talent", "owner@hsm.example").id
    kept = sr.projects.create(ws, "Kept").id
    purged = sr.projects.create(ws, "Purged").id
    world: dict[str, Any] = {"ws": ws, "kept": kept, "purged": purged, "records": {}}
    for project in (kept, purged):
        for n in range(3):
            document = {"project": project, "n": n, "email": f"p{n}@hsm.example"}
            record = sr.records.put(ws, project, "people", document)
            world["records"][record.id] = (project, document)
    world["files"] = {
        sr.files.put(ws, project, f"{project}.bin", io.BytesIO(data)).id: (project, data)
        for project, data in ((kept, os.urandom(200_000)), (purged, os.urandom(70_000)))
    }
    return world


def _reads_back(sr: Strongroom, world: dict[str, Any], project: str) -> None:
    ws = world["ws"]
    for record_id, (where, document) in world["records"].items():
        if where == project:
            assert sr.records.get(ws, project, record_id).document == document
    for file_id, (where, data) in world["files"].items():
        if where == project:
            assert _file(sr, ws, project, file_id) == data


def test_custody_on_an_hsm_rotation_purge_backup_and_restore(
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
    assert not (tmp_path / "home" / "kms").exists()  # no root key outside the token
    clock = FixedClock()
    with open_strongroom(settings=home, clock=clock) as sr:
        assert sr.ctx.keyring.kms.backend == "pkcs11"
        world = _world(sr)
        ws, kept, purged = world["ws"], world["kept"], world["purged"]
        for project in (kept, purged):
            _reads_back(sr, world, project)

        assert sr.keys.rotate_root().root_version == 2
        sr.keys.rotate_workspace(ws)
        for project in (kept, purged):  # nothing re-encrypted, everything still opens
            _reads_back(sr, world, project)
        later = sr.records.put(ws, kept, "people", {"n": "after the rotations"}).id
        world["records"][later] = (kept, {"n": "after the rotations"})

        backup = sr.backups.create()
        assert sr.backups.verify(backup.id).ok
        doomed = next(r for r, (p, _d) in world["records"].items() if p == purged)
        copy = _sealed(sr, doomed)  # a copy of the ciphertext, as a backup or replica holds
        binding = record_binding(ws, purged, doomed)
        assert envelope.open_sealed(copy, binding, sr.ctx.keyring.lookup)

        entry = sr.projects.delete(ws, purged)
        sr.trash.purge_now(ws, entry.id)
        assert len(sr.worker.run_once().done) == 1
        with pytest.raises((KeyUnavailable, IntegrityFailure)):
            envelope.open_sealed(copy, binding, sr.ctx.keyring.lookup)
        with pytest.raises(NotFound):
            sr.projects.get(ws, purged)
        _reads_back(sr, world, kept)
        (certificate,) = sr.certificates.list(ws)
        assert certificate["subject_id"] == purged

        target = tmp_path / "restored"
        report = sr.backups.restore_home(backup.id, target, **target_dbs(request, home))
        assert report.replayed == {"project": 1}

    with open_strongroom(target, clock=clock) as restored:
        assert restored.ctx.keyring.kms.backend == "pkcs11"
        _reads_back(restored, world, kept)
        with pytest.raises(NotFound):
            restored.projects.get(ws, purged)
        with pytest.raises(KeyUnavailable):
            restored.ctx.keyring.data_key(purged)
        with pytest.raises((KeyUnavailable, IntegrityFailure)):
            envelope.open_sealed(copy, binding, restored.ctx.keyring.lookup)
        assert [c["subject_id"] for c in restored.certificates.list(ws)] == [purged]
        assert restored.audit.verify() > 0
        # The restored home goes on working under the token: a new root version, a write.
        assert restored.keys.rotate_root().root_version == 3
        fresh = restored.records.put(ws, kept, "people", {"n": "after the restore"}).id
        assert restored.records.get(ws, kept, fresh).document == {"n": "after the restore"}
