"""What the repositories return: rows as stored, with sealed (encrypted) fields."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class UserRow:
    id: str
    email_sealed: bytes
    created_at: datetime


@dataclass(frozen=True, slots=True)
class WorkspaceRow:
    id: str
    name_sealed: bytes
    state: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class MemberRow:
    workspace_id: str
    user_id: str
    role: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ProjectRow:
    id: str
    workspace_id: str
    name_sealed: bytes
    state: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class RecordRow:
    id: str
    workspace_id: str
    project_id: str
    collection: str
    sealed: bytes
    size: int
    state: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class IndexEntry:
    record_id: str
    field: str
    digest: bytes


@dataclass(frozen=True, slots=True)
class FileRow:
    id: str
    workspace_id: str
    project_id: str
    name_sealed: bytes
    size: int
    blob_key: str
    state: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AuditRow:
    seq: int
    at: datetime
    actor: str
    action: str
    workspace_id: str | None
    subject: str
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class WrappedKeyRow:
    """A wrapped key as the keystore holds it."""

    key_id: str
    version: int
    wrapping_version: int  # root version (workspace/directory keys) or workspace key version
    wrapped: bytes
    workspace_id: str | None
    created_at: datetime
