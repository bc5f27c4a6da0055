"""The console in a real browser: Debian's Chromium driven by Playwright, against a real
HTTPS server (the API with the console mounted), on SQLite.

Every page a test visits through :meth:`Console.visit` (or checks with :meth:`Console.check`)
is checked as a user's browser would meet it: no Content-Security-Policy violation reported
(``securitypolicyviolation`` events and the console's "Refused to …" messages), no serious or
critical axe-core violation, and a screenshot saved under the test's output folder
(``build/test-output/console/<test>/``)."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from strongroom.clock import FixedClock
from strongroom.console import chain
from tests.browser.console_support import CHROMIUM, Console, Site, browser_args, new_site
from tests.conftest import need_service

OUTPUT = Path(os.environ.get("STRONGROOM_TEST_OUTPUT", "build/test-output")) / "console"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Chromium for one test module: Playwright's sync API keeps an event loop running in
    this thread while it is open, which later tests' ``asyncio.run`` must not meet."""
    if not Path(CHROMIUM).exists():
        need_service(f"Chromium is not at {CHROMIUM} (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=browser_args())
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(autouse=True)
def fresh_chain_verdict() -> None:
    """Each test's "verify chain" walks the chain (the console reuses a verdict a minute)."""
    chain.forget()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def site(tmp_path: Path, clock: FixedClock) -> Iterator[Site]:
    with new_site(tmp_path / "home", clock) as made:
        yield made


@pytest.fixture
def output(request: pytest.FixtureRequest) -> Path:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    folder = OUTPUT / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


@pytest.fixture
def console(browser: object, site: Site, output: Path) -> Iterator[Console]:
    with Console.open(browser, site, output) as opened:
        yield opened
