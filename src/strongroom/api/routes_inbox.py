"""The request inbox: anyone may send a request (no token; limited per client address);
operators list, read, answer, annotate and assign them."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request

from strongroom.api.deps import SR, Operator
from strongroom.api.inbox_schemas import (
    AssignIn,
    EntryOut,
    InboxRequestIn,
    InboxRequestList,
    InboxRequestOut,
    MessageIn,
    ReceivedOut,
)
from strongroom.api.strict_json import StrictJSONRoute
from strongroom.domain.inbox import RequestKind
from strongroom.ids import pattern

router = APIRouter(prefix="/v1/inbox", tags=["inbox"], route_class=StrictJSONRoute)
RequestId = Annotated[str, Path(pattern=pattern("inbox-request"))]


@router.post("", status_code=201, summary="Send a support, security or privacy request")
def submit(sr: SR, body: InboxRequestIn, request: Request) -> ReceivedOut:
    """No sign-in. The answer names the request's reference and when its first reply is
    due. At most ``inbox_requests_per_address_hour`` per client address (the TCP peer),
    then 429 with Retry-After."""
    address = request.client.host if request.client else None
    got = sr.inbox.submit(body.kind.value, body.email, body.subject, body.message, address)
    return ReceivedOut.of(got, sr.settings.response_hours)


@router.get("", summary="Requests, open ones first by due time (operators)")
def list_requests(
    sr: SR,
    caller: Operator,
    kind: RequestKind | None = None,
    state: Annotated[Literal["open", "answered"] | None, Query()] = None,
) -> InboxRequestList:
    found = sr.inbox.list(kind.value if kind else None, state, caller.actor)
    return InboxRequestList(items=[InboxRequestOut.of(r, whole=False) for r in found])


@router.get("/{request_id}", summary="One request, decrypted, with its history (operators)")
def show(sr: SR, caller: Operator, request_id: RequestId) -> InboxRequestOut:
    return InboxRequestOut.of(sr.inbox.show(request_id, caller.actor), whole=True)


@router.post("/{request_id}/replies", status_code=201, summary="Reply to the requester by mail")
def reply(sr: SR, caller: Operator, request_id: RequestId, body: MessageIn) -> EntryOut:
    """Sent through the SMTP server; only a reply it took stops the clock. If it did not
    take it: 503, and the reply is recorded as not sent."""
    return EntryOut.of(sr.inbox.reply(request_id, body.message, caller.actor))


@router.post("/{request_id}/notes", status_code=201, summary="Add an operators' note")
def note(sr: SR, caller: Operator, request_id: RequestId, body: MessageIn) -> EntryOut:
    return EntryOut.of(sr.inbox.note(request_id, body.message, caller.actor))


@router.post("/{request_id}/assignment", status_code=201, summary="Assign to an operator")
def assign(sr: SR, caller: Operator, request_id: RequestId, body: AssignIn) -> EntryOut:
    return EntryOut.of(sr.inbox.assign(request_id, body.operator, caller.actor))
