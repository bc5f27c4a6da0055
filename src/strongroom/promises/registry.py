"""What a promise is: an id, a title, a claim rendered from the live settings (never typed
text), and a check that looks at the running deployment and returns a
:class:`~strongroom.domain.promises.Verdict`.

Adding a promise is one entry: ``Promise(id, title, claim, check)``, where ``claim`` takes
the Settings and ``check`` a :class:`Deployment`. The composition root (bootstrap.py) hands
the standard ones (``promises/standard.py``) and any others to ``sr.promises``; a service
of its own (a subprocessor list, say) joins there with
``Promise("subprocessors", "…", claim, lambda _d: self.subprocessors.verdict())``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from strongroom.backup.service import Backups
from strongroom.config import Settings
from strongroom.domain.promises import Verdict
from strongroom.services.audit import AuditLog
from strongroom.services.context import Context
from strongroom.services.privacy import Privacy

#: How late a deadline, a backup or a rotation may run before its promise counts as
#: broken: the worker passes every few seconds, so an hour late is something wrong.
GRACE = timedelta(hours=1)


@dataclass(frozen=True)
class Deployment:
    """What a check may look at: the running deployment's parts, and one ``now`` for a
    whole run of the checks."""

    ctx: Context
    backups: Backups
    audit: AuditLog
    privacy: Privacy
    now: datetime

    @property
    def settings(self) -> Settings:
        return self.ctx.settings


Claim = Callable[[Settings], str]
Check = Callable[[Deployment], Verdict]


@dataclass(frozen=True)
class Promise:
    id: str
    title: str
    claim: Claim
    check: Check


def days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"
