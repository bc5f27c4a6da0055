"""Promises about time: the trash window, deletion from backups, workspace deletion, the
export window after cancellation, trial retention, and privacy requests on time. Each
check looks for work past its date (a purge the worker should have done an hour ago is a
broken promise, whatever the reason) and for dates set beyond what the settings promise."""

from __future__ import annotations

import json
from datetime import timedelta

from strongroom.backup.manifest import DATA, KEYSTORE
from strongroom.config import Settings
from strongroom.crypto.policy import root_destroy_delay
from strongroom.domain.lifecycle import DeadlineAction, PurgeReason
from strongroom.domain.promises import Verdict
from strongroom.promises.registry import GRACE, Deployment, Promise, days

#: The newest restore drill must have passed within this many days.
DRILL_MAX_AGE = timedelta(days=7)
#: Backups taken outside Strongroom (backup_every_hours = 0): the newest may be this old.
EXTERNAL_BACKUP_MAX_AGE = timedelta(hours=24)
DRILL_EVENT = "backup.drill"
#: A stored deadline may differ from its window by this much (rounding, clock reads).
SLACK = timedelta(minutes=1)


def _overdue(d: Deployment, action: DeadlineAction, *reasons: PurgeReason) -> Verdict | None:
    """A failing verdict dating the oldest overdue deadline, or None when none is. The
    evidence is public: it names no workspace."""
    with d.ctx.store.read() as uow:
        late = uow.promise_evidence.overdue(action, [r.value for r in reasons], d.now - GRACE)
    if not late:
        return None
    oldest = late[0]
    return Verdict.failed(
        f"{len(late)} purge(s) overdue; the oldest was due {oldest.due_at.isoformat()} "
        f"({oldest.reason})"
    )


# trash ---------------------------------------------------------------------------------
def _trash_claim(settings: Settings) -> str:
    return (
        f"Deleted projects, records and files can be restored from the trash for "
        f"{days(settings.trash_days)}; then they are permanently deleted."
    )


def check_trash(d: Deployment) -> Verdict:
    window = timedelta(days=d.settings.trash_days)
    with d.ctx.store.read() as uow:
        entries = uow.promise_evidence.trash_windows()
    too_long = [e for e in entries if e[1] - e[0] > window + SLACK]
    if too_long:
        return Verdict.failed(
            f"{len(too_long)} trash entries are kept longer than {days(window.days)} "
            f"(one deleted {too_long[0][0].isoformat()} is kept until "
            f"{too_long[0][1].isoformat()})"
        )
    late = _overdue(d, DeadlineAction.PURGE_TRASH)
    if late is not None:
        return late
    return Verdict.passed(
        f"{len(entries)} entries in the trash, each purged {days(window.days)} after its "
        "deletion; no trash purge is overdue"
    )


TRASH = Promise("trash-window", "Trash, then permanent deletion", _trash_claim, check_trash)


# backups -------------------------------------------------------------------------------
def _backup_claim(settings: Settings) -> str:
    cadence = (
        f"A backup is taken every {settings.backup_every_hours} hours"
        if settings.backup_every_hours
        else "Backups are taken outside Strongroom at least daily"
    )
    return (
        f"Deleted data is gone from every backup within "
        f"{days(settings.backup_purge_window_days)}: each data backup expires "
        f"{days(settings.backup_retention_days)} after it is taken, each keystore backup "
        f"within {days(settings.keystore_backup_retention_days)}. {cadence}, and one is "
        f"restored in a drill every {days(settings.backup_drill_every_days)}."
    )


def backup_max_age(settings: Settings) -> timedelta:
    if settings.backup_every_hours:
        return timedelta(hours=settings.backup_every_hours) + GRACE
    return EXTERNAL_BACKUP_MAX_AGE + GRACE


def check_backups(d: Deployment) -> Verdict:
    window = timedelta(days=d.settings.backup_purge_window_days)
    gone = d.settings.shredded_key_gone_days()
    if gone > window.days and root_destroy_delay(d.settings.kms):
        return Verdict.failed(
            f"a purged key stays recoverable in {d.settings.kms} up to {days(gone)} after its "
            f"deletion (trash, shred epoch, the KMS's deletion wait), past the "
            f"{days(window.days)} window"
        )
    data, keystores = d.backups.list(DATA), d.backups.list(KEYSTORE)
    for entry in data + keystores:
        if entry.expires_at - entry.created_at > window + SLACK:
            return Verdict.failed(
                f"{entry.kind} backup {entry.id} expires {entry.expires_at.date()}, later than "
                f"{days(window.days)} after it was taken"
            )
        if entry.expires_at < d.now - GRACE:
            return Verdict.failed(
                f"{entry.kind} backup {entry.id} expired {entry.expires_at.isoformat()} and "
                "is still kept"
            )
    if not data:
        return Verdict.failed("no backup has been taken")
    age = d.now - data[-1].created_at
    if age > backup_max_age(d.settings):
        return Verdict.failed(
            f"the newest backup was taken {_age(age)} ago: backups have stopped "
            f"(at most {_age(backup_max_age(d.settings))} allowed)"
        )
    drill = _drill(d)
    if drill is not None:
        return drill
    return Verdict.passed(
        f"{len(data)} data and {len(keystores)} keystore backups, each expiring within "
        f"{days(window.days)}; the newest was taken {_age(age)} ago; the newest restore "
        "drill passed within 7 days"
    )


