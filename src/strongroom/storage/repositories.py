"""Repositories of the data store: one small class per table group, a statement or two per
method, on the connection of a unit of work."""

from __future__ import annotations

import builtins
import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from strongroom.errors import Conflict
from strongroom.storage import tables as t
from strongroom.storage.driver import DriverQuery, utc
from strongroom.storage.rows import (
    AuditRow,
    FileRow,
    IndexEntry,
    MemberRow,
    Plan,
    ProjectRow,
    RecordRow,
    TokenRow,
    UserRow,
    WorkspaceRow,
)

# Statements of the hot paths, built once (SQLAlchemy caches their compiled SQL).
_INSERT_RECORD = insert(t.records)
_SELECT_RECORD = select(t.records).where(
    t.records.c.id == bindparam("record_id"),
    t.records.c.project_id == bindparam("project_id"),
    t.records.c.workspace_id == bindparam("workspace_id"),
)
_SELECT_PROJECT = select(t.projects).where(
    t.projects.c.id == bindparam("project_id"),
    t.projects.c.workspace_id == bindparam("workspace_id"),
)
_SELECT_COLLECTION = select(t.collections.c.personal_fields).where(
    t.collections.c.workspace_id == bindparam("workspace_id"),
    t.collections.c.name == bindparam("name"),
)
_INSERT_INDEX = insert(t.record_index)
_SELECT_HEAD = select(t.audit_head.c.seq, t.audit_head.c.hash).where(t.audit_head.c.id == 1)
_LOCK_HEAD = _SELECT_HEAD.with_for_update()
_INSERT_HEAD = insert(t.audit_head)
_UPDATE_HEAD = (
    update(t.audit_head)
    .where(t.audit_head.c.id == 1)
    .values(seq=bindparam("new_seq"), hash=bindparam("new_hash"))
)
_INSERT_EVENT = insert(t.audit_events)
_PRIOR = t.audit_events.alias("prior")
# A workspace's event takes the next position of its workspace. Appends serialise on the
# head row's lock, so no two appends can read the same maximum.
_INSERT_WORKSPACE_EVENT = insert(t.audit_events).values(
    workspace_position=select(func.coalesce(func.max(_PRIOR.c.workspace_position), 0) + 1)
    .where(_PRIOR.c.workspace_id == bindparam("event_workspace"))
    .scalar_subquery()
)

