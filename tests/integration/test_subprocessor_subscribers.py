"""The subprocessor subscribers after the security review, on both databases: the public
subscription never mails (nor waits for SMTP) itself, an owner's opt-out survives a public
subscription, the per-address limit holds under parallel requests, two workers send a
notice once, and the verdict counts every unsent delivery by age."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest

from strongroom.bootstrap import Strongroom, open_strongroom
from strongroom.clock import FixedClock
from strongroom.config import Settings
from strongroom.errors import RateLimited
from strongroom.mail import Mailer
from strongroom.services.subprocessor_mail import Subscribers, link_token
from strongroom.services.workspaces import directory_index
from strongroom.storage.repositories.subprocessors import NoticeRow
from tests.smtp_support import SmtpServer, free_port, smtp_server

DETAILS = {
    "legal_name": "Postmark Ltd.",
    "address": "1 Example Street, Dublin, Ireland",
    "contact": "privacy@postmark.example",
    "purpose": "Transactional email",
    "data_categories": "email addresses",
    "location": "Ireland",
    "transfer_mechanism": "none needed (EEA)",
}


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as running:
        yield running


@pytest.fixture
def mailing(home: Settings, clock: FixedClock, smtp: SmtpServer) -> Iterator[Strongroom]:
    with open_strongroom(settings=replace(home, **smtp.settings()), clock=clock) as instance:
        yield instance


def _publish(sr: Strongroom, clock: FixedClock, name: str = "Postmark Ltd.") -> str:
    effective = (clock.now() + timedelta(days=sr.settings.subprocessor_notice_days + 1)).date()
    return sr.subprocessors.add({**DETAILS, "legal_name": name}, effective, "operator:t").id


def _token(body: str, kind: str) -> str:
    link = next(w for w in body.split() if f"/subprocessors/{kind}?token=" in w)
    return parse_qs(urlparse(link).query)["token"][0]


def _subscriber_state(sr: Strongroom, email: str) -> str | None:
    with sr.ctx.store.read() as uow:
        found = uow.subprocessor_subscribers.find(directory_index(sr.ctx, email))
    return found.state if found else None


# (1) the timing oracle ----------------------------------------------------------------------
def test_a_public_subscription_sends_nothing_itself_and_answers_alike(
    mailing: Strongroom, clock: FixedClock, smtp: SmtpServer
) -> None:
    sr = mailing
    sr.workspaces.create("Acme", "owner@acme.example")
    _publish(sr, clock)
    sr.worker.run_once()  # the owner is now a confirmed subscriber (mailed the notice)
    sr.subprocessor_subscribers.subscribe("pending@example.org", "192.0.2.1")
    before = len(smtp.inbox.messages)

    answers = [
        sr.subprocessor_subscribers.subscribe(email, "192.0.2.2")
        for email in ("new@example.org", "pending@example.org", "owner@acme.example")
    ]
    assert answers == [None, None, None]
    assert len(smtp.inbox.messages) == before  # nothing mailed inside the request
    sr.worker.run_once()
    assert len(smtp.inbox.to("new@example.org")) == 1  # the worker mails confirmations
    assert len(smtp.inbox.to("pending@example.org")) == 1  # once an hour at most
    assert [m["Subject"] for m in smtp.inbox.to("owner@acme.example")] == [
        f"New subprocessor: Postmark Ltd. (effective {_effective(sr, clock)})"
    ]  # a confirmed owner gets no confirmation


def _effective(sr: Strongroom, clock: FixedClock) -> str:
    days = sr.settings.subprocessor_notice_days + 1
    return (clock.now() + timedelta(days=days)).date().isoformat()


def test_a_public_subscription_does_not_wait_for_a_mail_server(
    home: Settings, clock: FixedClock
) -> None:
    """A server that takes the connection and never answers: the old request waited for
    the SMTP timeout for a new address (and not for a known one)."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        port = silent.getsockname()[1]
        smtp = {"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_security": "none"}
        settings = replace(home, **smtp, smtp_timeout_seconds=3)
        with open_strongroom(settings=settings, clock=clock) as sr:
            started = time.monotonic()
            sr.subprocessor_subscribers.subscribe("new@example.org", "192.0.2.1")
            assert time.monotonic() - started < 2.5


