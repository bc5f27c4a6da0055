"""Subprocessors in the browser: the public page (the list, announced changes, a
subscription form, the confirm and unsubscribe links of the mails), the operators' page
(add one, see every notice and the owners' objections) and the workspace owners' page
(notices, an objection form, notices by email or not).

The public pages sit beside the API, without a session: their forms (subscribe, confirm,
unsubscribe) change nothing anyone signed in owns, and a mailed link only shows a button,
so a mail scanner that follows it confirms nothing.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, Response

from strongroom.api.problems import status_of
from strongroom.bootstrap import Strongroom
from strongroom.console import pages
from strongroom.console.operator import OperatorVisit
from strongroom.console.visit import Reader, Visit, member
from strongroom.domain.roles import Action, Role
from strongroom.domain.subprocessors import FIELDS, MAX_FIELD_CHARS, MAX_REASON_CHARS
from strongroom.errors import Conflict, InvalidInput, NotFound, RateLimited
from strongroom.ids import pattern
from strongroom.services.subprocessors import parse_effective

public = APIRouter()
router = APIRouter()

NoticeId = Annotated[str, Path(pattern=pattern("subprocessor-notice"))]
Objector = Annotated[Visit, member(Action.OBJECT_SUBPROCESSOR)]
FieldText = Annotated[str, Form(max_length=MAX_FIELD_CHARS * 2)]
SUBSCRIBED = (
    "If that address can receive mail, a confirmation link is on its way to it. Nothing "
    "else is sent until it is confirmed."
)


def _sr(request: Request) -> Strongroom:
    sr: Strongroom = request.app.state.strongroom
    return sr


# public -----------------------------------------------------------------------------------
def _public_page(sr: Strongroom, status: int = 200, **values: Any) -> HTMLResponse:
    context = {
        "active": "subprocessors",
        "entries": sr.subprocessors.current(),
        "upcoming": sr.subprocessors.upcoming(),
        "notice_days": sr.settings.subprocessor_notice_days,
        "fields": FIELDS,
        "email": "",
        **values,
    }
    return pages.render_public("subprocessors_public.html", context, status)


@public.get("/subprocessors", response_class=HTMLResponse)
def subprocessors_page(request: Request) -> Response:
    return _public_page(_sr(request))


@public.post("/subprocessors/subscribe", response_class=HTMLResponse)
def subscribe(request: Request, email: Annotated[str, Form(max_length=320)] = "") -> Response:
    sr = _sr(request)
    address = request.client.host if request.client else None
    try:
        sr.subprocessor_subscribers.subscribe(email, address)
    except InvalidInput as bad:
        return _public_page(sr, 422, email=email, error=f"Not an email address: {bad}")
    except RateLimited as limited:
        response = _public_page(sr, 429, email=email, error="Too many subscriptions from "
                                "your address; try again in an hour.")  # fmt: skip
        response.headers["Retry-After"] = str(limited.retry_after)
        return response
    return _public_page(sr, message=SUBSCRIBED)


#: A mailed link's page: its title, its button, and what it says once done.
_LINKS = {
    "confirm": (
        "Confirm your subscription",
        "Confirm",
        "Subscribed: every notice will be mailed to you.",
    ),
    "unsubscribe": (
        "Stop the notices",
        "Unsubscribe",
        "Unsubscribed: no more notices will be mailed to you.",
    ),
}


def _link_page(kind: str, token: str, status: int = 200, **values: Any) -> HTMLResponse:
    title, button, _done = _LINKS[kind]
    context = {"active": "subprocessors", "kind": kind, "title": title, "button": button}
    return pages.render_public(
        "subprocessors_link.html", {**context, "token": token, **values}, status
    )


@public.get("/subprocessors/{kind}", response_class=HTMLResponse)
def link_page(
    kind: Annotated[str, Path(pattern="^(confirm|unsubscribe)$")],
    token: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    return _link_page(kind, token)


@public.post("/subprocessors/{kind}", response_class=HTMLResponse)
async def follow_link(
    request: Request,
    kind: Annotated[str, Path(pattern="^(confirm|unsubscribe)$")],
    token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    subscribers = _sr(request).subprocessor_subscribers
    act = subscribers.confirm if kind == "confirm" else subscribers.unsubscribe
    try:
        await run_in_threadpool(act, token)
    except NotFound as bad:
        return _link_page(kind, "", 404, error=str(bad))
    return _link_page(kind, "", done=_LINKS[kind][2])


# operators --------------------------------------------------------------------------------
OPERATOR_PAGE = "/operator/subprocessors"


def _operator_page(visit: Visit, status: int = 200, **values: Any) -> HTMLResponse:
    sr = visit.sr
    return visit.render(
        "subprocessors_operator.html",
        status,
        active="subprocessors",
        entries=sr.subprocessors.current(),
        notices=sr.subprocessors.notices(),
        objections=sr.subprocessors.objections(visit.actor),
        subscribers=sr.subprocessor_subscribers.counts(),
        fields=FIELDS,
        notice_days=sr.settings.subprocessor_notice_days,
        typed=values.pop("typed", {}),
        **values,
    )


@router.get(OPERATOR_PAGE, response_class=HTMLResponse)
def operator_page(visit: OperatorVisit) -> Response:
    return _operator_page(visit)


@router.post(OPERATOR_PAGE, response_class=HTMLResponse)
def operator_add(
    visit: OperatorVisit,
    legal_name: FieldText = "",
    address: FieldText = "",
    contact: FieldText = "",
    purpose: FieldText = "",
    data_categories: FieldText = "",
    location: FieldText = "",
    transfer_mechanism: FieldText = "",
    effective: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    typed = {
        "legal_name": legal_name,
        "address": address,
        "contact": contact,
        "purpose": purpose,
        "data_categories": data_categories,
        "location": location,
        "transfer_mechanism": transfer_mechanism,
    }
    try:
        notice = visit.sr.subprocessors.add(typed, parse_effective(effective), visit.actor)
    except InvalidInput as refused:
        field = refused.ids.get("field")
        return _operator_page(
            visit,
            422,
            typed={**typed, "effective": effective},
            error=str(refused),
            error_field=field,
        )
    return visit.redirect(
        f"/console{OPERATOR_PAGE}",
        flash=f"Notice {notice.id} published: {typed['legal_name']} takes effect on "
        f"{notice.effective.isoformat()}.",
    )


# workspace owners -------------------------------------------------------------------------
NOTICES = "/w/{workspace_id}/subprocessor-notices"


def _notices_page(visit: Visit, status: int = 200, **values: Any) -> HTMLResponse:
    assert visit.workspace_id is not None
    sr = visit.sr
    owner = visit.role is Role.OWNER
    return visit.render(
        "subprocessor_notices.html",
        status,
        active="subprocessor-notices",
        notices=sr.subprocessors.notices(),
        objected=sr.subprocessors.objected_by(visit.workspace_id),
        owner=owner,
        mailed=sr.subprocessor_subscribers.owner_mailed(visit.email) if owner else False,
        max_reason=MAX_REASON_CHARS,
        **values,
    )


@router.get(NOTICES, response_class=HTMLResponse)
def notices_page(visit: Reader) -> Response:
    return _notices_page(visit)


@router.post(NOTICES + "/{notice_id}/objection", response_class=HTMLResponse)
def object_to_notice(
    visit: Objector,
    notice_id: NoticeId,
    reason: Annotated[str, Form(max_length=MAX_REASON_CHARS)] = "",
) -> Response:
    assert visit.workspace_id is not None
    try:
        visit.sr.subprocessors.object(
            visit.workspace_id, notice_id, visit.principal.user_id or "", reason, visit.actor
        )
    except (InvalidInput, Conflict) as refused:  # said next to the form; others are pages
        return _notices_page(visit, status_of(refused)[0], error=str(refused),
                             error_notice=notice_id, reason=reason)  # fmt: skip
    return visit.redirect(
        visit.url("/subprocessor-notices"), flash="Objection sent to the operators."
    )


@router.post(NOTICES + "/mail", response_class=HTMLResponse)
def set_mailed(visit: Objector, mailed: Annotated[str, Form(max_length=8)] = "") -> Response:
    """An owner stops (or resumes) the notices by email."""
    on = mailed == "yes"
    visit.sr.subprocessor_subscribers.set_owner_mailed(visit.email, on, visit.actor)
    flash = "Notices will be mailed to you." if on else "Notices will no longer be mailed to you."
    return visit.redirect(visit.url("/subprocessor-notices"), flash=flash)
