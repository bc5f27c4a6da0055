"""Privacy requests: the inbox by due date, and every step of a request.

Each step calls the service method the API's route calls (api/routes_privacy.py), with
the member as the actor, after the form is checked by the API's own body model: the
console takes what the API takes. Refused input comes back on the page it was typed in,
with the reason next to its field (422); a refusal of the request's state (409) or an id
of another workspace (404) becomes an error page (console/app.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ValidationError
from starlette.responses import HTMLResponse, Response

from strongroom.api.privacy_schemas import (
    CorrectIn,
    EraseIn,
    ExtendIn,
    PrivacyRequestIn,
    ReasonIn,
    VerifyIn,
)
from strongroom.console.visit import PrivacyManager, Visit
from strongroom.console.words import in_words, plural
from strongroom.domain import privacy_clock as clock
from strongroom.domain.personal import PersonalKind
from strongroom.domain.privacy import CLOSED, PrivacyRequest, RequestType, Work, check_work
from strongroom.errors import Conflict, InvalidInput, NotFound
from strongroom.ids import pattern
from strongroom.services.erasure import ErasureStatus

router = APIRouter()

INBOX = "/w/{workspace_id}/privacy"
ONE = INBOX + "/{request_id}"
RequestId = Annotated[str, Path(pattern=pattern("privacy-request"))]
#: Requests a page of the inbox shows.
PAGE = 25
#: Identifier rows the new-request form offers (the API takes up to 20; one is enough).
IDENTIFIER_ROWS = 3
#: The most a text box may send; the API's models refuse longer values with a reason.
LONG = 8000
Text = Annotated[str, Form(max_length=LONG)]
Texts = Annotated[list[str], Form(max_length=LONG)]
Errors = dict[str, str]

#: Words in a service's refusal of a new request, and the field they are about (first
#: match wins: "the due date cannot come before the request was received" is the due's).
_FIELD_WORDS = (
    ("identifier", "identifiers"),
    ("subject", "identifiers"),
    ("due", "due"),
    ("receiv", "received"),
    ("channel", "channel"),
    ("notes", "notes"),
    ("law", "law"),
    ("type", "type"),
)


# reading ------------------------------------------------------------------------------
def _now(visit: Visit) -> datetime:
    return visit.sr.ctx.clock.now()


def _ws(visit: Visit) -> str:
    assert visit.workspace_id is not None  # a workspace page
    return visit.workspace_id


def due_words(request: PrivacyRequest, now: datetime) -> str:
    """``today``, ``in 3 days``, ``2 days ago``: counted in whole days of the request's
    time zone, as the request's own ``days_left`` is."""
    today = clock.local_date(now, clock.zone(request.time_zone))
    return in_words(
        datetime.combine(request.due, time(0), UTC), datetime.combine(today, time(0), UTC)
    )


def _inbox_order(request: PrivacyRequest) -> tuple[bool, date, datetime]:
    return (not request.overdue, request.due, request.received_at)


def _offered(request: PrivacyRequest) -> set[str]:
    """The steps the request's type and state allow now (domain/privacy.check_work)."""
    offered = set()
    for work in Work:
        try:
            check_work(request.type, request.state, work)
        except Conflict:
            continue
        offered.add(work.value)
    if request.extended_at is not None:
        offered.discard(Work.EXTEND.value)
    return offered


def _history(request: PrivacyRequest, erasure: ErasureStatus | None) -> list[tuple[datetime, str]]:
    """What happened to the request, oldest first, from its own record."""
    events = [(request.received_at, f"Received ({request.channel}) under {request.law}")]
    if request.verified_at:
        by = f" by {request.verified_by}" if request.verified_by else ""
        how = f": {request.verification_method}" if request.verification_method else ""
        events.append((request.verified_at, f"Identity verified{by}{how}"))
    if request.extended_at:
        why = f": {request.extension_reason}" if request.extension_reason else ""
        events.append((request.extended_at, f"Extended to {request.due.isoformat()}{why}"))
    if request.closed_at:
        why = f": {request.outcome_reason}" if request.outcome_reason else ""
        if erasure is not None and erasure.certificate_id:
            why = f": erased, certificate {erasure.certificate_id}"
        events.append((request.closed_at, f"{request.state.value.capitalize()}{why}"))
    return sorted(events, key=lambda e: e[0])