# (2) an owner's opt-out ------------------------------------------------------------------------
def test_an_owners_opt_out_survives_a_public_subscription_of_their_address(
    mailing: Strongroom, clock: FixedClock, smtp: SmtpServer
) -> None:
    sr = mailing
    subscribers = sr.subprocessor_subscribers
    sr.workspaces.create("Acme", "owner@acme.example")
    subscribers.set_owner_mailed("owner@acme.example", False, actor="user:o")

    subscribers.subscribe("owner@acme.example", "203.0.113.5")  # anyone may post this
    sr.worker.run_once()
    [confirmation] = smtp.inbox.to("owner@acme.example")
    assert "Confirm" in confirmation["Subject"]
    _publish(sr, clock)
    sr.worker.run_once()
    assert len(smtp.inbox.to("owner@acme.example")) == 1  # no notice: still opted out
    assert not subscribers.owner_mailed("owner@acme.example")
    assert _subscriber_state(sr, "owner@acme.example") == "pending"

    # the owner follows the link mailed to them: mailed again from the next notice
    subscribers.confirm(_token(confirmation.get_payload(decode=True).decode(), "confirm"))
    assert subscribers.owner_mailed("owner@acme.example")
    _publish(sr, clock, "Second Ltd.")
    sr.worker.run_once()
    assert "Second Ltd." in smtp.inbox.to("owner@acme.example")[-1]["Subject"]


def test_an_owner_unsubscribed_by_link_stays_so_after_a_public_subscription(
    mailing: Strongroom, clock: FixedClock, smtp: SmtpServer
) -> None:
    sr = mailing
    sr.workspaces.create("Acme", "owner@acme.example")
    _publish(sr, clock)
    sr.worker.run_once()
    [notice] = smtp.inbox.to("owner@acme.example")
    token = _token(notice.get_payload(decode=True).decode(), "unsubscribe")
    sr.subprocessor_subscribers.unsubscribe(token)
    sr.subprocessor_subscribers.subscribe("owner@acme.example", "203.0.113.5")
    _publish(sr, clock, "Second Ltd.")
    sr.worker.run_once()
    subjects = [m["Subject"] for m in smtp.inbox.to("owner@acme.example")]
    assert len(subjects) == 2 and "Confirm" in subjects[1]  # the confirmation, no notice


