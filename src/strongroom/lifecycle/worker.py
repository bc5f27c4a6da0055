"""The worker: claims due deadlines with a lease and runs each to its end.

Claiming happens in one write transaction: on PostgreSQL the due rows are read
``FOR UPDATE SKIP LOCKED`` (many workers, each row claimed once); on SQLite the write
transaction itself serialises claimers. A claimed row carries ``lease_owner`` and
``lease_until``; every step renews the lease, and a worker that lost its lease (it
stalled past ``lease_until`` and another took over) stops at its next step.

A deadline covered by an active legal hold is not claimed: it is parked until the next
pass, shows as held in the plan, and runs once the hold is cleared.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from strongroom.backup import retention
from strongroom.blobs.base import SweepsAbandoned
from strongroom.blobs.folder import PARTIAL_MAX_AGE
from strongroom.domain.lifecycle import FIRST_STEP, HELD, PURGES, DeadlineAction, is_held
from strongroom.errors import StorageUnavailable
from strongroom.lifecycle.scheduled import Scheduled
from strongroom.lifecycle.steps import LeaseLost, NotDueYet, Step
from strongroom.mail import Mailer
from strongroom.services.browser_sessions import BrowserSessions
from strongroom.services.context import Context
from strongroom.services.inbox import Inbox
from strongroom.services.privacy import expire_records
from strongroom.services.subprocessor_mail import DeliveryReport, Subscribers
from strongroom.storage.rows import DeadlineRow

log = logging.getLogger("strongroom.worker")

LEASE = timedelta(minutes=5)
RETRY_AFTER = timedelta(minutes=1)
CLAIM_BATCH = 20
#: How long a worker holds a scheduled chore (a backup, a drill, a shred epoch) before
#: another may take it over: longer than any chore runs; a worker killed mid-chore delays
#: the next attempt by at most this.
CHORE_LEASE = timedelta(hours=6)
#: Sweeping partial blobs reads every shard folder of the blob store: hourly is plenty for
#: files that must be a day old.
SWEEP_EVERY = timedelta(hours=1)

Handler = Callable[[Step], None]


@dataclass
class PassReport:
    done: list[str] = field(default_factory=list)  # deadline ids finished this pass
    held: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, list[str]]:
        return {"done": self.done, "held": self.held, "failed": self.failed}


class Worker:
    def __init__(self, ctx: Context, owner: str | None = None) -> None:
        self.ctx = ctx
        self.owner = owner or f"{os.getpid()}-{secrets.token_hex(4)}"
        self._wake = threading.Event()
        #: The work of each deadline action (registered by bootstrap, the composition root).
        self.handlers: dict[str, Handler] = {}
        self._next_sweep = 0.0  # monotonic time of the next partial-blob sweep
        #: Backups, drills, root rotation and promise checks on their periods (set by
        #: bootstrap; None: this worker runs deadlines only).
        self.scheduled: Scheduled | None = None

    def register(self, action: DeadlineAction, handler: Handler) -> None:
        self.handlers[action.value] = handler

    def wake(self) -> None:
        self._wake.set()

    # one pass ------------------------------------------------------------------------
    def run_once(
        self,
        on_claimed: Callable[[DeadlineRow], None] | None = None,
        only: str | None = None,
        scheduled: bool = False,
    ) -> PassReport:
        """Run everything due now (or only deadline ``only``, if due), then return.
        ``scheduled``: also the work on a period (backups, drills, root rotation, promise
        checks), as every pass of :meth:`run_forever` does."""
        report = PassReport()
        scheduled = scheduled and only is None
        if only is None:
            self.expire_backups()
            self.expire_privacy_records()
            self.watch_inbox()
            self.send_subprocessor_notices()
            if self.ctx.clock.monotonic() >= self._next_sweep:
                self.sweep_partial_blobs()
                self.prune_browser_sessions()
            if scheduled:
                self.run_scheduled()
        while True:  # a claimed row is leased, so the next claim does not see it again
            claimed = self._claim(report, only)
            if not claimed:
                if only is None:
                    if report.done:  # a purge may have destroyed a key:
                        self.expire_backups()  # renew the keystore backup now, not next pass
                    self._report_parked(report)
                    if scheduled:
                        self.check_promises()
                return report
            for deadline in claimed:
                if on_claimed is not None:
                    on_claimed(deadline)
                self._run(deadline, report)

    def expire_backups(self) -> retention.ExpiryReport | None:
        """Delete the backups whose date has come (by this worker's clock). A failure is
        logged and retried next pass; it never stops the purges."""
        try:
            expired = retention.expire(self.ctx, self.ctx.clock.now())
        except Exception:
            log.exception("expiring backups failed; retried next pass")
            return None
        if expired.deleted or expired.renewed:
            log.info("backups expired: %s", expired.as_json())
        return expired

    def expire_privacy_records(self) -> int:
        """Delete the privacy requests whose record has been kept long enough
        (``privacy_record_months`` after closing). A failure is logged and retried next
        pass."""
        try:
            expired = expire_records(self.ctx, self.ctx.clock.now())
        except Exception:
            log.exception("expiring privacy requests failed; retried next pass")
            return 0
        if expired:
            log.info("privacy requests past their record's term deleted: %d", expired)
        return expired

    def watch_inbox(self) -> None:
        """Warn of inbox requests due within the hour, record breaches of the ones past
        due (services/inbox.py). A failure is logged and retried next pass."""
        try:
            watched = Inbox(self.ctx, Mailer(self.ctx.settings)).watch()
        except Exception:
            log.exception("watching the inbox's clocks failed; retried next pass")
            return
        if watched.warned or watched.breached:
            log.info("inbox: warned %s, breached %s", watched.warned, watched.breached)

    def run_scheduled(self) -> None:
        """Backups, restore drills and the root key's shred epoch, each when its period has
        come (lifecycle/scheduled.py). A failure is logged and retried a minute later;
        it never stops the purges."""
        if self.scheduled is None:
            return
        now = self.ctx.clock.now()
        for name, chore in (
            ("backup", self.scheduled.backup),
            ("restore drill", self.scheduled.drill),
            ("shred epoch", self.scheduled.shred_epoch),
        ):
            try:
                # One worker at a time per chore: the others skip it this pass. The holder
                # decides whether it is due only once it holds the lease, so it sees what
                # a worker that held it before has done.
                if not self._lease_chore(name, now):
                    continue
                try:
                    chore(now)
                finally:
                    with self.ctx.store.write() as uow:
                        uow.chore_leases.release(name, self.owner)
                        uow.commit()
            except Exception:
                log.exception("scheduled %s failed; retried in a minute", name)

    def _lease_chore(self, name: str, now: datetime) -> bool:
        with self.ctx.store.write() as uow:
            taken = uow.chore_leases.claim(name, self.owner, now, now + CHORE_LEASE)
            uow.commit()
            return taken

    def check_promises(self) -> None:
        """Run the promise checks when they are due (and at the first pass), after the
        pass's purges. A failure is logged and retried a minute later."""
        if self.scheduled is None:
            return
        try:
            self.scheduled.promise_checks(self.ctx.clock.now())
        except Exception:
            log.exception("promise checks failed; retried in a minute")

    def send_subprocessor_notices(self) -> DeliveryReport | None:
        """Mail the subprocessor notices due to their subscribers (retrying failures with
        a bound). A failure is logged and retried next pass."""
        try:
            report = Subscribers(self.ctx, Mailer(self.ctx.settings)).deliver_pending()
        except Exception:
            log.exception("sending subprocessor notices failed; retried next pass")
            return None
        if report.sent or report.failed:
            log.info("subprocessor notices: %s", report.as_json())
        return report

    def prune_browser_sessions(self) -> int:
        """Forget console sessions past their expiry (they are refused already; this only
        keeps the table small). A failure is logged and retried next sweep."""
        try:
            return BrowserSessions(self.ctx).prune()
        except Exception:
            log.exception("pruning expired console sessions failed; retried next sweep")
            return 0

    def sweep_partial_blobs(self) -> int:
        """Remove what killed uploads left in the blob store (a day old, so an upload still
        being written is never touched): partial files in the folder, unfinished multipart
        uploads on S3. Also run at the server's start-up."""
        self._next_sweep = self.ctx.clock.monotonic() + SWEEP_EVERY.total_seconds()
        if not isinstance(self.ctx.blobs, SweepsAbandoned):
            return 0
        try:
            removed = self.ctx.blobs.sweep_abandoned(PARTIAL_MAX_AGE)
        except (OSError, StorageUnavailable):
            log.exception("sweeping partial blobs failed; retried next pass")
            return 0
        if removed:
            log.info("removed %d partial blobs left by killed uploads", removed)
        return removed

    def _claim(self, report: PassReport, only: str | None) -> list[DeadlineRow]:
        now = self.ctx.clock.now()
        with self.ctx.store.write() as uow:
            due = uow.deadlines.due(now, CLAIM_BATCH, only=only)
            holds = [(h.workspace_id, h.project_id) for h in uow.holds.active_all()] if due else []
            claimed = []
            for deadline in due:
                if deadline.action in PURGES and deadline.step == FIRST_STEP:
                    project_id = _project_of(deadline)
                    if is_held(holds, deadline.workspace_id, project_id):
                        uow.deadlines.lease(deadline.id, HELD, now + RETRY_AFTER)
                        report.held.append(deadline.id)
                        continue
                uow.deadlines.lease(deadline.id, self.owner, now + LEASE)
                claimed.append(deadline._replace(lease_owner=self.owner))
            uow.commit()
        return claimed

    def _report_parked(self, report: PassReport) -> None:
        """Add the due purges an earlier pass parked under a hold: they are not claimed
        again until the retry time, but they are still held, and a pass says so."""
        with self.ctx.store.read() as uow:
            due = uow.deadlines.pending(until=self.ctx.clock.now())
        seen = set(report.held)
        report.held += [d.id for d in due if d.lease_owner == HELD and d.id not in seen]

    def _run(self, deadline: DeadlineRow, report: PassReport) -> None:
        handler = self.handlers.get(deadline.action)
        step = Step(deadline, self.owner, lambda: self.ctx.clock.now() + LEASE)
        try:
            if handler is None:
                raise LookupError(f"no handler for {deadline.action}")
            handler(step)
        except LeaseLost:
            log.warning("deadline %s: lease lost to another worker", deadline.id)
            return
        except NotDueYet as e:
            self._release(deadline, str(e))
            return
        except Exception as e:
            log.exception("deadline %s (%s) failed; retried later", deadline.id, deadline.action)
            self._release(deadline, f"{type(e).__name__}: {e}"[:500])
            report.failed.append(deadline.id)
            return
        report.done.append(deadline.id)

    def _release(self, deadline: DeadlineRow, error: str) -> None:
        """Give the deadline back, to be tried again after RETRY_AFTER."""
        with self.ctx.store.write() as uow:
            uow.deadlines.release(
                deadline.id, self.owner, error, self.ctx.clock.now() + RETRY_AFTER
            )
            uow.commit()

    # continuously --------------------------------------------------------------------
    def run_forever(self, stop: threading.Event, interval: float | None = None) -> None:
        """Passes until ``stop`` is set: every ``interval`` seconds, or at once when woken."""
        wait = interval if interval is not None else self.ctx.settings.worker_interval_seconds
        while not stop.is_set():
            try:
                report = self.run_once(scheduled=True)
                if report.done or report.failed:
                    log.info("lifecycle pass: %s", report.as_json())
            except Exception:  # a pass failing (database down) must not end the worker
                log.exception("lifecycle pass failed; next pass in %s s", wait)
            self._wake.wait(wait)
            self._wake.clear()


def _project_of(deadline: DeadlineRow) -> str | None:
    """The project a purge deadline concerns (trash entries name it in their progress)."""
    if deadline.action != DeadlineAction.PURGE_TRASH.value:
        return None
    project_id = json.loads(deadline.progress).get("project_id")
    return project_id if isinstance(project_id, str) else None


class WorkerThread:
    """The worker inside the server's process (the embedded default)."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=worker.run_forever, args=(self._stop,), name="strongroom-worker", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self.worker.wake()
        self._thread.join(timeout)