# checking what was typed ----------------------------------------------------------------
def _checked(model: type[BaseModel], data: dict[str, Any], errors: Errors, prefix: str) -> Any:
    """``data`` as the API's body ``model``, or None with the first reason per field in
    ``errors`` (keyed ``prefix-field``)."""
    try:
        return model.model_validate(data)
    except ValidationError as refused:
        for problem in refused.errors():
            where = str(problem["loc"][0]) if problem["loc"] else "form"
            errors.setdefault(f"{prefix}-{where}", problem["msg"])
        return None


def _field_of(message: str) -> str:
    lowered = message.lower()
    return next((field for word, field in _FIELD_WORDS if word in lowered), "form")


def _identifier_rows(kinds: list[str], values: list[str]) -> list[tuple[str, str]]:
    rows = list(zip(kinds, values, strict=False))
    return rows + [("email", "")] * max(0, IDENTIFIER_ROWS - len(rows))


# the inbox ------------------------------------------------------------------------------
def _inbox(
    visit: Visit,
    *,
    show: str = "open",
    cursor: int = 0,
    status: int = 200,
    errors: Errors | None = None,
    typed: dict[str, Any] | None = None,
) -> HTMLResponse:
    requests = visit.sr.privacy.list(_ws(visit))
    open_ = sorted((r for r in requests if r.state not in CLOSED), key=_inbox_order)
    closed = sorted(
        (r for r in requests if r.state in CLOSED),
        key=lambda r: r.closed_at or r.received_at,
        reverse=True,
    )
    shown = {"open": open_, "closed": closed}.get(show, open_ + closed)
    page = shown[cursor : cursor + PAGE]
    typed = typed or {}
    return visit.render(
        "privacy_inbox.html",
        status=status,
        show=show if show in ("open", "closed", "all") else "all",
        requests=page,
        counts={
            "open": len(open_),
            "closed": len(closed),
            "overdue": sum(r.overdue for r in open_),
        },
        next_cursor=cursor + PAGE if cursor + PAGE < len(shown) else None,
        cursor=cursor,
        now=_now(visit),
        due_words=due_words,
        types=[t.value for t in RequestType],
        laws=[law.value for law in clock.Law],
        kinds=[k.value for k in PersonalKind],
        errors=errors or {},
        typed=typed,
        rows=_identifier_rows(typed.get("kinds", []), typed.get("values", [])),
    )


