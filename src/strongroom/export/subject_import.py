"""``privacy import``: a subject's package (portability, GDPR Art. 20) into a project of
another workspace, losing nothing. All or nothing:

1. The ZIP is verified first (every entry's size and SHA-256 against its manifest, the
   manifest against the schema); a tampered or foreign one is refused, nothing written.
2. Every record line is parsed and checked as the target would store it, before anything
   is written.
3. The files are encrypted into the blob store under new ids (outside the transaction,
   as ``files put`` does); then one transaction declares the collections the target
   lacks (with the package's personal and file fields), inserts the file rows, and
   stores every record (file-field values rewritten to the new file ids), indexed.
   If anything fails, the transaction rolls back and the new blobs are deleted.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from strongroom import ids
from strongroom.crypto import segments
from strongroom.crypto.envelope import Sealer
from strongroom.crypto.keyring import DATA_KEY_VERSION
from strongroom.domain.model import ObjectState
from strongroom.domain.personal import (
    INDEX_VERSION,
    PersonalField,
    PersonalKind,
    parse_declarations,
    parse_path,
    replace,
    values_at,
)
from strongroom.domain.rules import check_collection, check_name, encode_document
from strongroom.errors import ExportInvalid, InvalidInput, MalformedDocument
from strongroom.export import layout
from strongroom.export.verify import verify_archive
from strongroom.services import audit
from strongroom.services.context import Context
from strongroom.services.files import content_binding, name_binding
from strongroom.services.guards import require_writable
from strongroom.services.records import Records, record_binding
from strongroom.storage.rows import FileRow, RecordRow
from strongroom.storage.unit_of_work import DataUnitOfWork

#: Records inserted per statement.
BATCH = 500


@dataclass(frozen=True)
class ImportSummary:
    workspace_id: str
    project_id: str
    records: int
    files: int
    collections_declared: list[str]
    record_ids: dict[str, str]  # record id in the package -> new id
    file_ids: dict[str, str]  # file id in the package -> new id

    def as_json(self) -> dict[str, Any]:
        return {
            "workspace_id": self.workspace_id,
            "project_id": self.project_id,
            "records": self.records,
            "files": self.files,
            "collections_declared": self.collections_declared,
            "record_ids": self.record_ids,
            "file_ids": self.file_ids,
        }


def import_package(
    ctx: Context, records: Records, workspace_id: str, project_id: str, path: Path, actor: str
) -> ImportSummary:
    manifest = _verified_manifest(path)
    now = ctx.clock.now()
    with ctx.store.read() as uow:
        require_writable(uow, workspace_id, project_id, now)
    categories = {c["collection"]: c for c in manifest["facts"]["categories"]}
    entries = manifest["entries"]
    jsonl = [e for e in entries if e["kind"] == layout.Kind.RECORDS_JSONL.value]
    files = [e for e in entries if e["kind"] == layout.Kind.FILE.value]
    limit = ctx.settings.record_max_bytes
    with zipfile.ZipFile(path) as archive:
        for entry in jsonl:  # everything checked before anything is written
            for _old, _doc, _c, _u in _lines(archive, entry, limit):
                pass
        blobs: list[str] = []
        try:
            file_rows, file_ids = _store_files(ctx, archive, files, workspace_id, project_id, blobs)
            with ctx.store.write() as uow:
                require_writable(uow, workspace_id, project_id, now)
                declared = _declare(uow, workspace_id, jsonl, categories, now)
                for row in file_rows:
                    uow.files.add(row)
                record_ids: dict[str, str] = {}
                for entry in jsonl:
                    _store_records(
                        ctx,
                        records,
                        uow,
                        archive,
                        entry,
                        categories,
                        file_ids,
                        (workspace_id, project_id),
                        record_ids,
                    )
                audit.append(
                    uow,
                    now,
                    actor,
                    "privacy.import",
                    workspace_id,
                    project_id=project_id,
                    records=len(record_ids),
                    files=len(file_rows),
                    collections_declared=declared,
                )
                uow.commit()
        except BaseException:
            for blob in blobs:
                ctx.blobs.delete(blob)
            raise
    return ImportSummary(
        workspace_id,
        project_id,
        len(record_ids),
        len(file_rows),
        declared,
        record_ids,
        {old: new for (_p, old), new in file_ids.items()},
    )


def _verified_manifest(path: Path) -> dict[str, Any]:
    try:
        verify_archive(path)
    except ExportInvalid as e:
        raise MalformedDocument(
            f"{path.name} is not an intact subject package ({e}); nothing was imported"
        ) from None
    with zipfile.ZipFile(path) as archive:
        manifest: dict[str, Any] = json.loads(archive.read(layout.MANIFEST))
    if manifest["format"] != layout.SUBJECT_FORMAT:
        raise InvalidInput(
            f"{path.name} is a {manifest['format']} archive, not a data subject's package "
            "(privacy export); nothing was imported"
        )
    return manifest


def _where(entry: dict[str, Any]) -> tuple[str, str]:
    """(project id in the package, collection) of a records entry."""
    _records, project, name = entry["path"].split("/")
    return project, name.removesuffix(".jsonl")


def _lines(
    archive: zipfile.ZipFile, entry: dict[str, Any], limit: int
) -> Iterator[tuple[str, dict[str, Any], str, str]]:
    """(record id, document, created_at, updated_at) of each line, each document checked
    as the target will store it."""
    with archive.open(entry["path"]) as raw:
        for number, line in enumerate(io.TextIOWrapper(raw, encoding="utf-8"), 1):
            try:
                value = json.loads(line)
                document = value["document"]
                encode_document(document, limit)
                yield value["id"], document, value["created_at"], value["updated_at"]
            except (ValueError, KeyError, TypeError) as e:
                raise MalformedDocument(
                    f"line {number} of {entry['path']} is not a record ({type(e).__name__}); "
                    "nothing was imported"
                ) from None


def _store_files(
    ctx: Context,
    archive: zipfile.ZipFile,
    files: list[dict[str, Any]],
    workspace_id: str,
    project_id: str,
    blobs: list[str],
) -> tuple[list[FileRow], dict[tuple[str, str], str]]:
    """Encrypt each file of the package into the blob store under a new id (``blobs``
    collects them, for the caller to delete should the import fail)."""
    key = ctx.keyring.data_key(project_id)
    rows: list[FileRow] = []
    new_ids: dict[tuple[str, str], str] = {}
    now = ctx.clock.now()
    for entry in files:
        name = check_name("file", entry["name"])
        file_id = ids.new_id("file")
        blobs.append(file_id)
        with ctx.blobs.writer(file_id) as blob, archive.open(entry["path"]) as source:
            size = segments.encrypt_stream(
                source,  # type: ignore[arg-type]  # a ZipExtFile reads as any binary file
                blob.write,
                key,
                project_id,
                DATA_KEY_VERSION,
                content_binding(workspace_id, project_id, file_id),
            )
        binding = name_binding(workspace_id, project_id, file_id)
        sealed = ctx.seal(project_id, binding, name.encode())
        rows.append(
            FileRow(file_id, workspace_id, project_id, sealed, size, file_id, ObjectState.LIVE, now)
        )
        new_ids[(entry["project_id"], entry["file_id"])] = file_id
    return rows, new_ids


def _declare(
    uow: DataUnitOfWork,
    workspace_id: str,
    jsonl: list[dict[str, Any]],
    categories: dict[str, dict[str, Any]],
    now: datetime,
) -> list[str]:
    """Declare the package's collections the target lacks, with the same personal and
    file fields (a collection the target declares keeps its declaration)."""
    declared = []
    for name in sorted({_where(e)[1] for e in jsonl}):
        check_collection(name)
        if uow.collections.row(workspace_id, name) is not None:
            continue
        category = categories.get(name, {"personal_fields": [], "file_fields": []})
        fields = parse_declarations(
            [f"{f['path']}:{f['kind']}" for f in category["personal_fields"]]
        )
        for path in category["file_fields"]:
            parse_path(path)
        uow.collections.upsert(
            workspace_id,
            name,
            json.dumps([f.declaration for f in fields]),
            now,
            file_fields=json.dumps(sorted(category["file_fields"])),
            index_version=INDEX_VERSION,
        )
        declared.append(name)
    return declared


def _store_records(
    ctx: Context,
    records: Records,
    uow: DataUnitOfWork,
    archive: zipfile.ZipFile,
    entry: dict[str, Any],
    categories: dict[str, dict[str, Any]],
    file_ids: dict[tuple[str, str], str],
    target: tuple[str, str],
    record_ids: dict[str, str],
) -> None:
    workspace_id, project_id = target
    source_project, collection = _where(entry)
    file_fields = [
        PersonalField(p, PersonalKind.IDENTIFIER, parse_path(p))
        for p in categories.get(collection, {}).get("file_fields", [])
    ]
    # The target's own indexing (one definition of what an index entry is).
    indexer, personal = records._indexer(uow, workspace_id, collection)
    sealer = Sealer(ctx.keyring.data_key(project_id), project_id, DATA_KEY_VERSION)
    limit = ctx.settings.record_max_bytes
    rows: list[RecordRow] = []
    entries = []
    for old_id, document, created_at, updated_at in _lines(archive, entry, limit):
        for f in file_fields:
            for value in list(values_at(document, f)):
                new = file_ids.get((source_project, value))
                if new is not None:
                    replace(document, f, lambda v, old=value: v == old, new)  # type: ignore[misc]
        data = encode_document(document, limit)
        record_id = ids.new_id("record")
        record_ids[old_id] = record_id
        sealed = sealer.seal(record_binding(workspace_id, project_id, record_id), data)
        rows.append(
            RecordRow(
                record_id,
                workspace_id,
                project_id,
                collection,
                sealed,
                len(data),
                ObjectState.LIVE,
                _time(created_at),
                _time(updated_at),
            )
        )
        entries.extend(records._entries(indexer, personal, record_id, document))
        if len(rows) >= BATCH:
            uow.records.add_many(rows)
            uow.record_index.add_many(workspace_id, entries)
            rows, entries = [], []
    uow.records.add_many(rows)
    uow.record_index.add_many(workspace_id, entries)


def _time(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise MalformedDocument(f"{text[:40]!r} is not a time; nothing was imported") from None
