"""The request inbox on both databases: intake sealed at rest and rate-limited per client
address; the first-response clock as the worker sees it, stopped only by a reply a real
SMTP server took; operators' notes and assignments; the trust page's verdict."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, text

from strongroom.bootstrap import Strongroom, open_strongroom
from strongroom.clock import FixedClock
from strongroom.config import Settings
from strongroom.domain.inbox import ClockState, EntryKind
from strongroom.errors import InvalidInput, MailNotSent, NotFound, RateLimited
from tests.smtp_support import SmtpServer, smtp_server

EMAIL = "jane.requester@example.org"
SUBJECT = "Export of my candidate profile"
BODY = "Please send me everything you hold about me. Reference: ZEBRA-4471."


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    with smtp_server() as running:
        yield running


@pytest.fixture
def mailing(home: Settings, clock: FixedClock, server: SmtpServer) -> Iterator[Strongroom]:
    """A Strongroom whose mail goes to the test's SMTP server; operators at ops@."""
    settings = replace(home, **server.settings(), inbox_notify="ops@saas.example")
    with open_strongroom(settings=settings, clock=clock) as instance:
        yield instance


def _raw_rows(settings: Settings) -> list[bytes]:
    engine = create_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            rows = [
                *conn.execute(text("SELECT * FROM inbox_requests")),
                *conn.execute(text("SELECT * FROM inbox_entries")),
                *conn.execute(text("SELECT * FROM audit_events")),
            ]
    finally:
        engine.dispose()
    return [repr(tuple(r)).encode() + b"".join(v for v in r if isinstance(v, bytes)) for r in rows]


def test_a_request_is_sealed_at_rest_and_opens_for_operators(sr: Strongroom) -> None:
    got = sr.inbox.submit("privacy", EMAIL, SUBJECT, BODY, address="203.0.113.9")
    assert got.due_at - got.received_at == timedelta(hours=24)
    sr.inbox.note(got.id, "Checked the customer list: ZEBRA-4471 is theirs.", "operator:tok_x")
    raw = b"\n".join(_raw_rows(sr.settings))
    assert got.id.encode() in raw  # the rows are there ...
    for secret in (
        EMAIL,
        "jane.requester",
        SUBJECT,
        "candidate profile",
        "ZEBRA-4471",
        "203.0.113.9",
    ):
        assert secret.encode() not in raw, secret  # ... but none of what was typed
    shown = sr.inbox.show(got.id)
    assert (shown.email, shown.subject, shown.body) == (EMAIL, SUBJECT, BODY)
    assert [e.text for e in shown.entries] == ["Checked the customer list: ZEBRA-4471 is theirs."]


def test_a_sealed_value_moved_to_another_request_does_not_open(sr: Strongroom) -> None:
    a = sr.inbox.submit("support", EMAIL, SUBJECT, BODY)
    b = sr.inbox.submit("support", "other@example.org", "Other", "Other body")
    engine = create_engine(sr.settings.database_url)
    with engine.begin() as conn:
        body = conn.execute(
            text("SELECT body_sealed FROM inbox_requests WHERE id = :id"), {"id": a.id}
        ).scalar_one()
        conn.execute(
            text("UPDATE inbox_requests SET body_sealed = :b WHERE id = :id"),
            {"b": body, "id": b.id},
        )
    engine.dispose()
    with pytest.raises(Exception, match=r"authentic|integrity|tag|failed"):
        sr.inbox.show(b.id)


def test_hostile_input_is_refused_and_nothing_is_stored(sr: Strongroom) -> None:
    for args in (
        ("support", EMAIL, "Hi\r\nBcc: victim@evil.example", BODY),
        ("support", f"{EMAIL}\nBcc: victim@evil.example", SUBJECT, BODY),
        ("support", EMAIL, SUBJECT, "x" * 1_000_000),
        ("support", EMAIL, "\u202egnp.exe", BODY),
        ("sales", EMAIL, SUBJECT, BODY),
    ):
        with pytest.raises(InvalidInput):
            sr.inbox.submit(*args, address="198.51.100.7")
    assert sr.inbox.list() == []


