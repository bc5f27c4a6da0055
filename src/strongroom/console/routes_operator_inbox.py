"""The operators' inbox (``/console/operator/inbox``): requests from the public with the
time left on their first-response clock, overdue first; one request with its history and
the forms to reply (by mail), add a note and assign it.

Each form calls the service method the API's route calls (api/routes_inbox.py), with the
operator as the actor. Refused input comes back on the page with the reason next to its
field (422); a reply the SMTP server did not take is recorded as not sent, and the page
says so (the clock runs on)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query
from starlette.responses import HTMLResponse, Response

from strongroom.console.operator import OperatorVisit
from strongroom.console.visit import Visit
from strongroom.domain.inbox import ClockState, RequestKind
from strongroom.errors import InvalidInput, MailNotSent
from strongroom.ids import pattern

router = APIRouter(prefix="/operator/inbox")

RequestId = Annotated[str, Path(pattern=pattern("inbox-request"))]
#: The most a text box may send; the service refuses longer text with a reason.
LONG = 40_000
Text = Annotated[str, Form(max_length=LONG)]
LATE = {ClockState.BREACHED, ClockState.WARNING}


def _url(request_id: str = "") -> str:
    return f"/console/operator/inbox/{request_id}" if request_id else "/console/operator/inbox"


@router.get("", response_class=HTMLResponse)
def inbox(
    visit: OperatorVisit,
    show: Annotated[str, Query(pattern="^(open|answered|all)$")] = "open",
    kind: Annotated[RequestKind | None, Query()] = None,
) -> Response:
    """Open requests first, soonest due (overdue) first."""
    state = None if show == "all" else show
    requests = visit.sr.inbox.list(kind.value if kind else None, state, visit.actor)
    overdue = sum(1 for r in requests if r.state is ClockState.BREACHED)
    return visit.render(
        "operator_inbox.html",
        active="inbox",
        requests=requests,
        show=show,
        kind=kind.value if kind else "",
        kinds=[k.value for k in RequestKind],
        overdue=overdue,
        late=LATE,
        response_hours=visit.sr.settings.response_hours,
    )


def _page(visit: Visit, request_id: str, status: int = 200, **values: Any) -> Response:
    request = visit.sr.inbox.show(request_id, visit.actor)
    values.setdefault("errors", {})
    values.setdefault("typed", {})
    return visit.render(
        "operator_inbox_request.html", status, active="inbox", r=request, late=LATE, **values
    )


@router.get("/{request_id}", response_class=HTMLResponse)
def one(visit: OperatorVisit, request_id: RequestId) -> Response:
    return _page(visit, request_id)


@router.post("/{request_id}/reply", response_class=HTMLResponse)
def reply(visit: OperatorVisit, request_id: RequestId, message: Text = "") -> Response:
    try:
        visit.sr.inbox.reply(request_id, message, visit.actor)
    except InvalidInput as bad:
        return _page(visit, request_id, 422, errors={"reply": str(bad)}, typed={"reply": message})
    except MailNotSent as not_sent:
        return _page(
            visit, request_id, 503, errors={"reply": str(not_sent)}, typed={"reply": message}
        )
    return visit.redirect(_url(request_id), "Reply sent to the requester; the clock stopped.")


@router.post("/{request_id}/note", response_class=HTMLResponse)
def note(visit: OperatorVisit, request_id: RequestId, message: Text = "") -> Response:
    try:
        visit.sr.inbox.note(request_id, message, visit.actor)
    except InvalidInput as bad:
        return _page(visit, request_id, 422, errors={"note": str(bad)}, typed={"note": message})
    return visit.redirect(_url(request_id), "Note added.")


@router.post("/{request_id}/assign", response_class=HTMLResponse)
def assign(
    visit: OperatorVisit, request_id: RequestId, operator: Annotated[str, Form(max_length=64)] = ""
) -> Response:
    try:
        visit.sr.inbox.assign(request_id, operator.strip(), visit.actor)
    except InvalidInput as bad:
        return _page(
            visit, request_id, 422, errors={"assign": str(bad)}, typed={"assign": operator}
        )
    return visit.redirect(_url(request_id), f"Assigned to {operator.strip()}.")
