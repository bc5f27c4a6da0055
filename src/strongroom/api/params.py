"""Path and query parameters with their formats, so the OpenAPI document says exactly
what an id, a cursor or a collection name looks like."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Path, Query
from pydantic import AfterValidator, AwareDatetime

from strongroom.domain.rules import COLLECTION_PATTERN as COLLECTION
from strongroom.domain.rules import NAME_PATTERN
from strongroom.ids import pattern

WorkspaceId = Annotated[str, Path(pattern=pattern("workspace"))]
ProjectId = Annotated[str, Path(pattern=pattern("project"))]
RecordId = Annotated[str, Path(pattern=pattern("record"))]
FileId = Annotated[str, Path(pattern=pattern("file"))]
TokenId = Annotated[str, Path(pattern=pattern("token"))]
UserId = Annotated[str, Path(pattern=pattern("user"))]
CollectionName = Annotated[str, Path(pattern=COLLECTION)]

Limit = Annotated[int, Query(ge=1, le=1000)]


def _in_utc(value: datetime) -> datetime:
    """The instant in UTC, as storage compares it; a time whose UTC form falls outside
    years 1 to 9999 (``9999-12-31T23:00-14:00``) is a 422 here, not an OverflowError
    (a 500) in the query."""
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("the time is out of range (years 1 to 9999 in UTC)") from None


#: A date and time with its offset, as a query parameter (``?until=``).
Instant = Annotated[AwareDatetime, AfterValidator(_in_utc)]


def cursor_of(kind: str) -> object:
    return Query(pattern=pattern(kind), description="`next_cursor` of the previous page.")


WorkspaceCursor = Annotated[str | None, cursor_of("workspace")]
UserCursor = Annotated[str | None, cursor_of("user")]
ProjectCursor = Annotated[str | None, cursor_of("project")]
RecordCursor = Annotated[str | None, cursor_of("record")]
FileCursor = Annotated[str | None, cursor_of("file")]
CollectionQuery = Annotated[str, Query(pattern=COLLECTION)]
FileName = Annotated[str, Query(min_length=1, max_length=200, pattern=NAME_PATTERN)]
TokenCursor = Annotated[str | None, cursor_of("token")]
CollectionCursor = Annotated[
    str | None, Query(pattern=COLLECTION, description="`next_cursor` of the previous page.")
]


def page_keys(keys: list[str], cursor: str | None, limit: int) -> tuple[list[str], str | None]:
    """One page of sorted keys after ``cursor`` (for lists the services return whole)."""
    after = [k for k in keys if cursor is None or k > cursor]
    return after[:limit], (after[limit - 1] if len(after) > limit else None)
