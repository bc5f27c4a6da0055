"""The public trust center in Chromium, against a live server whose ``public_url`` is its
own address: the page's numbers are the settings', a failing promise shows as failing (in
words, a mark and a colour), the page and /trust.json agree, it passes the CSP and axe
checks; and an operator runs the checks with "check now"."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from strongroom.clock import FixedClock
from tests.browser.console_support import Console, Site
from tests.e2e.trust_support import trust_server

SETTINGS = {"trash_days": "14", "cancellation_window_days": "45", "backup_purge_window_days": "50"}


@pytest.fixture
def site(tmp_path: Path, clock: FixedClock) -> Iterator[Site]:
    """A site served at its own public_url (no sample workspace: the trust center is
    public), with the worker's first pass done."""
    with trust_server(tmp_path / "home", clock, **SETTINGS) as server:
        server.sr.worker.run_once(scheduled=True)
        yield Site(server, clock, "", {})


def _statuses(console: Console) -> dict[str, str]:
    rows = console.page.locator("li.promise")
    return {
        rows.nth(i).get_attribute("data-promise"): rows.nth(i).get_attribute("data-status")
        for i in range(rows.count())
    }


def _json(site: Site) -> dict[str, Any]:
    with httpx.Client(verify=False, base_url=site.url) as client:  # noqa: S501 - local CA
        return client.get("/trust.json").json()


def test_the_trust_page_shows_the_settings_and_a_failing_promise(
    console: Console, clock: FixedClock
) -> None:
    console.visit("/trust", "trust-holding")
    page = console.page
    assert page.get_by_role("heading", name="Trust center", level=1).is_visible()
    trash = page.locator("#promise-trash-window")
    assert "restored from the trash for 14 days" in trash.inner_text()
    assert "for 45 days" in page.locator("#promise-cancellation-window").inner_text()
    assert "within 50 days" in page.locator("#promise-backup-purge-window").inner_text()
    assert set(_statuses(console).values()) == {"holding"}
    assert page.get_by_text("Every promise below holds").is_visible()

    clock.advance(timedelta(hours=26))  # backups stopped: no pass of the worker
    console.site.sr.promises.check_all()
    console.visit("/trust", "trust-failing")
    row = page.locator("#promise-backup-purge-window")
    assert row.get_attribute("data-status") == "failing"
    assert row.locator(".status").inner_text().strip() == "✗ Failing"
    assert "backups have stopped" in row.inner_text()
    colour = row.locator(".status").evaluate("e => getComputedStyle(e).color")
    assert colour == "rgb(164, 22, 26)"  # the danger colour, beside the word
    shown = _statuses(console)
    report = _json(console.site)
    assert shown == {p["id"]: p["status"] for p in report["promises"]}
    assert report["all_holding"] is False


def test_an_operator_checks_the_promises_now(console: Console, clock: FixedClock) -> None:
    sr = console.site.sr
    issued = sr.access.create_operator_token(1, actor="test")
    console.visit("/console/operator/sign-in", "operator-sign-in")
    console.page.get_by_label("Operator token").fill(issued.token)
    console.page.get_by_role("button", name="Sign in").click()
    console.page.wait_for_load_state("load")
    console.page.get_by_role("link", name="Promises").click()
    console.page.wait_for_load_state("load")
    console.check("operator-promises")
    before = sr.promises.report().promises[0].checked_at
    clock.advance(timedelta(minutes=5))
    console.page.get_by_role("button", name="Check now").click()
    console.page.wait_for_load_state("load")
    console.check("operator-promises-checked")
    assert console.page.get_by_text("Every promise holds.").is_visible()
    after = sr.promises.report().promises[0].checked_at
    assert before is not None and after is not None and after - before == timedelta(minutes=5)
