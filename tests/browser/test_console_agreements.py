"""Agreements in Chromium: an operator publishes, the public page shows the text and its
hash, the overview asks owners to accept a new DPA by its date, an owner accepts and the
receipt verifies; a viewer sees no accept button and is refused if they post anyway."""

from __future__ import annotations

import json
from datetime import timedelta

from tests.browser.console_support import Console
from tests.browser.test_console_operator import _sign_in_as_operator

SCC = "SAMPLE clauses for a browser test.\n"
DPA_1 = "SAMPLE DPA, first version, for a browser test.\n"


def _publish(console: Console, kind: str, version: str, text: str, effective: str) -> None:
    page = console.page
    page.get_by_label("Kind").select_option(kind)
    page.get_by_label("Version label").fill(version)
    page.get_by_label("In effect from (YYYY-MM-DD)").fill(effective)
    page.get_by_label("Text (UTF-8; it can never be changed once published)").fill(text)
    page.get_by_role("button", name="Publish").click()
    page.wait_for_load_state("load")


def test_publish_read_accept_and_verify(console: Console) -> None:
    sr, clock = console.site.sr, console.site.clock
    today = clock.now().date()
    operator = sr.access.create_operator_token(1, actor="test")
    _sign_in_as_operator(console, operator.token)
    console.visit("/console/operator/agreements", "operator-agreements-empty")
    tomorrow = (today + timedelta(days=1)).isoformat()  # a version takes effect after today
    _publish(console, "scc", "2021-06", SCC, tomorrow)
    _publish(console, "dpa", "1", DPA_1, tomorrow)
    console.check("operator-agreements-published")
    assert "Published dpa 1" in console.page.locator(".flash").inner_text()
    _publish(console, "dpa", "1", "another text", tomorrow)  # the same label again
    console.check("operator-agreements-twice")
    assert "already published" in console.page.get_by_role("alert").inner_text()
    assert sr.agreements.current("dpa").body == DPA_1

    console.visit("/agreements/dpa", "public-dpa")
    assert console.page.locator("pre.agreement-text").inner_text().strip() == DPA_1.strip()
    assert sr.agreements.current("dpa").sha256 in console.page.inner_text("main")

    console.page.context.clear_cookies()
    console.sign_in("owner")
    console.visit(console.ws(), "overview-not-accepted")
    assert "not accepted yet" in console.page.inner_text("main")
    console.visit(console.ws("/agreements"), "agreements-owner")
    console.page.get_by_role("button", name="Accept DPA 1").click()
    console.page.wait_for_load_state("load")
    console.check("agreements-accepted")
    assert "Accepted DPA 1" in console.page.locator(".flash").inner_text()
    receipt = sr.agreements.receipts(console.site.workspace_id)[0]
    assert receipt["client"]["address"] == "127.0.0.1"
    assert "Chrome" in receipt["client"]["user_agent"]

    console.page.get_by_label("Paste a receipt's JSON").fill(json.dumps(receipt))
    console.page.get_by_role("button", name="Verify").click()
    console.page.wait_for_load_state("load")
    console.check("agreements-verified")
    assert console.page.get_by_role("status").inner_text().startswith("Valid: receipt")
    receipt["client"]["address"] = "198.51.100.7"
    console.page.get_by_label("Paste a receipt's JSON").fill(json.dumps(receipt))
    console.page.get_by_role("button", name="Verify").click()
    console.page.wait_for_load_state("load")
    assert "signature does not match" in console.page.get_by_role("alert").inner_text()

    # A second version, in effect in 30 days: the overview counts them down.
    sr.agreements.publish("dpa", "2", b"SAMPLE DPA, second version.\n", today + timedelta(30))
    console.visit(console.ws(), "overview-reaccept-due")
    main = console.page.inner_text("main")
    assert f"accept the new DPA by {(today + timedelta(30)).isoformat()}" in main
    assert "days left" in main


def test_a_viewer_cannot_accept(console: Console) -> None:
    sr = console.site.sr
    today = console.site.clock.now().date()
    sr.agreements.publish("scc", "1", SCC.encode(), today + timedelta(days=1))
    sr.agreements.publish("dpa", "1", DPA_1.encode(), today + timedelta(days=1))
    console.sign_in("viewer")
    console.visit(console.ws("/agreements"), "agreements-viewer")
    assert console.page.get_by_role("button", name="Accept DPA 1").count() == 0
    assert "Only an owner" in console.page.inner_text("main")
    token = console.page.locator("input[name=csrftoken]").first.get_attribute("value")
    answer = console.page.request.post(
        console.ws("/agreements"), form={"csrftoken": token or "", "version": "1"}
    )
    assert answer.status == 403
    assert sr.agreements.receipts(console.site.workspace_id) == []
