"""Wrapped keys in the keystore: the directory key, workspace keys (versioned), data keys
and the signing key. Only the keyring (crypto/keyring.py) reads them."""

from __future__ import annotations

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from strongroom.errors import Conflict
from strongroom.storage import keystore_tables as k
from strongroom.storage.repositories.base import Repository
from strongroom.storage.rows import WrappedKeyRow


class Keys(Repository):
    # directory key ------------------------------------------------------------------
    def directory_key(self, lock: bool = False) -> WrappedKeyRow | None:
        """The newest directory key; ``lock`` holds it to the end of the transaction (the
        lock that serialises root rotations)."""
        query = select(k.directory_keys).order_by(k.directory_keys.c.version.desc()).limit(1)
        r = self.conn.execute(query.with_for_update() if lock else query).first()
        return (
            WrappedKeyRow("directory", r.version, r.root_version, r.wrapped, None, r.created_at)
            if r
            else None
        )

    def add_directory_key(self, row: WrappedKeyRow) -> None:
        self.conn.execute(
            insert(k.directory_keys).values(
                version=row.version,
                root_version=row.wrapping_version,
                wrapped=row.wrapped,
                created_at=row.created_at,
            )
        )

    def rewrap_directory_key(self, version: int, root_version: int, wrapped: bytes) -> None:
        self.conn.execute(
            update(k.directory_keys)
            .where(k.directory_keys.c.version == version)
            .values(root_version=root_version, wrapped=wrapped)
        )

    # workspace keys -----------------------------------------------------------------
    def workspace_key(
        self, workspace_id: str, version: int | None = None, lock: bool = False
    ) -> WrappedKeyRow | None:
        """The newest (or the given) version; ``lock`` holds it until the transaction ends,
        so a rotation and a new project key cannot interleave."""
        q = select(k.workspace_keys).where(k.workspace_keys.c.workspace_id == workspace_id)
        if version is not None:
            q = q.where(k.workspace_keys.c.version == version)
        q = q.order_by(k.workspace_keys.c.version.desc()).limit(1)
        if lock:
            q = q.with_for_update()
        r = self.conn.execute(q).first()
        return (
            WrappedKeyRow(
                r.workspace_id, r.version, r.root_version, r.wrapped, r.workspace_id, r.created_at
            )
            if r
            else None
        )

    def workspace_keys(self) -> list[WrappedKeyRow]:
        rows = self.conn.execute(
            select(k.workspace_keys).order_by(
                k.workspace_keys.c.workspace_id, k.workspace_keys.c.version
            )
        )
        return [
            WrappedKeyRow(
                r.workspace_id, r.version, r.root_version, r.wrapped, r.workspace_id, r.created_at
            )
            for r in rows
        ]

    def add_workspace_key(self, row: WrappedKeyRow) -> None:
        self.conn.execute(
            insert(k.workspace_keys).values(
                workspace_id=row.key_id,
                version=row.version,
                root_version=row.wrapping_version,
                wrapped=row.wrapped,
                created_at=row.created_at,
            )
        )

    def rewrap_workspace_key(
        self, workspace_id: str, version: int, root_version: int, wrapped: bytes
    ) -> None:
        self.conn.execute(
            update(k.workspace_keys)
            .where(
                k.workspace_keys.c.workspace_id == workspace_id,
                k.workspace_keys.c.version == version,
            )
            .values(root_version=root_version, wrapped=wrapped)
        )

    def delete_workspace_key(self, workspace_id: str, version: int | None = None) -> int:
        q = delete(k.workspace_keys).where(k.workspace_keys.c.workspace_id == workspace_id)
        if version is not None:
            q = q.where(k.workspace_keys.c.version == version)
        return self.conn.execute(q).rowcount

    # data keys ----------------------------------------------------------------------
    def data_key(self, key_id: str, version: int) -> WrappedKeyRow | None:
        r = self.conn.execute(
            select(k.data_keys).where(
                k.data_keys.c.key_id == key_id, k.data_keys.c.version == version
            )
        ).first()
        return (
            WrappedKeyRow(
                r.key_id,
                r.version,
                r.workspace_key_version,
                r.wrapped,
                r.workspace_id,
                r.created_at,
            )
            if r
            else None
        )

    def data_keys_of(self, workspace_id: str) -> list[WrappedKeyRow]:
        rows = self.conn.execute(
            select(k.data_keys)
            .where(k.data_keys.c.workspace_id == workspace_id)
            .order_by(k.data_keys.c.key_id)
        )
        return [
            WrappedKeyRow(
                r.key_id,
                r.version,
                r.workspace_key_version,
                r.wrapped,
                r.workspace_id,
                r.created_at,
            )
            for r in rows
        ]

    def add_data_key(self, row: WrappedKeyRow) -> None:
        self.conn.execute(
            insert(k.data_keys).values(
                key_id=row.key_id,
                version=row.version,
                workspace_id=row.workspace_id,
                workspace_key_version=row.wrapping_version,
                wrapped=row.wrapped,
                created_at=row.created_at,
            )
        )

    def rewrap_data_key(
        self, key_id: str, version: int, workspace_key_version: int, wrapped: bytes
    ) -> None:
        self.conn.execute(
            update(k.data_keys)
            .where(k.data_keys.c.key_id == key_id, k.data_keys.c.version == version)
            .values(workspace_key_version=workspace_key_version, wrapped=wrapped)
        )

    def delete_data_key(self, key_id: str) -> int:
        return self.conn.execute(delete(k.data_keys).where(k.data_keys.c.key_id == key_id)).rowcount

    def delete_data_keys_of(self, workspace_id: str) -> int:
        return self.conn.execute(
            delete(k.data_keys).where(k.data_keys.c.workspace_id == workspace_id)
        ).rowcount

    def workspace_key_versions(self, workspace_id: str) -> list[int]:
        c = k.workspace_keys.c
        rows = self.conn.execute(
            select(c.version).where(c.workspace_id == workspace_id).order_by(c.version)
        )
        return [r[0] for r in rows]

    def data_key_versions(self, key_id: str) -> list[int]:
        c = k.data_keys.c
        rows = self.conn.execute(select(c.version).where(c.key_id == key_id).order_by(c.version))
        return [r[0] for r in rows]

    # the signing key ------------------------------------------------------------------
    def signing_key(self, lock: bool = False) -> tuple[WrappedKeyRow, bytes] | None:
        """The newest signing key, wrapped, and its public key."""
        query = select(k.signing_keys).order_by(k.signing_keys.c.version.desc()).limit(1)
        r = self.conn.execute(query.with_for_update() if lock else query).first()
        if r is None:
            return None
        row = WrappedKeyRow("signing", r.version, r.root_version, r.wrapped, None, r.created_at)
        return row, bytes(r.public_key)

    def public_keys(self) -> list[bytes]:
        rows = self.conn.execute(select(k.signing_keys.c.public_key))
        return [bytes(r[0]) for r in rows]

    def add_signing_key(self, row: WrappedKeyRow, public_key: bytes) -> None:
        try:
            self.conn.execute(
                insert(k.signing_keys).values(
                    version=row.version,
                    root_version=row.wrapping_version,
                    wrapped=row.wrapped,
                    public_key=public_key,
                    created_at=row.created_at,
                )
            )
        except IntegrityError:
            raise Conflict(f"signing key v{row.version} was made at the same time") from None

    def rewrap_signing_key(self, version: int, root_version: int, wrapped: bytes) -> None:
        self.conn.execute(
            update(k.signing_keys)
            .where(k.signing_keys.c.version == version)
            .values(root_version=root_version, wrapped=wrapped)
        )

    def counts(self) -> dict[str, int]:
        def n(table: object) -> int:
            return int(self.conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]

        return {
            "directory_keys": n(k.directory_keys),
            "workspace_keys": n(k.workspace_keys),
            "data_keys": n(k.data_keys),
        }
