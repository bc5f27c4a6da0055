"""``export verify``: an archive is good when its manifest matches the JSON Schema and
lists exactly the archive's other entries, each with the size and SHA-256 it has.

Reading is streamed (one megabyte at a time); nothing is extracted. The first bad entry
is named in :class:`~strongroom.errors.ExportInvalid`; a file that is missing, unreadable
or not a ZIP is :class:`~strongroom.errors.InvalidInput`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import zipfile
import zlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from strongroom.errors import ExportInvalid, InvalidInput
from strongroom.export.layout import MANIFEST

CHUNK = 1024 * 1024
#: Refuse manifests larger than this before parsing (about 200,000 entries).
MAX_MANIFEST_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Verified:
    workspace_id: str
    created_at: str
    format_version: int
    entries: int  # including manifest.json
    counts: dict[str, int]
    #: ``strongroom-export`` (a workspace) or ``strongroom-subject-export`` (a subject).
    format: str = "strongroom-export"


@functools.cache
def manifest_schema() -> dict[str, Any]:
    """The manifest's JSON Schema, shipped in the package (export/manifest.schema.json)."""
    text = resources.files("strongroom.export").joinpath("manifest.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def verify_archive(path: Path) -> Verified:
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as e:
        raise InvalidInput(f"cannot read {path} as a ZIP archive: {_reason(e)}") from None
    with archive:
        return _verify(archive)


def _reason(error: BaseException) -> str:
    if isinstance(error, FileNotFoundError):
        return "no such file"
    if isinstance(error, IsADirectoryError):
        return "it is a folder"
    if isinstance(error, PermissionError):
        return "permission denied"
    return str(error) or type(error).__name__


def _verify(archive: zipfile.ZipFile) -> Verified:
    names = [i.filename for i in archive.infolist()]
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ExportInvalid(f"entry {name} appears twice in the archive", entry=name)
        seen.add(name)
    manifest = _manifest(archive, seen)
    listed = {e["path"]: e for e in manifest["entries"]}
    if len(listed) != len(manifest["entries"]):
        raise ExportInvalid("manifest.json lists an entry twice", entry=MANIFEST)
    for name in names:
        if name != MANIFEST and name not in listed:
            raise ExportInvalid(
                f"entry {name} is in the archive but not in the manifest", entry=name
            )
    for entry in manifest["entries"]:
        if entry["path"] not in seen:
            raise ExportInvalid(
                f"entry {entry['path']} is in the manifest but missing from the archive",
                entry=entry["path"],
            )
    for entry in manifest["entries"]:
        _check_entry(archive, entry)
    return Verified(
        manifest["workspace"]["id"],
        manifest["created_at"],
        manifest["format_version"],
        len(names),
        manifest["counts"],
        manifest["format"],
    )


def _manifest(archive: zipfile.ZipFile, names: set[str]) -> dict[str, Any]:
    if MANIFEST not in names:
        raise ExportInvalid("the archive has no manifest.json", entry=MANIFEST)
    if archive.getinfo(MANIFEST).file_size > MAX_MANIFEST_BYTES:
        raise ExportInvalid("manifest.json is too large", entry=MANIFEST)
    try:
        manifest = json.loads(archive.read(MANIFEST))
    except (zipfile.BadZipFile, zlib.error, ValueError) as e:
        raise ExportInvalid(f"manifest.json is damaged: {e}", entry=MANIFEST) from None
    # Imported here: jsonschema is the largest import of the package, and only a
    # verification needs it (every other command would pay for it at start-up).
    import jsonschema

    validator = jsonschema.Draft202012Validator(manifest_schema())
    first = jsonschema.exceptions.best_match(validator.iter_errors(manifest))
    if first is not None:
        where = "/".join(str(p) for p in first.absolute_path) or "(top)"
        raise ExportInvalid(
            f"manifest.json does not match the format schema at {where}: {first.message[:200]}",
            entry=MANIFEST,
        )
    return manifest  # type: ignore[no-any-return]


def _check_entry(archive: zipfile.ZipFile, entry: dict[str, Any]) -> None:
    path = entry["path"]
    digest = hashlib.sha256()
    size = 0
    try:
        with archive.open(path) as f:
            while chunk := f.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as e:
        raise ExportInvalid(f"entry {path} is damaged: {e}", entry=path) from None
    if size != entry["size"]:
        raise ExportInvalid(
            f"entry {path} has {size} bytes; the manifest says {entry['size']}", entry=path
        )
    if digest.hexdigest() != entry["sha256"]:
        raise ExportInvalid(f"entry {path} does not match its SHA-256 in the manifest", entry=path)
