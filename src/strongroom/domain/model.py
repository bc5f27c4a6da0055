"""The things Strongroom keeps, as callers see them (plaintext, decrypted)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from strongroom.domain.personal import PersonalField
from strongroom.domain.roles import Role

T = TypeVar("T")

#: The largest page any list returns.
MAX_PAGE = 1000


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list; ``next_cursor`` continues it (None on the last page)."""

    items: list[T]
    next_cursor: str | None


def page_limit(limit: int | None) -> int:
    return MAX_PAGE if limit is None else max(1, min(limit, MAX_PAGE))


R = TypeVar("R")


def make_page(
    rows: list[R], limit: int, key: Callable[[R], str], convert: Callable[[R], T]
) -> Page[T]:
    """A page from ``limit + 1`` rows read after the cursor: the extra row only says that
    another page follows, and the last row kept names it."""
    kept = rows[:limit]
    return Page([convert(r) for r in kept], key(kept[-1]) if len(rows) > limit else None)


class WorkspaceState(StrEnum):
    TRIAL = "trial"
    ACTIVE = "active"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    CLOSED = "closed"


class ObjectState(StrEnum):
    LIVE = "live"
    TRASHED = "trashed"
    PURGING = "purging"
    #: A record a privacy request restricted (GDPR Art. 18): out of every read, list,
    #: find and export until the restriction is lifted; readable only through the request.
    RESTRICTED = "restricted"


@dataclass(frozen=True, slots=True)
class User:
    id: str
    email: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Member:
    workspace_id: str
    user_id: str
    email: str
    role: Role


@dataclass(frozen=True, slots=True)
class Workspace:
    id: str
    name: str
    state: WorkspaceState
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Project:
    id: str
    workspace_id: str
    name: str
    state: ObjectState
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Collection:
    name: str
    #: The paths of its personal fields (``email``, ``candidate.email``, ``refs[].email``).
    personal_fields: frozenset[str] = field(default_factory=frozenset)
    #: Each personal field with its kind, by path.
    personal: tuple[PersonalField, ...] = ()
    #: Paths whose values name files of the record's project: the subject's files too.
    file_fields: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "collection": self.name,
            "personal_fields": sorted(self.personal_fields),
            "personal": [{"path": f.path, "kind": f.kind.value} for f in self.personal],
            "file_fields": list(self.file_fields),
        }


@dataclass(frozen=True, slots=True)
class Record:
    id: str
    workspace_id: str
    project_id: str
    collection: str
    document: dict[str, Any]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class RecordText:
    """A record with its document as stored: canonical JSON (UTF-8, keys sorted, compact),
    for readers that pass documents on without looking inside (export)."""

    id: str
    created_at: datetime
    updated_at: datetime
    text: bytes


@dataclass(frozen=True, slots=True)
class StoredFile:
    id: str
    workspace_id: str
    project_id: str
    name: str
    size: int
    created_at: datetime