def test_one_address_is_limited_per_hour_across_the_data_store(
    sr: Strongroom, home: Settings, clock: FixedClock
) -> None:
    allowed = sr.settings.inbox_requests_per_address_hour
    for n in range(allowed):
        sr.inbox.submit("support", EMAIL, f"Question {n}", BODY, address="2001:db8::1")
    # Another process (its own Strongroom) counts the same rows; a neighbour in the /64 too.
    with open_strongroom(settings=home, clock=clock) as other:
        with pytest.raises(RateLimited) as refused:
            other.inbox.submit("support", EMAIL, "One more", BODY, address="2001:db8::2")
        other.inbox.submit("support", EMAIL, "From elsewhere", BODY, address="192.0.2.1")
    assert 1 <= refused.value.retry_after <= 3601
    assert len(sr.inbox.list()) == allowed + 1
    clock.advance(timedelta(hours=1, seconds=1))
    sr.inbox.submit("support", EMAIL, "An hour later", BODY, address="2001:db8::1")


def test_the_worker_warns_an_hour_before_and_records_a_breach_after(
    mailing: Strongroom, clock: FixedClock, server: SmtpServer
) -> None:
    got = mailing.inbox.submit("security", EMAIL, SUBJECT, BODY)
    clock.advance(timedelta(hours=22, minutes=59))
    report = mailing.worker.run_once()
    assert mailing.inbox.show(got.id).warned_at is None and not report.failed
    assert server.inbox.to("ops@saas.example") == []

    clock.advance(timedelta(minutes=1))  # due - 1 hour
    mailing.worker.run_once()
    mailing.worker.run_once()  # a second pass warns no more
    shown = mailing.inbox.show(got.id)
    assert shown.warned_at == clock.now() and shown.state is ClockState.WARNING
    [warning] = server.inbox.to("ops@saas.example")
    assert got.id in warning["Subject"] and "1 hour" in warning["Subject"]
    assert BODY not in warning.get_payload(decode=True).decode()  # no content in the mail
    # a note and a reassignment do not stop the clock
    mailing.inbox.note(got.id, "Looking into it", "operator:tok_a")
    operator = mailing.access.create_operator_token()
    mailing.inbox.assign(got.id, operator.id, "operator:tok_a")
    assert mailing.inbox.verdict().holds

    clock.advance(timedelta(hours=1))  # due
    mailing.worker.run_once()
    shown = mailing.inbox.show(got.id)
    assert shown.breached_at == clock.now() and shown.state is ClockState.BREACHED
    assert shown.assigned_to == operator.id
    verdict = mailing.inbox.verdict()
    assert not verdict.holds
    assert "1 request past the 24-hour deadline" in verdict.evidence
    actions = [e.action for e in mailing.audit.events(limit=1000)]
    assert actions.count("inbox.breach") == 1 and actions.count("inbox.warning") == 1
    assert mailing.audit.verify() > 0


def test_a_reply_the_smtp_server_took_stops_the_clock(
    mailing: Strongroom, clock: FixedClock, server: SmtpServer
) -> None:
    got = mailing.inbox.submit("support", EMAIL, SUBJECT, BODY)
    clock.advance(timedelta(hours=3))
    entry = mailing.inbox.reply(got.id, "Hello Jane,\nyour export is attached.", "operator:tok_a")
    assert entry.sent and entry.kind is EntryKind.REPLY
    [mail] = server.inbox.to(EMAIL)
    assert mail["Subject"] == f"Re: {SUBJECT} [{got.id}]"
    assert "your export is attached" in mail.get_payload(decode=True).decode()
    clock.advance(timedelta(days=2))
    mailing.worker.run_once()
    shown = mailing.inbox.show(got.id)
    assert shown.state is ClockState.ANSWERED and shown.breached_at is None
    assert shown.answered_at == got.received_at + timedelta(hours=3)
    assert mailing.inbox.verdict().holds
    assert mailing.inbox.list(state="open") == []
    assert [r.id for r in mailing.inbox.list(state="answered")] == [got.id]


