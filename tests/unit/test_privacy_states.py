"""The privacy request state machine: what each state allows, checked rule by rule and
under hypothesis (any sequence of work keeps the invariants)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strongroom.domain.privacy import (
    CLOSED,
    NEEDS_VERIFICATION,
    RequestState,
    RequestType,
    Work,
    check_work,
    parse_type,
)
from strongroom.errors import Conflict, InvalidInput

T, S, W = RequestType, RequestState, Work


def test_the_happy_path_of_a_deletion() -> None:
    state = S.RECEIVED
    state = check_work(T.DELETION, state, W.VERIFY)
    assert state is S.VERIFIED
    assert check_work(T.DELETION, state, W.LOCATE) is S.VERIFIED
    state = check_work(T.DELETION, state, W.ERASE)
    assert state is S.IN_PROGRESS
    assert check_work(T.DELETION, state, W.COMPLETE) is S.COMPLETED


@pytest.mark.parametrize(
    ("kind", "work"),
    [
        (T.ACCESS, W.EXPORT),
        (T.PORTABILITY, W.EXPORT),
        (T.CORRECTION, W.CORRECT),
        (T.DELETION, W.ERASE),
    ],
)
def test_work_on_the_subjects_data_needs_a_verified_request(kind: RequestType, work: Work) -> None:
    with pytest.raises(Conflict, match="verify the subject's identity"):
        check_work(kind, S.RECEIVED, work)
    assert check_work(kind, S.VERIFIED, work) is S.IN_PROGRESS


def test_locate_and_restrict_run_before_verification() -> None:
    assert check_work(T.ACCESS, S.RECEIVED, W.LOCATE) is S.RECEIVED
    assert check_work(T.RESTRICTION, S.RECEIVED, W.RESTRICT) is S.RECEIVED


@pytest.mark.parametrize(
    ("kind", "work"),
    [
        (T.ACCESS, W.ERASE),
        (T.DELETION, W.EXPORT),
        (T.RESTRICTION, W.CORRECT),
        (T.CORRECTION, W.RESTRICT),
    ],
)
def test_each_type_does_its_own_work(kind: RequestType, work: Work) -> None:
    with pytest.raises(Conflict, match=f"cannot {work.value}"):
        check_work(kind, S.VERIFIED, work)


def test_a_closed_request_changes_no_more_but_a_restriction_can_be_lifted() -> None:
    for closed in CLOSED:
        with pytest.raises(Conflict, match="changes no more"):
            check_work(T.DELETION, closed, W.ERASE)
        with pytest.raises(Conflict, match="changes no more"):
            check_work(T.DELETION, closed, W.EXTEND)
        assert check_work(T.DELETION, closed, W.LOCATE) is closed
        assert check_work(T.RESTRICTION, closed, W.LIFT) is closed


def test_verify_happens_once() -> None:
    with pytest.raises(Conflict, match="already verified"):
        check_work(T.ACCESS, S.VERIFIED, W.VERIFY)
    with pytest.raises(Conflict, match="already in progress"):
        check_work(T.ACCESS, S.IN_PROGRESS, W.VERIFY)


def test_unknown_type_is_refused() -> None:
    with pytest.raises(InvalidInput, match="choose one of access, portability"):
        parse_type("forget")


@given(
    kind=st.sampled_from(list(RequestType)),
    works=st.lists(st.sampled_from(list(Work)), max_size=12),
)
def test_any_sequence_of_work_keeps_the_invariants(kind: RequestType, works: list[Work]) -> None:
    state = S.RECEIVED
    verified = False
    for work in works:
        try:
            after = check_work(kind, state, work)
        except Conflict:
            continue  # refused work changes nothing
        # Nothing touches the subject's data before verification.
        if work in NEEDS_VERIFICATION:
            assert verified
        # A closed request never opens again.
        if state in CLOSED:
            assert after is state
        # Only verify leads to verified; only reject to rejected; only complete to completed.
        if after is S.VERIFIED and state is not S.VERIFIED:
            assert work is W.VERIFY
        if after is S.REJECTED and state is not S.REJECTED:
            assert work is W.REJECT
        if after is S.COMPLETED and state is not S.COMPLETED:
            assert work is W.COMPLETE
        verified = verified or work is W.VERIFY
        state = after


def test_the_yearly_report_counts_per_type_with_median_and_mean_days() -> None:
    from strongroom.domain.privacy import Answered, report

    rows = [
        Answered(T.ACCESS, S.COMPLETED, 3),
        Answered(T.ACCESS, S.COMPLETED, 10),
        Answered(T.ACCESS, S.REJECTED, 30),
        Answered(T.ACCESS, S.RECEIVED, None),
        Answered(T.DELETION, S.COMPLETED, 7),
    ]
    counts = report(rows)
    assert counts["access"] == {
        "received": 4,
        "completed": 2,
        "refused": 1,
        "open": 1,
        "median_days": 10.0,
        "mean_days": 14.3,
    }
    assert counts["deletion"]["median_days"] == 7.0
    assert counts["correction"] == {
        "received": 0,
        "completed": 0,
        "refused": 0,
        "open": 0,
        "median_days": None,
        "mean_days": None,
    }
    even = report([Answered(T.ACCESS, S.COMPLETED, d) for d in (1, 2, 3, 10)])
    assert even["access"]["median_days"] == 2.5
