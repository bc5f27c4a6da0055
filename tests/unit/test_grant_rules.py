"""Break-glass grants and staff agreements: the rules, with dates in them (no IO)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strongroom.domain import grants as rules
from strongroom.domain.access import Principal, PrincipalKind, check_workspace_access
from strongroom.domain.grants import Agreement, Decision, GrantState, GrantStatus
from strongroom.domain.roles import Action, Role
from strongroom.errors import Conflict, InvalidInput, NotFound, PermissionDenied

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
WS, OTHER_WS = "ws_" + "a" * 26, "ws_" + "b" * 26
P1, P2 = "prj_" + "a" * 26, "prj_" + "b" * 26


def _grant(project: str | None = None) -> Principal:
    return Principal(PrincipalKind.GRANT, "tok_x", None, WS, Role.VIEWER, None, "grt_x", project)


# staff agreements -------------------------------------------------------------------
def test_no_agreement_is_never_in_force() -> None:
    assert not rules.agreement_in_force([], "")
    assert not rules.agreement_in_force([], "1")


def test_the_latest_signed_is_current_and_must_meet_the_required_version() -> None:
    old = Agreement("2025-01", date(2025, 1, 10))
    new = Agreement("2026-01", date(2026, 1, 10))
    assert rules.current_agreement([new, old]) == new
    assert rules.agreement_in_force([old], "")
    assert not rules.agreement_in_force([old], "2026-01")
    assert rules.agreement_in_force([old, new], "2026-01")
    assert rules.agreement_in_force([new], "2025-06")  # a later version is in force


def test_versions_order_numbers_as_numbers() -> None:
    assert rules.version_key("2026-10") > rules.version_key("2026-9")
    assert rules.version_key("v10") > rules.version_key("v9")
    assert rules.version_key("2") > rules.version_key("1.9")


@given(st.from_regex(r"([0-9a-z.-]*[a-z.-])?", fullmatch=True), st.integers(0, 10**6))
def test_the_next_number_is_a_later_version(prefix: str, n: int) -> None:
    assert rules.version_key(f"{prefix}{n + 1}") > rules.version_key(f"{prefix}{n}")
    assert rules.agreement_in_force(
        [Agreement(f"{prefix}{n + 1}", date(2026, 1, 1))], f"{prefix}{n}"
    )
    assert not rules.agreement_in_force(
        [Agreement(f"{prefix}{n}", date(2026, 1, 1))], f"{prefix}{n + 1}"
    )


def test_a_future_signing_date_is_refused() -> None:
    today = date(2026, 6, 1)
    assert rules.check_signed_on(today, today) == today
    with pytest.raises(InvalidInput, match="future"):
        rules.check_signed_on(today + timedelta(days=1), today)


# requests ---------------------------------------------------------------------------
@given(st.integers(-100, 100), st.integers(1, 24))
def test_hours_are_bounded_by_the_setting_and_never_over_24(hours: int, setting: int) -> None:
    if 1 <= hours <= setting:
        assert rules.check_hours(hours, setting) == hours
    else:
        with pytest.raises(InvalidInput):
            rules.check_hours(hours, setting)


def test_hours_never_exceed_24_whatever_the_setting_says() -> None:
    with pytest.raises(InvalidInput):
        rules.check_hours(25, 48)
    with pytest.raises(InvalidInput):
        rules.check_max_hours(25)


@pytest.mark.parametrize("text", ["", "   ", "\t\n"])
def test_empty_reasons_and_tickets_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match="needs a reason"):
        rules.check_reason(text)
    with pytest.raises(InvalidInput, match="needs a ticket"):
        rules.check_ticket(text)


def test_a_ticket_is_one_line_and_a_reason_may_have_lines() -> None:
    assert rules.check_reason("import fails\nsince Monday") == "import fails\nsince Monday"
    with pytest.raises(InvalidInput):
        rules.check_ticket("T-1\nT-2")
    with pytest.raises(InvalidInput):
        rules.check_reason("a\x00b")


# the grant's life -------------------------------------------------------------------
@given(st.integers(1, 24), st.integers(0, 48 * 60))
def test_an_approved_grant_is_active_until_its_end_then_expired(hours: int, minutes: int) -> None:
    ends = rules.expires_at(NOW, hours)
    at = NOW + timedelta(minutes=minutes)
    expected = GrantStatus.ACTIVE if at < ends else GrantStatus.EXPIRED
    assert rules.status(GrantState.APPROVED, ends, at) is expected


@pytest.mark.parametrize(
    ("current", "decision", "after"),
    [
        (GrantStatus.PENDING, Decision.APPROVE, GrantState.APPROVED),
        (GrantStatus.PENDING, Decision.REFUSE, GrantState.REFUSED),
        (GrantStatus.PENDING, Decision.REVOKE, GrantState.REVOKED),
        (GrantStatus.ACTIVE, Decision.REVOKE, GrantState.REVOKED),
    ],
)
def test_decisions_allowed(current: GrantStatus, decision: Decision, after: GrantState) -> None:
    assert rules.check_decision("grt_x", current, decision) is after


@pytest.mark.parametrize("current", list(GrantStatus))
@pytest.mark.parametrize("decision", list(Decision))
def test_ended_grants_take_no_decision(current: GrantStatus, decision: Decision) -> None:
    allowed = current is GrantStatus.PENDING or (
        current is GrantStatus.ACTIVE and decision is Decision.REVOKE
    )
    if allowed:
        rules.check_decision("grt_x", current, decision)
    else:
        with pytest.raises(Conflict):
            rules.check_decision("grt_x", current, decision)


@pytest.mark.parametrize("current", list(GrantStatus))
def test_a_token_only_for_an_active_grant_and_once(current: GrantStatus) -> None:
    if current is GrantStatus.ACTIVE:
        rules.check_token_issuable("grt_x", current, issued=False)
    else:
        with pytest.raises(Conflict):
            rules.check_token_issuable("grt_x", current, issued=False)
    with pytest.raises(Conflict):
        rules.check_token_issuable("grt_x", GrantStatus.ACTIVE, issued=True)


def test_self_approval_only_where_the_deployment_allows_it() -> None:
    rules.check_self_approval(True)
    with pytest.raises(PermissionDenied):
        rules.check_self_approval(False)


# what a grant's token may do: the one role check ------------------------------------
@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("safe", [True, False])
def test_a_grant_only_reads_by_safe_requests(action: Action, safe: bool) -> None:
    if action is Action.READ and safe:
        check_workspace_access(_grant(), WS, Role.VIEWER, action, P1, safe)
    else:
        with pytest.raises(PermissionDenied):
            check_workspace_access(_grant(), WS, Role.VIEWER, action, P1, safe)


def test_a_grant_of_another_workspace_is_not_found() -> None:
    with pytest.raises(NotFound):
        check_workspace_access(_grant(), OTHER_WS, None, Action.READ, P1, True)


@pytest.mark.parametrize(("asked", "ok"), [(P1, True), (P2, False), (None, False)])
def test_a_project_grant_reads_its_project_only(asked: str | None, ok: bool) -> None:
    if ok:
        check_workspace_access(_grant(P1), WS, Role.VIEWER, Action.READ, asked, True)
    else:
        with pytest.raises(PermissionDenied, match="covers project"):
            check_workspace_access(_grant(P1), WS, Role.VIEWER, Action.READ, asked, True)


def test_a_grant_is_named_by_its_grant_in_the_audit() -> None:
    assert _grant().actor == "grant:grt_x"
