"""How the console says times and counts: pure functions, no IO."""

from __future__ import annotations

import math
from datetime import datetime


def plural(count: int, one: str, many: str | None = None) -> str:
    """``1 file``, ``2 files``: counts agree in number."""
    return f"{count} {one if count == 1 else (many or one + 's')}"


def days_left(due: datetime, now: datetime) -> int:
    """Whole days until ``due``, counting a started day as a day (due in 29.5 days: 30);
    negative once past."""
    seconds = (due - now).total_seconds()
    return math.ceil(seconds / 86400) if seconds >= 0 else -math.ceil(-seconds / 86400)


def in_words(due: datetime, now: datetime) -> str:
    """``in 30 days``, ``tomorrow``, ``today``, ``2 days ago``: a due date said as people
    say it."""
    days = days_left(due, now)
    if days == 0 or (days == 1 and due.date() == now.date()):
        return "today"
    if days == 1:
        return "tomorrow"
    if days > 1:
        return f"in {plural(days, 'day')}"
    if days == -1:
        return "yesterday"
    return f"{plural(-days, 'day')} ago"


def utc_text(moment: datetime) -> str:
    """The UTC value shown on hover, and to a browser without JavaScript."""
    return moment.strftime("%Y-%m-%d %H:%M UTC")
