"""Workspaces (with their plan), their members and their collections."""

from __future__ import annotations

import builtins
from datetime import datetime

from sqlalchemy import bindparam, func, insert, select, update

from strongroom.domain.model import WorkspaceState
from strongroom.storage import tables as t
from strongroom.storage.repositories.base import Repository, fields
from strongroom.storage.rows import CollectionRow, MemberRow, WorkspaceRow

_SELECT_COLLECTION = select(t.collections.c.personal_fields).where(
    t.collections.c.workspace_id == bindparam("workspace_id"),
    t.collections.c.name == bindparam("name"),
)


class Workspaces(Repository):
    def add(self, row: WorkspaceRow) -> None:
        self.conn.execute(insert(t.workspaces).values(**fields(row)))

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
        state: WorkspaceState,
        trial_ends_at: datetime | None,
        now: datetime,
    ) -> None:
        self.conn.execute(
            update(t.workspaces)
            .where(t.workspaces.c.id == workspace_id)
            .values(state=state, trial_ends_at=trial_ends_at, state_since=now, updated_at=now)
        )


class Members(Repository):
    def add(self, row: MemberRow) -> None:
        self.conn.execute(insert(t.members).values(**fields(row)))

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


class Collections(Repository):
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

    def upsert(
        self,
        workspace_id: str,
        name: str,
        personal_fields: str,
        now: datetime,
        *,
        file_fields: str = "[]",
        index_version: int = 1,
    ) -> None:
        changed = self.conn.execute(
            update(t.collections)
            .where(t.collections.c.workspace_id == workspace_id, t.collections.c.name == name)
            .values(
                personal_fields=personal_fields,
                file_fields=file_fields,
                index_version=index_version,
            )
        ).rowcount
        if not changed:
            self.conn.execute(
                insert(t.collections).values(
                    workspace_id=workspace_id,
                    name=name,
                    personal_fields=personal_fields,
                    created_at=now,
                    file_fields=file_fields,
                    index_version=index_version,
                )
            )

    def row(self, workspace_id: str, name: str) -> CollectionRow | None:
        c = t.collections.c
        r = self.conn.execute(
            select(t.collections).where(c.workspace_id == workspace_id, c.name == name)
        ).first()
        return CollectionRow(*r) if r else None

    def rows(self, workspace_id: str) -> builtins.list[CollectionRow]:
        c = t.collections.c
        query = select(t.collections).where(c.workspace_id == workspace_id).order_by(c.name)
        return [CollectionRow(*r) for r in self.conn.execute(query)]

    def outdated(self, version: int) -> builtins.list[CollectionRow]:
        """Collections whose index entries were made under an older index version."""
        c = t.collections.c
        query = (
            select(t.collections).where(c.index_version < version).order_by(c.workspace_id, c.name)
        )
        return [CollectionRow(*r) for r in self.conn.execute(query)]

    def set_index_version(self, workspace_id: str, name: str, version: int) -> None:
        c = t.collections.c
        self.conn.execute(
            update(t.collections)
            .where(c.workspace_id == workspace_id, c.name == name)
            .values(index_version=version)
        )
