"""Backup manifests and the layout of the backup folder.

::

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

import base64
import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

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


# the folder ------------------------------------------------------------------------------
#: In the home: the backup folder this deployment has written a backup to. A certificate
#: must not say "no backup holds it" because that folder is unmounted or gone.
BACKUPS_MADE = ".backups-made"


def mark_backups_made(home: Path, folder: Folder) -> None:
    marker = home / BACKUPS_MADE
    if not marker.exists():
        fd = os.open(marker, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(str(folder.root.resolve()) + "\n")


def require_reachable(home: Path, folder: Folder) -> None:
    """StorageUnavailable if backups were written to ``folder`` and it cannot be read now
    (unmounted, removed): what backups hold cannot be known, so nothing may claim it."""
    marker = home / BACKUPS_MADE
    if not marker.exists() or folder.kind_dir(DATA).is_dir():
        return
    if marker.read_text("utf-8").strip() == str(folder.root.resolve()):
        raise StorageUnavailable(
            f"the backup folder {folder.root} holds no backups, yet backups were made there: "
            "is it unmounted? (the certificate waits until it can name the backups)"
        )


class Folder:
    """Paths of one backup folder."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"backup.Folder({str(self.root)!r})"

    def kind_dir(self, kind: str) -> Path:
        return self.root / kind

    def backup_dir(self, kind: str, backup_id: str) -> Path:
        return self.root / kind / backup_id

    def pool_path(self, blob_key: str) -> Path:
        shard = blob_key.split("_", 1)[-1][:2]
        return self.root / POOL / shard / blob_key

    def pool_relative(self, blob_key: str) -> str:
        return str(self.pool_path(blob_key).relative_to(self.root))

    def part_path(self, manifest: Manifest, part: Part) -> Path:
        """Where a part lives, derived from its name and the backup, never taken from the
        manifest's ``path``: IntegrityFailure if that path says otherwise or the place
        would be outside the backup folder."""
        if part.name == "snapshot":
            path = self.backup_dir(manifest.kind, manifest.id) / SNAPSHOT
        elif part.name.startswith("blob:") and _plain(part.name.removeprefix("blob:")):
            path = self.pool_path(part.name.removeprefix("blob:"))
        else:
            path = None
        if path is None or part.path != str(path.relative_to(self.root)):
            raise IntegrityFailure(
                f"part {part.name[:80]!r} of backup {manifest.id} is not where a part belongs",
                backup=manifest.id,
            )
        return path

    def ids(self, kind: str) -> list[str]:
        folder = self.kind_dir(kind)
        if not folder.is_dir():
            return []
        return sorted(p.name for p in folder.iterdir() if p.is_dir())

    def read_manifest(self, kind: str, backup_id: str) -> Manifest:
        path = self.backup_dir(kind, backup_id) / MANIFEST
        try:
            if path.stat().st_size > MAX_MANIFEST_BYTES:
                raise IntegrityFailure(f"the manifest of backup {backup_id} is oversized")
            raw = path.read_bytes()
        except FileNotFoundError:
            raise IntegrityFailure(
                f"backup {backup_id} has no manifest: it never completed", backup=backup_id
            ) from None
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

    def write_manifest(self, manifest: Manifest) -> Path:
        """Atomically: temp file, fsync, rename, fsync the folder."""
        folder = self.backup_dir(manifest.kind, manifest.id)
        final = folder / MANIFEST
        temp = folder / (MANIFEST + ".tmp")
        data = json.dumps(manifest.as_json(), indent=1, sort_keys=True).encode() + b"\n"
        fd = os.open(temp, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, final)
        fsync_dir(folder)
        return final


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
