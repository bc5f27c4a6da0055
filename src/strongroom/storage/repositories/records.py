"""Records (sealed JSON documents) and their blind-index entries."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import and_, bindparam, delete, func, insert, or_, select, text, update

from strongroom.domain.model import ObjectState
from strongroom.storage import tables as t
from strongroom.storage.driver import DriverQuery, utc
from strongroom.storage.repositories.base import Repository
from strongroom.storage.rows import IndexEntry, LocatedRow, RecordRow

# Statements of the hot paths, built once (SQLAlchemy caches their compiled SQL).
_INSERT_RECORD = insert(t.records)
_SELECT_RECORD = select(t.records).where(
    t.records.c.id == bindparam("record_id"),
    t.records.c.project_id == bindparam("project_id"),
    t.records.c.workspace_id == bindparam("workspace_id"),
)
_INSERT_INDEX = insert(t.record_index)
#: Ids bound in one IN (...) list (SQLite allows 32,766 parameters; kept far below).
_IDS_PER_QUERY = 500
# What every API request runs: the read of one record (storage/driver).
_SELECT_LIVE_RECORD = DriverQuery(
    # Only what the ids and the WHERE do not give.
    select(
        t.records.c.collection,
        t.records.c.sealed,
        t.records.c.size,
        t.records.c.created_at,
        t.records.c.updated_at,
        t.records.c.trash_id,
    )
    .join(t.projects, t.projects.c.id == t.records.c.project_id)
    .where(
        t.records.c.id == bindparam("record_id"),
        t.records.c.project_id == bindparam("project_id"),
        t.records.c.workspace_id == bindparam("workspace_id"),
        t.records.c.state == text("'live'"),
        t.projects.c.state == text("'live'"),
    )
)


class Records(Repository):
    def add_many(self, rows: Sequence[RecordRow]) -> None:
        if rows:
            self.conn.execute(
                _INSERT_RECORD,
                [
                    {
                        "id": r.id,
                        "workspace_id": r.workspace_id,
                        "project_id": r.project_id,
                        "collection": r.collection,
                        "sealed": r.sealed,
                        "size": r.size,
                        "state": r.state,
                        "created_at": r.created_at,
                        "updated_at": r.updated_at,
                    }
                    for r in rows
                ],
            )

    def get(self, workspace_id: str, project_id: str, record_id: str) -> RecordRow | None:
        r = self.conn.execute(
            _SELECT_RECORD,
            {"record_id": record_id, "project_id": project_id, "workspace_id": workspace_id},
        ).first()
        return RecordRow(*r) if r else None

    def by_id(self, workspace_id: str, record_id: str) -> RecordRow | None:
        """A record of the workspace in any state, whatever its project."""
        c = t.records.c
        r = self.conn.execute(
            select(t.records).where(c.id == record_id, c.workspace_id == workspace_id)
        ).first()
        return RecordRow(*r) if r else None

    def get_live(self, workspace_id: str, project_id: str, record_id: str) -> RecordRow | None:
        """The live record of a live project, in one statement (the read path)."""
        r = _SELECT_LIVE_RECORD.first(
            self.conn,
            {"record_id": record_id, "project_id": project_id, "workspace_id": workspace_id},
        )
        if r is None:
            return None
        collection, sealed, size, created_at, updated_at, trash_id = r
        return RecordRow(
            record_id,
            workspace_id,
            project_id,
            collection,
            sealed,
            size,
            ObjectState.LIVE,  # as the WHERE asks
            utc(created_at),  # type: ignore[arg-type]  # never NULL
            utc(updated_at),  # type: ignore[arg-type]
            trash_id,
        )

    def set_state(
        self, record_id: str, state: ObjectState, now: datetime, trash_id: str | None = None
    ) -> None:
        self.conn.execute(
            update(t.records)
            .where(t.records.c.id == record_id)
            .values(state=state, updated_at=now, trash_id=trash_id)
        )

    def replace(self, record_id: str, sealed: bytes, size: int, now: datetime) -> None:
        self.conn.execute(
            update(t.records)
            .where(t.records.c.id == record_id)
            .values(sealed=sealed, size=size, updated_at=now)
        )

    def list(
        self,
        workspace_id: str,
        project_id: str,
        collection: str | None,
        after: str | None,
        limit: int,
    ) -> builtins.list[RecordRow]:
        """Live records by id; of one collection, or (None) of every collection."""
        query = select(t.records).where(
            t.records.c.workspace_id == workspace_id,
            t.records.c.project_id == project_id,
            t.records.c.state == ObjectState.LIVE,
        )
        if collection is not None:
            query = query.where(t.records.c.collection == collection)
        if after:
            query = query.where(t.records.c.id > after)
        rows = self.conn.execute(query.order_by(t.records.c.id).limit(limit))
        return [RecordRow(*r) for r in rows]

    def in_collection(
        self, workspace_id: str, collection: str, after: str, limit: int, *, lock: bool = False
    ) -> builtins.list[tuple[str, str, bytes]]:
        """(id, project id, sealed) of the collection's records not yet purged (live or in
        the trash), by id after ``after``: what a reindex walks. ``lock``: until the
        transaction ends, no other may change them (PostgreSQL; SQLite has one writer)."""
        r = t.records.c
        query = (
            select(r.id, r.project_id, r.sealed)
            .where(r.workspace_id == workspace_id, r.collection == collection, r.id > after)
            .order_by(r.id)
            .limit(limit)
        )
        rows = self.conn.execute(query.with_for_update() if lock else query)
        return [(x[0], x[1], bytes(x[2])) for x in rows]

    def of_subject(self, workspace_id: str, record_ids: Sequence[str]) -> builtins.list[RecordRow]:
        """The records among ``record_ids`` that are live or restricted, in a live project,
        by id: what a data subject's export reads (restricted records are readable only
        through the request; records in the trash are not the subject's export)."""
        r, p = t.records.c, t.projects.c
        out: builtins.list[RecordRow] = []
        ordered = sorted(set(record_ids))
        for start in range(0, len(ordered), _IDS_PER_QUERY):
            rows = self.conn.execute(
                select(t.records)
                .join(t.projects, p.id == r.project_id)
                .where(
                    r.workspace_id == workspace_id,
                    r.id.in_(ordered[start : start + _IDS_PER_QUERY]),
                    r.state.in_((ObjectState.LIVE, ObjectState.RESTRICTED)),
                    p.state == ObjectState.LIVE,
                )
                .order_by(r.id)
            )
            out.extend(RecordRow(*x) for x in rows)
        return out

    def count(self, workspace_id: str | None = None) -> int:
        query = select(func.count()).select_from(t.records)
        if workspace_id:
            query = query.where(t.records.c.workspace_id == workspace_id)
        return int(self.conn.execute(query).scalar_one())


