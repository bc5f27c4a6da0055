"""Bodies of the privacy-request API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, Field, StrictBool

from strongroom.api.schemas import Body
from strongroom.domain.personal import PersonalKind
from strongroom.domain.privacy import PrivacyRequest, RequestState, RequestType
from strongroom.domain.privacy_clock import Law
from strongroom.services.erasure import MAX_REDACT, ErasureStatus
from strongroom.services.privacy import (
    MAX_CHANNEL,
    MAX_IDENTIFIER_CHARS,
    MAX_IDENTIFIERS,
    MAX_TEXT,
)


class IdentifierIn(Body):
    kind: PersonalKind
    value: str = Field(min_length=1, max_length=MAX_IDENTIFIER_CHARS)


class PrivacyRequestIn(Body):
    type: RequestType
    law: Law
    identifiers: list[IdentifierIn] = Field(
        min_length=1,
        max_length=MAX_IDENTIFIERS,
        description="Who the request is about; stored encrypted and as blind-index digests.",
    )
    received: AwareDatetime | date | None = Field(
        default=None, description="When the request arrived (default: now)."
    )
    due: date | None = Field(default=None, description="Only for law 'other'.")
    channel: str = Field(default="unspecified", min_length=1, max_length=MAX_CHANNEL)
    notes: str = Field(default="", max_length=MAX_TEXT, description="Stored encrypted.")


class VerifyIn(Body):
    method: str = Field(min_length=1, max_length=MAX_TEXT, description="How identity was checked.")
    by: str = Field(min_length=1, max_length=MAX_CHANNEL * 4, description="Who checked it.")


class ExtendIn(Body):
    reason: str = Field(min_length=1, max_length=MAX_TEXT)
    days: int | None = Field(default=None, ge=1, le=366)
    months: int | None = Field(default=None, ge=1, le=12)


class ReasonIn(Body):
    reason: str = Field(min_length=1, max_length=MAX_TEXT)


class IdentifierOut(BaseModel):
    kind: str
    value: str


class PrivacyRequestOut(BaseModel):
    id: str
    workspace_id: str
    type: RequestType
    law: Law
    state: RequestState
    channel: str
    time_zone: str = Field(description="The zone the dates are counted in.")
    received_at: datetime
    received_on: date
    due: date = Field(description="Due by the end of this day in time_zone.")
    original_due: date
    confirm_by: date | None = Field(description="CCPA: confirm receipt by this day.")
    days_left: int = Field(description="Negative when overdue.")
    overdue: bool
    extended_at: datetime | None
    verified_at: datetime | None
    closed_at: datetime | None
    extension_reason: str | None = None
    verified_by: str | None = None
    verification_method: str | None = None
    outcome_reason: str | None = None
    identifiers: list[IdentifierOut] | None = Field(
        default=None, description="Only when one request is read, never in lists."
    )
    notes: str | None = None

    @classmethod
    def of(cls, request: PrivacyRequest, *, subject: bool) -> PrivacyRequestOut:
        data: dict[str, Any] = request.as_json(subject=subject)
        return cls.model_validate(data)


class PrivacyRequestList(BaseModel):
    items: list[PrivacyRequestOut]


class TypeCounts(BaseModel):
    received: int
    completed: int
    refused: int
    open: int
    median_days: float | None = Field(description="Calendar days from receipt to the answer.")
    mean_days: float | None


class PrivacyReport(BaseModel):
    workspace_id: str | None
    year: int | None
    types: dict[RequestType, TypeCounts]


class MatchOut(BaseModel):
    project_id: str
    collection: str
    record_id: str
    fields: list[str] = Field(description="The personal fields that matched, by path.")
    trashed: bool = Field(description="The record or its project is in the trash.")
    restricted: bool = Field(description="A privacy request restricts it (GDPR Art. 18).")


class MatchList(BaseModel):
    matches: list[MatchOut]


class RestrictionOut(BaseModel):
    records: int = Field(description="How many records the request restricted, or had.")


class Change(Body):
    field: str = Field(min_length=1, max_length=64, description="A declared personal path.")
    value: str = Field(min_length=1, max_length=MAX_IDENTIFIER_CHARS)


class CorrectIn(Body):
    changes: list[Change] = Field(min_length=1, max_length=20)


class CorrectionOut(BaseModel):
    records: int = Field(description="Records changed.")
    values: int = Field(description="Values changed (the subject's only).")


class EraseIn(Body):
    redact: list[str] = Field(
        default_factory=list,
        max_length=MAX_REDACT,
        description="Collections whose records keep what is not the subject's (only the "
        "subject's personal and file fields are removed); every other record is erased.",
    )
    confirm: StrictBool = Field(description="Must be true: an erasure cannot be undone.")


class PendingOut(BaseModel):
    project_id: str
    collection: str
    record_id: str
    hold_id: str
    hold_reason: str


class ErasureOut(BaseModel):
    deadline_id: str
    state: str = Field(description="done, or pending while the worker finishes it.")
    step: str
    certificate_id: str | None = Field(description="The deletion certificate, once issued.")
    counts: dict[str, int]
    per_collection: dict[str, dict[str, int]]
    pending: list[PendingOut] = Field(description="Records left under a legal hold.")
    error: str | None = None

    @classmethod
    def of(cls, status: ErasureStatus) -> ErasureOut:
        return cls.model_validate(status.as_json())