# What every API request runs: the token lookup and the read of one record (storage/driver).
# The token with its workspace's plan (state, trial end): one statement, one snapshot.
_SELECT_TOKEN = DriverQuery(
    select(t.api_tokens, t.workspaces.c.state, t.workspaces.c.trial_ends_at)
    .select_from(t.api_tokens)
    .outerjoin(t.workspaces, t.workspaces.c.id == t.api_tokens.c.workspace_id)
    .where(t.api_tokens.c.secret_hash == bindparam("secret_hash"))
)
# Only the columns the ids asked for and the WHERE do not already give (each text column
# costs a decode on the driver's side).
_SELECT_LIVE_RECORD = DriverQuery(
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


class _Repo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn


class Users(_Repo):
    def add(self, row: UserRow, email_index: bytes) -> None:
        """Add a user; Conflict if another transaction added the same email first."""
        try:
            self.conn.execute(
                insert(t.users).values(
                    id=row.id,
                    email_sealed=row.email_sealed,
                    email_index=email_index,
                    created_at=row.created_at,
                )
            )
        except IntegrityError:
            raise Conflict("a user with this email was created at the same time") from None

    def get(self, user_id: str) -> UserRow | None:
        r = self.conn.execute(
            select(t.users.c.id, t.users.c.email_sealed, t.users.c.created_at).where(
                t.users.c.id == user_id
            )
        ).first()
        return UserRow(*r) if r else None

    def password_hash(self, user_id: str) -> str | None:
        return self.conn.execute(
            select(t.users.c.password_hash).where(t.users.c.id == user_id)
        ).scalar_one_or_none()

    def set_password_hash(self, user_id: str, password_hash: str) -> None:
        self.conn.execute(
            update(t.users).where(t.users.c.id == user_id).values(password_hash=password_hash)
        )

    def find_by_email_index(self, email_index: bytes) -> UserRow | None:
        r = self.conn.execute(
            select(t.users.c.id, t.users.c.email_sealed, t.users.c.created_at).where(
                t.users.c.email_index == email_index
            )
        ).first()
        return UserRow(*r) if r else None


class Workspaces(_Repo):
    def add(self, row: WorkspaceRow) -> None:
        self.conn.execute(insert(t.workspaces).values(**_fields(row)))

    def get(self, workspace_id: str) -> WorkspaceRow | None:
        r = self.conn.execute(select(t.workspaces).where(t.workspaces.c.id == workspace_id)).first()
        return WorkspaceRow(*r) if r else None

    def list(self) -> builtins.list[WorkspaceRow]:
        rows = self.conn.execute(select(t.workspaces).order_by(t.workspaces.c.id))
        return [WorkspaceRow(*r) for r in rows]

    def count(self) -> int:
        return int(self.conn.execute(select(func.count()).select_from(t.workspaces)).scalar_one())

    def set_plan(
        self,
        workspace_id: str,
        state: str,
        trial_ends_at: Any,
        now: Any,
    ) -> None:
        self.conn.execute(
            update(t.workspaces)
            .where(t.workspaces.c.id == workspace_id)
            .values(state=state, trial_ends_at=trial_ends_at, state_since=now, updated_at=now)
        )


class Members(_Repo):
    def add(self, row: MemberRow) -> None:
        self.conn.execute(insert(t.members).values(**_fields(row)))

    def list(self, workspace_id: str, lock: bool = False) -> builtins.list[MemberRow]:
        """The members; ``lock`` holds their rows (a role change counting owners)."""
        query = (
            select(t.members)
            .where(t.members.c.workspace_id == workspace_id)
            .order_by(t.members.c.created_at, t.members.c.user_id)
        )
        rows = self.conn.execute(query.with_for_update() if lock else query)
        return [MemberRow(*r) for r in rows]

    def get(self, workspace_id: str, user_id: str) -> MemberRow | None:
        r = self.conn.execute(
            select(t.members).where(
                t.members.c.workspace_id == workspace_id, t.members.c.user_id == user_id
            )
        ).first()
        return MemberRow(*r) if r else None

    def workspaces_of(self, user_id: str) -> builtins.list[str]:
        rows = self.conn.execute(
            select(t.members.c.workspace_id)
            .where(t.members.c.user_id == user_id)
            .order_by(t.members.c.workspace_id)
        )
        return [r[0] for r in rows]

    def set_role(self, workspace_id: str, user_id: str, role: str) -> None:
        self.conn.execute(
            update(t.members)
            .where(t.members.c.workspace_id == workspace_id, t.members.c.user_id == user_id)
            .values(role=role)
        )


class Projects(_Repo):
    def add(self, row: ProjectRow) -> None:
        self.conn.execute(insert(t.projects).values(**_fields(row)))

    def get(self, workspace_id: str, project_id: str) -> ProjectRow | None:
        r = self.conn.execute(
            _SELECT_PROJECT, {"project_id": project_id, "workspace_id": workspace_id}
        ).first()
        return ProjectRow(*r) if r else None

    def list(
        self, workspace_id: str, after: str | None = None, limit: int | None = None
    ) -> builtins.list[ProjectRow]:
        """Live projects by id, after ``after``, at most ``limit``."""
        query = select(t.projects).where(
            t.projects.c.workspace_id == workspace_id, t.projects.c.state == "live"
        )
        if after:
            query = query.where(t.projects.c.id > after)
        rows = self.conn.execute(query.order_by(t.projects.c.id).limit(limit))
        return [ProjectRow(*r) for r in rows]

    def set_state(self, project_id: str, state: str, now: Any, trash_id: str | None) -> None:
        self.conn.execute(
            update(t.projects)
            .where(t.projects.c.id == project_id)
            .values(state=state, updated_at=now, trash_id=trash_id)
        )


class Collections(_Repo):
    def get(self, workspace_id: str, name: str) -> str | None:
        return self.conn.execute(
            _SELECT_COLLECTION, {"workspace_id": workspace_id, "name": name}
        ).scalar_one_or_none()

    def all(self, workspace_id: str) -> dict[str, str]:
        rows = self.conn.execute(
            select(t.collections.c.name, t.collections.c.personal_fields).where(
                t.collections.c.workspace_id == workspace_id
            )
        )
        return {r[0]: r[1] for r in rows}

    def upsert(self, workspace_id: str, name: str, personal_fields: str, now: Any) -> None:
        changed = self.conn.execute(
            update(t.collections)
            .where(t.collections.c.workspace_id == workspace_id, t.collections.c.name == name)
            .values(personal_fields=personal_fields)
        ).rowcount
        if not changed:
            self.conn.execute(
                insert(t.collections).values(
                    workspace_id=workspace_id,
                    name=name,
                    personal_fields=personal_fields,
                    created_at=now,
                )
            )


class Records(_Repo):
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
            "live",  # as the WHERE asks
            utc(created_at),  # type: ignore[arg-type]  # never NULL
            utc(updated_at),  # type: ignore[arg-type]
            trash_id,
        )

    def set_state(self, record_id: str, state: str, now: Any, trash_id: str | None = None) -> None:
        self.conn.execute(
            update(t.records)
            .where(t.records.c.id == record_id)
            .values(state=state, updated_at=now, trash_id=trash_id)
        )

    def replace(self, record_id: str, sealed: bytes, size: int, now: Any) -> None:
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
            t.records.c.state == "live",
        )
        if collection is not None:
            query = query.where(t.records.c.collection == collection)
        if after:
            query = query.where(t.records.c.id > after)
        rows = self.conn.execute(query.order_by(t.records.c.id).limit(limit))
        return [RecordRow(*r) for r in rows]

    def count(self, workspace_id: str | None = None) -> int:
        query = select(func.count()).select_from(t.records)
        if workspace_id:
            query = query.where(t.records.c.workspace_id == workspace_id)
        return int(self.conn.execute(query).scalar_one())


