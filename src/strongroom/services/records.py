"""Records: JSON documents in named collections of a project, each with a ciphertext of
its own (a batch shares one derived key; see crypto.envelope.Sealer).

Declared personal-data fields of a collection get blind-index entries, so a data
subject's records can be found without decrypting anything.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from strongroom import ids
from strongroom.crypto.blind_index import BlindIndexer, indexable_values
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
from strongroom.domain.roles import Action
from strongroom.domain.rules import (
    check_collection,
    check_field,
    check_text,
    decode_document,
    encode_document,
)
from strongroom.errors import InvalidInput, NotFound, UndeclaredField
from strongroom.services import audit
from strongroom.services.context import Context
from strongroom.services.guards import (
    require_project,
    require_usable,
    require_workspace,
    require_writable,
)
from strongroom.services.trash import TrashEntry, in_trash, move_to_trash
from strongroom.storage.rows import IndexEntry, RecordRow
from strongroom.storage.unit_of_work import DataUnitOfWork

MAX_BATCH = 10_000


#: The purpose a record's ciphertext is bound to. STORED: part of its associated data.
RECORD = "record"


def record_binding(workspace_id: str, project_id: str, record_id: str) -> Binding:
    return Binding(RECORD, workspace_id, project_id, record_id)


class Records:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    # collections ----------------------------------------------------------------------
    def declare_collection(
        self, workspace_id: str, name: str, personal_fields: Iterable[str], actor: str = "system"
    ) -> Collection:
        name = check_collection(name)
        fields = frozenset(check_field(f) for f in personal_fields)
        now = self.ctx.clock.now()
        with self.ctx.store.write() as uow:
            require_usable(uow, workspace_id, Action.MANAGE_PROJECTS, now)
            uow.collections.upsert(workspace_id, name, json.dumps(sorted(fields)), now)
            audit.append(
                uow,
                now,
                actor,
                "collection.declare",
                workspace_id,
                collection=name,
                personal_fields=sorted(fields),
            )
            uow.commit()
        return Collection(name, fields)

    def collections(self, workspace_id: str) -> list[Collection]:
        with self.ctx.store.read() as uow:
            require_workspace(uow, workspace_id)
            declared = uow.collections.all(workspace_id)
        return [Collection(n, frozenset(json.loads(f))) for n, f in sorted(declared.items())]

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
                entries.extend(_index_entries(indexer, personal, record_id, document))
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
                workspace_id, _index_entries(indexer, personal, record_id, document)
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
        """Ids of live records whose declared personal field ``field`` equals ``value``."""
        check_field(field)
        check_text("value", value)
        with self.ctx.store.read() as uow:
            require_workspace(uow, workspace_id)
            if not any(field in json.loads(f) for f in uow.collections.all(workspace_id).values()):
                raise UndeclaredField(
                    f"no collection of workspace {workspace_id} declares {field!r} personal, "
                    "so no record is indexed by it (declare it: collection declare --personal)",
                    workspace_id=workspace_id,
                )
            indexer = BlindIndexer(self.ctx.keyring.data_key(workspace_id))
            return uow.record_index.find(workspace_id, field, indexer.digest(field, value))

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
    ) -> tuple[BlindIndexer | None, frozenset[str]]:
        declared = uow.collections.get(workspace_id, collection)
        personal = frozenset(json.loads(declared)) if declared else frozenset()
        if not personal:
            return None, personal
        return BlindIndexer(self.ctx.keyring.data_key(workspace_id)), personal

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


def _index_entries(
    indexer: BlindIndexer | None, personal: frozenset[str], record_id: str, document: dict[str, Any]
) -> builtins.list[IndexEntry]:
    if indexer is None:
        return []
    seen: set[tuple[str, bytes]] = set()
    for field in sorted(personal & document.keys()):
        for value in indexable_values(document[field]):
            seen.add((field, indexer.digest(field, value)))
    return [IndexEntry(record_id, f, d) for f, d in sorted(seen)]