def _drill(d: Deployment) -> Verdict | None:
    with d.ctx.store.read() as uow:
        newest = uow.promise_evidence.newest_event([DRILL_EVENT])
    if newest is None:
        return Verdict.failed("no restore drill has been run")
    at, subject = newest
    outcome = json.loads(subject) if subject else {}
    if not outcome.get("ok"):
        problems = outcome.get("problems") or ["unknown"]
        return Verdict.failed(f"the newest restore drill ({at.date()}) failed: {problems[0]}")
    if d.now - at > DRILL_MAX_AGE:
        return Verdict.failed(f"the newest restore drill passed {_age(d.now - at)} ago")
    return None


def _age(age: timedelta) -> str:
    hours = age.total_seconds() / 3600
    return f"{hours:.1f} hours" if hours < 48 else f"{hours / 24:.1f} days"


BACKUPS = Promise(
    "backup-purge-window", "Deleted data gone from backups", _backup_claim, check_backups
)


# workspaces ----------------------------------------------------------------------------
def _deletion_claim(settings: Settings) -> str:
    return (
        "An owner can delete a whole workspace: every member and token loses access at "
        "once, and its data is permanently deleted with its key, without waiting."
    )


def check_deletion(d: Deployment) -> Verdict:
    late = _overdue(d, DeadlineAction.PURGE_WORKSPACE, PurgeReason.WORKSPACE_DELETED)
    return late or Verdict.passed("no purge of a deleted workspace is overdue")


WORKSPACE_DELETION = Promise(
    "workspace-deletion", "Deleting a whole workspace", _deletion_claim, check_deletion
)


def _cancellation_claim(settings: Settings) -> str:
    return (
        f"After cancellation a workspace stays readable and exportable for "
        f"{days(settings.cancellation_window_days)}; then its data is permanently deleted."
    )


def check_cancellation(d: Deployment) -> Verdict:
    window = timedelta(days=d.settings.cancellation_window_days)
    reason = PurgeReason.CANCELLATION
    with d.ctx.store.read() as uow:
        pending = uow.promise_evidence.pending_purges(
            DeadlineAction.PURGE_WORKSPACE, [reason.value]
        )
    short = [p for p in pending if p.due_at - p.created_at < window - SLACK]
    if short:
        return Verdict.failed(
            f"{len(short)} cancelled workspaces get less than {days(window.days)} to export "
            f"(one is purged {short[0].due_at.isoformat()})"
        )
    late = _overdue(d, DeadlineAction.PURGE_WORKSPACE, reason)
    return late or Verdict.passed(
        f"{len(pending)} cancelled workspaces in their export window of {days(window.days)}; "
        "none is past it"
    )


CANCELLATION = Promise(
    "cancellation-window",
    "Export window after cancellation",
    _cancellation_claim,
    check_cancellation,
)


def _trial_claim(settings: Settings) -> str:
    return (
        f"Data of an ended trial is kept {days(settings.trial_retention_days)} (activating "
        "the workspace keeps everything), then permanently deleted."
    )


def check_trial(d: Deployment) -> Verdict:
    late = _overdue(d, DeadlineAction.PURGE_WORKSPACE, PurgeReason.TRIAL_EXPIRED)
    return late or Verdict.passed("no purge of an ended trial is overdue")


TRIAL = Promise("trial-retention", "Trial data retention", _trial_claim, check_trial)


# privacy requests ----------------------------------------------------------------------
def _privacy_claim(settings: Settings) -> str:
    return (
        "Requests from data subjects (GDPR: one month, CCPA: 45 days) are answered by "
        f"their legal due date, counted in {settings.privacy_time_zone}."
    )


def check_privacy(d: Deployment) -> Verdict:
    counts = d.privacy.due_counts()
    if counts["overdue"]:
        return Verdict.failed(f"{counts['overdue']} open privacy requests are past their due date")
    return Verdict.passed(
        f"no open privacy request is past its due date ({counts['due_within_10_days']} due "
        "within 10 days)"
    )


PRIVACY_REQUESTS = Promise(
    "privacy-requests", "Privacy requests answered on time", _privacy_claim, check_privacy
)
