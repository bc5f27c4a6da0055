"""What the console's browser tests share: a live site with a sample workspace and one
member of each role, and a page wrapper that checks every page it visits."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from strongroom.bootstrap import Strongroom
from strongroom.clock import FixedClock
from strongroom.console.app import create_site
from tests.e2e.api_support import LiveServer, live_server

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "correct horse battery staple"
ROLES = ("owner", "admin", "member", "viewer")

#: Reports CSP violations to the test, in every frame, before the page's own scripts run.
_CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


def browser_args() -> list[str]:
    return [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ]


@dataclass
class Site:
    """A live HTTPS server with the console; ``emails[role]`` signs in with PASSWORD."""

    server: LiveServer
    clock: FixedClock
    workspace_id: str
    emails: dict[str, str]

    @property
    def sr(self) -> Strongroom:
        return self.server.sr

    @property
    def url(self) -> str:
        return self.server.url


@contextlib.contextmanager
def new_site(home: Path, clock: FixedClock, **settings: str) -> Iterator[Site]:
    with live_server(home, clock, app=create_site, **settings) as server:
        sr = server.sr
        emails = {role: f"{role}@acme.example" for role in ROLES}
        ws = sr.workspaces.create("Acme Recruiting", emails["owner"])
        for role in ROLES[1:]:
            sr.workspaces.add_member(ws.id, emails[role], role)
        for email in emails.values():
            sr.access.set_password(email, PASSWORD)
        yield Site(server, clock, ws.id, emails)


@dataclass
class Console:
    """One browser context (its own cookies) on the site, checking every page it visits."""

    page: Any
    site: Site
    output: Path
    shots: int = 0
    violations: list[str] = field(default_factory=list)

    @classmethod
    @contextlib.contextmanager
    def open(
        cls, browser: Any, site: Site, output: Path, timezone: str | None = None
    ) -> Iterator[Console]:
        context = browser.new_context(
            ignore_https_errors=True, base_url=site.url, timezone_id=timezone
        )
        context.add_init_script(_CSP_LISTENER)
        page = context.new_page()
        opened = cls(page, site, output)
        page.on("console", opened._on_console_message)
        try:
            yield opened
        finally:
            context.close()
        assert not opened.violations, f"CSP violations: {opened.violations}"

    def _on_console_message(self, message: Any) -> None:
        text = message.text
        if "Content Security Policy" in text or "Refused to" in text:
            self.violations.append(text)

    # navigation ---------------------------------------------------------------------
    def visit(self, path: str, name: str | None = None) -> Any:
        response = self.page.goto(path)
        self.check(name or path.strip("/").replace("/", "-") or "root")
        return response

    def check(self, name: str) -> None:
        """The page now shown: no CSP violation, no serious or critical axe finding, and a
        screenshot."""
        self.page.wait_for_load_state("load")
        reported = self.page.evaluate("window.__cspViolations || []")
        self.violations.extend(reported)
        assert not self.violations, f"CSP violations on {self.page.url}: {self.violations}"
        from axe_playwright_python.sync_playwright import Axe

        found = Axe().run(self.page).response["violations"]
        bad = [
            f"{v['id']} ({v['impact']}): {v['help']}"
            for v in found
            if v.get("impact") in ("serious", "critical")
        ]
        assert not bad, f"accessibility on {self.page.url}: {bad}"
        self.shots += 1
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in name)[:80]
        self.page.screenshot(path=str(self.output / f"{self.shots:02d}-{safe}.png"), full_page=True)

    def sign_in(self, role: str = "owner", next_path: str = "/console/") -> None:
        self.page.goto(f"/console/sign-in?next={next_path}")
        self.page.get_by_label("Email").fill(self.site.emails[role])
        self.page.get_by_label("Password").fill(PASSWORD)
        self.page.get_by_role("button", name="Sign in").click()
        self.page.wait_for_load_state("load")

    def ws(self, suffix: str = "") -> str:
        """A path under the site's workspace."""
        return f"/console/w/{self.site.workspace_id}{suffix}"
