"""The key hierarchy: root (KMS) → workspace key → data keys, with a bounded cache.

- The directory key (deployment-wide personal data: user emails) is wrapped by root.
- Each workspace has a workspace key (a key-encryption key, versioned, rotatable)
  wrapped by a root version, and a workspace data key (its own metadata and blind
  indexes) wrapped by the workspace key.
- Each project has a data key wrapped by its workspace key.

Rotation rewraps; it never re-encrypts data. Destroying a data key (or the workspace
key) makes everything sealed under it unreadable everywhere at once.

The keystore (its own database) is the keyring's alone: the deletion ledger, which lives
in the same database, is a service of its own (services/ledger.py).
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from strongroom.clock import Clock
from strongroom.crypto import envelope
from strongroom.crypto.cache import KeyCache
from strongroom.crypto.envelope import Binding
from strongroom.crypto.kms.base import RootKms, WrapSchemes, rewrap
from strongroom.crypto.secret import SecretKey
from strongroom.errors import Conflict, IntegrityFailure, KeyUnavailable
from strongroom.storage.rows import WrappedKeyRow
from strongroom.storage.unit_of_work import KeystoreStore, KeystoreUnitOfWork

DATA_KEY_VERSION = 1
DIRECTORY = "directory"
#: Seconds a cached data key is used without asking the keystore whether its row still
#: exists: a key destroyed by another process (another API node, a worker) stops working
#: here within this bound, not within the cache's TTL.
KEY_RECHECK_SECONDS = 1.0


def _root_context(kind: str, key_id: str, version: int) -> bytes:
    """Associated data of a root wrap. STORED: a change breaks every wrapped key."""
    return (
        b"strongroom/v1/root-wrap|"
        + kind.encode()
        + b"|"
        + key_id.encode()
        + struct.pack(">I", version)
    )


def _data_key_binding(workspace_id: str, key_id: str, version: int) -> Binding:
    return Binding("data-key", workspace_id, key_id, str(version))


def workspace_key_id(workspace_id: str) -> str:
    return "wsk:" + workspace_id


class KeyName(NamedTuple):
    """How an unwrapped key is named in the key cache."""

    kind: str  # "data" (a data or the directory key), "workspace", "signing"
    key_id: str
    version: int


#: The signing key's name in the cache: the newest version, whichever it is.
_SIGNING = KeyName("signing", "signing", 0)


def _cache_name(key_id: str, version: int) -> KeyName:
    """The unwrapped data (or directory) key ``key_id`` v``version``."""
    return KeyName("data", key_id, version)


def _kek_name(workspace_id: str, version: int) -> KeyName:
    """Workspace key ``workspace_id`` v``version``."""
    return KeyName("workspace", workspace_id, version)


@dataclass(frozen=True)
class WorkspaceKeyStatus:
    """What a workspace's admins may know of its keys: versions and counts, no bytes."""

    workspace_id: str
    workspace_key_version: int | None
    workspace_key_created_at: datetime | None
    root_version: int | None
    root_backend: str
    data_keys: int

    def as_json(self) -> dict[str, Any]:
        created = self.workspace_key_created_at
        return {
            "workspace_id": self.workspace_id,
            "workspace_key_version": self.workspace_key_version,
            "workspace_key_created_at": created.isoformat() if created else None,
            "root_version": self.root_version,
            "root_backend": self.root_backend,
            "data_keys": self.data_keys,
        }


