"""Subprocessors in Chromium: the public page (list, announced changes, subscription with
its confirmation link mailed through a real SMTP server), the operators' page (a refused
notice keeps what was typed) and the owners' objection form."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from strongroom.clock import FixedClock
from tests.browser.console_support import Console, Site, new_site
from tests.smtp_support import SmtpServer, smtp_server

ENTRY = {
    "legal_name": "Amazon Web Services EMEA SARL",
    "address": "38 Avenue John F. Kennedy, L-1855 Luxembourg",
    "contact": "aws-EU-privacy@amazon.example",
    "purpose": "Cloud hosting",
    "data_categories": "all customer data (encrypted)",
    "location": "Ireland (eu-west-1)",
    "transfer_mechanism": "none (EU)",
}


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as running:
        yield running


@pytest.fixture
def site(tmp_path: Path, clock: FixedClock, smtp: SmtpServer) -> Iterator[Site]:
    settings = {k: str(v) for k, v in smtp.settings().items()}
    with new_site(tmp_path / "home", clock, **settings) as made:
        yield made


def _date(clock: FixedClock, days: int) -> str:
    return (clock.now() + timedelta(days=days)).date().isoformat()


def test_the_public_page_lists_changes_and_subscribes_with_double_opt_in(
    console: Console, smtp: SmtpServer, clock: FixedClock
) -> None:
    sr = console.site.sr
    notice = sr.subprocessors.add(ENTRY, (clock.now() + timedelta(days=31)).date(), "operator:t")
    console.visit("/subprocessors", "public-list")
    page = console.page
    assert page.get_by_role("heading", name="Subprocessors", exact=True).is_visible()
    announced = page.locator(f"#{notice.id}").inner_text()
    assert ENTRY["legal_name"] in announced and notice.effective.isoformat() in announced
    assert "No subprocessors are in force." in page.content()

    page.get_by_label("Email address").fill("dpo@customer.example")
    page.get_by_role("button", name="Subscribe").click()
    console.check("public-subscribed")
    assert "confirmation link is on its way" in page.get_by_role("status").inner_text()

    sr.worker.run_once()  # the worker mails the confirmation
    [mail] = smtp.inbox.to("dpo@customer.example")
    body = mail.get_payload(decode=True).decode()
    link = next(w for w in body.split() if "/subprocessors/confirm?token=" in w)
    console.visit(link.replace(sr.settings.public_url, ""), "public-confirm")
    page.get_by_role("button", name="Confirm").click()
    console.check("public-confirmed")
    assert "Subscribed" in page.get_by_role("status").inner_text()

    clock.advance(timedelta(days=32))
    console.visit("/subprocessors", "public-list-in-force")
    assert page.get_by_role("cell", name=ENTRY["legal_name"]).is_visible()


def test_a_bad_address_is_said_next_to_the_field(console: Console) -> None:
    console.visit("/subprocessors", "public-list-empty")
    console.page.get_by_label("Email address").fill("not an address")
    console.page.get_by_role("button", name="Subscribe").click()
    console.check("public-bad-address")
    assert "Not an email address" in console.page.get_by_role("alert").inner_text()


def test_an_operator_adds_one_and_a_short_notice_keeps_what_was_typed(
    console: Console, clock: FixedClock
) -> None:
    token = console.site.sr.access.create_operator_token(1, actor="test").token
    console.visit("/console/operator/sign-in", "operator-sign-in")
    console.page.get_by_label("Operator token").fill(token)
    console.page.get_by_role("button", name="Sign in").click()
    console.page.wait_for_load_state("load")
    console.page.get_by_role("link", name="Subprocessors").click()
    console.check("operator-subprocessors")
    page = console.page
    labels = {
        "legal_name": "Legal name",
        "address": "Address",
        "contact": "Contact",
        "purpose": "Purpose",
        "data_categories": "Categories of data",
        "location": "Location",
        "transfer_mechanism": "Transfer mechanism",
    }
    for name, label in labels.items():
        page.get_by_label(label, exact=True).fill(ENTRY[name])
    page.get_by_label("Effective date", exact=False).fill(_date(clock, 10))
    page.get_by_role("button", name="Publish the notice").click()
    console.check("operator-refused")
    assert "earliest effective date" in page.get_by_role("alert").inner_text()
    assert page.get_by_label("Legal name", exact=True).input_value() == ENTRY["legal_name"]
    assert console.site.sr.subprocessors.notices() == []

    page.get_by_label("Effective date", exact=False).fill(_date(clock, 31))
    page.get_by_role("button", name="Publish the notice").click()
    console.check("operator-published")
    assert "published" in page.get_by_role("status").inner_text()
    assert len(console.site.sr.subprocessors.notices()) == 1


def test_an_owner_objects_and_a_member_cannot(console: Console, clock: FixedClock) -> None:
    sr = console.site.sr
    notice = sr.subprocessors.add(ENTRY, (clock.now() + timedelta(days=31)).date(), "operator:t")
    console.sign_in("member", console.ws("/subprocessor-notices"))
    console.check("notices-member")
    assert "only an owner may object" in console.page.content()
    assert console.page.get_by_role("button", name="Object to this change").count() == 0
    # typed anyway, from the member's own session with its CSRF token: 403, nothing stored
    status = console.page.evaluate(
        """async (url) => {
          const token = document.querySelector("input[name=csrftoken]").value;
          const body = new URLSearchParams({csrftoken: token, reason: "x"});
          return (await fetch(url, {method: "POST", body, redirect: "manual"})).status;
        }""",
        console.ws(f"/subprocessor-notices/{notice.id}/objection"),
    )
    assert status == 403 and sr.subprocessors.objections() == []
    other = sr.workspaces.create("Other Co", "boss@other.example").id
    elsewhere = console.visit(f"/console/w/{other}/subprocessor-notices", "notices-other-tenant")
    assert elsewhere.status == 404
    console.visit(console.ws("/subprocessor-notices"), "notices-member-again")

    console.page.get_by_role("button", name="Sign out").click()
    console.sign_in("owner", console.ws("/subprocessor-notices"))
    console.check("notices-owner")
    console.page.get_by_label("Why you object").fill("Our clients forbid new processors")
    console.page.get_by_role("button", name="Object to this change").click()
    console.check("notices-objected")
    assert "This workspace objected." in console.page.content()
    [objection] = sr.subprocessors.objections()
    assert objection.notice_id == notice.id
    assert objection.reason == "Our clients forbid new processors"