class RecordIndex(_Repo):
    def add_many(self, workspace_id: str, entries: Iterable[IndexEntry]) -> None:
        values = [
            {
                "record_id": e.record_id,
                "field": e.field,
                "digest": e.digest,
                "workspace_id": workspace_id,
            }
            for e in entries
        ]
        if values:
            self.conn.execute(_INSERT_INDEX, values)

    def remove_for(self, record_id: str) -> None:
        self.conn.execute(delete(t.record_index).where(t.record_index.c.record_id == record_id))

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
                r.state == "live",
                p.state == "live",
            )
            .order_by(i.record_id)
        )
        return [r[0] for r in rows]


class Files(_Repo):
    def add(self, row: FileRow) -> None:
        self.conn.execute(insert(t.files).values(**_fields(row)))

    def get(self, workspace_id: str, project_id: str, file_id: str) -> FileRow | None:
        r = self.conn.execute(
            select(t.files).where(
                t.files.c.id == file_id,
                t.files.c.project_id == project_id,
                t.files.c.workspace_id == workspace_id,
            )
        ).first()
        return FileRow(*r) if r else None

    def list(
        self,
        workspace_id: str,
        project_id: str,
        after: str | None = None,
        limit: int | None = None,
    ) -> builtins.list[FileRow]:
        query = select(t.files).where(
            t.files.c.workspace_id == workspace_id,
            t.files.c.project_id == project_id,
            t.files.c.state == "live",
        )
        if after:
            query = query.where(t.files.c.id > after)
        rows = self.conn.execute(query.order_by(t.files.c.id).limit(limit))
        return [FileRow(*r) for r in rows]

    def count(self) -> int:
        return int(self.conn.execute(select(func.count()).select_from(t.files)).scalar_one())

    def set_state(self, file_id: str, state: str, trash_id: str | None) -> None:
        self.conn.execute(
            update(t.files).where(t.files.c.id == file_id).values(state=state, trash_id=trash_id)
        )


class Audit(_Repo):
    def head(self, lock: bool) -> tuple[int, str]:
        r = self.conn.execute(_LOCK_HEAD if lock else _SELECT_HEAD).first()
        return (int(r[0]), str(r[1])) if r else (0, "")

    def set_head(self, seq: int, hash_: str, existed: bool) -> None:
        if existed:
            self.conn.execute(_UPDATE_HEAD, {"new_seq": seq, "new_hash": hash_})
        else:
            self.conn.execute(_INSERT_HEAD, {"id": 1, "seq": seq, "hash": hash_})

    def add(self, row: AuditRow) -> None:
        """Add an event; one of a workspace gets its workspace's next position."""
        values = _fields(row)
        del values["workspace_position"]
        if row.workspace_id is None:
            self.conn.execute(_INSERT_EVENT, values)
        else:
            self.conn.execute(
                _INSERT_WORKSPACE_EVENT, {**values, "event_workspace": row.workspace_id}
            )

    def scan(self, after_seq: int, limit: int) -> builtins.list[AuditRow]:
        rows = self.conn.execute(
            select(t.audit_events)
            .where(t.audit_events.c.seq > after_seq)
            .order_by(t.audit_events.c.seq)
            .limit(limit)
        )
        return [AuditRow(*r) for r in rows]

    def for_workspace(
        self, workspace_id: str, after_seq: int, limit: int
    ) -> builtins.list[AuditRow]:
        rows = self.conn.execute(
            select(t.audit_events)
            .where(t.audit_events.c.workspace_id == workspace_id, t.audit_events.c.seq > after_seq)
            .order_by(t.audit_events.c.seq)
            .limit(limit)
        )
        return [AuditRow(*r) for r in rows]

    def in_workspace(
        self, workspace_id: str, after_position: int, limit: int
    ) -> builtins.list[AuditRow]:
        """A workspace's events by their position in it (what its members are shown)."""
        c = t.audit_events.c
        rows = self.conn.execute(
            select(t.audit_events)
            .where(c.workspace_id == workspace_id, c.workspace_position > after_position)
            .order_by(c.workspace_position)
            .limit(limit)
        )
        return [AuditRow(*r) for r in rows]

    def find_certificate(self, certificate_id: str, sha256: str) -> int | None:
        """The sequence number of the event that recorded this certificate's hash."""
        c = t.audit_events.c
        needle = f'%"certificate_sha256":"{sha256}"%'
        rows = self.conn.execute(
            select(c.seq, c.subject).where(c.action == "purge.certified", c.subject.like(needle))
        )
        for seq, subject in rows:
            if json.loads(subject).get("certificate_id") == certificate_id:
                return int(seq)
        return None