@dataclass(frozen=True)
class KeyStatus:
    """The key hierarchy as operators see it: no key material."""

    root_backend: str
    for_development: bool
    current_root_version: int
    root_versions: tuple[tuple[int, str], ...]  # (version, state)
    keystore: dict[str, int]  # rows per kind of key
    workspace_keys_by_root_version: dict[int, int]
    cache_entries: int
    cache_hits: int
    cache_misses: int
    workspaces: int
    #: The wrapping scheme of each root version, where the backend has several (pkcs11).
    root_schemes: dict[int, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        root: dict[str, Any] = {
            "backend": self.root_backend,
            "for_development": self.for_development,
            "current_version": self.current_root_version,
            "versions": [{"version": v, "state": s} for v, s in self.root_versions],
        }
        if self.root_schemes:
            root["scheme"] = self.root_schemes.get(self.current_root_version)
            for entry in root["versions"]:
                entry["scheme"] = self.root_schemes.get(entry["version"])
        return {
            "root": root,
            "keystore": dict(self.keystore),
            "workspace_keys_by_root_version": {
                str(k): v for k, v in self.workspace_keys_by_root_version.items()
            },
            "cache": {
                "entries": self.cache_entries,
                "hits": self.cache_hits,
                "misses": self.cache_misses,
            },
            "workspaces": self.workspaces,
        }


@dataclass(frozen=True)
class RootRotation:
    """A root rotation: the versions before and after, and how many keys it rewrapped."""

    previous_root_version: int
    root_version: int
    rewrapped_keys: int

    def as_json(self) -> dict[str, Any]:
        return {
            "previous_root_version": self.previous_root_version,
            "root_version": self.root_version,
            "rewrapped_keys": self.rewrapped_keys,
        }


@dataclass(frozen=True)
class WorkspaceRotation:
    """A workspace key rotation: its versions, the data keys rewrapped, the key destroyed."""

    workspace_id: str
    previous_version: int
    version: int
    rewrapped_keys: int
    destroyed: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "workspace_id": self.workspace_id,
            "previous_version": self.previous_version,
            "version": self.version,
            "rewrapped_keys": self.rewrapped_keys,
            "destroyed": list(self.destroyed),
        }


class DerivedKeyCache:
    """Derived keys, each expiring with the cached key it was derived from; a hit is used
    only while ``still_exists`` says its data key does (a key shredded elsewhere stops
    working here within KEY_RECHECK_SECONDS, as its parent does)."""

    def __init__(
        self,
        parents: KeyCache[SecretKey],
        cache: KeyCache[AESGCM],
        still_exists: Callable[[str, int], bool] = lambda _key_id, _version: True,
    ) -> None:
        self.parents = parents
        self.cache = cache
        self.still_exists = still_exists

    def get(self, name: Hashable) -> AESGCM | None:
        aead = self.cache.get(name)
        # Named by crypto/envelope.py: (expected key id, header bytes before the nonce).
        named = isinstance(name, tuple) and isinstance(name[0], str)
        if aead is not None and named and not self.still_exists(name[0], DATA_KEY_VERSION):  # type: ignore[index]
            return None
        return aead

    def put(self, name: Hashable, aead: AESGCM, key_id: str, key_version: int) -> None:
        stamp = self.parents.stamp(_cache_name(key_id, key_version))
        if stamp is not None:  # parent not cached: do not cache what derives from it
            self.cache.put(name, aead, stamp)

    def forget_where(self, matches: Callable[[Hashable], bool]) -> None:
        self.cache.forget_where(matches)

    def clear(self) -> None:
        self.cache.clear()


