"""Request and response bodies of the API (the OpenAPI document is made from these)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from strongroom.domain.model import Collection, Record
from strongroom.domain.personal import PERSONAL_FIELD_PATTERN
from strongroom.domain.roles import Role
from strongroom.domain.rules import (
    COLLECTION_PATTERN,
    EMAIL_PATTERN,
    NAME_PATTERN,
)

Name = Annotated[str, Field(min_length=1, max_length=200, pattern=NAME_PATTERN)]
Email = Annotated[str, Field(min_length=3, max_length=320, pattern=EMAIL_PATTERN)]

T = TypeVar("T")


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


class WorkspaceIn(Body):
    name: Name
    owner_email: Email


class WorkspaceOut(BaseModel):
    id: str
    name: str
    state: str
    created_at: datetime


class MemberIn(Body):
    email: Email
    role: Role


class RoleIn(Body):
    role: Role


class MemberOut(BaseModel):
    user_id: str
    email: str
    role: Role


class ProjectIn(Body):
    name: Name


class ProjectOut(BaseModel):
    id: str
    name: str
    created_at: datetime


class CollectionIn(Body):
    personal_fields: list[
        Annotated[str, Field(min_length=1, max_length=80, pattern=PERSONAL_FIELD_PATTERN)]
    ] = Field(
        default_factory=list,
        max_length=64,
        description="FIELD or FIELD:KIND (email, phone, name, identifier); a path may be "
        "nested (candidate.email) or in an array (refs[].email).",
    )
    file_fields: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list, max_length=16, description="Fields whose values name files."
    )


class PersonalFieldOut(BaseModel):
    path: str
    kind: str


class CollectionOut(BaseModel):
    name: str
    personal_fields: list[str] = Field(description="The paths of the personal fields.")
    personal: list[PersonalFieldOut]
    file_fields: list[str]

    @classmethod
    def of(cls, collection: Collection) -> CollectionOut:
        data = collection.as_json()
        return cls(
            name=collection.name,
            personal_fields=data["personal_fields"],
            personal=data["personal"],
            file_fields=data["file_fields"],
        )


class RecordIn(Body):
    collection: str = Field(pattern=COLLECTION_PATTERN)
    document: dict[str, Any]


class RecordUpdate(Body):
    document: dict[str, Any]


class RecordOut(BaseModel):
    id: str
    collection: str
    document: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class FileOut(BaseModel):
    id: str
    name: str
    size: int
    created_at: datetime


class TokenIn(Body):
    role: Role
    expires_days: int = Field(default=90, ge=1, le=3650)


class TokenOut(BaseModel):
    id: str
    token: str = Field(description="Shown once; only its hash is stored.")
    expires_at: datetime | None


class TokenInfo(BaseModel):
    id: str
    role: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


class LoginIn(Body):
    email: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=1024)


class AuditEventOut(BaseModel):
    position: int = Field(
        description="The event's place among this workspace's events: 1, 2, 3, … without gaps."
    )
    at: datetime
    actor: str
    action: str
    workspace_id: str | None
    subject: dict[str, Any]
    hash: str


class AuditPage(BaseModel):
    items: list[AuditEventOut]
    next_after: int | None = Field(
        description="Pass as `after` for the next page (a position); null on the last page."
    )


class Problem(BaseModel):
    """An RFC 9457 problem detail (served as application/problem+json)."""

    model_config = ConfigDict(extra="allow")
    type: str
    title: str
    status: int
    detail: str


def record_out(r: Record) -> RecordOut:
    return RecordOut(
        id=r.id,
        collection=r.collection,
        document=r.document,
        created_at=r.created_at,
        updated_at=r.updated_at,
    )
