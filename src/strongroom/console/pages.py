"""Rendering console pages: the Jinja2 environment (autoescape on), its filters, and the
HTML error pages every refusal becomes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.responses import HTMLResponse

from strongroom.api.problems import status_of
from strongroom.console import words
from strongroom.errors import StrongroomError

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

#: Every console page's policy: nothing but this origin's files, no inline script or style,
#: no framing, forms only to this origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


def _when(moment: datetime | None) -> Markup:
    """A time as ``<time>``: UTC in the text and on hover; console.js shows the text in the
    reader's own time zone."""
    if moment is None:
        return Markup("—")
    moment = moment.astimezone(UTC)
    text = words.utc_text(moment)
    return Markup('<time datetime="{}" title="{}">{}</time>').format(moment.isoformat(), text, text)


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = _when
    env.filters["plural"] = words.plural
    env.filters["pretty_json"] = _json
    env.globals["in_words"] = words.in_words
    env.globals["days_left"] = words.days_left
    return env


ENV = environment()


def render(template: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    html = ENV.get_template(template).render(context)
    return HTMLResponse(html, status_code=status)


def render_public(template: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    """A public page (the trust center, the subprocessor list, the contact form): no
    session, no sign-in, served beside the API rather than inside the console's app, so
    it sets the console's CSP itself. Its template extends ``public_base.html``."""
    response = render(template, context, status)
    response.headers["content-security-policy"] = CONTENT_SECURITY_POLICY
    return response


def error_page(status: int, title: str, detail: str, context: dict[str, Any]) -> HTMLResponse:
    return render("error.html", {**context, "title": title, "detail": detail}, status)


def from_error(error: StrongroomError, context: dict[str, Any]) -> HTMLResponse:
    status, kind = status_of(error)
    title = kind.replace("-", " ").capitalize()
    response = error_page(status, title, " ".join(str(error).split()), context)
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response
