"""Request and response bodies of the API (the OpenAPI document is made from these)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from strongroom.domain.roles import Role

T = TypeVar("T")


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


class WorkspaceIn(Body):
    name: str = Field(min_length=1, max_length=200)
    owner_email: str = Field(min_length=3, max_length=320)


class WorkspaceOut(BaseModel):
    id: str
    name: str
    state: str
    created_at: datetime


class MemberIn(Body):
    email: str = Field(min_length=3, max_length=320)
    role: Role


class RoleIn(Body):
    role: Role


class MemberOut(BaseModel):
    user_id: str
    email: str
    role: Role


class ProjectIn(Body):
    name: str = Field(min_length=1, max_length=200)


class ProjectOut(BaseModel):
    id: str
    name: str
    created_at: datetime


class CollectionIn(Body):
    personal_fields: list[str] = Field(default_factory=list, max_length=64)


class CollectionOut(BaseModel):
    name: str
    personal_fields: list[str]


class RecordIn(Body):
    collection: str = Field(min_length=1, max_length=64)
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
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=1024)


class AuditEventOut(BaseModel):
    seq: int
    at: datetime
    actor: str
    action: str
    workspace_id: str | None
    subject: dict[str, Any]
    hash: str


class AuditPage(BaseModel):
    items: list[AuditEventOut]
    next_after: int | None


class Created(BaseModel):
    id: str
