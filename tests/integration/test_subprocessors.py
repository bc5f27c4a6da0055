"""The subprocessor list on both databases: notices, the list on effective dates,
objections, subscribers mailed through a real SMTP server, and the promise's verdict."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from strongroom.bootstrap import Strongroom, open_strongroom
from strongroom.clock import FixedClock
from strongroom.config import Settings
from strongroom.errors import Conflict, InvalidInput, NotFound, RateLimited
from strongroom.storage.repositories.subprocessors import NoticeRow
from tests.smtp_support import SmtpServer, smtp_server

DETAILS = {
    "legal_name": "Mailgun Technologies, Inc.",
    "address": "112 E Pecan St #1135, San Antonio, TX 78205, USA",
    "contact": "privacy@mailgun.example",
    "purpose": "Transactional email",
    "data_categories": "email addresses, message contents",
    "location": "United States",
    "transfer_mechanism": "EU SCCs (Module 3)",
}


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as running:
        yield running


@pytest.fixture
def mailing(home: Settings, clock: FixedClock, smtp: SmtpServer) -> Iterator[Strongroom]:
    """A Strongroom whose mail goes to the test's SMTP server."""
    from dataclasses import replace

    settings = replace(home, **smtp.settings())
    with open_strongroom(settings=settings, clock=clock) as instance:
        yield instance


def _in(clock: FixedClock, days: int) -> date:
    return (clock.now() + timedelta(days=days)).date()


def test_a_ten_day_notice_is_refused_and_nothing_is_stored(
    sr: Strongroom, clock: FixedClock
) -> None:
    with pytest.raises(InvalidInput, match="earliest effective date is"):
        sr.subprocessors.add(DETAILS, _in(clock, 10), actor="operator:t")
    assert sr.subprocessors.notices() == []
    assert not [e for e in sr.audit.events() if e.action.startswith("subprocessor.")]


@pytest.mark.parametrize("missing", ["legal_name", "transfer_mechanism", "location"])
def test_an_entry_without_a_required_field_is_refused(
    sr: Strongroom, clock: FixedClock, missing: str
) -> None:
    details = {k: v for k, v in DETAILS.items() if k != missing}
    with pytest.raises(InvalidInput, match=missing):
        sr.subprocessors.add(details, _in(clock, 31), actor="operator:t")
    with pytest.raises(InvalidInput, match=missing):
        sr.subprocessors.add({**DETAILS, missing: "bad\u202etext"}, _in(clock, 31), "operator:t")
    assert sr.subprocessors.notices() == []


def test_a_change_joins_the_list_on_its_effective_date_not_before(
    sr: Strongroom, clock: FixedClock
) -> None:
    notice = sr.subprocessors.add(DETAILS, _in(clock, 31), actor="operator:t")
    assert sr.subprocessors.current() == []
    assert [n.id for n in sr.subprocessors.upcoming()] == [notice.id]
    clock.advance(timedelta(days=32))
    [entry] = sr.subprocessors.current()
    assert entry.id == notice.subprocessor_id and entry.details.legal_name == DETAILS["legal_name"]
    renamed = {**DETAILS, "legal_name": "Sinch Mailgun AB"}
    sr.subprocessors.replace(entry.id, renamed, _in(clock, 30), actor="operator:t")
    sr.subprocessors.remove(entry.id, _in(clock, 60), actor="operator:t")
    assert sr.subprocessors.current()[0].details.legal_name == DETAILS["legal_name"]
    clock.advance(timedelta(days=31))
    assert sr.subprocessors.current()[0].details.legal_name == "Sinch Mailgun AB"
    clock.advance(timedelta(days=30))
    assert sr.subprocessors.current() == []
    assert len(sr.subprocessors.history(entry.id)) == 3
    with pytest.raises(Conflict, match="removed"):
        sr.subprocessors.replace(entry.id, DETAILS, _in(clock, 31), actor="operator:t")
    actions = [e.action for e in sr.audit.events() if e.action.startswith("subprocessor.")]
    assert actions == ["subprocessor.add", "subprocessor.replace", "subprocessor.remove"]


def test_changing_an_unknown_subprocessor_is_not_found(sr: Strongroom, clock: FixedClock) -> None:
    with pytest.raises(NotFound):
        sr.subprocessors.remove("sub_" + "a" * 26, _in(clock, 31), actor="operator:t")


