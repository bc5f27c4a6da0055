"""Tables of the data store. Every customer-typed value is a sealed (encrypted) blob;
ids, sizes, states, collection names and timestamps are plain."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

from strongroom.storage.types import UtcDateTime

metadata = MetaData()

ID = 40

users = Table(
    "users",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("email_sealed", LargeBinary, nullable=False),
    Column("email_index", LargeBinary(16), nullable=False, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
    # argon2id (PHC string); NULL until a password is set.
    Column("password_hash", Text, nullable=True),
)

workspaces = Table(
    "workspaces",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("name_sealed", LargeBinary, nullable=False),
    Column("state", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

members = Table(
    "members",
    metadata,
    Column("workspace_id", String(ID), ForeignKey("workspaces.id"), primary_key=True),
    Column("user_id", String(ID), ForeignKey("users.id"), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

projects = Table(
    "projects",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("workspace_id", String(ID), ForeignKey("workspaces.id"), nullable=False, index=True),
    Column("name_sealed", LargeBinary, nullable=False),
    Column("state", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

collections = Table(
    "collections",
    metadata,
    Column("workspace_id", String(ID), ForeignKey("workspaces.id"), primary_key=True),
    Column("name", String(64), primary_key=True),
    # JSON list of field names declared personal data (field names are schema, not data).
    Column("personal_fields", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

records = Table(
    "records",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("workspace_id", String(ID), ForeignKey("workspaces.id"), nullable=False),
    Column("project_id", String(ID), ForeignKey("projects.id"), nullable=False),
    Column("collection", String(64), nullable=False),
    Column("sealed", LargeBinary, nullable=False),
    Column("size", Integer, nullable=False),
    Column("state", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_records_project_collection", "project_id", "collection", "id"),
)

record_index = Table(
    "record_index",
    metadata,
    Column("record_id", String(ID), ForeignKey("records.id"), primary_key=True),
    Column("field", String(64), primary_key=True),
    Column("digest", LargeBinary(16), primary_key=True),
    Column("workspace_id", String(ID), nullable=False),
    Index("ix_record_index_lookup", "workspace_id", "field", "digest"),
)

files = Table(
    "files",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("workspace_id", String(ID), ForeignKey("workspaces.id"), nullable=False),
    Column("project_id", String(ID), ForeignKey("projects.id"), nullable=False, index=True),
    Column("name_sealed", LargeBinary, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("blob_key", String(128), nullable=False),
    Column("state", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("action", String(64), nullable=False),
    Column("workspace_id", String(ID), nullable=True, index=True),
    # JSON object of ids and counts; never customer plaintext.
    Column("subject", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

# One row (id=1): the chain's head, locked by every append so appends serialise.
audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
)

# API tokens, member sessions and operator tokens: only a SHA-256 of the secret is kept.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("secret_hash", LargeBinary(32), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    Column("workspace_id", String(ID), ForeignKey("workspaces.id"), nullable=True, index=True),
    Column("role", String(16), nullable=True),
    Column("user_id", String(ID), ForeignKey("users.id"), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=True),
    Column("revoked_at", UtcDateTime, nullable=True),
)

# Failed logins by email digest, for rate limiting across every server process.
login_failures = Table(
    "login_failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("email_index", LargeBinary(16), nullable=False, index=True),
    Column("at", UtcDateTime, nullable=False),
)
