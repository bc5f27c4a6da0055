"""The lifecycle's rules: trash, plans and what each workspace state allows. Pure: every
function takes ``now``; nothing here reads a clock or a database."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from strongroom.domain.model import WorkspaceState
from strongroom.domain.roles import Action, Role, may
from strongroom.errors import Conflict, InvalidInput, NotFound


class TrashKind(StrEnum):
    PROJECT = "project"
    RECORD = "record"
    FILE = "file"


class PurgeKind(StrEnum):
    """What a purge deleted, as its tombstone and certificate name it (STORED in the
    ledger's ``kind``): a trash entry's subject, or a whole workspace."""

    PROJECT = "project"
    RECORD = "record"
    FILE = "file"
    WORKSPACE = "workspace"
    SUBJECT = "subject"  # a data subject's records, erased for a privacy request

    @property
    def shreds_a_key(self) -> bool:
        """A project's or a workspace's purge destroys its key; a record's or a file's
        leaves its project's key (older copies stay readable until they expire)."""
        return self in (PurgeKind.PROJECT, PurgeKind.WORKSPACE)


class EntryState(StrEnum):
    TRASHED = "trashed"  # restorable until its deadline
    RESTORED = "restored"
    PURGING = "purging"  # the purge has begun: never restorable again
    PURGED = "purged"


class PurgeReason(StrEnum):
    TRASH_EXPIRED = "trash_expired"
    DELETED_FOREVER = "deleted_forever"  # an owner emptied the entry before its deadline
    WORKSPACE_DELETED = "workspace_deleted"
    TRIAL_EXPIRED = "trial_expired"
    CANCELLATION = "cancellation"
    PRIVACY_REQUEST = "privacy_request"  # a data subject's deletion request


class DeadlineAction(StrEnum):
    PURGE_TRASH = "purge.trash"  # subject: a trash entry
    PURGE_WORKSPACE = "purge.workspace"  # subject: a workspace
    EXPORT_RUN = "export.run"  # subject: an export job
    EXPORT_EXPIRE = "export.expire"
    PRIVACY_ERASE = "privacy.erase"  # subject: a privacy request


PURGES = (DeadlineAction.PURGE_TRASH, DeadlineAction.PURGE_WORKSPACE)


class DeadlineState(StrEnum):
    """STORED in ``deadlines.state``: a renamed value strands every row that holds it."""

    PENDING = "pending"
    DONE = "done"
    CANCELLED = "cancelled"


#: The step of a deadline whose work has not begun (STORED in ``deadlines.step``).
FIRST_STEP = "start"
#: The lease owner of a deadline parked by a legal hold (clearing the hold unparks it).
HELD = "held"
#: The audit action recording a deletion certificate's hash (looked up to verify one).
PURGE_CERTIFIED = "purge.certified"


class BillingKind(StrEnum):
    TRIAL_STARTED = "trial_started"
    ACTIVATED = "activated"
    CANCELLED = "cancelled"
    REACTIVATED = "reactivated"


def parse_billing_kind(value: str) -> BillingKind:
    try:
        return BillingKind(value)
    except ValueError:
        names = ", ".join(k.value for k in BillingKind)
        raise InvalidInput(f"unknown billing event {value[:32]!r}; choose one of {names}") from None


@dataclass(frozen=True)
class Retention:
    """The retention numbers, from settings (config.py refuses promise-breaking ones)."""

    trash: timedelta = timedelta(days=30)
    trial: timedelta = timedelta(days=30)
    cancellation: timedelta = timedelta(days=30)

    @classmethod
    def days(cls, trash: int, trial: int, cancellation: int) -> Retention:
        return cls(timedelta(days=trash), timedelta(days=trial), timedelta(days=cancellation))


# trash ---------------------------------------------------------------------------------------
def check_restore(state: str, restore_until: datetime, now: datetime) -> None:
    """Raise unless a trash entry can still be restored at ``now``."""
    if state == EntryState.RESTORED:
        raise Conflict("this trash entry was already restored")
    if state != EntryState.TRASHED or now >= restore_until:
        raise Conflict(
            f"the restore deadline passed at {restore_until.isoformat()}; the entry is purged "
            "or being purged and cannot come back"
        )


def may_restore(role: Role, deleted_by: str, actor: str, kind: TrashKind) -> bool:
    """Admins and owners restore anything; others what they deleted themselves, if their
    role may delete that kind of thing at all."""
    if may(role, Action.RESTORE_ANY):
        return True
    return deleted_by == actor and may(role, delete_action(kind))


def delete_action(kind: TrashKind) -> Action:
    return Action.MANAGE_PROJECTS if kind is TrashKind.PROJECT else Action.WRITE_DATA


# plans ---------------------------------------------------------------------------------------
def effective_state(state: str, trial_ends_at: datetime | None, now: datetime) -> WorkspaceState:
    """The plan state at ``now``: a trial whose end has passed is an expired trial."""
    current = WorkspaceState(state)
    if current is WorkspaceState.TRIAL and trial_ends_at is not None and now >= trial_ends_at:
        return WorkspaceState.EXPIRED
    return current


@dataclass(frozen=True)
class PlanChange:
    """What a billing event does: the new state, and the purge deadline to set (or to
    cancel, when ``purge_at`` is None and ``cancel_purge`` is set)."""

    state: WorkspaceState
    trial_ends_at: datetime | None
    purge_at: datetime | None
    purge_reason: PurgeReason | None
    cancel_purge: bool


MAX_TRIAL_DAYS = 365


def plan_after(
    kind: BillingKind,
    state: WorkspaceState,
    *,
    now: datetime,
    retention: Retention,
    trial_days: int | None,
    billed_before: bool,
    purge_due: datetime | None,
) -> PlanChange:
    """The plan after billing event ``kind`` in (effective) ``state``; Conflict if the
    event does not apply. ``purge_due`` is the pending purge's due time, if any."""
    window_closed = purge_due is not None and now >= purge_due
    if kind is BillingKind.TRIAL_STARTED:
        if trial_days is None or not 1 <= trial_days <= MAX_TRIAL_DAYS:
            raise InvalidInput(f"trial_started needs trial days between 1 and {MAX_TRIAL_DAYS}")
        if state is not WorkspaceState.ACTIVE or billed_before:
            raise Conflict("a trial can only start on a new workspace")
        ends = now + timedelta(days=trial_days)
        return PlanChange(
            WorkspaceState.TRIAL, ends, ends + retention.trial, PurgeReason.TRIAL_EXPIRED, False
        )
    if kind is BillingKind.ACTIVATED:
        if state not in (WorkspaceState.TRIAL, WorkspaceState.EXPIRED) or window_closed:
            raise Conflict(
                f"a workspace in state {_said(state, window_closed)} cannot be activated"
            )
        return PlanChange(WorkspaceState.ACTIVE, None, None, None, True)
    if kind is BillingKind.CANCELLED:
        if state not in (WorkspaceState.ACTIVE, WorkspaceState.TRIAL):
            raise Conflict(f"a workspace in state {state.value} cannot be cancelled")
        return PlanChange(
            WorkspaceState.CANCELLED,
            None,
            now + retention.cancellation,
            PurgeReason.CANCELLATION,
            True,
        )
    # REACTIVATED
    if state is not WorkspaceState.CANCELLED or window_closed:
        raise Conflict(f"a workspace in state {_said(state, window_closed)} cannot be reactivated")
    return PlanChange(WorkspaceState.ACTIVE, None, None, None, True)


def _said(state: WorkspaceState, window_closed: bool) -> str:
    return f"{state.value} (its retention window has closed)" if window_closed else state.value


#: What each plan state allows, whatever the role. Trial and active: everything.
_READ_ONLY = frozenset({Action.READ, Action.READ_AUDIT, Action.READ_KEYS, Action.EXPORT})
_ALLOWED: dict[WorkspaceState, frozenset[Action]] = {
    WorkspaceState.TRIAL: frozenset(Action),
    WorkspaceState.ACTIVE: frozenset(Action),
    # Managing members stays possible (revoking a stolen token, removing someone): it is
    # access administration, not a change to the customer's data.
    # Privacy requests too: while the workspace holds personal data, its people's requests
    # must be answered (and a deletion request carried out).
    WorkspaceState.CANCELLED: _READ_ONLY
    | {Action.DELETE_WORKSPACE, Action.MANAGE_MEMBERS, Action.PRIVACY},
    WorkspaceState.EXPIRED: frozenset(
        {Action.EXPORT, Action.DELETE_WORKSPACE, Action.MANAGE_MEMBERS, Action.PRIVACY}
    ),
    WorkspaceState.CLOSED: frozenset(),
}


def check_plan_allows(workspace_id: str, state: WorkspaceState, action: Action) -> None:
    """Raise unless the workspace's plan state allows ``action``: a closed workspace is
    gone (NotFound); a cancelled one is read-only with export; an expired trial is kept
    but not usable."""
    if action in _ALLOWED[state]:
        return
    if state is WorkspaceState.CLOSED:
        raise NotFound(f"no workspace {workspace_id}", workspace_id=workspace_id)
    if state is WorkspaceState.CANCELLED:
        raise Conflict("the workspace is cancelled: it is read-only (export is allowed)")
    raise Conflict(
        "the workspace's trial has ended: activate it to use it again (export is allowed)"
    )


def is_held(
    holds: Iterable[tuple[str, str | None]], workspace_id: str, project_id: str | None
) -> bool:
    """Whether an active hold, given as (workspace id, project id or None for the whole
    workspace), blocks purging something of ``workspace_id`` in ``project_id`` (None: the
    whole workspace, which any hold inside it blocks)."""
    return any(
        ws == workspace_id
        and (held_project is None or project_id is None or held_project == project_id)
        for ws, held_project in holds
    )
