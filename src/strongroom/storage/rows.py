"""What the repositories return: rows as stored, with sealed (encrypted) fields.

Named tuples: made for every row read or written, and cheaper to build than dataclasses."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple


class UserRow(NamedTuple):
    id: str
    email_sealed: bytes
    created_at: datetime


class WorkspaceRow(NamedTuple):
    id: str
    name_sealed: bytes
    state: str
    created_at: datetime
    updated_at: datetime


class MemberRow(NamedTuple):
    workspace_id: str
    user_id: str
    role: str
    created_at: datetime


class ProjectRow(NamedTuple):
    id: str
    workspace_id: str
    name_sealed: bytes
    state: str
    created_at: datetime
    updated_at: datetime


class RecordRow(NamedTuple):
    id: str
    workspace_id: str
    project_id: str
    collection: str
    sealed: bytes
    size: int
    state: str
    created_at: datetime
    updated_at: datetime


class IndexEntry(NamedTuple):
    record_id: str
    field: str
    digest: bytes


class FileRow(NamedTuple):
    id: str
    workspace_id: str
    project_id: str
    name_sealed: bytes
    size: int
    blob_key: str
    state: str
    created_at: datetime


class AuditRow(NamedTuple):
    seq: int
    at: datetime
    actor: str
    action: str
    workspace_id: str | None
    subject: str
    prev_hash: str
    hash: str


class WrappedKeyRow(NamedTuple):
    """A wrapped key as the keystore holds it."""

    key_id: str
    version: int
    wrapping_version: int  # root version (workspace/directory keys) or workspace key version
    wrapped: bytes
    workspace_id: str | None
    created_at: datetime


class TokenRow(NamedTuple):
    id: str
    secret_hash: bytes
    kind: str
    workspace_id: str | None
    role: str | None
    user_id: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
