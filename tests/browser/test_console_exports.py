"""Exports in the console, in a real browser: request one, watch its progress move on the
page (htmx polling, no reload), download the ZIP and verify it; who may."""

from __future__ import annotations

import io
import threading
from pathlib import Path

from playwright.sync_api import expect

from tests.browser.console_support import Console
from tests.export_support import run_due_exports


def _some_data(console: Console) -> None:
    sr, ws = console.site.sr, console.site.workspace_id
    project = sr.projects.create(ws, "Hiring")
    for i in range(3):
        sr.records.put(ws, project.id, "candidates", {"name": f"Candidate {i}"})
    sr.files.put(ws, project.id, "cv.txt", io.BytesIO(b"curriculum vitae\n" * 100))


def test_an_export_requested_in_the_browser_shows_its_progress_and_downloads(
    console: Console, tmp_path: Path
) -> None:
    _some_data(console)
    sr, ws = console.site.sr, console.site.workspace_id
    console.sign_in("admin")
    console.visit(console.ws(), "overview")
    console.page.get_by_role("link", name="Exports").click()
    console.check("exports-empty")
    page = console.page
    assert page.url.endswith(console.ws("/exports"))
    assert page.get_by_text("No exports yet.").is_visible()

    page.get_by_role("button", name="Request an export").click()
    expect(page.get_by_role("status")).to_contain_text("Export requested")
    console.check("exports-queued")
    [job] = sr.exports.jobs(ws)
    row = page.locator(f"tr[data-export='{job.id}']")
    expect(row).to_contain_text("Queued")
    expect(row).to_contain_text("waiting to start")
    assert page.get_by_role("link", name="Refresh").is_visible()  # without JavaScript
    page.evaluate("window.__notReloaded = true")

    # The worker runs the job; it stops after its first entry until the test lets it go on.
    first_entry, go_on = threading.Event(), threading.Event()

    def hold_after_first(done: int, total: int) -> None:
        if done == 1:
            first_entry.set()
            assert go_on.wait(30)

    worker = threading.Thread(target=lambda: sr.exports.run_job(job.id, hold_after_first))
    worker.start()
    try:
        assert first_entry.wait(30)
        expect(row).to_contain_text("Running")
        expect(row.locator("progress")).to_have_attribute("value", "1")
        total = int(row.locator("progress").get_attribute("max") or 0)
        assert total > 1
        expect(row).to_contain_text(f"1 of {total} entries")
        console.check("exports-running")
    finally:
        go_on.set()
        worker.join(30)
    assert run_due_exports(sr) == ["export.run"]  # the due run finds the job done

    expect(row).to_contain_text("Done", timeout=10_000)
    expect(row).to_contain_text(f"{total} of {total} entries")
    assert page.evaluate("window.__notReloaded") is True  # htmx polled; no reload
    expect(page.locator("#exports-table")).not_to_have_attribute("hx-trigger", "every 1s")
    assert page.get_by_role("link", name="Refresh").count() == 0
    console.check("exports-done")

    with page.expect_download() as downloading:
        row.get_by_role("link", name="Download ZIP").click()
    download = downloading.value
    assert download.suggested_filename == f"strongroom-export-{ws}-{job.id}.zip"
    archive = tmp_path / "export.zip"
    download.save_as(archive)
    verified = sr.exports.verify(archive)
    assert verified.workspace_id == ws
    assert archive.stat().st_size == sr.exports.job(ws, job.id).size


def test_a_member_sees_no_exports_link_and_is_refused(console: Console) -> None:
    sr, ws = console.site.sr, console.site.workspace_id
    job = sr.exports.create_job(ws)
    sr.exports.run_job(job.id)
    console.sign_in("member")
    console.visit(console.ws(), "overview-member")
    page = console.page
    nav = page.get_by_role("navigation", name="Workspace")
    assert nav.get_by_role("link", name="Members").is_visible()
    assert nav.get_by_role("link", name="Exports").count() == 0

    assert console.visit(console.ws("/exports"), "exports-refused").status == 403
    download = console.ws(f"/exports/{job.id}/download")
    assert console.visit(download, "exports-download-refused").status == 403
    console.visit(console.ws(), "overview-member-again")
    status = page.evaluate(
        """async (url) => {
          const token = document.querySelector("input[name=csrftoken]").value;
          const body = new URLSearchParams({csrftoken: token});
          return (await fetch(url, {method: "POST", body, redirect: "manual"})).status;
        }""",
        console.ws("/exports"),
    )
    assert status == 403
    assert [j.id for j in sr.exports.jobs(ws)] == [job.id]  # nothing was requested


def test_another_tenants_export_is_not_found(console: Console) -> None:
    sr = console.site.sr
    other = sr.workspaces.create("Other Co", "someone@other.example")
    theirs = sr.exports.create_job(other.id)
    sr.exports.run_job(theirs.id)
    console.sign_in("owner")
    ours = console.ws(f"/exports/{theirs.id}/download")
    assert console.visit(ours, "exports-other-ours").status == 404
    elsewhere = f"/console/w/{other.id}/exports"
    assert console.visit(elsewhere, "exports-other-workspace").status == 404
