"""The request inbox in Chromium: the public contact form (no sign-in, no JavaScript
needed, what was typed kept when refused, 429 past the per-address limit) and the
operators' pages (overdue first with the time left, reply by mail through a real SMTP
server, notes, assignment). Every page passes the CSP and axe checks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from strongroom.clock import FixedClock
from tests.browser.console_support import Console, Site, new_site
from tests.smtp_support import SmtpServer, smtp_server

BODY = "I cannot export my candidates.\nThe button stays grey."


@pytest.fixture
def mail() -> Iterator[SmtpServer]:
    with smtp_server() as running:
        yield running


@pytest.fixture
def site(tmp_path: Path, clock: FixedClock, mail: SmtpServer) -> Iterator[Site]:
    with new_site(tmp_path / "home", clock, **mail.settings()) as made:
        yield made


def _sign_in_as_operator(console: Console) -> str:
    issued = console.site.sr.access.create_operator_token(1, actor="test")
    console.page.goto("/console/operator/sign-in")
    console.page.get_by_label("Operator token").fill(issued.token)
    console.page.get_by_role("button", name="Sign in").click()
    console.page.wait_for_load_state("load")
    return issued.id


def test_anyone_sends_a_request_through_the_contact_form(console: Console) -> None:
    page = console.page
    console.visit("/contact", "contact")
    assert page.get_by_role("link", name="Contact").get_attribute("aria-current") == "page"
    page.get_by_label("What is it about?").select_option("privacy")
    page.get_by_label("Your email address").fill("not an address")
    page.get_by_label("Subject").fill("Delete my data")
    page.get_by_label("Message").fill(BODY)
    page.get_by_role("button", name="Send").click()
    console.check("contact-refused")
    assert "not an email address" in page.locator("#email-error").inner_text()
    assert page.get_by_label("Subject").input_value() == "Delete my data"  # kept as typed
    assert page.get_by_label("Message").input_value() == BODY
    assert page.get_by_label("What is it about?").input_value() == "privacy"
    assert console.site.sr.inbox.list() == []  # nothing stored

    page.get_by_label("Your email address").fill("cand@example.org")
    page.get_by_role("button", name="Send").click()
    console.check("contact-received")
    reference = page.locator("#reference").inner_text()
    assert page.get_by_role("heading", name="Request received").is_visible()
    shown = console.site.sr.inbox.show(reference)
    assert (shown.kind.value, shown.email, shown.subject, shown.body) == (
        "privacy", "cand@example.org", "Delete my data", BODY,
    )  # fmt: skip
    assert "within 24 hours" in page.locator("main").inner_text()


def test_the_form_works_without_javascript_and_says_when_to_try_again(
    browser: object, site: Site, output: Path
) -> None:
    limit = site.sr.settings.inbox_requests_per_address_hour
    for n in range(limit):  # the browser's address (127.0.0.1) has used up its hour
        site.sr.inbox.submit("support", "a@example.org", f"n{n}", "b", address="127.0.0.1")
    with Console.open(browser, site, output) as console:
        console.page.context.route("**/*.js", lambda route: route.abort())  # no JavaScript
        console.visit("/contact", "contact-no-js")
        console.page.get_by_label("Your email address").fill("b@example.org")
        console.page.get_by_label("Subject").fill("Question")
        console.page.get_by_label("Message").fill("Hello")
        with console.page.expect_response(lambda r: r.request.method == "POST") as posted:
            console.page.get_by_role("button", name="Send").click()
        console.check("contact-limited")
        answer = posted.value
        assert answer.status == 429 and int(answer.headers["retry-after"]) > 0
        assert "Too many requests" in console.page.get_by_role("alert").first.inner_text()
        assert console.page.get_by_label("Subject").input_value() == "Question"
    assert len(site.sr.inbox.list()) == limit


def test_operators_see_overdue_first_and_answer_by_mail(
    console: Console, clock: FixedClock, mail: SmtpServer
) -> None:
    sr = console.site.sr
    late = sr.inbox.submit("security", "finder@example.org", "XSS on invites", "Steps: …")
    clock.advance(timedelta(hours=20))
    fresh = sr.inbox.submit("support", "pat@example.org", "Cannot sign in", BODY)
    clock.advance(timedelta(hours=5))  # late is 1 hour overdue, fresh has 19 hours left
    sr.worker.run_once()
    operator_id = _sign_in_as_operator(console)
    page = console.page
    console.visit("/console/operator/inbox", "operator-inbox")
    rows = page.locator("table.inbox-list tbody tr")
    assert rows.count() == 2
    assert late.id in rows.nth(0).inner_text() and "1 hour overdue" in rows.nth(0).inner_text()
    assert fresh.id in rows.nth(1).inner_text() and "19 hours left" in rows.nth(1).inner_text()
    assert page.get_by_role("link", name="Request inbox").get_attribute("aria-current") == "page"

    page.get_by_role("link", name=fresh.id).click()
    console.check("operator-inbox-request")
    assert page.locator("pre.message").first.inner_text() == BODY
    page.get_by_role("button", name="Send reply").click()  # empty: refused, nothing sent
    console.check("operator-inbox-reply-refused")
    assert "cannot be empty" in page.locator("#reply-error").inner_text()
    page.get_by_label("Note (not sent; the clock runs on)").fill("Checked the SSO logs.")
    page.get_by_role("button", name="Add note").click()
    console.check("operator-inbox-noted")
    assert "19 hours left" in page.locator("#clock").inner_text()
    page.get_by_role("button", name="Assign").click()  # to themselves, the default
    console.check("operator-inbox-assigned")
    assert operator_id in page.locator("main").inner_text()
    page.get_by_label("Reply (sent by email; the subject quotes the reference)").fill(
        "Hello Pat,\nplease try again now."
    )
    page.get_by_role("button", name="Send reply").click()
    console.check("operator-inbox-replied")
    assert "stopped: reply sent" in page.locator("#clock").inner_text()
    [delivered] = mail.inbox.to("pat@example.org")
    assert delivered["Subject"] == f"Re: Cannot sign in [{fresh.id}]"
    console.visit("/console/operator/inbox", "operator-inbox-after")
    assert page.locator("table.inbox-list tbody tr").count() == 1


def test_a_member_is_sent_to_the_operators_sign_in(console: Console) -> None:
    request_id = console.site.sr.inbox.submit("support", "a@example.org", "s", "b").id
    console.sign_in("owner")
    for path in ("/console/operator/inbox", f"/console/operator/inbox/{request_id}"):
        console.visit(path, "operator-inbox-as-member")
        assert console.page.url.endswith("/console/operator/sign-in")
