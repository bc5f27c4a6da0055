"""Privacy requests through the library, on SQLite and PostgreSQL: the law's due dates,
the verification gate, one extension, closing, lists by due date, and the subject kept
sealed (never in clear in the store, never in the audit log)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from strongroom.bootstrap import Strongroom, open_strongroom
from strongroom.clock import FixedClock
from strongroom.config import Settings
from strongroom.errors import Conflict, InvalidInput, NotFound

ADA = [("email", "Ada.Lovelace@Example.com"), ("phone", "+44 20 8366 1177")]


def _workspace(sr: Strongroom) -> str:
    return sr.workspaces.create("Acme", "owner@acme.example").id


def test_a_gdpr_request_is_due_a_calendar_month_after_receipt(
    sr: Strongroom, clock: FixedClock
) -> None:
    clock.advance(datetime(2026, 1, 31, 9, tzinfo=UTC) - clock.now())
    ws = _workspace(sr)
    req = sr.privacy.create(ws, type="access", law="gdpr", identifiers=ADA, actor="alice")
    assert req.id.startswith("dsr_")
    assert (req.received_on, req.due, req.state.value) == (
        date(2026, 1, 31),
        date(2026, 2, 28),
        "received",
    )
    assert req.days_left == 28
    shown = sr.privacy.get(ws, req.id)
    assert [(i.kind, i.value) for i in shown.identifiers] == ADA
    assert shown.due == date(2026, 2, 28)


def test_a_ccpa_request_names_its_confirmation_date(sr: Strongroom, clock: FixedClock) -> None:
    ws = _workspace(sr)
    req = sr.privacy.create(
        ws, type="deletion", law="ccpa", identifiers=ADA, received=date(2025, 12, 1)
    )
    assert req.due == date(2026, 1, 15)  # 45 calendar days
    assert req.confirm_by == date(2025, 12, 15)  # 10 business days
    assert (req.days_left, req.overdue) == (14, False)  # the clock stands at 1 January 2026


def test_work_on_data_waits_for_verification_and_extension_happens_once(
    sr: Strongroom, clock: FixedClock
) -> None:
    ws = _workspace(sr)
    req = sr.privacy.create(ws, type="deletion", law="gdpr", identifiers=ADA)
    with pytest.raises(Conflict, match="verify"):
        sr.privacy.complete(ws, req.id)
    verified = sr.privacy.verify(ws, req.id, method="replied from the account's email", by="bob")
    assert verified.state.value == "verified"
    assert sr.privacy.get(ws, req.id).verified_by == "bob"
    with pytest.raises(Conflict, match="already verified"):
        sr.privacy.verify(ws, req.id, method="again", by="bob")

    extended = sr.privacy.extend(ws, req.id, reason="many records", months=2)
    assert extended.due == date(2026, 4, 1)  # 1 Feb + 2 months
    with pytest.raises(Conflict, match="one extension"):
        sr.privacy.extend(ws, req.id, reason="more", days=1)
    assert sr.privacy.get(ws, req.id).extension_reason == "many records"

    done = sr.privacy.complete(ws, req.id)
    assert done.state.value == "completed" and done.closed_at == clock.now()
    with pytest.raises(Conflict, match="changes no more"):
        sr.privacy.reject(ws, req.id, reason="too late")


def test_an_extension_after_the_due_date_is_refused(sr: Strongroom, clock: FixedClock) -> None:
    ws = _workspace(sr)
    req = sr.privacy.create(ws, type="access", law="ccpa", identifiers=ADA)
    clock.advance(timedelta(days=46))
    with pytest.raises(Conflict, match="before the due date passes"):
        sr.privacy.extend(ws, req.id, reason="late", days=10)
    assert sr.privacy.get(ws, req.id).due == req.due


def test_lists_by_due_date_show_open_requests_due_soon_and_overdue(
    sr: Strongroom, clock: FixedClock
) -> None:
    ws = _workspace(sr)
    soon = sr.privacy.create(ws, type="access", law="other", identifiers=ADA, due=date(2026, 1, 6))
    later = sr.privacy.create(
        ws, type="access", law="other", identifiers=ADA, due=date(2026, 1, 20)
    )
    closed = sr.privacy.create(
        ws, type="access", law="other", identifiers=ADA, due=date(2026, 1, 3)
    )
    sr.privacy.reject(ws, closed.id, reason="not our customer")
    assert [r.id for r in sr.privacy.list(ws)] == [closed.id, soon.id, later.id]
    assert [r.id for r in sr.privacy.list(ws, due_within=5)] == [soon.id]
    clock.advance(timedelta(days=10))
    overdue = sr.privacy.list(ws, due_within=0)
    assert [(r.id, r.overdue, r.days_left) for r in overdue] == [(soon.id, True, -5)]
    assert all(r.identifiers == () for r in sr.privacy.list(ws))  # no subject in lists


def test_bad_requests_change_nothing(sr: Strongroom, clock: FixedClock) -> None:
    ws = _workspace(sr)
    cases = [
        ({"type": "forget", "law": "gdpr", "identifiers": ADA}, "unknown request type"),
        ({"type": "access", "law": "hipaa", "identifiers": ADA}, "unknown law"),
        ({"type": "access", "law": "gdpr", "identifiers": []}, "names its subject"),
        ({"type": "access", "law": "gdpr", "identifiers": [("email", "nobody")]}, "needs an @"),
        ({"type": "access", "law": "gdpr", "identifiers": [("ssn", "1")]}, "identifier kind"),
        ({"type": "access", "law": "other", "identifiers": ADA}, "needs its due date"),
        (
            {"type": "access", "law": "gdpr", "identifiers": ADA, "received": date(2026, 1, 2)},
            "future",
        ),
    ]
    for kwargs, message in cases:
        with pytest.raises(InvalidInput, match=message):
            sr.privacy.create(ws, **kwargs)  # type: ignore[arg-type]
    assert sr.privacy.list(ws) == []
    with pytest.raises(NotFound):
        sr.privacy.get(ws, "dsr_" + "a" * 26)


def test_another_workspaces_request_is_not_found(sr: Strongroom) -> None:
    mine, theirs = _workspace(sr), sr.workspaces.create("Other", "o@other.example").id
    req = sr.privacy.create(theirs, type="access", law="gdpr", identifiers=ADA)
    for call in (
        lambda: sr.privacy.get(mine, req.id),
        lambda: sr.privacy.verify(mine, req.id, method="m", by="b"),
        lambda: sr.privacy.reject(mine, req.id, reason="r"),
    ):
        with pytest.raises(NotFound):
            call()
    assert sr.privacy.get(theirs, req.id).state.value == "received"


def test_the_subject_is_never_stored_or_audited_in_clear(home: Settings, clock: FixedClock) -> None:
    secrets = ["ada.secret@example.com", "Augusta Ada King", "replied from ada's phone"]
    with open_strongroom(settings=home, clock=clock) as sr:
        ws = _workspace(sr)
        req = sr.privacy.create(
            ws,
            type="deletion",
            law="gdpr",
            identifiers=[("email", secrets[0]), ("name", secrets[1])],
            notes="asked twice",
        )
        sr.privacy.verify(ws, req.id, method=secrets[2], by="bob")
        events = sr.audit.events(ws)
        assert [e.action for e in events][-2:] == ["privacy.create", "privacy.verify"]
        for event in events:
            text = repr(event)
            assert not any(s.lower() in text.lower() for s in secrets)
    for path in Path(home.home).rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for s in secrets:
                assert s.encode() not in data, (path, s)


def test_a_purged_workspace_takes_its_requests_with_it(sr: Strongroom, clock: FixedClock) -> None:
    ws = sr.workspaces.create("Gone", "owner@gone.example").id
    req = sr.privacy.create(ws, type="access", law="gdpr", identifiers=ADA)
    sr.plans.delete_workspace(ws, "Gone")
    sr.worker.run_once()
    assert sr.certificates.list(ws)[-1]["kind"] == "workspace"  # the purge finished
    with sr.ctx.store.read() as uow:
        assert uow.privacy_requests.get(ws, req.id) is None
        assert uow.privacy_requests.digests(req.id) == []


def test_the_report_counts_the_requests_received_in_a_year(
    sr: Strongroom, clock: FixedClock
) -> None:
    ws = _workspace(sr)
    old = sr.privacy.create(
        ws, type="access", law="gdpr", identifiers=ADA, received=date(2025, 6, 1)
    )
    sr.privacy.verify(ws, old.id, method="m", by="b")
    sr.privacy.complete(ws, old.id)  # answered on 1 January 2026: 214 days
    new = sr.privacy.create(ws, type="deletion", law="ccpa", identifiers=ADA)
    clock.advance(timedelta(days=9))
    sr.privacy.reject(ws, new.id, reason="could not verify")
    of_2025 = sr.privacy.report(ws, 2025)["types"]
    assert (of_2025["access"]["received"], of_2025["access"]["median_days"]) == (1, 214.0)
    assert of_2025["deletion"]["received"] == 0
    of_2026 = sr.privacy.report(ws, 2026)["types"]
    assert (of_2026["deletion"]["refused"], of_2026["deletion"]["mean_days"]) == (1, 9.0)
    everything = sr.privacy.report()["types"]
    assert everything["access"]["received"] + everything["deletion"]["received"] == 2


def test_a_cancelled_workspace_still_answers_its_peoples_requests(
    sr: Strongroom, clock: FixedClock
) -> None:
    ws = _workspace(sr)
    sr.plans.billing_event(ws, "cancelled", event_id="inv-1")
    with pytest.raises(Conflict, match="read-only"):
        sr.projects.create(ws, "New")
    req = sr.privacy.create(ws, type="deletion", law="gdpr", identifiers=ADA)
    assert sr.privacy.verify(ws, req.id, method="m", by="b").state.value == "verified"


def test_the_record_of_requests_keeps_digests_for_24_months_then_goes(
    sr: Strongroom, clock: FixedClock
) -> None:
    ws = sr.workspaces.create("Acme", "owner@acme.example").id
    project = sr.projects.create(ws, "P").id
    sr.records.declare_collection(ws, "people", ["email"])
    record = sr.records.put(ws, project, "people", {"email": "ada@example.com"}).id
    answered = sr.privacy.create(
        ws, type="access", law="ccpa", identifiers=[("email", "ada@example.com")], notes="n"
    )
    sr.privacy.verify(ws, answered.id, method="reply", by="dpo")
    sr.privacy.complete(ws, answered.id)
    refused = sr.privacy.create(
        ws, type="deletion", law="ccpa", identifiers=[("email", "bob@example.com")]
    )
    sr.privacy.reject(ws, refused.id, reason="could not verify")
    restricting = sr.privacy.create(
        ws, type="restriction", law="gdpr", identifiers=[("email", "ada@example.com")]
    )
    sr.privacy.restrict(ws, restricting.id)
    sr.privacy.complete(ws, restricting.id)  # the restriction outlives the request
    still_open = sr.privacy.create(
        ws, type="access", law="gdpr", identifiers=[("email", "cy@example.com")]
    )

    # Closed: the subject is kept only as digests; the outcome and its reason stay.
    shown = sr.privacy.get(ws, answered.id)
    assert (shown.identifiers, shown.notes) == ((), "")
    assert sr.privacy.get(ws, refused.id).outcome_reason == "could not verify"
    assert [m.record_id for m in sr.privacy.locate(ws, answered.id)] == [record]
    report = sr.privacy.report(ws)["types"]
    assert (report["access"]["received"], report["access"]["completed"]) == (2, 1)

    clock.advance(timedelta(days=729))  # a day short of 24 months: kept
    sr.worker.run_once()
    assert len(sr.privacy.list(ws)) == 4
    clock.advance(timedelta(days=3))
    sr.worker.run_once()
    assert {r.id for r in sr.privacy.list(ws)} == {restricting.id, still_open.id}
    [event] = [e for e in sr.audit.events(ws) if e.action == "privacy.record_expired"]
    assert sorted(event.subject["request_ids"]) == sorted([answered.id, refused.id])
    with pytest.raises(NotFound):
        sr.records.get(ws, project, record)  # still restricted
    sr.privacy.lift(ws, restricting.id)
    sr.worker.run_once()
    assert [r.id for r in sr.privacy.list(ws)] == [still_open.id]
    assert sr.records.get(ws, project, record).id == record


def test_a_legal_hold_keeps_the_record_of_requests_past_its_term(
    sr: Strongroom, clock: FixedClock
) -> None:
    ws = sr.workspaces.create("Held", "owner@held.example").id
    request = sr.privacy.create(ws, type="access", law="ccpa", identifiers=[("email", "a@x.org")])
    sr.privacy.reject(ws, request.id, reason="not verifiable")
    sr.plans.set_hold(ws, None, "matter 7")
    clock.advance(timedelta(days=800))
    sr.worker.run_once()
    assert [r.id for r in sr.privacy.list(ws)] == [request.id]
    sr.plans.clear_hold(ws, None, "matter closed")
    sr.worker.run_once()
    assert sr.privacy.list(ws) == []