class Tokens(_Repo):
    def add(self, row: TokenRow) -> None:
        self.conn.execute(insert(t.api_tokens).values(**_fields(row)))

    def by_secret_hash(self, secret_hash: bytes) -> TokenRow | None:
        found = self.with_plan(secret_hash)
        return None if found is None else found[0]

    def with_plan(self, secret_hash: bytes) -> tuple[TokenRow, Plan | None] | None:
        """The token and its workspace's plan (None for a token of no workspace), read in
        one statement: the authentication of every API request."""
        r = _SELECT_TOKEN.first(self.conn, {"secret_hash": secret_hash})
        if r is None:
            return None
        row = TokenRow._make((*r[:6], utc(r[6]), utc(r[7]), utc(r[8])))  # the timestamps
        return row, (Plan(r[9], utc(r[10])) if r[9] is not None else None)

    def get(self, token_id: str) -> TokenRow | None:
        r = self.conn.execute(select(t.api_tokens).where(t.api_tokens.c.id == token_id)).first()
        return TokenRow(*r) if r else None

    def revoke(self, token_id: str, now: Any) -> int:
        return self.conn.execute(
            update(t.api_tokens)
            .where(t.api_tokens.c.id == token_id, t.api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        ).rowcount

    def revoke_workspace(self, workspace_id: str, now: Any) -> int:
        return self.conn.execute(
            update(t.api_tokens)
            .where(t.api_tokens.c.workspace_id == workspace_id, t.api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        ).rowcount

    def revoke_sessions(self, user_id: str, now: Any) -> None:
        self.conn.execute(
            update(t.api_tokens)
            .where(
                t.api_tokens.c.user_id == user_id,
                t.api_tokens.c.kind == "session",
                t.api_tokens.c.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        )

    def for_workspace(self, workspace_id: str) -> builtins.list[TokenRow]:
        rows = self.conn.execute(
            select(t.api_tokens)
            .where(t.api_tokens.c.workspace_id == workspace_id)
            .order_by(t.api_tokens.c.created_at, t.api_tokens.c.id)
        )
        return [TokenRow(*r) for r in rows]


class _Failures(_Repo):
    """Failed sign-ins by one digest (of an email, of a client address), with their time."""

    table: Any
    column: str

    def lock(self, index: bytes) -> None:
        """Serialise the sign-ins counted under one digest to the end of the transaction.
        (SQLite: the write transaction's BEGIN IMMEDIATE already does; PostgreSQL: an
        advisory lock. Callers lock the address before the email, always in that order.)"""
        if self.conn.dialect.name == "postgresql":
            key = int.from_bytes(index[:8], "big", signed=True)
            self.conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})

    def prune(self, before: Any) -> None:
        self.conn.execute(delete(self.table).where(self.table.c.at <= before))

    def add(self, index: bytes, at: Any) -> int:
        """Count one failure; its id (see :meth:`forget`)."""
        result = self.conn.execute(insert(self.table).values({self.column: index, "at": at}))
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def since(self, index: bytes, since: Any) -> builtins.list[Any]:
        rows = self.conn.execute(
            select(self.table.c.at).where(
                self.table.c[self.column] == index, self.table.c.at > since
            )
        )
        return [r[0] for r in rows]

    def clear(self, index: bytes) -> None:
        self.conn.execute(delete(self.table).where(self.table.c[self.column] == index))

    def forget(self, failure_id: int) -> None:
        self.conn.execute(delete(self.table).where(self.table.c.id == failure_id))


class LoginFailures(_Failures):
    table = t.login_failures
    column = "email_index"


class AddressFailures(_Failures):
    table = t.address_failures
    column = "address_index"


def _fields(row: Any) -> dict[str, Any]:
    return dict(row._asdict())