def test_an_owner_objects_until_the_effective_date_then_409(
    sr: Strongroom, clock: FixedClock
) -> None:
    ws = sr.workspaces.create("Acme", "owner@acme.example")
    notice = sr.subprocessors.add(DETAILS, _in(clock, 30), actor="operator:t")
    user_id = sr.workspaces.members(ws.id)[0].user_id
    sr.subprocessors.object(ws.id, notice.id, user_id, "We cannot send data to the US", "u")
    with pytest.raises(Conflict, match="already objected"):
        sr.subprocessors.object(ws.id, notice.id, user_id, "", "u")
    [objection] = sr.subprocessors.objections()
    assert objection.workspace_id == ws.id and objection.reason == "We cannot send data to the US"
    other = sr.workspaces.create("Beta", "owner@beta.example")
    clock.advance(timedelta(days=31))
    with pytest.raises(Conflict, match="objections closed"):
        sr.subprocessors.object(other.id, notice.id, user_id, "", "u")
    assert len(sr.subprocessors.objections()) == 1


def test_an_objection_reason_is_sealed_at_rest(sr: Strongroom, clock: FixedClock) -> None:
    ws = sr.workspaces.create("Acme", "owner@acme.example")
    notice = sr.subprocessors.add(DETAILS, _in(clock, 30), actor="operator:t")
    sr.subprocessors.object(ws.id, notice.id, "usr_x", "SECRET-REASON-TEXT", "u")
    with sr.ctx.store.read() as uow:
        [row] = uow.subprocessor_objections.all()
    assert row.reason_sealed is not None and b"SECRET-REASON-TEXT" not in row.reason_sealed


def test_a_notice_reaches_owners_and_confirmed_subscribers_by_smtp(
    mailing: Strongroom, clock: FixedClock, smtp: SmtpServer
) -> None:
    sr = mailing
    sr.workspaces.create("Acme", "owner@acme.example")
    sr.subprocessor_subscribers.subscribe("dpo@customer.example", "192.0.2.1")
    sr.worker.run_once()  # the worker mails the confirmation
    [confirmation] = smtp.inbox.to("dpo@customer.example")
    link = _link(confirmation.get_payload(decode=True).decode())
    sr.subprocessor_subscribers.confirm(parse_qs(urlparse(link).query)["token"][0])
    sr.subprocessor_subscribers.subscribe("unconfirmed@customer.example", "192.0.2.1")

    notice = sr.subprocessors.add(DETAILS, _in(clock, 30), actor="operator:t")
    sr.worker.run_once()

    for address in ("owner@acme.example", "dpo@customer.example"):
        mail = smtp.inbox.to(address)[-1]  # the subscriber's first was the confirmation
        assert (
            DETAILS["legal_name"] in mail["Subject"]
            and notice.effective.isoformat() in (mail["Subject"])
        )
    assert len(smtp.inbox.to("unconfirmed@customer.example")) == 1  # the confirmation only
    deliveries = sr.subprocessor_subscribers.deliveries(notice.id)
    assert sorted(d.state for d in deliveries) == ["sent", "sent"]
    assert all(d.message_id and d.attempts == 1 for d in deliveries)
    # the emails are sealed at rest
    with sr.ctx.store.read() as uow:
        rows = [uow.subprocessor_subscribers.get(d.subscriber_id) for d in deliveries]
    assert all(r is not None and b".example" not in r.email_sealed for r in rows)


def test_unsubscribing_from_the_link_in_a_notice_stops_the_next(
    mailing: Strongroom, clock: FixedClock, smtp: SmtpServer
) -> None:
    sr = mailing
    sr.workspaces.create("Acme", "owner@acme.example")
    sr.subprocessors.add(DETAILS, _in(clock, 30), actor="operator:t")
    sr.worker.run_once()
    [mail] = smtp.inbox.to("owner@acme.example")
    link = _link(mail.get_payload(decode=True).decode(), "unsubscribe")
    sr.subprocessor_subscribers.unsubscribe(parse_qs(urlparse(link).query)["token"][0])
    sr.subprocessors.add({**DETAILS, "legal_name": "Other"}, _in(clock, 30), actor="operator:t")
    sr.worker.run_once()
    assert len(smtp.inbox.to("owner@acme.example")) == 1
    with pytest.raises(NotFound):
        token = link.split("token=")[1]
        sr.subprocessor_subscribers.unsubscribe(token[:-1] + ("1" if token[-1] == "0" else "0"))


