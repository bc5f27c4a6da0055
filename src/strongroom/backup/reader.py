"""Reading backups back: finding one by id, checking every part, decrypting a snapshot.

``verify`` reads every byte of every part: the SHA-256 of each against the manifest, and
the snapshot decrypted segment by segment (each authenticated). Blob parts are file
ciphertext under project keys, some destroyed by purges on purpose: their SHA-256 is
checked, not their plaintext.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any, BinaryIO

from strongroom.backup.manifest import DATA, KEYSTORE, BackupPlace, Manifest, Part, part_binding
from strongroom.crypto import segments
from strongroom.crypto.keyring import Keyring
from strongroom.crypto.secret import SecretKey
from strongroom.errors import IntegrityFailure, InvalidInput, NotFound, StrongroomError

CHUNK = 1024 * 1024


def kind_of(backup_id: str) -> str:
    if backup_id.startswith("bkp_"):
        return DATA
    if backup_id.startswith("ksb_"):
        return KEYSTORE
    raise InvalidInput(f"not a backup id: {backup_id[:40]!r}")


def open_backup(
    folder: BackupPlace, keyring: Keyring, backup_id: str
) -> tuple[Manifest, SecretKey]:
    """The manifest of a complete backup and its key (the seal checked)."""
    kind = kind_of(backup_id)
    if backup_id not in folder.ids(kind):
        raise NotFound(f"no backup {backup_id} in {folder.where}", backup=backup_id)
    manifest = folder.read_manifest(kind, backup_id)
    return manifest, manifest.key(keyring)


class HashingReader:
    """A reader that hashes what passes through it."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.digest.update(data)
        self.size += len(data)
        return data


def _check_digest(reader: HashingReader, part: Part, backup_id: str) -> None:
    while reader.read(CHUNK):  # whatever follows the stream's last segment
        pass
    if (reader.digest.hexdigest(), reader.size) != (part.sha256, part.size):
        raise IntegrityFailure(
            f"part {part.name} of backup {backup_id} does not match its SHA-256",
            backup=backup_id,
            part=part.name,
        )


def decrypt_snapshot(
    folder: BackupPlace,
    manifest: Manifest,
    key: SecretKey,
    write: Callable[[bytes], object],
    on_progress: Callable[[int], None] | None = None,
) -> int:
    """Decrypt the snapshot part into ``write``, checking its SHA-256 too. On
    IntegrityFailure what was written must be discarded (snapshots.loader does)."""
    part = manifest.parts[0]
    with _open_part(folder, manifest, part) as raw:
        reader = HashingReader(raw)
        try:
            size = segments.decrypt_stream(
                reader,  # type: ignore[arg-type]
                write,
                part_binding(manifest.id, part.name),
                lambda _k, _v: key,
                on_progress,
            )
        except IntegrityFailure as e:
            raise IntegrityFailure(
                f"part {part.name} of backup {manifest.id}: {e}", part=part.name
            ) from None
        _check_digest(reader, part, manifest.id)
    return size


@contextlib.contextmanager
def _open_part(folder: BackupPlace, manifest: Manifest, part: Part) -> Iterator[BinaryIO]:
    with contextlib.ExitStack() as stack:
        try:
            raw = stack.enter_context(folder.open(folder.part_name(manifest, part)))
        except FileNotFoundError:
            raise IntegrityFailure(
                f"part {part.name} of backup {manifest.id} is missing", part=part.name
            ) from None
        yield raw


def copy_checked(
    folder: BackupPlace, manifest: Manifest, part: Part, write: Callable[[bytes], object]
) -> int:
    """Copy a pool blob into ``write``, checking its SHA-256 (IntegrityFailure at the end:
    the caller discards what was written)."""
    with _open_part(folder, manifest, part) as raw:
        reader = HashingReader(raw)
        while chunk := reader.read(CHUNK):
            write(chunk)
        _check_digest(reader, part, manifest.id)
    return reader.size


@dataclass
class VerifyReport:
    backup_id: str
    kind: str
    parts: int = 0
    bytes: int = 0
    bad_parts: list[dict[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.bad_parts

    def as_json(self) -> dict[str, Any]:
        return {
            "backup_id": self.backup_id,
            "kind": self.kind,
            "ok": self.ok,
            "parts_checked": self.parts,
            "bytes_checked": self.bytes,
            "bad_parts": self.bad_parts,
        }


def verify(folder: BackupPlace, keyring: Keyring, backup_id: str) -> VerifyReport:
    """Check every part of a backup (and of its keystore backup, if it still exists)."""
    report = VerifyReport(backup_id, kind_of(backup_id))
    _verify_one(folder, keyring, backup_id, report, prefix="")
    if report.kind == DATA and report.ok:
        manifest = folder.read_manifest(DATA, backup_id)
        ks = manifest.keystore_backup_id
        if ks and ks in folder.ids(KEYSTORE):
            _verify_one(folder, keyring, ks, report, prefix=f"keystore backup {ks}: ")
    return report


def _verify_one(
    folder: BackupPlace, keyring: Keyring, backup_id: str, report: VerifyReport, prefix: str
) -> None:
    try:
        manifest, key = open_backup(folder, keyring, backup_id)
    except NotFound:
        raise
    except StrongroomError as e:
        report.bad_parts.append({"part": prefix + "manifest", "problem": str(e)})
        return
    for part in manifest.parts:
        report.parts += 1
        try:
            if part.name == "snapshot":
                decrypt_snapshot(folder, manifest, key, lambda _b: None)
            else:
                copy_checked(folder, manifest, part, lambda _b: None)
            report.bytes += part.size
        except IntegrityFailure as e:
            report.bad_parts.append({"part": prefix + part.name, "problem": str(e)})
