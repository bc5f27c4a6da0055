"""The log of ``serve`` and ``worker``: JSON lines or text lines, each with the request id
of the request it was written for, none with an email address or a token in it.

* :data:`REQUEST_ID` holds the id of the request being answered (api/request_telemetry.py
  sets it); it follows the request into worker threads (Starlette's thread pool copies the
  context), so every line written while answering carries it.
* :class:`JsonFormatter`: one JSON object a line (``time``, ``level``, ``logger``,
  ``message``, ``request_id``; a request's own line adds ``method``, ``route``,
  ``status``, ``duration_ms``; an error adds ``exception``). Newlines in a message or a
  traceback are escaped, so a line is always one event.
* :class:`TextFormatter`: ``time level logger request-id: message``.
* Both pass the whole line through :func:`redact`: an email address or a Strongroom token
  that reached a message (an exception's text quoting its input) is replaced. The log
  names requests by route template, never by the path a client sent.

Nothing here imports prometheus_client: ``strongroom worker`` uses it too.
"""

from __future__ import annotations

import json
import logging
import re
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

#: The request being answered in this context, if any.
REQUEST_ID: ContextVar[str | None] = ContextVar("strongroom_request_id", default=None)

#: Attributes of a log record that a JSON line carries as fields of their own (a
#: request's line: api/request_telemetry.py).
REQUEST_FIELDS = ("method", "route", "status", "duration_ms")

#: The prefix of API, session and operator tokens (services/access.py's TOKEN_PREFIX).
TOKEN_PREFIX = "srt_"  # noqa: S105 - a prefix, not a secret

_EMAIL = re.compile(r"[^\s@<>()\[\]{}\"',;:/\\]+@[^\s@<>()\[\]{}\"',;:/\\]+\.[A-Za-z]{2,}")
_TOKEN = re.compile(re.escape(TOKEN_PREFIX) + r"[A-Za-z0-9_\-]+")
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[^\s\"',;]+")


def redact(text: str) -> str:
    """``text`` without email addresses, tokens and Authorization credentials."""
    text = _BEARER.sub(r"\1 [redacted]", text)
    text = _TOKEN.sub(TOKEN_PREFIX + "[redacted]", text)
    return _EMAIL.sub("[email]", text)


def _time(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(logging.Formatter):
    """One JSON object a line; see the module's docstring for its fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _time(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        request_id = REQUEST_ID.get()
        if request_id is not None:
            line["request_id"] = request_id
        for name in REQUEST_FIELDS:
            value = record.__dict__.get(name)
            if isinstance(value, str | int | float):
                line[name] = redact(value) if isinstance(value, str) else value
        if record.exc_info:
            line["exception"] = redact(self.formatException(record.exc_info))
        if record.stack_info:
            line["stack"] = redact(self.formatStack(record.stack_info))
        return json.dumps(line, ensure_ascii=True)


class TextFormatter(logging.Formatter):
    """``2026-01-31 12:00:00,000 INFO strongroom.request 3f2a…: GET /v1/workspaces 200``."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(request_id)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        record.request_id = REQUEST_ID.get() or "-"
        return redact(super().format(record))


def logging_config(log_format: str) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` dict: Strongroom's and uvicorn's loggers, INFO and
    up, to stderr in ``log_format`` ("json" or "text"). uvicorn's access log stays off:
    its lines name raw paths; Strongroom's own request line names the route template."""
    formatter = JsonFormatter if log_format == "json" else TextFormatter
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"line": {"()": formatter}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "line",
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "strongroom": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
            "uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        },
    }
