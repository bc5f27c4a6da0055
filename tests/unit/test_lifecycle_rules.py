"""The lifecycle's pure rules: restore deadlines, restore rights, plan transitions and
what each plan state allows; the plan as a state machine, explored by hypothesis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strongroom.domain.lifecycle import (
    BillingKind,
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

T0 = datetime(2026, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)
R = Retention()


def test_restore_is_allowed_until_the_deadline_and_never_after() -> None:
    until = T0 + 30 * DAY
    check_restore("trashed", until, until - timedelta(microseconds=1))
    with pytest.raises(Conflict, match="deadline passed"):
        check_restore("trashed", until, until)
    with pytest.raises(Conflict, match="already restored"):
        check_restore("restored", until, T0)
    for state in ("purging", "purged"):
        with pytest.raises(Conflict):
            check_restore(state, until, T0)


@pytest.mark.parametrize(
    ("role", "own", "kind", "allowed"),
    [
        (Role.OWNER, False, TrashKind.PROJECT, True),
        (Role.ADMIN, False, TrashKind.RECORD, True),
        (Role.MEMBER, True, TrashKind.RECORD, True),
        (Role.MEMBER, True, TrashKind.FILE, True),
        (Role.MEMBER, False, TrashKind.RECORD, False),
        (Role.MEMBER, True, TrashKind.PROJECT, False),
        (Role.VIEWER, True, TrashKind.RECORD, False),
    ],
)
def test_restore_rights(role: Role, own: bool, kind: TrashKind, allowed: bool) -> None:
    deleted_by = "token:tok_a" if own else "token:tok_b"
    assert may_restore(role, deleted_by, "token:tok_a", kind) is allowed


def test_a_trial_past_its_end_is_an_expired_trial() -> None:
    ends = T0 + 14 * DAY
    assert effective_state("trial", ends, ends - DAY) is WorkspaceState.TRIAL
    assert effective_state("trial", ends, ends) is WorkspaceState.EXPIRED
    assert effective_state("active", None, ends) is WorkspaceState.ACTIVE


@pytest.mark.parametrize(
    ("state", "action", "error"),
    [
        (WorkspaceState.CANCELLED, Action.READ, None),
        (WorkspaceState.CANCELLED, Action.EXPORT, None),
        (WorkspaceState.CANCELLED, Action.WRITE_DATA, Conflict),
        (WorkspaceState.CANCELLED, Action.MANAGE_MEMBERS, None),  # revoke a stolen token
        (WorkspaceState.CANCELLED, Action.MANAGE_PROJECTS, Conflict),
        (WorkspaceState.EXPIRED, Action.MANAGE_MEMBERS, None),
        (WorkspaceState.EXPIRED, Action.EXPORT, None),
        (WorkspaceState.EXPIRED, Action.READ, Conflict),
        (WorkspaceState.CLOSED, Action.READ, NotFound),
        (WorkspaceState.CLOSED, Action.EXPORT, NotFound),
        (WorkspaceState.TRIAL, Action.WRITE_DATA, None),
    ],
)
def test_what_each_plan_state_allows(
    state: WorkspaceState, action: Action, error: type[Exception] | None
) -> None:
    if error is None:
        check_plan_allows("ws_x", state, action)
    else:
        with pytest.raises(error):
            check_plan_allows("ws_x", state, action)


def test_unknown_billing_events_are_bad_input() -> None:
    assert parse_billing_kind("cancelled") is BillingKind.CANCELLED
    with pytest.raises(InvalidInput, match="unknown billing event"):
        parse_billing_kind("refund")


def test_holds_cover_their_workspace_or_project_only() -> None:
    holds = [("ws_a", None), ("ws_b", "prj_1")]
    assert is_held(holds, "ws_a", "prj_9")
    assert is_held(holds, "ws_a", None)
    assert is_held(holds, "ws_b", "prj_1")
    assert not is_held(holds, "ws_b", "prj_2")
    assert is_held(holds, "ws_b", None)  # a workspace purge would take the held project
    assert not is_held([], "ws_a", None)


# the plan as a state machine ------------------------------------------------------------------
class PlanModel:
    """The plan of one workspace as the billing service drives it, with its purge."""

    def __init__(self) -> None:
        self.state = WorkspaceState.ACTIVE
        self.trial_ends_at: datetime | None = None
        self.purge_due: datetime | None = None
        self.billed = False
        self.now = T0

    def apply(self, kind: BillingKind, trial_days: int | None) -> bool:
        before = effective_state(self.state, self.trial_ends_at, self.now)
        try:
            change = plan_after(
                kind,
                before,
                now=self.now,
                retention=R,
                trial_days=trial_days,
                billed_before=self.billed,
                purge_due=self.purge_due,
            )
        except (Conflict, InvalidInput):
            return False
        if change.cancel_purge:
            self.purge_due = None
        if change.purge_at is not None:
            self.purge_due = change.purge_at
        self.state, self.trial_ends_at = change.state, change.trial_ends_at
        self.billed = True
        return True


events = st.lists(
    st.tuples(
        st.sampled_from(list(BillingKind)),
        st.one_of(st.none(), st.integers(min_value=1, max_value=60)),
        st.integers(min_value=0, max_value=50),  # days that pass before the event
    ),
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(events)
def test_the_plan_never_breaks_a_promise(
    sequence: list[tuple[BillingKind, int | None, int]],
) -> None:
    plan = PlanModel()
    for kind, days, wait in sequence:
        plan.now += wait * DAY
        if plan.purge_due is not None and plan.now >= plan.purge_due:
            return  # the worker purges it: no billing event may bring it back (checked below)
        applied = plan.apply(kind, days)
        state = effective_state(plan.state, plan.trial_ends_at, plan.now)
        # a purge is pending exactly when the data is not in full use
        if state in (WorkspaceState.CANCELLED, WorkspaceState.EXPIRED, WorkspaceState.TRIAL):
            assert plan.purge_due is not None
        if state is WorkspaceState.ACTIVE:
            assert plan.purge_due is None
        if applied and kind is BillingKind.CANCELLED:  # at least 30 days to export
            assert plan.purge_due == plan.now + R.cancellation
        if state is WorkspaceState.EXPIRED:  # kept 30 days after the trial, not more
            assert plan.purge_due == plan.trial_ends_at + R.trial  # type: ignore[operator]
        if state is WorkspaceState.CANCELLED:
            check_plan_allows("ws_x", state, Action.EXPORT)
            with pytest.raises(Conflict):
                check_plan_allows("ws_x", state, Action.WRITE_DATA)


@given(st.sampled_from([BillingKind.ACTIVATED, BillingKind.REACTIVATED]))
def test_nothing_revives_a_workspace_once_its_window_closed(kind: BillingKind) -> None:
    state = WorkspaceState.EXPIRED if kind is BillingKind.ACTIVATED else WorkspaceState.CANCELLED
    with pytest.raises(Conflict, match="window has closed"):
        plan_after(
            kind,
            state,
            now=T0 + 31 * DAY,
            retention=R,
            trial_days=None,
            billed_before=True,
            purge_due=T0 + 30 * DAY,
        )