class RecordIndex(Repository):
    def add_many(self, workspace_id: str, entries: Iterable[IndexEntry]) -> None:
        values = [
            {
                "record_id": e.record_id,
                "field": e.field,
                "digest": e.digest,
                "workspace_id": workspace_id,
                "kind": e.kind,
            }
            for e in entries
        ]
        if values:
            self.conn.execute(_INSERT_INDEX, values)

    def remove_for(self, record_id: str) -> None:
        self.conn.execute(delete(t.record_index).where(t.record_index.c.record_id == record_id))

    def remove_for_many(self, record_ids: Sequence[str]) -> None:
        if record_ids:
            self.conn.execute(
                delete(t.record_index).where(t.record_index.c.record_id.in_(record_ids))
            )

    def locate(
        self, workspace_id: str, digests: Iterable[tuple[str, bytes]]
    ) -> builtins.list[LocatedRow]:
        """Every record of the workspace (live or in the trash, in a project live or in the
        trash) with an index entry of one of the (kind, digest) pairs; one row per matching
        field, by project, collection, record and field."""
        pairs = sorted(set(digests))
        if not pairs:
            return []
        i, r, p = t.record_index.c, t.records.c, t.projects.c
        by_kind: dict[str, builtins.list[bytes]] = {}
        for kind, digest in pairs:
            by_kind.setdefault(kind, []).append(digest)
        matches = or_(*(and_(i.kind == k, i.digest.in_(d)) for k, d in by_kind.items()))
        rows = self.conn.execute(
            select(r.id, r.project_id, r.collection, i.field, i.kind, r.state, p.state)
            .select_from(t.record_index)
            .join(t.records, r.id == i.record_id)
            .join(t.projects, p.id == r.project_id)
            .where(i.workspace_id == workspace_id, matches)
            .distinct()
            .order_by(r.project_id, r.collection, r.id, i.field)
        )
        return [LocatedRow(*x) for x in rows]

    def find(self, workspace_id: str, field: str, digest: bytes) -> builtins.list[str]:
        i, r, p = t.record_index.c, t.records.c, t.projects.c
        rows = self.conn.execute(
            select(i.record_id)
            .join(t.records, r.id == i.record_id)
            .join(t.projects, p.id == r.project_id)
            .where(
                i.workspace_id == workspace_id,
                i.field == field,
                i.digest == digest,
                r.state == ObjectState.LIVE,
                p.state == ObjectState.LIVE,
            )
            .order_by(i.record_id)
        )
        return [r[0] for r in rows]
