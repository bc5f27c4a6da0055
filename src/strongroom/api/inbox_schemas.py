"""Bodies of the request inbox's API: the public intake and the operators' work."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from strongroom.api.schemas import Body
from strongroom.domain.inbox import (
    MAX_BODY_CHARS,
    MAX_EMAIL_CHARS,
    MAX_NOTE_CHARS,
    MAX_SUBJECT_CHARS,
    ClockState,
    EntryKind,
    RequestKind,
)
from strongroom.ids import pattern
from strongroom.services.inbox import Entry, InboxRequest, Received


class InboxRequestIn(Body):
    kind: RequestKind = Field(description="support, security or privacy.")
    email: str = Field(
        min_length=3, max_length=MAX_EMAIL_CHARS, description="Where the reply goes."
    )
    subject: str = Field(min_length=1, max_length=MAX_SUBJECT_CHARS)
    message: str = Field(min_length=1, max_length=MAX_BODY_CHARS)


class ReceivedOut(BaseModel):
    id: str = Field(description="The request's reference; quoted in every reply.")
    kind: RequestKind
    received_at: datetime
    due_at: datetime = Field(description="The first reply is due by then.")
    response_hours: int

    @classmethod
    def of(cls, got: Received, response_hours: int) -> ReceivedOut:
        return cls(
            id=got.id,
            kind=got.kind,
            received_at=got.received_at,
            due_at=got.due_at,
            response_hours=response_hours,
        )


class MessageIn(Body):
    message: str = Field(min_length=1, max_length=max(MAX_BODY_CHARS, MAX_NOTE_CHARS))


class AssignIn(Body):
    operator: str = Field(pattern=pattern("token"), description="An operator token's id.")


class EntryOut(BaseModel):
    id: str
    kind: EntryKind
    author: str
    at: datetime
    text: str | None
    sent: bool | None = Field(description="Replies: whether the SMTP server took it.")
    detail: str | None = Field(description="The assignee; or why a reply was not sent.")
    message_id: str | None

    @classmethod
    def of(cls, entry: Entry) -> EntryOut:
        return cls(
            id=entry.id,
            kind=entry.kind,
            author=entry.author,
            at=entry.at,
            text=entry.text,
            sent=entry.sent if entry.kind is EntryKind.REPLY else None,
            detail=entry.detail,
            message_id=entry.message_id,
        )


class InboxRequestOut(BaseModel):
    id: str
    kind: RequestKind
    email: str
    subject: str
    received_at: datetime
    due_at: datetime
    state: ClockState
    time_left: str
    assigned_to: str | None
    answered_at: datetime | None = Field(description="When the first reply was sent.")
    warned_at: datetime | None
    breached_at: datetime | None
    message: str | None = Field(default=None, description="Only when one request is read.")
    entries: list[EntryOut] | None = Field(default=None, description="Only for one request.")

    @classmethod
    def of(cls, r: InboxRequest, *, whole: bool) -> InboxRequestOut:
        return cls(
            id=r.id,
            kind=r.kind,
            email=r.email,
            subject=r.subject,
            received_at=r.received_at,
            due_at=r.due_at,
            state=r.state,
            time_left=r.time_left,
            assigned_to=r.assigned_to,
            answered_at=r.answered_at,
            warned_at=r.warned_at,
            breached_at=r.breached_at,
            message=r.body if whole else None,
            entries=[EntryOut.of(e) for e in r.entries] if whole else None,
        )


class InboxRequestList(BaseModel):
    items: list[InboxRequestOut]
