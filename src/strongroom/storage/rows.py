"""What the repositories return: rows as stored, with sealed (encrypted) fields.

Named tuples: made for every row read or written, and cheaper to build than dataclasses."""

from __future__ import annotations

from datetime import date, datetime
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
    trial_ends_at: datetime | None = None
    state_since: datetime | None = None


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
    trash_id: str | None = None


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
    trash_id: str | None = None


class IndexEntry(NamedTuple):
    record_id: str
    field: str
    digest: bytes
    kind: str = ""


class CollectionRow(NamedTuple):
    workspace_id: str
    name: str
    personal_fields: str  # JSON list of "path:kind" (or bare names, stored before kinds)
    created_at: datetime
    file_fields: str  # JSON list of paths
    index_version: int


class LocatedRow(NamedTuple):
    """A record found through the blind index, with where the match is."""

    record_id: str
    project_id: str
    collection: str
    field: str
    kind: str
    state: str  # the record's: live | trashed
    project_state: str


class FileRow(NamedTuple):
    id: str
    workspace_id: str
    project_id: str
    name_sealed: bytes
    size: int
    blob_key: str
    state: str
    created_at: datetime
    trash_id: str | None = None


class AuditRow(NamedTuple):
    seq: int
    at: datetime
    actor: str
    action: str
    workspace_id: str | None
    subject: str
    prev_hash: str
    hash: str
    workspace_position: int | None = None  # set by the store as the event is added


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


class Plan(NamedTuple):
    """A workspace's plan as stored: its state and, for a trial, when the trial ends."""

    state: str
    trial_ends_at: datetime | None


class TrashRow(NamedTuple):
    id: str
    workspace_id: str
    project_id: str
    kind: str
    subject_id: str
    deleted_by: str
    deleted_at: datetime
    restore_until: datetime
    state: str
    closed_at: datetime | None


class DeadlineRow(NamedTuple):
    id: str
    action: str
    workspace_id: str
    subject_id: str
    reason: str
    due_at: datetime
    state: str
    step: str
    progress: str  # JSON
    attempts: int
    lease_owner: str | None
    lease_until: datetime | None
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None


class HoldRow(NamedTuple):
    id: str
    workspace_id: str
    project_id: str | None
    reason_sealed: bytes
    set_by: str
    set_at: datetime
    cleared_by: str | None
    cleared_at: datetime | None
    clear_reason_sealed: bytes | None = None


class BillingEventRow(NamedTuple):
    event_id: str
    workspace_id: str
    kind: str
    trial_days: int | None
    at: datetime
    state_after: str


class ExportJobRow(NamedTuple):
    id: str
    workspace_id: str
    requested_by: str
    state: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    expires_at: datetime | None
    entries_done: int
    entries_total: int | None
    blob_key: str | None
    size: int | None
    sha256: str | None
    error: str | None


class LedgerRow(NamedTuple):
    seq: int
    certificate_id: str
    kind: str
    subject_id: str
    workspace_id: str
    project_id: str | None
    reason: str
    deleted_at: datetime
    purged_at: datetime
    certificate: str
    certificate_sha256: str


class PrivacyRequestRow(NamedTuple):
    id: str
    workspace_id: str
    kind: str
    law: str
    state: str
    channel: str
    time_zone: str
    received_at: datetime
    received_on: date
    confirm_by: date | None
    original_due_on: date
    due_on: date
    extended_at: datetime | None
    extension_reason_sealed: bytes | None
    verified_at: datetime | None
    verified_by_sealed: bytes | None
    verification_sealed: bytes | None
    closed_at: datetime | None
    outcome_reason_sealed: bytes | None
    subject_sealed: bytes | None
    created_by: str


class InboxRequestRow(NamedTuple):
    id: str
    kind: str
    email_sealed: bytes
    subject_sealed: bytes
    body_sealed: bytes
    address_index: bytes | None
    received_at: datetime
    due_at: datetime
    assigned_to: str | None
    answered_at: datetime | None
    warned_at: datetime | None
    breached_at: datetime | None


class InboxEntryRow(NamedTuple):
    id: str
    request_id: str
    kind: str
    author: str
    at: datetime
    text_sealed: bytes | None
    detail: str | None
    message_id: str | None
    position: int
