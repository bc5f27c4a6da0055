"""The workspace's audit log: its events (the API's ``GET …/audit``: oldest first, paged by
position in the workspace), filtered by action and by dates, and "verify chain" (the CLI's
``strongroom audit verify``).

The chain's own sequence numbers and its length count every tenant's events, so a member
is told whether the chain is intact, never how long it is or where another tenant's event
broke it (services/audit.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import HTMLResponse, Response

from strongroom.console import chain
from strongroom.console.visit import AuditReader, Visit
from strongroom.services.audit import Event

router = APIRouter()

PAGE = 50
SCAN = 500  # events read at a time while filtering
After = Annotated[int, Query(ge=0, le=2**62)]
Text = Annotated[str, Query(max_length=64)]


@dataclass(frozen=True)
class Filter:
    """Which events the member asked to see."""

    action: str = ""
    start: datetime | None = None  # from the start of this day (UTC)
    end: datetime | None = None  # before the end of this day (UTC)

    def keeps(self, event: Event) -> bool:
        if self.action and not (
            event.action == self.action or event.action.startswith(self.action + ".")
        ):
            return False
        if self.start is not None and event.at < self.start:
            return False
        return self.end is None or event.at < self.end


def _day(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


def _filter(action: str, since: str, until: str) -> tuple[Filter, dict[str, str]]:
    errors: dict[str, str] = {}
    days: dict[str, date | None] = {}
    for name, text in (("since", since), ("until", until)):
        try:
            days[name] = _day(text.strip())
        except ValueError:
            errors[name] = "Give a date as YYYY-MM-DD."
            days[name] = None
    first, last = days["since"], days["until"]
    if first and last and last < first:
        errors["until"] = "The end date comes before the start date."
    start = datetime.combine(first, time(), UTC) if first else None
    end = datetime.combine(last, time(), UTC) + timedelta(days=1) if last else None
    return Filter(action.strip(), start, end), errors


def _matching(visit: Visit, after: int, wanted: Filter) -> Iterator[Event]:
    """The workspace's events after position ``after`` that the filter keeps."""
    assert visit.workspace_id is not None
    while True:
        events = visit.sr.audit.workspace_events(visit.workspace_id, after, SCAN)
        yield from (e for e in events if wanted.keeps(e))
        if len(events) < SCAN:
            return
        after = events[-1].position or after + SCAN


def _page(visit: Visit, after: int, wanted: Filter) -> tuple[list[Event], int | None]:
    found: list[Event] = []
    for event in _matching(visit, after, wanted):
        if len(found) == PAGE:  # one more exists: the next page starts after the last shown
            return found, found[-1].position
        found.append(event)
    return found, None


def _verification(visit: Visit) -> dict[str, str | bool]:
    reason = chain.broken_reason(visit.sr.audit.verify)
    if reason is not None:
        why = {
            "hash": "an event was changed after it was written",
            "sequence": "an event was deleted or moved",
            "head": "events at the end were deleted or rewritten",
        }.get(reason, "an event does not follow the one before it")
        return {"intact": False, "text": f"The audit chain is broken: {why}. Tell your operator."}
    return {
        "intact": True,
        "text": "The audit chain is intact: every event, this workspace's among them, "
        "follows the one before it unchanged.",
    }


def _audit_page(
    visit: Visit, after: int, action: str, since: str, until: str, verify: bool = False
) -> HTMLResponse:
    wanted, errors = _filter(action, since, until)
    events, next_after = ([], None) if errors else _page(visit, after, wanted)
    query = {"action": action, "since": since, "until": until}
    return visit.render(
        "audit_log.html",
        422 if errors else 200,
        events=events,
        next_after=next_after,
        query=query,
        filtered=bool(wanted.action or wanted.start or wanted.end),
        errors=errors,
        verification=_verification(visit) if verify else None,
    )


@router.get("/w/{workspace_id}/audit", response_class=HTMLResponse)
def audit_log(
    visit: AuditReader,
    after: After = 0,
    action: Text = "",
    since: Annotated[str, Query(max_length=10)] = "",
    until: Annotated[str, Query(max_length=10)] = "",
) -> Response:
    return _audit_page(visit, after, action, since, until)


@router.get("/w/{workspace_id}/audit/verify", response_class=HTMLResponse)
def verify_chain(
    visit: AuditReader,
    action: Text = "",
    since: Annotated[str, Query(max_length=10)] = "",
    until: Annotated[str, Query(max_length=10)] = "",
) -> Response:
    """Walk the whole chain (a read: nothing changes, so a GET)."""
    return _audit_page(visit, 0, action, since, until, verify=True)
