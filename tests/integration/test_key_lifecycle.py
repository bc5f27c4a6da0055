"""What review found: keys that must not be recreated, orphaned or kept alive too long."""

from __future__ import annotations

import io
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select

from strongroom import KeyUnavailable
from strongroom.bootstrap import Strongroom
from strongroom.clock import FixedClock
from strongroom.config import Settings
from strongroom.crypto.keyring import KEY_RECHECK_SECONDS
from strongroom.services import workspaces as workspaces_module
from strongroom.storage import keystore_tables as k
from strongroom.storage import tables as t


def _count(sr: Strongroom, table: object, keystore: bool = False) -> int:
    store = sr.ctx.keyring.keystore if keystore else sr.ctx.store
    with store.read() as uow:
        return int(uow.conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_a_lost_directory_key_is_unavailable_not_silently_replaced(sr: Strongroom) -> None:
    ws = sr.workspaces.create("Dir Co", "owner@dir.example")
    with sr.ctx.keyring.keystore.write() as uow:
        uow.conn.execute(delete(k.directory_keys))
        uow.commit()
    sr.ctx.keyring.forget_all()
    with pytest.raises(KeyUnavailable):
        sr.workspaces.members(ws.id)
    with pytest.raises(KeyUnavailable):
        sr.workspaces.create("Second", "owner@dir.example")
    assert _count(sr, k.directory_keys, keystore=True) == 0
    assert _count(sr, t.users) == 1


def test_a_failed_workspace_create_leaves_no_keys(
    sr: Strongroom, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> int:
        raise RuntimeError("data store failed mid-write")

    monkeypatch.setattr(workspaces_module.audit, "append", broken)
    with pytest.raises(RuntimeError):
        sr.workspaces.create("Doomed", "owner@doomed.example")
    assert _count(sr, k.workspace_keys, keystore=True) == 0
    assert _count(sr, k.data_keys, keystore=True) == 0
    assert _count(sr, t.workspaces) == 0


def test_concurrent_workspaces_for_one_new_owner_share_one_user(sr: Strongroom) -> None:
    errors: list[BaseException] = []

    def create(i: int) -> None:
        try:
            sr.workspaces.create(f"Co {i}", "same.owner@example.com")
        except BaseException as e:  # surfaced below
            errors.append(e)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert _count(sr, t.users) == 1
    assert _count(sr, t.workspaces) == 4
    assert _count(sr, k.workspace_keys, keystore=True) == 4


def test_derived_keys_expire_with_the_key_they_came_from(sr: Strongroom, clock: FixedClock) -> None:
    ws = sr.workspaces.create("Shred Co", "owner@shred.example")
    project = sr.projects.create(ws.id, "P")
    rid = sr.records.put(ws.id, project.id, "notes", {"n": 1}).id  # the data key is cached now
    ttl = sr.settings.key_cache_ttl_seconds
    clock.advance(timedelta(seconds=ttl - 1))
    # The first read, just before the data key's entry expires, caches the derived key.
    assert sr.records.get(ws.id, project.id, rid).document == {"n": 1}
    # Another process destroys the project key; this one never hears of it.
    with sr.ctx.keyring.keystore.write() as uow:
        uow.keys.delete_data_key(project.id)
        uow.commit()
    clock.advance(timedelta(seconds=2))  # past the TTL of the data key's cache entry
    with pytest.raises(KeyUnavailable):
        sr.records.get(ws.id, project.id, rid)


def test_a_key_destroyed_by_another_process_fails_here_within_the_recheck_bound(
    sr: Strongroom, clock: FixedClock
) -> None:
    """Many nodes: not the cache's TTL (minutes) but KEY_RECHECK_SECONDS bounds how long a
    key another node destroyed keeps working here, for the data key and derived keys."""
    ws = sr.workspaces.create("Nodes Co", "owner@nodes.example")
    project = sr.projects.create(ws.id, "P")
    rid = sr.records.put(ws.id, project.id, "notes", {"n": 1}).id
    assert sr.records.get(ws.id, project.id, rid).document == {"n": 1}  # both caches warm
    with sr.ctx.keyring.keystore.write() as uow:  # another process destroys the key
        uow.keys.delete_data_key(project.id)
        uow.commit()
    clock.advance(timedelta(seconds=KEY_RECHECK_SECONDS + 0.5))  # far inside the TTL
    assert sr.settings.key_cache_ttl_seconds > KEY_RECHECK_SECONDS + 0.5
    with pytest.raises(KeyUnavailable):
        sr.records.get(ws.id, project.id, rid)
    with pytest.raises(KeyUnavailable):
        sr.records.put(ws.id, project.id, "notes", {"n": 2})


def test_blob_files_are_owner_only(sr: Strongroom, home: Settings) -> None:
    ws = sr.workspaces.create("Blob Co", "owner@blob.example")
    project = sr.projects.create(ws.id, "P")
    stored = sr.files.put(ws.id, project.id, "a.bin", io.BytesIO(b"x" * 1000))
    blob = next(Path(home.blob_dir).rglob(stored.id))
    assert blob.stat().st_mode & 0o077 == 0
