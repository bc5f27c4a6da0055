"""Bodies of the lifecycle API: trash, plans, billing events, legal holds and deletion
certificates."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from strongroom.api.schemas import Body
from strongroom.domain.lifecycle import MAX_TRIAL_DAYS, BillingKind, EntryState, TrashKind
from strongroom.domain.model import WorkspaceState
from strongroom.ids import pattern
from strongroom.services.plans import MAX_EVENT_ID, MAX_REASON
from strongroom.services.trash import TrashEntry

# trash ----------------------------------------------------------------------------------


class TrashEntryOut(BaseModel):
    id: str
    kind: TrashKind
    subject_id: str = Field(description="The project, record or file that was deleted.")
    project_id: str
    deleted_by: str = Field(description="The audit actor who deleted it.")
    deleted_at: datetime
    restore_until: datetime = Field(description="After this, the entry cannot come back.")
    state: EntryState

    @classmethod
    def of(cls, entry: TrashEntry) -> TrashEntryOut:
        return cls(
            id=entry.id,
            kind=entry.kind,
            subject_id=entry.subject_id,
            project_id=entry.project_id,
            deleted_by=entry.deleted_by,
            deleted_at=entry.deleted_at,
            restore_until=entry.restore_until,
            state=entry.state,
        )


class PurgeScheduledOut(BaseModel):
    deadline_id: str
    state: Literal["purge scheduled"] = "purge scheduled"


# plans ----------------------------------------------------------------------------------


class WorkspaceDeleteIn(Body):
    confirm_name: str = Field(
        min_length=1, max_length=200, description="The workspace's name, typed back."
    )


class HoldOut(BaseModel):
    id: str
    project_id: str | None = Field(description="Null: the hold covers the whole workspace.")
    set_at: datetime
    set_by: str


class PlanOut(BaseModel):
    workspace_id: str
    state: WorkspaceState
    trial_ends_at: datetime | None
    state_since: datetime | None
    purge_due_at: datetime | None = Field(description="When the workspace's purge is due.")
    purge_reason: str | None
    holds: list[HoldOut] = Field(description="Active legal holds; they block every purge.")


class BillingEventIn(Body):
    kind: BillingKind
    event_id: str = Field(
        min_length=1,
        max_length=MAX_EVENT_ID,
        description="The billing system's id; a repeated id changes nothing.",
    )
    trial_days: int | None = Field(default=None, ge=1, le=MAX_TRIAL_DAYS)


class HoldIn(Body):
    reason: str = Field(min_length=1, max_length=MAX_REASON, description="Stored encrypted.")
    project_id: str | None = Field(
        default=None, pattern=pattern("project"), description="Omit to hold the whole workspace."
    )


class HoldCreated(BaseModel):
    id: str


class HoldsCleared(BaseModel):
    cleared: list[str]


class ScheduledPurgeOut(BaseModel):
    deadline_id: str
    action: str
    workspace_id: str
    subject_id: str
    reason: str
    due_at: datetime
    step: str
    held: bool = Field(description="An active legal hold blocks it.")


# deletion certificates --------------------------------------------------------------------


class LedgerEntryOut(BaseModel):
    seq: int
    certificate_id: str
    kind: str
    subject_id: str
    workspace_id: str
    project_id: str | None
    reason: str
    deleted_at: datetime
    purged_at: datetime
    sha256: str = Field(description="SHA-256 of the certificate's canonical JSON.")


class LedgerPage(BaseModel):
    items: list[LedgerEntryOut]
    next_after: int | None = Field(
        description="Pass as `after` for the next page; null at the end."
    )


class _Signed(BaseModel):
    """Strict: a certificate is checked exactly as sent, never coerced (a coerced field
    would verify a document other than the one the caller holds)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class CertificateSubject(_Signed):
    kind: str
    id: str
    workspace_id: str
    project_id: str | None


class SigningKey(_Signed):
    algorithm: str
    public_key: str
    fingerprint: str


class ErasureFacts(_Signed):
    """A privacy erasure's own facts (docs/privacy.md)."""

    request_id: str
    per_collection: dict[str, dict[str, int]]
    erased_records: list[str]
    redacted_records: list[str]
    redact_collections: list[str]
    files: list[str]
    pending_records: list[dict[str, str]]
    subject_digests: list[list[str]] = Field(
        description="(kind, hex) blind-index digests of the subject, keyed by the "
        "workspace's key: what a restore's replay locates the subject by."
    )
    exports_holding: list[dict[str, str]] = Field(
        default_factory=list,
        description="Workspace exports made before the erasure, kept until they expire.",
    )


class Certificate(_Signed):
    """A signed deletion certificate (format `strongroom.deletion-certificate.v1`)."""

    format: str
    certificate_id: str
    issued_at: str
    subject: CertificateSubject
    reason: str
    deleted_at: str
    purged_at: str
    counts: dict[str, int]
    destroyed_keys: list[str]
    retained_keys: list[str] = Field(
        description="Keys that still exist and can read copies made before the purge."
    )
    backups_holding_ciphertext: list[dict[str, str]]
    key_unrecoverable_everywhere_by: str | None = Field(
        default=None,
        description="When a purge destroyed a key: the shred epoch after it, by which every "
        "lingering copy of the key (backups, free pages, replicas) can no longer be unwrapped. "
        "Absent from certificates issued before shred epochs.",
    )
    erasure: ErasureFacts | None = Field(
        default=None, description="Only in a privacy erasure's certificate."
    )
    signing_key: SigningKey
    signature: str


class VerificationOut(BaseModel):
    valid: Literal[True]
    certificate_id: str
    sha256: str
    signing_key: str = Field(description="Fingerprint of the key that signed it.")
    ledger_seq: int
    audit_seq: int
    audit_events_verified: int
