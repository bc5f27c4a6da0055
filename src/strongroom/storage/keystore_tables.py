"""Tables of the keystore: wrapped keys only. Kept in a database of its own, never
inside the data store or its backups."""

from __future__ import annotations

from sqlalchemy import Column, Integer, LargeBinary, MetaData, String, Table

from strongroom.storage.types import UtcDateTime

metadata = MetaData()

# The directory key seals deployment-wide personal data (user emails). Wrapped by root.
directory_keys = Table(
    "directory_keys",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("root_version", Integer, nullable=False),
    Column("wrapped", LargeBinary, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

# Workspace keys (key-encryption keys), wrapped by a root key version. Rotation adds a
# version and deletes the old one once nothing is wrapped under it.
workspace_keys = Table(
    "workspace_keys",
    metadata,
    Column("workspace_id", String(40), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("root_version", Integer, nullable=False),
    Column("wrapped", LargeBinary, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

# Data keys: one per project, one per workspace (for its own metadata and blind
# indexes), wrapped by a workspace key version. Destroying the row shreds the data.
data_keys = Table(
    "data_keys",
    metadata,
    Column("key_id", String(40), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("workspace_id", String(40), nullable=False, index=True),
    Column("workspace_key_version", Integer, nullable=False),
    Column("wrapped", LargeBinary, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)