# (3) the per-address limit under parallel requests --------------------------------------------
def test_parallel_subscriptions_from_one_address_stop_at_the_limit(sr: Strongroom) -> None:
    limit = sr.settings.subprocessor_subscribes_per_address
    outcomes: list[str] = []
    start = threading.Barrier(limit * 2)

    def ask(n: int) -> None:
        start.wait()
        try:
            sr.subprocessor_subscribers.subscribe(f"p{n}@example.org", "198.51.100.9")
            outcomes.append("ok")
        except RateLimited:
            outcomes.append("limited")

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(limit * 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("ok") == limit and outcomes.count("limited") == limit


# (4) two workers ---------------------------------------------------------------------------
def test_two_workers_racing_send_each_notice_once(
    mailing: Strongroom, clock: FixedClock, smtp: SmtpServer
) -> None:
    sr = mailing
    owners = [f"owner{n}@acme.example" for n in range(6)]
    for n, email in enumerate(owners):
        sr.workspaces.create(f"Acme {n}", email)
    notice_id = _publish(sr, clock)
    workers = [Subscribers(sr.ctx, Mailer(sr.settings)) for _ in range(2)]
    start = threading.Barrier(2)

    def work(subscribers: Subscribers) -> None:
        start.wait()
        subscribers.deliver_pending()

    threads = [threading.Thread(target=work, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [len(smtp.inbox.to(email)) for email in owners] == [1] * 6
    deliveries = sr.subprocessor_subscribers.deliveries(notice_id)
    assert sorted(d.state for d in deliveries) == ["sent"] * 6


def test_a_delivery_read_by_two_workers_is_claimed_by_one(
    mailing: Strongroom, clock: FixedClock, smtp: SmtpServer
) -> None:
    sr = mailing
    sr.workspaces.create("Acme", "owner@acme.example")
    notice_id = _publish(sr, clock)
    [seen] = sr.subprocessor_subscribers.deliveries(notice_id)  # both workers read this row
    first, second = (Subscribers(sr.ctx, Mailer(sr.settings)) for _ in range(2))
    assert first._claim(seen) == seen
    assert second._claim(seen) is None
    # a worker that stopped after its claim: the lease runs out, the row is sent once
    clock.advance(timedelta(minutes=11))
    assert second.deliver_pending().sent == 1
    assert first.deliver_pending().sent == 0
    assert len(smtp.inbox.to("owner@acme.example")) == 1


# (5) the verdict ---------------------------------------------------------------------------
def test_a_delivery_never_tried_fails_the_verdict_after_a_day(
    sr: Strongroom, clock: FixedClock
) -> None:
    sr.workspaces.create("Acme", "owner@acme.example")
    _publish(sr, clock)  # no worker pass: the delivery is never tried
    clock.advance(timedelta(hours=23))
    assert sr.subprocessors.verdict(clock.now()).holds
    clock.advance(timedelta(hours=2))
    verdict = sr.subprocessors.verdict(clock.now())
    assert not verdict.holds and "1 subprocessor notice deliveries" in verdict.evidence


def test_a_dead_public_address_stops_counting_an_owners_does_not(
    home: Settings, clock: FixedClock
) -> None:
    dead = {"smtp_host": "127.0.0.1", "smtp_port": free_port(), "smtp_security": "none"}
    settings = replace(home, **dead, subprocessor_delivery_attempts=2, smtp_timeout_seconds=2)
    with open_strongroom(settings=settings, clock=clock) as sr:
        subscribers = sr.subprocessor_subscribers
        subscribers.subscribe("gone@example.org", "192.0.2.1")
        with sr.ctx.store.read() as uow:
            row = uow.subprocessor_subscribers.find(directory_index(sr.ctx, "gone@example.org"))
        assert row is not None
        subscribers.confirm(link_token(sr.ctx, "confirm", row.id))
        _publish(sr, clock)
        for _ in range(3):
            sr.worker.run_once()
            clock.advance(timedelta(hours=1))
        assert _subscriber_state(sr, "gone@example.org") == "dead"
        clock.advance(timedelta(days=1))
        verdict = sr.subprocessors.verdict(clock.now())
        assert verdict.holds, verdict.evidence
        _publish(sr, clock, "Second Ltd.")  # a dead subscriber is not queued again
        assert [d.state for d in subscribers.deliveries()].count("pending") == 0

        sr.workspaces.create("Acme", "owner@acme.example")
        _publish(sr, clock, "Third Ltd.")
        for _ in range(3):
            sr.worker.run_once()
            clock.advance(timedelta(hours=1))
        assert _subscriber_state(sr, "owner@acme.example") == "confirmed"
        clock.advance(timedelta(days=1))
        assert not sr.subprocessors.verdict(clock.now()).holds


def test_the_verdict_checks_the_configured_notice_period(home: Settings, clock: FixedClock) -> None:
    with open_strongroom(settings=replace(home, subprocessor_notice_days=45), clock=clock) as sr:
        now = clock.now()
        with sr.ctx.store.write() as uow:  # 35 days: enough for 30, short of the 45 promised
            uow.subprocessor_notices.add(
                NoticeRow(
                    "spn_" + "d" * 26,
                    "sub_" + "e" * 26,
                    "add",
                    None,
                    (now + timedelta(days=35)).date(),
                    now,
                    "x",
                    1,
                )
            )
            uow.commit()
        verdict = sr.subprocessors.verdict(clock.now())
        assert not verdict.holds and "less than 45 days" in verdict.evidence
