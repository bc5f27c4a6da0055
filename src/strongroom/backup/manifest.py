"""Backup manifests and the layout of the backup place: a folder (``backup_dir``) or an S3
bucket and prefix (``backup_url = "s3://bucket/prefix"``, backup/s3_place.py), laid out
the same way::

    BACKUP_DIR/
      .lock                         held while a backup is written or backups are expired
      pool/<shard>/<blob key>       file ciphertext as stored (already AES-256-GCM under its
                                    project key), shared by data backups: copied once
      data/<bkp id>/snapshot.sr     the data store, encrypted under the backup's key
      data/<bkp id>/manifest.json   written last (temp, fsync, rename): the backup exists
      keystore/<ksb id>/snapshot.sr the keystore (wrapped keys, ledger), encrypted
      keystore/<ksb id>/manifest.json

A manifest names every part with its size and the SHA-256 of its bytes on disk, holds
the backup's key wrapped by the root key (context names the backup id: root alone
restores it), and carries a seal: an AES-256-GCM object, under the backup key, whose
plaintext is the SHA-256 of the rest of the manifest. A manifest whose seal does not open
is not a backup (not listed, not restorable).
"""

from __future__ import annotations

import abc
import base64
import contextlib
import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from strongroom.backup.locking import folder_lock
from strongroom.crypto import envelope
from strongroom.crypto.envelope import Binding
from strongroom.crypto.keyring import Keyring
from strongroom.crypto.secret import SecretKey
from strongroom.errors import IntegrityFailure, StorageUnavailable, StrongroomError

#: STORED in every manifest: bump it and keep the old reader.
FORMAT = "strongroom.backup.v1"
DATA = "data"
KEYSTORE = "keystore"
#: The root-wrap context kind of each backup kind. STORED.
KEY_KINDS = {DATA: "backup", KEYSTORE: "keystore-backup"}
MANIFEST = "manifest.json"
SNAPSHOT = "snapshot.sr"
POOL = "pool"
KEY_VERSION = 1

#: A manifest lists parts, not data: anything larger was not written by Strongroom.
MAX_MANIFEST_BYTES = 16 * 1024 * 1024


def part_binding(backup_id: str, part: str) -> Binding:
    """Associated data of a backup part: a part moved to another backup fails."""
    return Binding("backup-part", "", backup_id, part)


def _seal_binding(backup_id: str, kind: str) -> Binding:
    return Binding("backup-manifest", "", backup_id, kind)


def _time(value: datetime) -> str:
    return value.isoformat()


@dataclass
class Part:
    name: str  # "snapshot" or "blob:<key>"
    path: str  # relative to the backup folder
    size: int
    sha256: str

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "path": self.path, "size": self.size, "sha256": self.sha256}


