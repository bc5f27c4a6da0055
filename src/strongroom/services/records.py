"""Records: JSON documents in named collections of a project, each with a ciphertext of
its own (a batch shares one derived key; see crypto.envelope.Sealer).

Declared personal-data fields of a collection get blind-index entries, so a data
subject's records can be found without decrypting anything.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from strongroom import ids
from strongroom.crypto.blind_index import BlindIndexer
from strongroom.crypto.envelope import Binding, Sealer
from strongroom.crypto.keyring import DATA_KEY_VERSION
from strongroom.domain.lifecycle import TrashKind
from strongroom.domain.model import (
    Collection,
    ObjectState,
    Page,
    Record,
    RecordText,
    make_page,
    page_limit,
)
from strongroom.domain.personal import (
    INDEX_VERSION,
    PersonalField,
    PersonalKind,
    Redaction,
    normalise,
    parse_declaration,
    parse_declarations,
    parse_path,
    redact_person,
    values_at,
)
from strongroom.domain.personal import replace as replace_values
from strongroom.domain.roles import Action
from strongroom.domain.rules import (
    check_collection,
    check_text,
    decode_document,
    encode_document,
)
from strongroom.errors import InvalidInput, KeyUnavailable, NotFound, UndeclaredField
from strongroom.services import audit
from strongroom.services.context import Context
from strongroom.services.guards import (
    require_project,
    require_usable,
    require_workspace,
    require_writable,
)
from strongroom.services.trash import TrashEntry, in_trash, move_to_trash
from strongroom.storage.rows import CollectionRow, IndexEntry, RecordRow
from strongroom.storage.unit_of_work import DataUnitOfWork

MAX_BATCH = 10_000
#: Records reindexed per transaction when a collection's personal fields change.
REINDEX_BATCH = 500
MAX_FILE_FIELDS = 16


#: The purpose a record's ciphertext is bound to. STORED: part of its associated data.
RECORD = "record"


def record_binding(workspace_id: str, project_id: str, record_id: str) -> Binding:
    return Binding(RECORD, workspace_id, project_id, record_id)


class Records:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    # collections ----------------------------------------------------------------------
    def declare_collection(
        self,
        workspace_id: str,
        name: str,
        personal_fields: Iterable[str],
        actor: str = "system",
        file_fields: Iterable[str] = (),
    ) -> Collection:
        """Declare a collection's personal fields (``path`` or ``path:kind``) and file
        fields. Records it already holds are reindexed when the declaration changes."""
        name = check_collection(name)
        fields = parse_declarations(tuple(personal_fields))
        files = _file_paths(file_fields)
        stored = json.dumps([f.declaration for f in fields])
        stored_files = json.dumps(list(files))
        now = self.ctx.clock.now()
        with self.ctx.store.write() as uow:
            require_usable(uow, workspace_id, Action.MANAGE_PROJECTS, now)
            before = uow.collections.row(workspace_id, name)
            current = (
                before is not None
                and _declared(before) == fields
                and before.index_version >= INDEX_VERSION
            )
            uow.collections.upsert(
                workspace_id,
                name,
                stored,
                now,
                file_fields=stored_files,
                index_version=INDEX_VERSION if current else 0,
            )
            audit.append(
                uow,
                now,
                actor,
                "collection.declare",
                workspace_id,
                collection=name,
                personal_fields=[f.declaration for f in fields],
                file_fields=list(files),
            )
            uow.commit()
        if not current:
            self.reindex(workspace_id, name)
        return Collection(name, frozenset(f.path for f in fields), fields, files)

    def collections(self, workspace_id: str) -> list[Collection]:
        with self.ctx.store.read() as uow:
            require_workspace(uow, workspace_id)
            rows = uow.collections.rows(workspace_id)
        return [_collection(r) for r in rows]

    def personal_paths(
        self, uow: DataUnitOfWork, workspace_id: str
    ) -> dict[str, set[PersonalKind]]:
        """Every declared personal path of the workspace, with its kinds (one path may be
        declared in several collections)."""
        out: dict[str, set[PersonalKind]] = {}
        for row in uow.collections.rows(workspace_id):
            for f in _declared(row):
                out.setdefault(f.path, set()).add(f.kind)
        return out

    def reindex(self, workspace_id: str, collection: str) -> int:
        """Rebuild the index entries of a collection's records (live or in the trash)
        under its declaration and the current index version, a batch per transaction;
        returns how many records. Safe to run twice, or beside writes: each batch locks
        the records it rewrites."""
        after, count = "", 0
        while True:
            with self.ctx.store.write() as uow:
                row = uow.collections.row(workspace_id, collection)
                if row is None:
                    return count
                batch = uow.records.in_collection(
                    workspace_id, collection, after, REINDEX_BATCH, lock=True
                )
                if not batch:
                    uow.collections.set_index_version(workspace_id, collection, INDEX_VERSION)
                    uow.commit()
                    return count
                fields = _declared(row)
                indexer = self._blind_indexer(workspace_id) if fields else None
                entries: list[IndexEntry] = []
                for record_id, project_id, sealed in batch:
                    document = self._document_for_index(workspace_id, project_id, record_id, sealed)
                    if document is not None:
                        entries.extend(self._entries(indexer, fields, record_id, document))
                uow.record_index.remove_for_many([b[0] for b in batch])
                uow.record_index.add_many(workspace_id, entries)
                uow.commit()
            after, count = batch[-1][0], count + len(batch)

    def reindex_outdated(self) -> int:
        """Reindex every collection indexed under an older index version (after an
        upgrade); returns how many records. One query when there are none."""
        with self.ctx.store.read() as uow:
            outdated = uow.collections.outdated(INDEX_VERSION)
        return sum(self.reindex(r.workspace_id, r.name) for r in outdated)

    # writes ---------------------------------------------------------------------------
    def put(
        self,
        workspace_id: str,
        project_id: str,
        collection: str,
        document: Any,
        actor: str = "system",
    ) -> Record:
        """Store one record and return it (without reading back what was just written)."""
        record_ids, now = self._store(workspace_id, project_id, collection, [document], actor)
        return Record(record_ids[0], workspace_id, project_id, collection, document, now, now)

    def put_many(
        self,
        workspace_id: str,
        project_id: str,
        collection: str,
        documents: Sequence[Any],
        actor: str = "system",
    ) -> list[str]:
        """Store new records; all or nothing. Returns their ids in order."""
        return self._store(workspace_id, project_id, collection, documents, actor)[0]

    def _store(
        self,
        workspace_id: str,
        project_id: str,
        collection: str,
        documents: Sequence[Any],
        actor: str,
    ) -> tuple[list[str], datetime]:
        collection = check_collection(collection)
        if not 1 <= len(documents) <= MAX_BATCH:
            raise InvalidInput(f"a batch holds 1 to {MAX_BATCH} records")
        limit = self.ctx.settings.record_max_bytes
        encoded = [encode_document(d, limit) for d in documents]
        now = self.ctx.clock.now()
        with self.ctx.store.write() as uow:
            require_writable(uow, workspace_id, project_id, now)
            indexer, personal = self._indexer(uow, workspace_id, collection)
            sealer = Sealer(self.ctx.keyring.data_key(project_id), project_id, DATA_KEY_VERSION)
            rows: list[RecordRow] = []
            entries: list[IndexEntry] = []
            for document, data in zip(documents, encoded, strict=True):
                record_id = ids.new_id("record")
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
                        now,
                        now,
                    )
                )
                entries.extend(self._entries(indexer, personal, record_id, document))
            uow.records.add_many(rows)
            uow.record_index.add_many(workspace_id, entries)
            record_ids = [r.id for r in rows]
            audit.append(
                uow,
                now,
                actor,
                "record.put",
                workspace_id,
                project_id=project_id,
                collection=collection,
                record_ids=record_ids,
            )
            uow.commit()
        return record_ids, now

    def update(
        self,
        workspace_id: str,
        project_id: str,
        record_id: str,
        document: Any,
        actor: str = "system",
    ) -> Record:
        """Replace a record's document: new ciphertext, new index entries."""
        data = encode_document(document, self.ctx.settings.record_max_bytes)
        now = self.ctx.clock.now()
        with self.ctx.store.write() as uow:
            require_usable(uow, workspace_id, Action.WRITE_DATA, now)
            row = self._live(uow, workspace_id, project_id, record_id)
            indexer, personal = self._indexer(uow, workspace_id, row.collection)
            sealer = Sealer(self.ctx.keyring.data_key(project_id), project_id, DATA_KEY_VERSION)
            sealed = sealer.seal(record_binding(workspace_id, project_id, record_id), data)
            uow.records.replace(record_id, sealed, len(data), now)
            uow.record_index.remove_for(record_id)
            uow.record_index.add_many(
                workspace_id, self._entries(indexer, personal, record_id, document)
            )
            audit.append(
                uow,
                now,
                actor,
                "record.update",
                workspace_id,
                project_id=project_id,
                record_id=record_id,
            )
            uow.commit()
        return Record(
            record_id, workspace_id, project_id, row.collection, document, row.created_at, now
        )

    def correct_in(
        self,
        uow: DataUnitOfWork,
        workspace_id: str,
        project_id: str,
        record_id: str,
        path: str,
        matches: Callable[[PersonalKind, str], bool],
        new_value: str,
        now: datetime,
    ) -> int:
        """Inside the caller's transaction: in one record (live or restricted), set the
        values of personal field ``path`` that ``matches`` (by the field's kind) to
        ``new_value``; reseal and reindex it. Returns how many values changed (0: the
        record's collection does not declare ``path``, or nothing matched)."""
        row = uow.records.get(workspace_id, project_id, record_id)
        if row is None or row.state not in (ObjectState.LIVE, ObjectState.RESTRICTED):
            return 0
        indexer, fields = self._indexer(uow, workspace_id, row.collection)
        field = next((f for f in fields if f.path == path), None)
        if field is None:
            return 0
        document = decode_document(self._text(row, "system"))
        changed = replace_values(document, field, lambda v: matches(field.kind, v), new_value)
        if changed:
            data = encode_document(document, self.ctx.settings.record_max_bytes)
            sealer = Sealer(self.ctx.keyring.data_key(project_id), project_id, DATA_KEY_VERSION)
            sealed = sealer.seal(record_binding(workspace_id, project_id, record_id), data)
            uow.records.replace(record_id, sealed, len(data), now)
            uow.record_index.remove_for(record_id)
            uow.record_index.add_many(
                workspace_id, self._entries(indexer, fields, record_id, document)
            )
        return changed

    def redact_subject_in(
        self,
        uow: DataUnitOfWork,
        workspace_id: str,
        record_id: str,
        matches: Callable[[PersonalKind, str], bool],
        now: datetime,
    ) -> Redaction:
        """Inside the caller's transaction: remove a data subject (whose values
        ``matches``) from one record, live, restricted or in the trash, by
        :func:`~strongroom.domain.personal.redact_person`; reseal and reindex it. Returns
        what went (the file ids its file fields named are the caller's to erase)."""
        row = uow.records.by_id(workspace_id, record_id)
        if row is None or row.state == ObjectState.PURGING:
            return Redaction(0, ())
        collection = uow.collections.row(workspace_id, row.collection)
        if collection is None:
            return Redaction(0, ())
        fields, file_fields = _declared(collection), tuple(json.loads(collection.file_fields))
        document = self._document_for_index(workspace_id, row.project_id, record_id, row.sealed)
        if document is None:
            return Redaction(0, ())
        redaction = redact_person(document, fields, matches, file_fields)
        # Only a file of the record's own project is the record's to erase: a file field's
        # value is whatever the writer put there, maybe another project's or tenant's id.
        named = [
            f
            for f in redaction.files
            if ids.is_id("file", f) and uow.files.get(workspace_id, row.project_id, f) is not None
        ]
        redaction = Redaction(redaction.values, tuple(named))
        if redaction.values:
            data = encode_document(document, self.ctx.settings.record_max_bytes)
            sealer = Sealer(
                self.ctx.keyring.data_key(row.project_id), row.project_id, DATA_KEY_VERSION
            )
            binding = record_binding(workspace_id, row.project_id, record_id)
            uow.records.replace(record_id, sealer.seal(binding, data), len(data), now)
            uow.record_index.remove_for(record_id)
            indexer = self._blind_indexer(workspace_id) if fields else None
            uow.record_index.add_many(
                workspace_id, self._entries(indexer, fields, record_id, document)
            )
        return redaction

    def subject_files(
        self, uow: DataUnitOfWork, workspace_id: str, record_id: str
    ) -> builtins.list[str]:
        """The ids of the files of its project that a record's file fields name (the
        record live, restricted or in the trash)."""
        row = uow.records.by_id(workspace_id, record_id)
        if row is None:
            return []
        collection = uow.collections.row(workspace_id, row.collection)
        paths = json.loads(collection.file_fields) if collection is not None else []
        if not paths:
            return []
        document = self._document_for_index(workspace_id, row.project_id, record_id, row.sealed)
        if document is None:
            return []
        named = {
            v
            for p in paths
            for v in values_at(document, PersonalField(p, PersonalKind.IDENTIFIER, parse_path(p)))
        }
        return [
            f
            for f in sorted(named)
            if ids.is_id("file", f) and uow.files.get(workspace_id, row.project_id, f) is not None
        ]

    def delete(
        self, workspace_id: str, project_id: str, record_id: str, actor: str = "system"
    ) -> TrashEntry:
        """Move a record to the trash: gone from reads and lists at once, restorable until
        its deadline."""
        now = self.ctx.clock.now()
        with self.ctx.store.write() as uow:
            require_usable(uow, workspace_id, Action.WRITE_DATA, now)
            self._live(uow, workspace_id, project_id, record_id)
            entry = move_to_trash(
                self.ctx, uow, TrashKind.RECORD, workspace_id, project_id, record_id, actor, now
            )
            uow.commit()
        return entry

    # reads ----------------------------------------------------------------------------
    def get(
        self, workspace_id: str, project_id: str, record_id: str, actor: str = "system"
    ) -> Record:
        with self.ctx.store.lookup() as uow:
            row = uow.records.get_live(workspace_id, project_id, record_id)
        if row is None:  # say why: a malformed id, the trash, or nothing live by that id
            ids.check_id("workspace", workspace_id)
            ids.check_id("project", project_id)
            ids.check_id("record", record_id)
            in_trash(self.ctx, workspace_id, project_id, record_id)
            raise NotFound(
                f"no record {record_id} in project {project_id}",
                record_id=record_id,
                project_id=project_id,
            )
        return self._record(row, actor)

    def list(
        self,
        workspace_id: str,
        project_id: str,
        collection: str | None,
        cursor: str | None = None,
        limit: int = 100,
        actor: str = "system",
    ) -> Page[Record]:
        rows, limit = self._page_rows(workspace_id, project_id, collection, cursor, limit)
        return make_page(rows, limit, lambda r: r.id, lambda r: self._record(r, actor))

    def list_text(
        self,
        workspace_id: str,
        project_id: str,
        collection: str,
        cursor: str | None = None,
        limit: int = 100,
        actor: str = "system",
    ) -> Page[RecordText]:
        """Like :meth:`list`, with each document as its canonical JSON bytes (not parsed)."""
        rows, limit = self._page_rows(workspace_id, project_id, collection, cursor, limit)
        return make_page(
            rows,
            limit,
            lambda r: r.id,
            lambda r: RecordText(r.id, r.created_at, r.updated_at, self._text(r, actor)),
        )

    def _page_rows(
        self,
        workspace_id: str,
        project_id: str,
        collection: str | None,
        cursor: str | None,
        limit: int,
    ) -> tuple[builtins.list[RecordRow], int]:
        """The rows of one page (one more than the page, to tell whether another follows)
        and the page size; of one collection, or (None) of all."""
        if collection is not None:
            collection = check_collection(collection)
        if cursor is not None:
            ids.check_id("record", cursor)
        limit = page_limit(limit)
        with self.ctx.store.read() as uow:
            require_project(uow, workspace_id, project_id)
            rows = uow.records.list(workspace_id, project_id, collection, cursor, limit + 1)
        return rows, limit

    def find(self, workspace_id: str, field: str, value: str) -> builtins.list[str]:
        """Ids of live records whose declared personal field ``field`` (a path) equals
        ``value`` in that field's canonical form."""
        parse_path(field)
        check_text("value", value)
        with self.ctx.store.read() as uow:
            require_workspace(uow, workspace_id)
            kinds = {
                f.kind
                for r in uow.collections.rows(workspace_id)
                for f in _declared(r)
                if f.path == field
            }
            if not kinds:
                raise UndeclaredField(
                    f"no collection of workspace {workspace_id} declares {field!r} personal, "
                    "so no record is indexed by it (declare it: collection declare --personal)",
                    workspace_id=workspace_id,
                )
            indexer = self._blind_indexer(workspace_id)
            found: set[str] = set()
            for kind in kinds:
                canonical = normalise(kind, value, region=self._region)
                if canonical:
                    digest = indexer.kind_digest(kind, canonical)
                    found.update(uow.record_index.find(workspace_id, field, digest))
            return sorted(found)

    # helpers --------------------------------------------------------------------------
    def _live(
        self, uow: DataUnitOfWork, workspace_id: str, project_id: str, record_id: str
    ) -> RecordRow:
        require_project(uow, workspace_id, project_id)
        ids.check_id("record", record_id)
        row = uow.records.get(workspace_id, project_id, record_id)
        if row is None or row.state != ObjectState.LIVE:
            raise NotFound(
                f"no record {record_id} in project {project_id}",
                record_id=record_id,
                project_id=project_id,
            )
        return row

    def _indexer(
        self, uow: DataUnitOfWork, workspace_id: str, collection: str
    ) -> tuple[BlindIndexer | None, tuple[PersonalField, ...]]:
        row = uow.collections.row(workspace_id, collection)
        fields = _declared(row) if row is not None else ()
        if not fields:
            return None, fields
        return self._blind_indexer(workspace_id), fields

    def _blind_indexer(self, workspace_id: str) -> BlindIndexer:
        return BlindIndexer(self.ctx.keyring.data_key(workspace_id))

    @property
    def _region(self) -> str | None:
        return self.ctx.settings.phone_region or None

    def _entries(
        self,
        indexer: BlindIndexer | None,
        fields: tuple[PersonalField, ...],
        record_id: str,
        document: dict[str, Any],
    ) -> builtins.list[IndexEntry]:
        """The index entries of a document: per personal field, per value, its kind's
        digest of the value's canonical form."""
        if indexer is None:
            return []
        seen: set[tuple[str, bytes, str]] = set()
        for f in fields:
            for value in values_at(document, f):
                canonical = normalise(f.kind, value, region=self._region)
                if canonical:
                    seen.add((f.path, indexer.kind_digest(f.kind, canonical), f.kind.value))
        return [IndexEntry(record_id, path, digest, kind) for path, digest, kind in sorted(seen)]

    def _document_for_index(
        self, workspace_id: str, project_id: str, record_id: str, sealed: bytes
    ) -> dict[str, Any] | None:
        """The document, or None when its project's key is destroyed (a purge under way
        deletes the record next: it has nothing left to index)."""
        try:
            data = self.ctx.open(
                project_id, record_binding(workspace_id, project_id, record_id), sealed, "system"
            )
        except KeyUnavailable:
            return None
        document = decode_document(data)
        return document if isinstance(document, dict) else None

    def _text(self, row: RecordRow, actor: str) -> bytes:
        return self.ctx.open(
            row.project_id,
            record_binding(row.workspace_id, row.project_id, row.id),
            row.sealed,
            actor,
        )

    def _record(self, row: RecordRow, actor: str) -> Record:
        workspace_id, project_id, record_id = row.workspace_id, row.project_id, row.id
        data = self.ctx.open(
            project_id,
            Binding(RECORD, workspace_id, project_id, record_id),
            row.sealed,
            actor,
        )
        return Record(
            record_id,
            workspace_id,
            project_id,
            row.collection,
            decode_document(data),
            row.created_at,
            row.updated_at,
        )


def _declared(row: CollectionRow) -> tuple[PersonalField, ...]:
    """A collection's personal fields as stored ("path:kind", or a bare name from before
    kinds, which has the kind its name implies)."""
    return tuple(sorted((parse_declaration(d) for d in json.loads(row.personal_fields)), key=_path))


def _path(field: PersonalField) -> str:
    return field.path


def _collection(row: CollectionRow) -> Collection:
    fields = _declared(row)
    files = tuple(json.loads(row.file_fields))
    return Collection(row.name, frozenset(f.path for f in fields), fields, files)


def _file_paths(paths: Iterable[str]) -> tuple[str, ...]:
    out = sorted(set(paths))
    if len(out) > MAX_FILE_FIELDS:
        raise InvalidInput(f"a collection declares at most {MAX_FILE_FIELDS} file fields")
    for path in out:
        parse_path(path)
    return tuple(out)
