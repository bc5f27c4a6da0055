"""Work the worker does on a period rather than on a deadline: backups, restore drills,
the root key's shred epoch, and the promise checks. Each is due when the state says so (the
newest backup, the newest drill or epoch in the audit log, the newest check), so a
restart, a second worker or a clock that jumps all find the same answer; a chore that was
looked at is not looked at again until it can next be due (or a minute, after a failure).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from strongroom.backup.manifest import DATA
from strongroom.backup.service import Backups
from strongroom.crypto.policy import ROOT_KEY_ROTATION_DAYS, root_destroy_delay
from strongroom.domain.shred_epochs import next_epoch_due
from strongroom.lifecycle.shred_epoch import ShredEpochs, last_epoch
from strongroom.services.context import Context
from strongroom.services.keys import Keys

log = logging.getLogger("strongroom.worker")

RETRY = timedelta(minutes=1)
DRILL_EVENT = "backup.drill"


@dataclass
class Scheduled:
    ctx: Context
    backups: Backups
    keys: Keys
    #: Runs every promise check and keeps the results (sr.promises.check_all).
    check_promises: Callable[[], object]
    #: Whether a promise check is due at a time (sr.promises.check_due).
    promises_due: Callable[[datetime], bool]
    #: The shred epochs (made from ctx and keys when not given).
    epochs: ShredEpochs | None = None
    _next: dict[str, datetime] = field(default_factory=dict)
    #: A chore ran since the last promise check: check again now, not at the period's end.
    _changed: bool = False

    def _due(self, chore: str, now: datetime) -> bool:
        return now >= self._next.get(chore, now)

    def backup(self, now: datetime) -> bool:
        """Take a backup (data and keystore) when the newest is ``backup_every_hours``
        old. 0: backups are someone else's job."""
        every = self.ctx.settings.backup_every_hours
        if not every or not self._due("backup", now):
            return False
        data = self.backups.list(DATA)
        due = data[-1].created_at + timedelta(hours=every) if data else now
        if now < due:
            self._next["backup"] = due
            return False
        self._next["backup"] = now + RETRY
        entry = self.backups.create()
        self._changed = True
        self._next["backup"] = entry.created_at + timedelta(hours=every)
        log.info("scheduled backup taken: %s", entry.id)
        return True

    def drill(self, now: datetime) -> bool:
        """Restore the newest backup in a drill when the newest drill is
        ``backup_drill_every_days`` old (Backups.drill records it in the audit log)."""
        if not self._due("drill", now):
            return False
        every = timedelta(days=self.ctx.settings.backup_drill_every_days)
        with self.ctx.store.read() as uow:
            newest = uow.promise_evidence.newest_event([DRILL_EVENT])
        due = newest[0] + every if newest else now
        if now < due or not self.backups.list(DATA):
            self._next["drill"] = max(due, now + RETRY)
            return False
        self._next["drill"] = now + RETRY
        report = self.backups.drill()
        self._changed = True
        self._next["drill"] = now + every
        log.info("scheduled restore drill: %s", "passed" if report.ok else report.problems)
        return True

    def shred_epoch(self, now: datetime) -> bool:
        """Run a shred epoch (lifecycle/shred_epoch.py) when the newest is the policy's
        period old (crypto/policy.py ROOT_KEY_ROTATION_DAYS), or sooner when a key
        destroyed since would otherwise outlive its deletion's backup window; finish one
        at once (without a new version) when an older root version still exists."""
        if not self._due("rotate", now):
            return False
        epochs = self.epochs or ShredEpochs(self.ctx, self.keys)
        settings = self.ctx.settings
        last = last_epoch(self.ctx)
        window = timedelta(days=settings.backup_purge_window_days)
        since = last if last is not None else now - window
        due = next_epoch_due(
            last,
            timedelta(days=ROOT_KEY_ROTATION_DAYS),
            self.ctx.ledger.key_shreds(since),
            window,
            now,
            root_destroy_delay(settings.kms),
        )
        unfinished = epochs.unfinished()
        if now < due and not unfinished:
            self._next["rotate"] = min(due, now + timedelta(hours=1))  # a purge may come
            return False
        self._next["rotate"] = now + RETRY
        epochs.run(actor="system:worker", rotate=not unfinished)  # logs what it did
        self._changed = True
        self._next["rotate"] = now + RETRY  # looked at again soon: a purge may bring it forward
        return True

    def promise_checks(self, now: datetime) -> bool:
        """Run every promise check when the newest is ``promise_check_minutes`` old, or
        at once after a backup, a drill or a rotation (the page then shows it)."""
        if not self._changed and (not self._due("promises", now) or not self.promises_due(now)):
            return False
        self._next["promises"] = now + RETRY
        self._changed = False
        self.check_promises()
        every = timedelta(minutes=self.ctx.settings.promise_check_minutes)
        self._next["promises"] = now + every
        return True