class Keyring:
    def __init__(
        self, kms: RootKms, keystore: KeystoreStore, cache: KeyCache[SecretKey], clock: Clock
    ) -> None:
        self.kms = kms
        #: The keystore's units of work: the keyring's alone (tests reach in to tamper).
        self.keystore = keystore
        self.cache = cache
        #: Derived keys of recently read objects, bounded like the unwrapped-key cache.
        self.derived = DerivedKeyCache(
            cache, KeyCache(clock, cache.max_entries, cache.ttl_seconds), self._still_exists
        )
        self.clock = clock
        #: When each cached data key's row was last seen in the keystore (monotonic).
        self._seen: dict[tuple[str, int], float] = {}
        self._seen_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Keyring(kms={self.kms.backend}, cache={self.cache!r})"

    # creation -----------------------------------------------------------------------
    def create_workspace_keys(self, workspace_id: str, now: datetime) -> None:
        """A workspace key (v1) and the workspace data key, in one keystore transaction."""
        kek = SecretKey.generate(f"workspace-key {workspace_id} v1")
        root_version, wrapped = self.kms.wrap(kek, _root_context("workspace", workspace_id, 1))
        data_key = SecretKey.generate(f"data-key {workspace_id}")
        with self.keystore.write() as uow:
            uow.keys.add_workspace_key(
                WrappedKeyRow(workspace_id, 1, root_version, wrapped, workspace_id, now)
            )
            uow.keys.add_data_key(
                self._wrap_data_key(workspace_id, workspace_id, kek, 1, data_key, now)
            )
            uow.commit()
        self.cache.put(_kek_name(workspace_id, 1), kek)
        self.cache.put(_cache_name(workspace_id, DATA_KEY_VERSION), data_key)

    def create_project_key(self, workspace_id: str, project_id: str, now: datetime) -> None:
        data_key = SecretKey.generate(f"data-key {project_id}")
        with self.keystore.write() as uow:
            row = uow.keys.workspace_key(workspace_id, lock=True)  # no rotation in between
            if row is None:  # waited on a version a rotation destroyed: read the new one
                row = uow.keys.workspace_key(workspace_id, lock=True)
            version, kek = self._unwrap_workspace_key(workspace_id, row)
            uow.keys.add_data_key(
                self._wrap_data_key(workspace_id, project_id, kek, version, data_key, now)
            )
            uow.commit()
        self.cache.put(_cache_name(project_id, DATA_KEY_VERSION), data_key)

    def _wrap_data_key(
        self,
        workspace_id: str,
        key_id: str,
        kek: SecretKey,
        kek_version: int,
        data_key: SecretKey,
        now: datetime,
    ) -> WrappedKeyRow:
        sealed = envelope.seal(
            kek,
            workspace_key_id(workspace_id),
            kek_version,
            _data_key_binding(workspace_id, key_id, DATA_KEY_VERSION),
            data_key.reveal(),
        )
        return WrappedKeyRow(key_id, DATA_KEY_VERSION, kek_version, sealed, workspace_id, now)

    # lookup -------------------------------------------------------------------------
    def workspace_key(self, workspace_id: str, version: int | None = None) -> tuple[int, SecretKey]:
        if version is not None:
            cached = self.cache.get(_kek_name(workspace_id, version))
            if cached is not None:
                return version, cached
        with self.keystore.read() as uow:
            row = uow.keys.workspace_key(workspace_id, version)
        return self._unwrap_workspace_key(workspace_id, row)

    def _unwrap_workspace_key(
        self, workspace_id: str, row: WrappedKeyRow | None
    ) -> tuple[int, SecretKey]:
        if row is None:
            raise KeyUnavailable(
                f"the workspace key of {workspace_id} is destroyed or missing",
                workspace_id=workspace_id,
            )
        cached = self.cache.get(_kek_name(workspace_id, row.version))
        if cached is not None:
            return row.version, cached
        key = self.kms.unwrap(
            row.wrapping_version,
            row.wrapped,
            _root_context("workspace", workspace_id, row.version),
            f"workspace-key {workspace_id} v{row.version}",
        )
        self.cache.put(_kek_name(workspace_id, row.version), key)
        return row.version, key

    def data_key(self, key_id: str, version: int = DATA_KEY_VERSION) -> SecretKey:
        """The data key ``key_id`` (a project id, or a workspace id for its own data key)."""
        cached = self.cache.get(_cache_name(key_id, version))
        if cached is not None and self._still_exists(key_id, version):
            return cached
        with self.keystore.read() as uow:
            row = uow.keys.data_key(key_id, version)
        if row is None or row.workspace_id is None:
            self.forget(key_id)
            raise KeyUnavailable(f"the data key of {key_id} is destroyed or missing", key_id=key_id)
        workspace_id = row.workspace_id

        def kek_for(header_key_id: str, kek_version: int) -> SecretKey:
            if (
                header_key_id != workspace_key_id(workspace_id)
                or kek_version != row.wrapping_version
            ):
                raise IntegrityFailure(f"wrapped data key {key_id} names the wrong workspace key")
            return self.workspace_key(workspace_id, kek_version)[1]

        material = envelope.open_sealed(
            row.wrapped, _data_key_binding(workspace_id, key_id, version), kek_for
        )
        key = SecretKey(material, f"data-key {key_id}")
        self.cache.put(_cache_name(key_id, version), key)
        self._saw(key_id, version, self.clock.monotonic())
        return key

    def _saw(self, key_id: str, version: int, when: float) -> None:
        with self._seen_lock:
            if len(self._seen) >= 2 * self.cache.max_entries:
                self._seen.clear()  # bounded: the forgotten are only asked again
            self._seen[(key_id, version)] = when

    def _still_exists(self, key_id: str, version: int) -> bool:
        """Whether data key ``key_id`` still exists: asked of the keystore at most once
        per KEY_RECHECK_SECONDS per key; a destroyed one is forgotten here too."""
        if key_id == DIRECTORY:
            return True
        now = self.clock.monotonic()
        seen = self._seen.get((key_id, version))
        if seen is not None and now - seen <= KEY_RECHECK_SECONDS:
            return True
        with self.keystore.read() as uow:
            exists = uow.keys.data_key(key_id, version) is not None
        if exists:
            self._saw(key_id, version, now)
            return True
        self.forget(key_id)
        return False

    def lookup(self, key_id: str, version: int) -> SecretKey:
        """Key lookup for envelope.open_sealed: the key id in a header is a data key id."""
        if key_id == DIRECTORY:
            return self.directory_key(version)[1]
        return self.data_key(key_id, version)

    def directory_key(self, version: int | None = None) -> tuple[int, SecretKey]:
        """The directory key (made once, by ``init``). A missing row is KeyUnavailable, never
        a new key: a keystore that lost it must not silently start a second directory."""
        if version is not None:
            cached = self.cache.get(_cache_name(DIRECTORY, version))
            if cached is not None:
                return version, cached
        with self.keystore.read() as uow:
            row = uow.keys.directory_key()
        if row is None:
            raise KeyUnavailable("the directory key is missing from the keystore")
        if version is not None and row.version != version:
            raise KeyUnavailable(f"directory key version {version} is missing")
        key = self.kms.unwrap(
            row.wrapping_version,
            row.wrapped,
            _root_context("directory", DIRECTORY, row.version),
            "directory-key",
        )
        self.cache.put(_cache_name(DIRECTORY, row.version), key)
        return row.version, key

    def create_directory_key(self) -> None:
        """Make the directory key of a new deployment; refuse if one exists."""
        key = SecretKey.generate("directory-key")
        root_version, wrapped = self.kms.wrap(key, _root_context("directory", DIRECTORY, 1))
        with self.keystore.write() as uow:
            if uow.keys.directory_key() is not None:
                raise Conflict("the keystore already holds a directory key")
            uow.keys.add_directory_key(
                WrappedKeyRow(DIRECTORY, 1, root_version, wrapped, None, self.clock.now())
            )
            uow.commit()
        self.cache.put(_cache_name(DIRECTORY, 1), key)

    def discard_unused(self, workspace_id: str, key_id: str | None = None) -> None:
        """Delete keys just made for a workspace (or one data key) whose data-store rows
        were never written: a failed create leaves no orphan keys behind."""
        with self.keystore.write() as uow:
            if key_id is None:
                for row in uow.keys.data_keys_of(workspace_id):
                    uow.keys.delete_data_key(row.key_id)
                uow.keys.delete_workspace_key(workspace_id)
            else:
                uow.keys.delete_data_key(key_id)
            uow.commit()
        self.forget(key_id or workspace_id)

    # crypto-shredding ----------------------------------------------------------------
    def data_key_names(self, key_id: str) -> list[str]:
        """The versions of data key ``key_id``, as "key id vN" (what destroying it takes)."""
        with self.keystore.read() as uow:
            return [f"{key_id} v{v}" for v in uow.keys.data_key_versions(key_id)]

    def workspace_key_names(self, workspace_id: str) -> list[str]:
        """The workspace key's versions and every data key of the workspace, as "key id vN"
        (what destroying the workspace's keys takes)."""
        with self.keystore.read() as uow:
            versions = uow.keys.workspace_key_versions(workspace_id)
            data = uow.keys.data_keys_of(workspace_id)
        return [f"{workspace_key_id(workspace_id)} v{v}" for v in versions] + [
            f"{r.key_id} v{r.version}" for r in data
        ]

    def destroy_data_key(self, key_id: str) -> None:
        """Destroy every version of data key ``key_id`` (a project's): whatever was sealed
        under it, in any copy, can no longer be read. Idempotent (name what it destroys
        first: :meth:`data_key_names`)."""
        with self.keystore.write() as uow:
            uow.keys.delete_data_key(key_id)
            uow.commit()
        self.forget(key_id)
        self.keystore.checkpoint()

    def destroy_workspace_keys(self, workspace_id: str) -> None:
        """Destroy the workspace key (every version) and every data key wrapped by it.
        Idempotent (name what it destroys first: :meth:`workspace_key_names`)."""
        with self.keystore.write() as uow:
            data = uow.keys.data_keys_of(workspace_id)
            kek_versions = uow.keys.workspace_key_versions(workspace_id)
            uow.keys.delete_data_keys_of(workspace_id)
            uow.keys.delete_workspace_key(workspace_id)
            uow.commit()
        for row in data:
            self.forget(row.key_id)
        for version in kek_versions:
            self.cache.forget(_kek_name(workspace_id, version))
        self.keystore.checkpoint()

    # backup keys ----------------------------------------------------------------------
    def new_backup_key(self, kind: str, backup_id: str) -> tuple[SecretKey, int, bytes]:
        """A fresh key for one backup (``kind`` "backup" or "keystore-backup"), wrapped by
        root with a context naming the backup: (key, root version, wrapped key). The
        wrapped key travels in the backup's manifest, so root alone restores it."""
        key = SecretKey.generate(f"{kind} {backup_id}")
        version, wrapped = self.kms.wrap(key, _root_context(kind, backup_id, 1))
        return key, version, wrapped

    def backup_key(self, kind: str, backup_id: str, root_version: int, wrapped: bytes) -> SecretKey:
        """Unwrap the key of backup ``backup_id``; IntegrityFailure if it was altered or
        belongs to another backup."""
        return self.kms.unwrap(
            root_version, wrapped, _root_context(kind, backup_id, 1), f"{kind} {backup_id}"
        )

    # the signing key ----------------------------------------------------------------
    def signing_key(self) -> Ed25519PrivateKey:
        """The deployment's Ed25519 signing key (deletion certificates), wrapped by root;
        made on first use."""
        cached = self.cache.get(_SIGNING)
        if cached is None:
            try:
                cached = self._load_or_make_signing_key()
            except Conflict:  # another process made it first (PostgreSQL): use theirs
                cached = self._load_or_make_signing_key()
            self.cache.put(_SIGNING, cached)
        return Ed25519PrivateKey.from_private_bytes(cached.reveal())

    def _load_or_make_signing_key(self) -> SecretKey:
        with self.keystore.write() as uow:
            found = uow.keys.signing_key(lock=True)
            if found is None:
                cached = SecretKey.generate("signing-key")
                private = Ed25519PrivateKey.from_private_bytes(cached.reveal())
                root_version, wrapped = self.kms.wrap(
                    cached, _root_context("signing", "signing", 1)
                )
                uow.keys.add_signing_key(
                    WrappedKeyRow("signing", 1, root_version, wrapped, None, self.clock.now()),
                    private.public_key().public_bytes_raw(),
                )
                uow.commit()
                return cached
            row, _public = found
            return self.kms.unwrap(
                row.wrapping_version,
                row.wrapped,
                _root_context("signing", "signing", row.version),
                "signing-key",
            )

    def public_keys(self) -> list[bytes]:
        """Every signing public key of this deployment (raw Ed25519 bytes)."""
        with self.keystore.read() as uow:
            return uow.keys.public_keys()

    def forget(self, key_id: str) -> None:
        """Drop every cached key of ``key_id`` (a data key about to be destroyed)."""
        self.cache.forget_where(lambda name: isinstance(name, KeyName) and name.key_id == key_id)
        with self._seen_lock:
            for seen in [s for s in self._seen if s[0] == key_id]:
                del self._seen[seen]
        # Derived entries are named by crypto/envelope.py: (expected key id, header bytes
        # before the nonce).
        self.derived.forget_where(lambda name: isinstance(name, tuple) and name[0] == key_id)

    def forget_all(self) -> None:
        self.cache.clear()
        self.derived.clear()
        with self._seen_lock:
            self._seen.clear()

    def close(self) -> None:
        """Forget every cached key, close the KMS session and the keystore's connections."""
        self.forget_all()
        self.kms.close()
        self.keystore.dispose()

    # rotation -----------------------------------------------------------------------
    def rotate_root(self) -> RootRotation:
        """A new root version; every workspace and directory key is rewrapped under it.

        The directory key row is locked first, so rotations of several processes queue
        instead of each making a version of the same number."""
        with self.keystore.write() as uow:
            uow.keys.directory_key(lock=True)
            old = self.kms.current_version()
            new = self.kms.rotate()
            rewrapped = self._rewrap_rows(uow, new)
            uow.commit()
        return RootRotation(old, new, rewrapped)

    def rewrap_to_current(self) -> int:
        """Rewrap every keystore key still wrapped by an older root version (a key made
        by a process that wrapped during a rotation, or a rotation that crashed after its
        commit); returns how many. What a shred epoch does before destroying a version."""
        with self.keystore.write() as uow:
            uow.keys.directory_key(lock=True)
            rewrapped = self._rewrap_rows(uow, self.kms.current_version())
            uow.commit()
        return rewrapped

    def _rewrap_rows(self, uow: KeystoreUnitOfWork, current: int) -> int:
        """Rewrap, in ``uow``, every root-wrapped row not yet under version ``current``."""
        rewrapped = 0
        for row in uow.keys.workspace_keys():
            if row.wrapping_version == current:
                continue
            version, wrapped = rewrap(
                self.kms,
                row.wrapping_version,
                row.wrapped,
                _root_context("workspace", row.key_id, row.version),
                f"workspace-key {row.key_id} v{row.version}",
            )
            uow.keys.rewrap_workspace_key(row.key_id, row.version, version, wrapped)
            rewrapped += 1
        directory = uow.keys.directory_key()
        if directory is not None and directory.wrapping_version != current:
            context = _root_context("directory", DIRECTORY, directory.version)
            version, wrapped = rewrap(
                self.kms, directory.wrapping_version, directory.wrapped, context, "directory-key"
            )
            uow.keys.rewrap_directory_key(directory.version, version, wrapped)
            rewrapped += 1
        signing = uow.keys.signing_key()
        if signing is not None and signing[0].wrapping_version != current:
            row, _public = signing
            context = _root_context("signing", "signing", row.version)
            version, wrapped = rewrap(
                self.kms, row.wrapping_version, row.wrapped, context, "signing-key"
            )
            uow.keys.rewrap_signing_key(row.version, version, wrapped)
            rewrapped += 1
        return rewrapped

    def root_versions_in_use(self) -> set[int]:
        """The root versions the keystore's keys are wrapped by."""
        with self.keystore.read() as uow:
            used = {row.wrapping_version for row in uow.keys.workspace_keys()}
            directory = uow.keys.directory_key()
            signing = uow.keys.signing_key()
        if directory is not None:
            used.add(directory.wrapping_version)
        if signing is not None:
            used.add(signing[0].wrapping_version)
        return used

    def destroy_root_versions_before(self, version: int) -> list[int]:
        """Destroy every root version older than ``version`` inside the KMS (newest
        first: Transit's destroy of a version takes the older ones with it). Refuses
        (Conflict) while a keystore key is still wrapped by one of them. Returns the
        versions that existed and are now destroyed; idempotent."""
        existing = [v.version for v in self.kms.versions()]
        older = sorted((v for v in existing if v < version), reverse=True)
        still_needed = sorted(v for v in self.root_versions_in_use() if v < version)
        if still_needed:
            raise Conflict(
                f"keystore keys are still wrapped by root versions {still_needed}; "
                "rewrap them before destroying"
            )
        for old in older:
            self.kms.destroy_version(old)
        return sorted(older)

    def rewrap_backup_key(
        self, kind: str, backup_id: str, root_version: int, wrapped: bytes
    ) -> tuple[int, bytes]:
        """A backup's key wrapped by the current root version instead (``kind`` as in
        :meth:`new_backup_key`): the backup stays restorable once its version is gone."""
        context = _root_context(kind, backup_id, 1)
        return rewrap(self.kms, root_version, wrapped, context, f"{kind} {backup_id}")

    def rotate_workspace(self, workspace_id: str, now: datetime) -> WorkspaceRotation:
        """A new workspace key version; the workspace's data keys are rewrapped under it and
        the old version is destroyed."""
        with self.keystore.write() as uow:
            current = uow.keys.workspace_key(workspace_id, lock=True)
            old_version, old_key = self._unwrap_workspace_key(workspace_id, current)
            new_version = old_version + 1
            new_key = SecretKey.generate(f"workspace-key {workspace_id} v{new_version}")
            root_version, wrapped = self.kms.wrap(
                new_key, _root_context("workspace", workspace_id, new_version)
            )
            uow.keys.add_workspace_key(
                WrappedKeyRow(workspace_id, new_version, root_version, wrapped, workspace_id, now)
            )
            rows = uow.keys.data_keys_of(workspace_id)
            for row in rows:
                material = envelope.open_sealed(
                    row.wrapped,
                    _data_key_binding(workspace_id, row.key_id, row.version),
                    lambda _id, _v: old_key,
                )
                sealed = envelope.seal(
                    new_key,
                    workspace_key_id(workspace_id),
                    new_version,
                    _data_key_binding(workspace_id, row.key_id, row.version),
                    material,
                )
                uow.keys.rewrap_data_key(row.key_id, row.version, new_version, sealed)
            uow.keys.delete_workspace_key(workspace_id, old_version)
            uow.commit()
        self.cache.forget(_kek_name(workspace_id, old_version))
        self.cache.put(_kek_name(workspace_id, new_version), new_key)
        self.keystore.checkpoint()
        return WorkspaceRotation(
            workspace_id,
            old_version,
            new_version,
            len(rows),
            (f"{workspace_key_id(workspace_id)} v{old_version}",),
        )

    # status -------------------------------------------------------------------------
    def workspace_status(self, workspace_id: str) -> WorkspaceKeyStatus:
        """A workspace's keys as its admins may know them: versions and counts, no bytes."""
        with self.keystore.read() as uow:
            key = uow.keys.workspace_key(workspace_id)
            data_keys = uow.keys.data_keys_of(workspace_id)
        return WorkspaceKeyStatus(
            workspace_id=workspace_id,
            workspace_key_version=key.version if key else None,
            workspace_key_created_at=key.created_at if key else None,
            root_version=key.wrapping_version if key else None,
            root_backend=self.kms.backend,
            data_keys=len(data_keys),
        )

    def status(self, workspaces: int) -> KeyStatus:
        """The root key's versions, the keystore's counts and the key cache (``workspaces``:
        how many the data store holds)."""
        with self.keystore.read() as uow:
            counts = uow.keys.counts()
            by_root: dict[int, int] = {}
            for row in uow.keys.workspace_keys():
                by_root[row.wrapping_version] = by_root.get(row.wrapping_version, 0) + 1
        return KeyStatus(
            root_backend=self.kms.backend,
            for_development=self.kms.for_development,
            current_root_version=self.kms.current_version(),
            root_versions=tuple((v.version, v.state) for v in self.kms.versions()),
            keystore=dict(counts),
            workspace_keys_by_root_version=dict(sorted(by_root.items())),
            cache_entries=len(self.cache),
            cache_hits=self.cache.hits,
            cache_misses=self.cache.misses,
            workspaces=workspaces,
            root_schemes=self.kms.schemes() if isinstance(self.kms, WrapSchemes) else {},
        )