@router.get(INBOX, response_class=HTMLResponse)
def inbox(
    visit: PrivacyManager,
    show: Annotated[str, Query(pattern="^(open|closed|all)$")] = "open",
    cursor: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Response:
    return _inbox(visit, show=show, cursor=cursor)


@router.post(INBOX, response_class=HTMLResponse)
def create_request(
    visit: PrivacyManager,
    type: Text = "",
    law: Text = "",
    identifier_kind: Texts = [],  # noqa: B006 - FastAPI copies a default list per request
    identifier_value: Texts = [],  # noqa: B006
    received: Text = "",
    due: Text = "",
    channel: Text = "",
    notes: Text = "",
) -> Response:
    typed = {
        "type": type,
        "law": law,
        "kinds": identifier_kind,
        "values": identifier_value,
        "received": received,
        "due": due,
        "channel": channel,
        "notes": notes,
    }
    pairs = [(k, v) for k, v in zip(identifier_kind, identifier_value, strict=False) if v.strip()]
    data: dict[str, Any] = {
        "type": type,
        "law": law,
        "identifiers": [{"kind": k, "value": v} for k, v in pairs],
        "received": received or None,
        "due": due or None,
        "notes": notes,
    }
    if channel.strip():
        data["channel"] = channel
    errors: Errors = {}
    body = _checked(PrivacyRequestIn, data, errors, "new")
    if body is not None:
        try:
            request = visit.sr.privacy.create(
                _ws(visit),
                type=body.type.value,
                law=body.law.value,
                identifiers=[(i.kind.value, i.value) for i in body.identifiers],
                received=body.received,
                due=body.due,
                channel=body.channel,
                notes=body.notes,
                actor=visit.actor,
            )
        except InvalidInput as refused:
            errors[f"new-{_field_of(str(refused))}"] = str(refused)
        else:
            return visit.redirect(
                visit.url(f"/privacy/{request.id}"),
                flash=f"Request recorded: due {request.due.isoformat()}.",
            )
    return _inbox(visit, status=422, errors=errors, typed=typed)


# one request ----------------------------------------------------------------------------
def _detail(
    visit: Visit,
    request_id: str,
    *,
    status: int = 200,
    errors: Errors | None = None,
    typed: dict[str, Any] | None = None,
) -> HTMLResponse:
    ws = _ws(visit)
    request = visit.sr.privacy.get(ws, request_id)
    erasure = visit.sr.privacy.erasure_status(ws, request_id)
    zone = clock.zone(request.time_zone)
    return visit.render(
        "privacy_request.html",
        status=status,
        r=request,
        erasure=erasure,
        history=_history(request, erasure),
        offered=_offered(request),
        late_from=clock.due_instant(request.due, zone),
        now=_now(visit),
        due_words=due_words,
        errors=errors or {},
        typed=typed or {},
        base=visit.url(f"/privacy/{request_id}"),
    )


@router.get(ONE, response_class=HTMLResponse)
def show_request(visit: PrivacyManager, request_id: RequestId) -> Response:
    return _detail(visit, request_id)


def _step(
    visit: Visit,
    request_id: str,
    step: str,
    body: BaseModel | None,
    errors: Errors,
    typed: dict[str, Any],
    call: Callable[[Any], str],
    main: str,
) -> Response:
    """Run a step whose input ``body`` passed the API's model (``call`` returns what to
    say); else, or when the service refuses the input, the page again with the reasons
    (a service's reason next to the step's ``main`` field)."""
    if body is not None and not errors:
        try:
            flash = call(body)
        except InvalidInput as refused:
            errors[f"{step}-{main}"] = str(refused)
        else:
            return visit.redirect(visit.url(f"/privacy/{request_id}"), flash=flash)
    return _detail(visit, request_id, status=422, errors=errors, typed=typed)


@router.post(ONE + "/verify", response_class=HTMLResponse)
def verify(
    visit: PrivacyManager, request_id: RequestId, method: Text = "", by: Text = ""
) -> Response:
    errors: Errors = {}
    body = _checked(VerifyIn, {"method": method, "by": by}, errors, "verify")

    def call(body: VerifyIn) -> str:
        visit.sr.privacy.verify(
            _ws(visit), request_id, method=body.method, by=body.by, actor=visit.actor
        )
        return "Identity verified."

    typed = {"verify-method": method, "verify-by": by}
    return _step(visit, request_id, "verify", body, errors, typed, call, "method")


@router.get(ONE + "/locate", response_class=HTMLResponse)
def locate(visit: PrivacyManager, request_id: RequestId) -> Response:
    """Where the subject's data is (audited, as the API's GET is): through the blind index."""
    ws = _ws(visit)
    request = visit.sr.privacy.get(ws, request_id)
    matches = visit.sr.privacy.locate(ws, request_id, actor=visit.actor)
    return visit.render("privacy_locate.html", r=request, matches=matches)


@router.post(ONE + "/export")
def export(visit: PrivacyManager, request_id: RequestId) -> Response:
    """The subject's package, as the API answers it: the ZIP itself, streamed."""
    name, chunks = visit.sr.privacy.export_stream(_ws(visit), request_id, actor=visit.actor)
    first = next(chunks, b"")  # a refusal comes before the first byte: still an error page

    def body() -> Iterator[bytes]:
        yield first
        yield from chunks

    return StreamingResponse(
        body(),
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@router.post(ONE + "/correct", response_class=HTMLResponse)
def correct(
    visit: PrivacyManager,
    request_id: RequestId,
    field: Texts = [],  # noqa: B006 - FastAPI makes a new list per request
    value: Texts = [],  # noqa: B006
) -> Response:
    rows = list(zip(field, value, strict=False))
    changes = [{"field": f.strip(), "value": v} for f, v in rows if f.strip() or v.strip()]
    errors: Errors = {}
    body = _checked(CorrectIn, {"changes": changes}, errors, "correct")

    def call(body: CorrectIn) -> str:
        done = visit.sr.privacy.correct(
            _ws(visit), request_id, [(c.field, c.value) for c in body.changes], actor=visit.actor
        )
        return (
            f"Corrected {plural(done['values'], 'value')} in {plural(done['records'], 'record')}."
        )

    typed = {"correct-rows": rows}
    return _step(visit, request_id, "correct", body, errors, typed, call, "changes")


@router.post(ONE + "/restrict", response_class=HTMLResponse)
def restrict(visit: PrivacyManager, request_id: RequestId) -> Response:
    count = visit.sr.privacy.restrict(_ws(visit), request_id, actor=visit.actor)
    return _moved(visit, request_id, f"Restricted {plural(count, 'record')}.")


@router.post(ONE + "/lift", response_class=HTMLResponse)
def lift(visit: PrivacyManager, request_id: RequestId) -> Response:
    count = visit.sr.privacy.lift(_ws(visit), request_id, actor=visit.actor)
    return _moved(visit, request_id, f"Restriction lifted from {plural(count, 'record')}.")


@router.post(ONE + "/complete", response_class=HTMLResponse)
def complete(visit: PrivacyManager, request_id: RequestId) -> Response:
    visit.sr.privacy.complete(_ws(visit), request_id, actor=visit.actor)
    return _moved(visit, request_id, "Request completed.")


def _moved(visit: Visit, request_id: str, flash: str) -> Response:
    return visit.redirect(visit.url(f"/privacy/{request_id}"), flash=flash)


@router.post(ONE + "/erase", response_class=HTMLResponse)
def erase(
    visit: PrivacyManager, request_id: RequestId, redact: Text = "", confirm: Text = ""
) -> Response:
    names = [n for n in redact.replace(",", "\n").split() if n]
    errors: Errors = {}
    body = _checked(EraseIn, {"redact": names, "confirm": confirm == "yes"}, errors, "erase")
    if body is not None and not body.confirm:
        errors["erase-confirm"] = "An erasure cannot be undone: tick the box to confirm it."

    def call(body: EraseIn) -> str:
        status = visit.sr.privacy.erase(
            _ws(visit), request_id, redact=body.redact, actor=visit.actor
        )
        if status.state == "done":
            return f"Erased. Certificate {status.certificate_id}."
        return "Erasure started: the worker finishes it."

    return _step(visit, request_id, "erase", body, errors, {"erase-redact": redact}, call, "redact")


@router.get(ONE + "/erasure", response_class=HTMLResponse)
def erasure(visit: PrivacyManager, request_id: RequestId) -> Response:
    """The request's last erasure (the API's GET …/erasure); htmx polls it while pending."""
    ws = _ws(visit)
    request = visit.sr.privacy.get(ws, request_id)
    status = visit.sr.privacy.erasure_status(ws, request_id)
    if status is None:
        raise NotFound(f"privacy request {request_id} has no erasure", workspace_id=ws)
    return visit.render(
        "privacy_erasure.html", r=request, erasure=status, base=visit.url(f"/privacy/{request_id}")
    )


@router.post(ONE + "/extend", response_class=HTMLResponse)
def extend(
    visit: PrivacyManager,
    request_id: RequestId,
    reason: Text = "",
    amount: Text = "",
    unit: Text = "months",
) -> Response:
    errors: Errors = {}
    unit = "days" if unit == "days" else "months"
    data = {"reason": reason, unit: amount.strip() or None}
    body = _checked(ExtendIn, data, errors, "extend")
    if f"extend-{unit}" in errors:
        errors["extend-amount"] = errors.pop(f"extend-{unit}")
    elif body is not None and getattr(body, unit) is None:
        errors["extend-amount"] = f"Give how many {unit} to extend by."

    def call(body: ExtendIn) -> str:
        moved = visit.sr.privacy.extend(
            _ws(visit),
            request_id,
            reason=body.reason,
            days=body.days,
            months=body.months,
            actor=visit.actor,
        )
        return f"Extended: now due {moved.due.isoformat()}."

    typed = {"extend-reason": reason, "extend-amount": amount, "extend-unit": unit}
    return _step(visit, request_id, "extend", body, errors, typed, call, "amount")


@router.post(ONE + "/reject", response_class=HTMLResponse)
def reject(
    visit: PrivacyManager, request_id: RequestId, reason: Text = "", confirm: Text = ""
) -> Response:
    errors: Errors = {}
    body = _checked(ReasonIn, {"reason": reason}, errors, "reject")
    if confirm != "yes":
        errors["reject-confirm"] = "A rejection closes the request: tick the box to confirm it."

    def call(body: ReasonIn) -> str:
        visit.sr.privacy.reject(_ws(visit), request_id, reason=body.reason, actor=visit.actor)
        return "Request rejected."

    return _step(
        visit, request_id, "reject", body, errors, {"reject-reason": reason}, call, "reason"
    )