def test_a_reply_with_no_smtp_server_is_recorded_as_not_sent_and_the_clock_runs_on(
    sr: Strongroom, clock: FixedClock
) -> None:
    got = sr.inbox.submit("support", EMAIL, SUBJECT, BODY)
    with pytest.raises(MailNotSent, match="recorded as not sent"):
        sr.inbox.reply(got.id, "Hello Jane", "operator:tok_a")
    [entry] = sr.inbox.show(got.id).entries
    assert not entry.sent and entry.detail and "smtp_host" in entry.detail
    clock.advance(timedelta(hours=24))
    sr.worker.run_once()
    assert sr.inbox.show(got.id).state is ClockState.BREACHED
    assert not sr.inbox.verdict().holds


def test_the_list_puts_open_requests_first_overdue_first(sr: Strongroom, clock: FixedClock) -> None:
    first = sr.inbox.submit("support", EMAIL, "First", BODY)
    clock.advance(timedelta(hours=2))
    second = sr.inbox.submit("security", EMAIL, "Second", BODY)
    clock.advance(timedelta(hours=23))  # first is overdue, second has an hour left
    listed = sr.inbox.list()
    assert [r.id for r in listed] == [first.id, second.id]
    assert listed[0].time_left == "1 hour overdue" and listed[1].time_left == "1 hour left"
    assert [r.id for r in sr.inbox.list(kind="security")] == [second.id]
    with pytest.raises(InvalidInput):
        sr.inbox.list(kind="nonsense")


def test_unknown_ids_and_bad_assignees_are_refused(sr: Strongroom) -> None:
    got = sr.inbox.submit("support", EMAIL, SUBJECT, BODY)
    for bad in ("req_aaaaaaaaaaaaaaaaaaaaaaaaaa", "../etc", "x" * 5000):
        with pytest.raises(NotFound):
            sr.inbox.show(bad)
        with pytest.raises(NotFound):
            sr.inbox.note(bad, "note", "operator:tok_a")
    with pytest.raises(InvalidInput):
        sr.inbox.assign(got.id, "tok_aaaaaaaaaaaaaaaaaaaaaaaaaa", "operator:tok_a")
    with pytest.raises(InvalidInput):
        sr.inbox.note(got.id, "bell\x07", "operator:tok_a")
    assert sr.inbox.show(got.id).entries == ()


def test_the_verdict_counts_open_requests_and_recent_breaches(
    sr: Strongroom, clock: FixedClock
) -> None:
    assert sr.inbox.verdict().holds
    sr.inbox.submit("support", EMAIL, SUBJECT, BODY)
    clock.advance(timedelta(hours=25))
    sr.worker.run_once()
    assert not sr.inbox.verdict().holds
    # 31 days on, still unanswered: still failing (only a sent reply clears it)
    clock.advance(timedelta(days=31))
    assert "0 breaches" in sr.inbox.verdict().evidence
    assert not sr.inbox.verdict().holds


def test_a_late_reply_between_two_passes_still_counts_as_a_breach(
    mailing: Strongroom, clock: FixedClock, server: SmtpServer
) -> None:
    """The worker never saw it overdue (no pass between the deadline and the reply): the
    verdict's evidence counts it all the same."""
    got = mailing.inbox.submit("support", EMAIL, SUBJECT, BODY)
    clock.advance(timedelta(hours=26))
    mailing.inbox.reply(got.id, "Sorry for the wait.", "operator:tok_a")
    assert mailing.inbox.show(got.id).state is ClockState.ANSWERED_LATE
    evidence = mailing.inbox.verdict().evidence
    assert "1 breach of the 24-hour first response in the last 30 days" in evidence