@dataclass
class Manifest:
    kind: str  # data | keystore
    id: str
    created_at: datetime
    expires_at: datetime
    backend: str  # sqlite | postgresql
    revision: str  # the schema revision of the snapshot
    root_version: int
    wrapped_key: bytes
    parts: list[Part]
    counts: dict[str, int]
    #: data backups: the keystore backup taken with it; blobs the snapshot names but that
    #: were gone when copied (purged meanwhile); bytes this backup added to the folder.
    keystore_backup_id: str | None = None
    missing_blobs: list[str] = field(default_factory=list)
    new_bytes: int = 0
    seal: bytes = b""

    @property
    def size(self) -> int:
        return sum(p.size for p in self.parts)

    @property
    def blob_parts(self) -> list[Part]:
        return [p for p in self.parts if p.name.startswith("blob:")]

    def expiry(self, retention_days: int) -> datetime:
        """Absolute expiry: the date written at creation, or sooner if retention was since
        shortened."""
        return min(self.expires_at, self.created_at + timedelta(days=retention_days))

    def body(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "kind": self.kind,
            "id": self.id,
            "created_at": _time(self.created_at),
            "expires_at": _time(self.expires_at),
            "backend": self.backend,
            "schema_revision": self.revision,
            "key": {
                "root_version": self.root_version,
                "wrapped": base64.b64encode(self.wrapped_key).decode(),
                "cipher": "AES-256-GCM",
            },
            "keystore_backup_id": self.keystore_backup_id,
            "counts": self.counts,
            "parts": [p.as_json() for p in self.parts],
            "missing_blobs": self.missing_blobs,
            "new_bytes": self.new_bytes,
            "size": self.size,
        }

    def digest(self) -> bytes:
        canonical = json.dumps(self.body(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).digest()

    def seal_with(self, key: SecretKey) -> None:
        self.seal = envelope.seal(
            key, self.id, KEY_VERSION, _seal_binding(self.id, self.kind), self.digest()
        )

    def key(self, keyring: Keyring) -> SecretKey:
        """The backup key, unwrapped by root; checks the seal with it."""
        key = keyring.backup_key(KEY_KINDS[self.kind], self.id, self.root_version, self.wrapped_key)
        opened = envelope.open_sealed(
            self.seal,
            _seal_binding(self.id, self.kind),
            lambda _k, _v: key,
            expected_key_id=self.id,
        )
        if opened != self.digest():
            raise IntegrityFailure(f"the manifest of backup {self.id} was altered", backup=self.id)
        return key

    def as_json(self) -> dict[str, Any]:
        return {**self.body(), "seal": base64.b64encode(self.seal).decode()}


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError("a text field is not text")
    return value


def _date(value: object) -> datetime:
    """A timezone-aware date (a naive one cannot be compared with the clock's)."""
    parsed = datetime.fromisoformat(_text(value))
    if parsed.utcoffset() is None:
        raise ValueError("a date without a timezone")
    return parsed


def _part(doc: dict[str, Any]) -> Part:
    return Part(_text(doc["name"]), _text(doc["path"]), int(doc["size"]), _text(doc["sha256"]))


def parse(raw: bytes) -> Manifest:
    """A manifest from its JSON; IntegrityFailure if it is not one, malformed in any field
    (its seal is checked by :meth:`Manifest.key`)."""
    try:
        doc = json.loads(raw)
        if doc.get("format") != FORMAT:
            raise ValueError("format")
        key = doc["key"]
        ks = doc.get("keystore_backup_id")
        return Manifest(
            kind=_text(doc["kind"]),
            id=_text(doc["id"]),
            created_at=_date(doc["created_at"]),
            expires_at=_date(doc["expires_at"]),
            backend=_text(doc["backend"]),
            revision=_text(doc["schema_revision"]),
            root_version=int(key["root_version"]),
            wrapped_key=base64.b64decode(_text(key["wrapped"]), validate=True),
            parts=[_part(p) for p in doc["parts"]],
            counts={_text(k): int(v) for k, v in doc["counts"].items()},
            keystore_backup_id=None if ks is None else _text(ks),
            missing_blobs=[_text(b) for b in doc.get("missing_blobs", [])],
            new_bytes=int(doc.get("new_bytes", 0)),
            seal=base64.b64decode(_text(doc["seal"]), validate=True),
        )
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as e:
        raise IntegrityFailure(f"not a backup manifest ({type(e).__name__})") from None


# the place ------------------------------------------------------------------------------
#: In the home: the backup place this deployment has written a backup to. A certificate
#: must not say "no backup holds it" because that folder is unmounted or gone.
BACKUPS_MADE = ".backups-made"


def mark_backups_made(home: Path, place: BackupPlace) -> None:
    place.mark_made()
    marker = home / BACKUPS_MADE
    if not marker.exists():
        fd = os.open(marker, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(place.identity() + "\n")


def require_reachable(home: Path, place: BackupPlace) -> None:
    """StorageUnavailable if backups were written to ``place`` and it cannot be read now
    (unmounted, removed, S3 down): what backups hold cannot be known, so nothing may
    claim it."""
    marker = home / BACKUPS_MADE
    if not marker.exists() or place.holds_backups():
        return
    if marker.read_text("utf-8").strip() == place.identity():
        raise StorageUnavailable(
            f"the backup place {place.where} holds no backups, yet backups were made there: "
            "is it unmounted? (the certificate waits until it can name the backups)"
        )


class PartWriter(Protocol):
    def write(self, data: bytes) -> object: ...


class BackupPlace(abc.ABC):
    """Where backups are kept: a folder (:class:`Folder`) or an S3 bucket and prefix
    (backup/s3_place.py). Objects are named by their path relative to the place
    (``data/<id>/manifest.json``); every write appears whole or not at all."""

    #: Where, for messages (a folder, or s3://bucket/prefix).
    where: str

    # primitives -------------------------------------------------------------------------
    @abc.abstractmethod
    def identity(self) -> str:
        """What BACKUPS_MADE records: the resolved folder, or the s3:// address."""

    @abc.abstractmethod
    def lock(self, *, exclusive: bool, wait: bool = True) -> AbstractContextManager[None]:
        """The place's lock (backup/locking.py): exclusive while a backup is written or
        backups are expired or moved; shared while read."""

    @abc.abstractmethod
    def children(self, folder: str) -> list[str]:
        """The names of the folders directly in ``folder`` (``data``: backup ids)."""

    @abc.abstractmethod
    def files(self, folder: str) -> list[tuple[str, float]]:
        """Every object under ``folder`` (any depth): (name, POSIX modification time)."""

    @abc.abstractmethod
    def exists(self, name: str) -> bool: ...

    @abc.abstractmethod
    def open(self, name: str) -> AbstractContextManager[BinaryIO]:
        """Read an object; FileNotFoundError if it is not there."""

    @abc.abstractmethod
    def writer(self, name: str) -> AbstractContextManager[PartWriter]:
        """Write an object: durable and visible on clean exit only, nothing left on an
        exception."""

    @abc.abstractmethod
    def delete(self, name: str) -> None:
        """Delete one object (for good: no copy or old version stays); missing is fine."""

    @abc.abstractmethod
    def delete_folder(self, folder: str) -> None:
        """Delete everything under ``folder``."""

    @abc.abstractmethod
    def holds_backups(self) -> bool:
        """Whether any data backup's folder is there (False if unmounted or emptied)."""

    @abc.abstractmethod
    def remove_partials(self) -> None:
        """Drop what a killed writer left (temp files, unfinished uploads). Call with the
        exclusive lock held."""

    def mark_made(self) -> None:  # noqa: B027 - a folder's data/ stays when it empties
        """Leave a sign that backups were made here, which outlives every backup (what
        :meth:`holds_backups` looks for once all have expired)."""

    def after_pool_collected(self) -> None:  # noqa: B027 - most places have nothing to tidy
        """Tidy up after pool blobs were deleted (a folder removes empty shards)."""

    # names ------------------------------------------------------------------------------
    def backup_name(self, kind: str, backup_id: str, leaf: str = "") -> str:
        return f"{kind}/{backup_id}/{leaf}" if leaf else f"{kind}/{backup_id}"

    def manifest_name(self, kind: str, backup_id: str) -> str:
        return self.backup_name(kind, backup_id, MANIFEST)

    def pool_relative(self, blob_key: str) -> str:
        shard = blob_key.split("_", 1)[-1][:2]
        return f"{POOL}/{shard}/{blob_key}"

    def part_name(self, manifest: Manifest, part: Part) -> str:
        """Where a part lives, derived from its name and the backup, never taken from the
        manifest's ``path``: IntegrityFailure if that path says otherwise or the place
        would be outside the backup place."""
        if part.name == "snapshot":
            name: str | None = self.backup_name(manifest.kind, manifest.id, SNAPSHOT)
        elif part.name.startswith("blob:") and _plain(part.name.removeprefix("blob:")):
            name = self.pool_relative(part.name.removeprefix("blob:"))
        else:
            name = None
        if name is None or part.path != name:
            raise IntegrityFailure(
                f"part {part.name[:80]!r} of backup {manifest.id} is not where a part belongs",
                backup=manifest.id,
            )
        return name

    # backups ----------------------------------------------------------------------------
    def ids(self, kind: str) -> list[str]:
        return sorted(self.children(kind))

    def complete(self, kind: str, backup_id: str) -> bool:
        return self.exists(self.manifest_name(kind, backup_id))

    def read_manifest(self, kind: str, backup_id: str) -> Manifest:
        try:
            with self.open(self.manifest_name(kind, backup_id)) as raw_file:
                raw = raw_file.read(MAX_MANIFEST_BYTES + 1)
        except FileNotFoundError:
            raise IntegrityFailure(
                f"backup {backup_id} has no manifest: it never completed", backup=backup_id
            ) from None
        if len(raw) > MAX_MANIFEST_BYTES:
            raise IntegrityFailure(f"the manifest of backup {backup_id} is oversized")
        manifest = parse(raw)
        if manifest.id != backup_id or manifest.kind != kind:
            raise IntegrityFailure(f"the manifest of backup {backup_id} names another backup")
        return manifest

    def manifests(self, kind: str, keyring: Keyring | None = None) -> list[Manifest]:
        """Complete backups of ``kind``, oldest first; with ``keyring``, only those whose
        manifest seal verifies."""
        found = []
        for backup_id in self.ids(kind):
            try:
                manifest = self.read_manifest(kind, backup_id)
                if keyring is not None:
                    manifest.key(keyring)
            except StrongroomError:
                continue
            found.append(manifest)
        return sorted(found, key=lambda m: (m.created_at, m.id))

    def write_manifest(self, manifest: Manifest) -> str:
        """Atomically (the place's writer): until then the backup does not exist."""
        name = self.manifest_name(manifest.kind, manifest.id)
        data = json.dumps(manifest.as_json(), indent=1, sort_keys=True).encode() + b"\n"
        with self.writer(name) as out:
            out.write(data)
        return name

    def delete_backup(self, kind: str, backup_id: str) -> None:
        """The manifest first (from then on it is not a backup), then its parts."""
        self.delete(self.manifest_name(kind, backup_id))
        self.delete_folder(self.backup_name(kind, backup_id))

    def newest_write(self, kind: str, backup_id: str) -> float | None:
        """The newest modification time of a backup's objects (None: it has none)."""
        stamps = [stamp for _, stamp in self.files(self.backup_name(kind, backup_id))]
        return max(stamps, default=None)


class Folder(BackupPlace):
    """A backup folder on a file system: fsync before every rename, flock for the lock."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.where = str(self.root)

    def __repr__(self) -> str:
        return f"backup.Folder({str(self.root)!r})"

    def identity(self) -> str:
        return str(self.root.resolve())

    def lock(self, *, exclusive: bool, wait: bool = True) -> AbstractContextManager[None]:
        return folder_lock(self.root, exclusive=exclusive, wait=wait)

    def kind_dir(self, kind: str) -> Path:
        return self.root / kind

    def backup_dir(self, kind: str, backup_id: str) -> Path:
        return self.root / kind / backup_id

    def pool_path(self, blob_key: str) -> Path:
        return self.root / self.pool_relative(blob_key)

    def part_path(self, manifest: Manifest, part: Part) -> Path:
        return self.root / self.part_name(manifest, part)

    def children(self, folder: str) -> list[str]:
        path = self.root / folder
        if not path.is_dir():
            return []
        return [p.name for p in path.iterdir() if p.is_dir()]

    def files(self, folder: str) -> list[tuple[str, float]]:
        path = self.root / folder
        if not path.is_dir():
            return []
        return [
            (str(p.relative_to(self.root)), p.stat().st_mtime)
            for p in path.rglob("*")
            if p.is_file()
        ]

    def exists(self, name: str) -> bool:
        return (self.root / name).exists()

    def open(self, name: str) -> AbstractContextManager[BinaryIO]:
        return open(self.root / name, "rb")

    @contextlib.contextmanager
    def writer(self, name: str) -> Iterator[PartWriter]:
        """Temp file, fsync, rename, fsync the folder."""
        final = self.root / name
        final.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temp = final.with_name(f".{final.name}.{os.getpid()}.partial")
        fd = os.open(temp, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
        try:
            with os.fdopen(fd, "wb") as out:
                yield out
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, final)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        fsync_dir(final.parent)

    def delete(self, name: str) -> None:
        path = self.root / name
        path.unlink(missing_ok=True)
        if path.parent.is_dir():
            fsync_dir(path.parent)

    def delete_folder(self, folder: str) -> None:
        path = self.root / folder
        shutil.rmtree(path, ignore_errors=True)
        if path.parent.is_dir():
            fsync_dir(path.parent)

    def holds_backups(self) -> bool:
        return self.kind_dir(DATA).is_dir()

    def remove_partials(self) -> None:
        for kind in (DATA, KEYSTORE, POOL):
            base = self.root / kind
            if base.is_dir():
                for partial in base.glob("*/.*.partial"):
                    partial.unlink(missing_ok=True)

    def after_pool_collected(self) -> None:
        pool = self.root / POOL
        if pool.is_dir():
            for shard in pool.iterdir():
                if shard.is_dir() and not any(shard.iterdir()):
                    os.rmdir(shard)


def _plain(blob_key: str) -> bool:
    """A blob key that names a file in its pool shard, and nothing else."""
    return (
        bool(blob_key)
        and blob_key not in (".", "..")
        and all(c.isascii() and (c.isalnum() or c in "_-.") for c in blob_key)
    )


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
