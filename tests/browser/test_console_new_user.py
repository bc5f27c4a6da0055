"""The issue's "done when", as a new user would try it: `strongroom serve --demo` (what
`make serve` runs) in its own process, then Chromium: sign in with the owner it printed,
open the sample project, delete it, find it in the trash with its days left, restore it,
request an export and download it."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from strongroom import demo
from tests.browser.console_support import Console
from tests.e2e.test_cli import STRONGROOM, serving_demo


def test_a_new_user_signs_in_deletes_restores_and_exports_the_sample(
    browser: Any, tmp_path: Path, output: Path
) -> None:
    with serving_demo(tmp_path) as started:
        site = SimpleNamespace(url=started["url"])
        with Console.open(browser, site, output) as console:  # type: ignore[arg-type]
            page = console.page
            console.visit(started["console"], "sign-in")
            page.get_by_label("Email").fill(started["demo_owner"]["email"])
            page.get_by_label("Password").fill(started["demo_owner"]["password"])
            page.get_by_role("button", name="Sign in").click()
            console.check("overview")
            assert page.get_by_role("heading", name=demo.WORKSPACE).is_visible()

            page.get_by_role("link", name="Projects", exact=True).click()
            console.check("projects")
            page.get_by_role("link", name=demo.PROJECT).click()
            console.check("project")
            page.get_by_role("link", name="Delete project").click()
            console.check("delete-project")
            page.get_by_role("button", name="Delete project").click()
            console.check("trash")
            row = page.get_by_role("row").filter(has_text=demo.PROJECT)
            assert "30 more days" in row.inner_text()

            row.get_by_role("button", name="Restore").click()
            console.check("restored")
            page.get_by_role("link", name="Projects", exact=True).click()
            assert page.get_by_role("link", name=demo.PROJECT).is_visible()

            page.get_by_role("link", name="Exports").click()
            page.get_by_role("button", name="Request an export").click()
            console.check("export-requested")
            download_link = page.get_by_role("link", name="Download ZIP")
            download_link.wait_for(timeout=60_000)  # the worker in `serve` runs it; htmx polls
            console.check("export-done")
            with page.expect_download() as caught:
                download_link.click()
            archive = tmp_path / "northwind.zip"
            caught.value.save_as(archive)
    # the ZIP checks out as `strongroom export verify` checks it, and holds the sample
    checked = subprocess.run(
        [STRONGROOM, "export", "verify", str(archive), "--json"], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    with zipfile.ZipFile(archive) as opened:
        records = [
            n for n in opened.namelist() if n.startswith("records/") and n.endswith(".jsonl")
        ]
        assert records and any(opened.read(n) for n in records)
