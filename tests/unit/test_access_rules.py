"""The access rules of domain/access.py with dates in them: who is refused and how (404 for
another tenant, 403 for a role), and how long a sign-in waits after repeated failures."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from strongroom.domain.access import (
    Principal,
    PrincipalKind,
    check_workspace_access,
    login_retry_after,
)
from strongroom.domain.roles import Action, Role
from strongroom.errors import NotFound, PermissionDenied
from tests.roles_specification import allowed_actions

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
WS = "ws_aaaaaaaaaaaaaaaaaaaaaaaaaa"
TOKEN = Principal(PrincipalKind.TOKEN, "tok_1", workspace_id=WS, role=Role.ADMIN)
SESSION = Principal(PrincipalKind.SESSION, "tok_2", user_id="usr_1")
OPERATOR = Principal(PrincipalKind.OPERATOR, "tok_3")


# who may do what -------------------------------------------------------------------------
@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("action", list(Action))
def test_a_member_may_do_what_the_specification_allows(role: Role, action: Action) -> None:
    for caller in (TOKEN, SESSION):
        if action.value in allowed_actions(role.value):
            check_workspace_access(caller, WS, role, action)
        else:
            with pytest.raises(PermissionDenied) as refused:
                check_workspace_access(caller, WS, role, action)
            words = action.value.replace("_", " ")
            assert str(refused.value) == f"the {role.value} role may not {words}"


@pytest.mark.parametrize("action", list(Action))
def test_a_non_member_is_told_the_workspace_does_not_exist(action: Action) -> None:
    with pytest.raises(NotFound) as refused:
        check_workspace_access(SESSION, WS, None, action)
    assert WS in str(refused.value)
    assert refused.value.ids == {"workspace_id": WS}


@pytest.mark.parametrize("role", [*Role, None])
def test_an_operator_never_reaches_customer_data(role: Role | None) -> None:
    for action in Action:
        with pytest.raises(PermissionDenied, match="operators have no access"):
            check_workspace_access(OPERATOR, WS, role, action)


def test_the_audit_log_names_the_user_behind_a_session_and_the_token_otherwise() -> None:
    assert SESSION.actor == "session:usr_1"
    assert TOKEN.actor == "token:tok_1"
    assert OPERATOR.actor == "operator:tok_3"


# sign-in waits ---------------------------------------------------------------------------
def _ago(*minutes: float) -> list[datetime]:
    return [NOW - timedelta(minutes=m) for m in minutes]


def test_four_failures_do_not_make_anyone_wait() -> None:
    assert login_retry_after(_ago(1, 2, 3, 4), NOW) == 0
    assert login_retry_after([], NOW) == 0


def test_the_fifth_failure_makes_the_next_attempt_wait_out_the_window() -> None:
    # the oldest of the five leaves the window 15 minutes after it happened
    assert login_retry_after(_ago(10, 1, 2, 3, 4), NOW) == 5 * 60 + 1
    assert login_retry_after(_ago(0, 0, 0, 0, 0), NOW) == 15 * 60 + 1


def test_only_failures_inside_the_15_minute_window_count() -> None:
    assert login_retry_after(_ago(15, 1, 2, 3, 4), NOW) == 0  # exactly 15 minutes: out
    assert login_retry_after(_ago(14.99, 1, 2, 3, 4), NOW) == 1  # 0.6 s left: wait 1 s
    assert login_retry_after(_ago(16, 20, 30, 60, 600, 1), NOW) == 0


def test_with_more_than_five_failures_the_fifth_newest_decides() -> None:
    failures = _ago(14, 13, 12, 4, 3, 2, 1)  # in no particular order below
    assert login_retry_after(list(reversed(failures)), NOW) == 3 * 60 + 1  # 12 minutes ago: 3 left
    assert login_retry_after(failures, NOW) == 3 * 60 + 1  # 12 minutes ago: 3 left


def test_the_wait_is_never_zero_while_limited() -> None:
    almost = [NOW - timedelta(minutes=15) + timedelta(microseconds=1), *_ago(1, 2, 3, 4)]
    assert login_retry_after(almost, NOW) == 1


def test_the_wait_is_rounded_up_to_the_next_whole_second() -> None:
    # 4 min 59 s left: the next full second after it is 300 s, whatever the parity
    failures = [NOW - timedelta(minutes=10, seconds=1), *_ago(1, 2, 3, 4)]
    assert login_retry_after(failures, NOW) == 300
    failures = [NOW - timedelta(minutes=10, seconds=0.5), *_ago(1, 2, 3, 4)]
    assert login_retry_after(failures, NOW) == 300


def test_a_caller_cannot_be_promoted_in_place() -> None:
    """A principal is built once from its token; no later code can raise its role."""
    with pytest.raises(dataclasses.FrozenInstanceError):
        TOKEN.role = Role.OWNER  # type: ignore[misc]
