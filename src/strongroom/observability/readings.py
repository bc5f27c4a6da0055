"""The deployment's state, read when Prometheus scrapes: what every process would report
alike, so it is read from the shared data store and files, never kept in memory.

* due and overdue deadlines by action (parked ones, under a legal hold, are not due);
  "overdue": due for longer than the promise checks' grace (promises/registry.GRACE);
* purge lag: how long the oldest due purge has waited since its time came;
* backup age: since the newest complete data backup in ``backup_dir`` (the manifest
  written last, found by its file time, dated by its ``created_at``);
* the served certificate's expiry (the ``tls_cert`` file, which the server reloads);
* each promise's newest check result and its age.

One read is two grouped queries on the data store, a look at the backup folder (one
``stat`` per data backup, one manifest read) and one certificate file.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from strongroom.backup.manifest import DATA, MANIFEST
from strongroom.backup.places import open_place
from strongroom.domain.lifecycle import PURGES
from strongroom.errors import StrongroomError
from strongroom.promises.registry import GRACE
from strongroom.services.context import Context
from strongroom.storage.repositories.deadlines import Backlog
from strongroom.storage.repositories.promise_checks import PromiseCheckRow
from strongroom.tls.certificates import certificate_expiry

log = logging.getLogger("strongroom.metrics")

_PURGE_ACTIONS = frozenset(action.value for action in PURGES)


@dataclass(frozen=True)
class Readings:
    """The deployment's state at ``now``; the ages and the lag are computed from it."""

    now: datetime
    backlog: tuple[Backlog, ...]
    newest_backup_at: datetime | None
    certificate_expires_at: datetime | None
    promises: tuple[PromiseCheckRow, ...]

    def purge_lag_seconds(self) -> float:
        """Seconds the oldest due purge has waited since its time; 0 when none waits."""
        due = [b.oldest_due_at for b in self.backlog if b.action in _PURGE_ACTIONS]
        return max(0.0, (self.now - min(due)).total_seconds()) if due else 0.0

    def backup_age_seconds(self) -> float:
        """Seconds since the newest data backup; infinite when there is none."""
        if self.newest_backup_at is None:
            return math.inf
        return max(0.0, (self.now - self.newest_backup_at).total_seconds())

    def certificate_days_left(self) -> float | None:
        """Days until the served certificate expires (negative: expired); None if unread."""
        if self.certificate_expires_at is None:
            return None
        return (self.certificate_expires_at - self.now).total_seconds() / 86400


class DeploymentReadings:
    """Reads :class:`Readings` of a deployment (``sr.readings``)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def read(self) -> Readings:
        now = self.ctx.clock.now()
        with self.ctx.store.read() as uow:
            backlog = uow.deadlines.backlog(now, now - GRACE)
            promises = uow.promise_checks.newest()
        return Readings(
            now=now,
            backlog=tuple(backlog),
            newest_backup_at=self._newest_backup(),
            certificate_expires_at=self._certificate_expiry(),
            promises=tuple(promises[name] for name in sorted(promises)),
        )

    def read_or_none(self) -> Readings | None:
        """:meth:`read`, or None (logged) when the data store does not answer: the scrape
        still reports this process's own metrics, and ``strongroom_readings_up`` 0."""
        try:
            return self.read()
        except Exception as error:
            log.warning("the deployment readings failed: %s", type(error).__name__)
            return None

    def _newest_backup(self) -> datetime | None:
        """When the newest complete data backup was taken, or None. The manifest is written
        last, so the newest manifest is the newest backup; only that one is read."""
        place = open_place(self.ctx.settings)
        written = [
            (stamp, name.split("/")[1])
            for name, stamp in place.files(DATA)
            if name.endswith("/" + MANIFEST) and name.count("/") == 2
        ]
        if not written:
            return None
        newest = max(written)[1]
        try:
            return place.read_manifest(DATA, newest).created_at
        except (OSError, StrongroomError):
            return None

    def _certificate_expiry(self) -> datetime | None:
        try:
            return certificate_expiry(Path(self.ctx.settings.tls_cert))
        except (OSError, StrongroomError):
            return None
