"""The public contact form (``/contact``): anyone sends a support, security or privacy
request to the deployment's operators, without signing in and without JavaScript.

The form posts to itself; the request goes through the same service as ``POST /v1/inbox``
(services/inbox.py), counted against the same per-address limit. A refusal comes back on
the form with what was typed and the reason next to each field (422), or the time to wait
(429, with Retry-After); a request received shows its reference and its reply deadline."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse

from strongroom.bootstrap import Strongroom
from strongroom.console import pages
from strongroom.domain.inbox import MAX_BODY_CHARS, MAX_SUBJECT_CHARS, RequestKind, field_errors
from strongroom.errors import InvalidInput, RateLimited

public = APIRouter()

#: What a refused form echoes back at most (a field may be over its limit; the page
#: should not reflect megabytes).
ECHO_CHARS = MAX_BODY_CHARS + 100
Field = Annotated[str, Form()]


def _context(request: Request, **values: Any) -> dict[str, Any]:
    sr: Strongroom = request.app.state.strongroom
    return {
        "request": request,
        "active": "contact",
        "kinds": [k.value for k in RequestKind],
        "response_hours": sr.settings.response_hours,
        "security_contact": sr.settings.security_contact,
        "max_subject": MAX_SUBJECT_CHARS,
        "max_body": MAX_BODY_CHARS,
        "typed": {},
        "errors": {},
        **values,
    }


@public.get("/contact", response_class=HTMLResponse)
def contact_form(request: Request, kind: str = "support") -> HTMLResponse:
    chosen = kind if kind in {k.value for k in RequestKind} else "support"
    return pages.render_public("contact.html", _context(request, typed={"kind": chosen}))


@public.post("/contact", response_class=HTMLResponse)
async def contact_send(
    request: Request,
    kind: Field = "",
    email: Field = "",
    subject: Field = "",
    body: Field = "",
) -> HTMLResponse:
    sr: Strongroom = request.app.state.strongroom
    typed = {"kind": kind, "email": email, "subject": subject, "body": body}
    typed = {name: value[:ECHO_CHARS] for name, value in typed.items()}
    errors = field_errors(kind, email, subject, body)
    if errors:
        return pages.render_public(
            "contact.html", _context(request, typed=typed, errors=errors), 422
        )
    address = request.client.host if request.client else None
    try:
        got = await run_in_threadpool(sr.inbox.submit, kind, email, subject, body, address)
    except RateLimited as limited:
        minutes = max(1, (limited.retry_after + 59) // 60)
        context = _context(request, typed=typed, limited=minutes)
        response = pages.render_public("contact.html", context, 429)
        response.headers["Retry-After"] = str(limited.retry_after)
        return response
    except InvalidInput as bad:  # checked above; kept for a rule the service adds
        context = _context(request, typed=typed, errors={"form": str(bad)})
        return pages.render_public("contact.html", context, 422)
    return pages.render_public("contact_received.html", _context(request, received=got), 201)
