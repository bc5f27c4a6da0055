"""The lifecycle rules (domain/lifecycle.py) at their edges: the exact instant a window
closes, the range of trial lengths, the promised defaults, what each plan state says when
it refuses. Dates are plain arguments; nothing here waits."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from strongroom.domain.lifecycle import (
    MAX_TRIAL_DAYS,
    BillingKind,
    PurgeKind,
    PurgeReason,
    Retention,
    TrashKind,
    check_plan_allows,
    check_restore,
    effective_state,
    is_held,
    may_restore,
    parse_billing_kind,
    plan_after,
)
from strongroom.domain.model import WorkspaceState
from strongroom.domain.roles import Action, Role
from strongroom.errors import Conflict, InvalidInput, NotFound

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
TICK = timedelta(microseconds=1)
WS = "ws_aaaaaaaaaaaaaaaaaaaaaaaaaa"
RETENTION = Retention.days(trash=30, trial=20, cancellation=10)


def _plan(kind: BillingKind, state: WorkspaceState, **kwargs: object) -> object:
    arguments: dict[str, object] = {
        "now": NOW,
        "retention": RETENTION,
        "trial_days": None,
        "billed_before": False,
        "purge_due": None,
    }
    arguments.update(kwargs)
    return plan_after(kind, state, **arguments)  # type: ignore[arg-type]


def test_the_defaults_are_the_trust_pages_30_days() -> None:
    assert Retention() == Retention(timedelta(days=30), timedelta(days=30), timedelta(days=30))


@pytest.mark.parametrize("days", [1, 14, MAX_TRIAL_DAYS])
def test_a_trial_of_1_to_365_days_starts_and_ends_on_time(days: int) -> None:
    change = _plan(BillingKind.TRIAL_STARTED, WorkspaceState.ACTIVE, trial_days=days)
    ends = NOW + timedelta(days=days)
    assert change == type(change)(  # type: ignore[call-arg]
        WorkspaceState.TRIAL, ends, ends + timedelta(days=20), PurgeReason.TRIAL_EXPIRED, False
    )


@pytest.mark.parametrize("days", [None, 0, -1, MAX_TRIAL_DAYS + 1])
def test_a_trial_length_outside_1_to_365_days_is_bad_input(days: int | None) -> None:
    with pytest.raises(InvalidInput, match="between 1 and 365"):
        _plan(BillingKind.TRIAL_STARTED, WorkspaceState.ACTIVE, trial_days=days)


def test_a_trial_starts_only_on_a_new_active_workspace() -> None:
    with pytest.raises(Conflict):
        _plan(BillingKind.TRIAL_STARTED, WorkspaceState.ACTIVE, trial_days=5, billed_before=True)
    with pytest.raises(Conflict):
        _plan(BillingKind.TRIAL_STARTED, WorkspaceState.CANCELLED, trial_days=5)


def test_a_cancellation_purges_after_the_cancellation_window() -> None:
    for state in (WorkspaceState.ACTIVE, WorkspaceState.TRIAL):
        change = _plan(BillingKind.CANCELLED, state)
        assert change.state is WorkspaceState.CANCELLED  # type: ignore[attr-defined]
        assert change.purge_at == NOW + timedelta(days=10)  # type: ignore[attr-defined]
        assert change.purge_reason is PurgeReason.CANCELLATION  # type: ignore[attr-defined]
        assert change.cancel_purge and change.trial_ends_at is None  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("kind", "state"),
    [
        (BillingKind.ACTIVATED, WorkspaceState.TRIAL),
        (BillingKind.ACTIVATED, WorkspaceState.EXPIRED),
        (BillingKind.REACTIVATED, WorkspaceState.CANCELLED),
    ],
)
def test_a_workspace_comes_back_until_the_instant_its_window_closes(
    kind: BillingKind, state: WorkspaceState
) -> None:
    back = _plan(kind, state, purge_due=NOW + TICK)
    assert back.state is WorkspaceState.ACTIVE and back.cancel_purge  # type: ignore[attr-defined]
    assert back.purge_at is None  # type: ignore[attr-defined]
    with pytest.raises(Conflict, match="its retention window has closed"):
        _plan(kind, state, purge_due=NOW)


@pytest.mark.parametrize(
    ("kind", "state"),
    [
        (BillingKind.ACTIVATED, WorkspaceState.ACTIVE),
        (BillingKind.ACTIVATED, WorkspaceState.CANCELLED),
        (BillingKind.REACTIVATED, WorkspaceState.ACTIVE),
        (BillingKind.REACTIVATED, WorkspaceState.EXPIRED),
        (BillingKind.CANCELLED, WorkspaceState.CANCELLED),
        (BillingKind.CANCELLED, WorkspaceState.EXPIRED),
    ],
)
def test_an_event_that_does_not_apply_names_the_state(
    kind: BillingKind, state: WorkspaceState
) -> None:
    with pytest.raises(Conflict) as refused:
        _plan(kind, state)
    assert f"a workspace in state {state.value} cannot be" in str(refused.value)
    assert "window" not in str(refused.value)


def test_a_trial_expires_at_the_instant_it_ends() -> None:
    ends = NOW
    assert effective_state("trial", ends, NOW - TICK) is WorkspaceState.TRIAL
    assert effective_state("trial", ends, NOW) is WorkspaceState.EXPIRED
    assert effective_state("trial", ends, NOW + timedelta(days=2)) is WorkspaceState.EXPIRED
    assert effective_state("trial", None, NOW) is WorkspaceState.TRIAL
    assert effective_state("active", NOW - timedelta(days=1), NOW) is WorkspaceState.ACTIVE


#: What each plan state allows, whatever the role: written out from the README's words
#: ("cancelled is read-only; export, managing members and privacy requests stay allowed;
#: an ended trial allows only export, member management, privacy requests and deletion").
ALLOWED = {
    "trial": {a.value for a in Action},
    "active": {a.value for a in Action},
    "cancelled": {
        "read",
        "read_audit",
        "read_keys",
        "export",
        "manage_members",
        "privacy",
        "delete_workspace",
    },
    "expired": {"export", "manage_members", "privacy", "delete_workspace"},
    "closed": set(),
}


@pytest.mark.parametrize("state", list(WorkspaceState))
@pytest.mark.parametrize("action", list(Action))
def test_each_plan_state_allows_what_it_promises_and_says_why_not(
    state: WorkspaceState, action: Action
) -> None:
    if action.value in ALLOWED[state.value]:
        check_plan_allows(WS, state, action)
        return
    expected: type[Exception] = NotFound if state is WorkspaceState.CLOSED else Conflict
    with pytest.raises(expected) as refused:
        check_plan_allows(WS, state, action)
    message = str(refused.value)
    if state is WorkspaceState.CANCELLED:
        assert "cancelled: it is read-only" in message
    elif state is WorkspaceState.EXPIRED:
        assert "trial has ended" in message
    else:
        assert message == f"no workspace {WS}"


def test_a_hold_on_a_project_is_matched_by_value() -> None:
    project = "".join(["prj_", "b" * 26])  # equal to the ids below, not the same objects
    holds = [("".join(["ws_", "a" * 26]), project)]
    assert is_held(holds, WS, "prj_" + "b" * 26)
    assert not is_held(holds, WS, "prj_" + "c" * 26)
    assert is_held(holds, WS, None)  # the whole workspace: any hold inside it blocks
    # a hold elsewhere blocks nothing here, whichever way the ids sort
    for other_ws, other_project in (("ws_" + "0" * 26, None), ("ws_" + "z" * 26, None)):
        assert not is_held([(other_ws, other_project)], WS, None)
    for other_project in ("prj_" + "a" * 26, "prj_" + "z" * 26):
        assert not is_held([(WS, other_project)], WS, "prj_" + "b" * 26)


@pytest.mark.parametrize("deleted_by", ["user:usr_a", "user:usr_z"])
def test_a_member_restores_only_what_they_deleted(deleted_by: str) -> None:
    actor = "user:usr_m"
    for kind in TrashKind:
        assert not may_restore(Role.MEMBER, deleted_by, actor, kind)
    assert may_restore(Role.MEMBER, actor, "".join(["user:", "usr_m"]), TrashKind.RECORD)
    assert may_restore(Role.ADMIN, deleted_by, actor, TrashKind.PROJECT)


def test_an_unknown_billing_event_is_quoted_up_to_32_characters() -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_billing_kind("k" * 31 + "XYZ")
    assert repr("k" * 31 + "X") in str(refused.value)
    assert parse_billing_kind("cancelled") is BillingKind.CANCELLED


def test_a_trash_entry_cannot_come_back_at_or_after_its_deadline() -> None:
    deadline = NOW
    check_restore("trashed", deadline, NOW - TICK)
    for late in (NOW.replace(), NOW + TICK, NOW + timedelta(days=3)):  # equal, not identical
        with pytest.raises(Conflict, match="restore deadline passed"):
            check_restore("trashed", deadline, late)
    with pytest.raises(Conflict, match="already restored"):
        check_restore("restored", deadline, NOW - TICK)
    for state in ("purging", "purged"):
        with pytest.raises(Conflict, match="cannot come back"):
            check_restore(state, deadline, NOW - TICK)


def test_the_retention_promises_cannot_be_changed_once_read() -> None:
    """Settings are read once at start; nothing may stretch a window afterwards."""
    with pytest.raises(dataclasses.FrozenInstanceError):
        RETENTION.trash = timedelta(days=365)  # type: ignore[misc]
    change = _plan(BillingKind.CANCELLED, WorkspaceState.ACTIVE)
    with pytest.raises(dataclasses.FrozenInstanceError):
        change.purge_at = None  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("kind", "destroys_a_key"),
    [
        (PurgeKind.PROJECT, True),
        (PurgeKind.WORKSPACE, True),
        (PurgeKind.RECORD, False),
        (PurgeKind.FILE, False),
    ],
)
def test_only_a_project_or_a_workspace_purge_destroys_a_key(
    kind: PurgeKind, destroys_a_key: bool
) -> None:
    """A purged record or file leaves its project's key: destroying it would make every
    other record and file of the project unreadable."""
    assert kind.shreds_a_key is destroys_a_key
