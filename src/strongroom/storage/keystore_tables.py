"""Tables of the keystore: wrapped keys only. Kept in a database of its own, never
inside the data store or its backups."""

from __future__ import annotations

from sqlalchemy import Column, Integer, LargeBinary, MetaData, String, Table, Text

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

# The deployment's Ed25519 signing key (deletion certificates), wrapped by root.
signing_keys = Table(
    "signing_keys",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("root_version", Integer, nullable=False),
    Column("wrapped", LargeBinary, nullable=False),
    Column("public_key", LargeBinary(32), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

# The deletion ledger: a tombstone for every purge, kept beside the keys (never in data
# backups) and replayed after a restore. Ids, counts and key ids only.
ledger = Table(
    "ledger",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("certificate_id", String(40), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),  # project | record | file | workspace
    Column("subject_id", String(40), nullable=False, index=True),
    Column("workspace_id", String(40), nullable=False, index=True),
    Column("project_id", String(40), nullable=True),
    Column("reason", String(32), nullable=False),
    Column("deleted_at", UtcDateTime, nullable=False),
    Column("purged_at", UtcDateTime, nullable=False),
    Column("certificate", Text, nullable=False),  # the signed JSON
    Column("certificate_sha256", String(64), nullable=False),
)
