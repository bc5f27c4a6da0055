"""Users (their sealed email and its blind index) and counts of failed sign-ins."""

from __future__ import annotations

import builtins
from typing import Any

from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from strongroom.errors import Conflict
from strongroom.storage import tables as t
from strongroom.storage.repositories.base import Repository
from strongroom.storage.rows import UserRow


class Users(Repository):
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


class _Failures(Repository):
    """Failed sign-ins by one digest (of an email, of a client address), with their time."""

    table: Any
    column: str

    def lock(self, index: bytes) -> None:
        """Serialise the sign-ins counted under one digest to the end of the transaction.
        (SQLite: the write transaction's BEGIN IMMEDIATE already does; PostgreSQL: an
        advisory lock. Callers lock the address before the email, always in that order.)"""
        if self.is_postgresql:
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