def test_without_smtp_deliveries_are_not_sent_then_sent_when_a_server_is_set(
    home: Settings, clock: FixedClock, smtp: SmtpServer
) -> None:
    from dataclasses import replace

    with open_strongroom(settings=home, clock=clock) as sr:
        sr.workspaces.create("Acme", "owner@acme.example")
        notice = sr.subprocessors.add(DETAILS, _in(clock, 30), actor="operator:t")
        sr.worker.run_once()
        [delivery] = sr.subprocessor_subscribers.deliveries(notice.id)
        assert delivery.state == "not-sent" and "no smtp_host" in (delivery.last_error or "")
        clock.advance(timedelta(days=2))
        assert not sr.subprocessors.verdict(clock.now()).holds
    with open_strongroom(settings=replace(home, **smtp.settings()), clock=clock) as sr:
        sr.worker.run_once()
        [delivery] = sr.subprocessor_subscribers.deliveries(notice.id)
        assert delivery.state == "sent"
        assert len(smtp.inbox.to("owner@acme.example")) == 1
        assert sr.subprocessors.verdict(clock.now()).holds


def test_a_failing_server_is_retried_with_a_bound(
    home: Settings, clock: FixedClock, tmp_path: Path
) -> None:
    from dataclasses import replace

    from tests.smtp_support import free_port

    dead = {"smtp_host": "127.0.0.1", "smtp_port": free_port(), "smtp_security": "none"}
    settings = replace(home, **dead, subprocessor_delivery_attempts=3, smtp_timeout_seconds=2)
    with open_strongroom(settings=settings, clock=clock) as sr:
        sr.workspaces.create("Acme", "owner@acme.example")
        notice = sr.subprocessors.add(DETAILS, _in(clock, 30), actor="operator:t")
        for _ in range(6):
            sr.worker.run_once()
            clock.advance(timedelta(hours=1))
        [delivery] = sr.subprocessor_subscribers.deliveries(notice.id)
        assert delivery.state == "failed" and delivery.attempts == 3
        assert "did not take it" in (delivery.last_error or "")


def test_the_verdict_fails_on_a_notice_shorter_than_promised(
    sr: Strongroom, clock: FixedClock
) -> None:
    sr.subprocessors.add(DETAILS, _in(clock, 30), actor="operator:t")
    verdict = sr.subprocessors.verdict(clock.now())
    assert verdict.holds, verdict.evidence
    now = clock.now()
    with sr.ctx.store.write() as uow:  # a row written past the service, as a bad import would
        short = NoticeRow(
            "spn_" + "b" * 26, "sub_" + "c" * 26, "add", None, now.date(), now, "x", 99
        )
        uow.subprocessor_notices.add(short)
        uow.commit()
    verdict = sr.subprocessors.verdict(clock.now())
    assert not verdict.holds and "less than 30 days" in verdict.evidence


def test_subscriptions_from_one_address_are_limited(sr: Strongroom) -> None:
    for n in range(sr.settings.subprocessor_subscribes_per_address):
        sr.subprocessor_subscribers.subscribe(f"p{n}@example.org", "198.51.100.7")
    with pytest.raises(RateLimited):
        sr.subprocessor_subscribers.subscribe("another@example.org", "198.51.100.7")
    sr.subprocessor_subscribers.subscribe("another@example.org", "198.51.100.8")


def _link(body: str, kind: str = "confirm") -> str:
    return next(w for w in body.split() if f"/subprocessors/{kind}?token=" in w)


def test_one_address_gets_one_confirmation_an_hour_whoever_asks(
    mailing: Strongroom, clock: FixedClock, smtp: SmtpServer
) -> None:
    sr = mailing
    for n in range(4):
        sr.subprocessor_subscribers.subscribe("victim@example.org", f"203.0.113.{n}")
        sr.worker.run_once()
    assert len(smtp.inbox.to("victim@example.org")) == 1
    clock.advance(timedelta(hours=1, seconds=1))
    sr.subprocessor_subscribers.subscribe("victim@example.org", "203.0.113.9")
    sr.worker.run_once()
    assert len(smtp.inbox.to("victim@example.org")) == 2
