"""Break-glass grants in the console, in a real browser: the issue's done-when path end to
end. An operator asks; the owner approves on the Staff access page; the operator reads a
record with the grant's token; the owner sees that read on the grant's page and in the
audit log; the owner revokes it; the operator's next read is refused."""

from __future__ import annotations

from pathlib import Path

from tests.browser.console_support import Console


def test_the_owner_approves_sees_the_read_and_revokes(
    console: Console, browser: object, output: Path
) -> None:
    sr, ws = console.site.sr, console.site.workspace_id
    project = sr.projects.create(ws, "Hiring").id
    record = sr.records.put(ws, project, "candidates", {"name": "Ada"}).id
    sr.staff.add("Ann Operator", "ann@saas.example")
    sr.staff.record_agreement("ann@saas.example", "2026-01", "2025-12-01")
    grant = sr.grants.request(ws, "ann@saas.example", "import fails", "SUP-42", 2).id
    page = console.page

    console.sign_in("owner")
    console.visit(console.ws(), "overview-staff-access")  # the owner sees it first thing
    assert "Ann Operator asks to read this workspace" in page.locator("#staff-access").inner_text()
    console.visit(console.ws("/grants"), "grants-pending")
    row = page.locator(f"#grant-{grant}")
    assert "SUP-42" in row.inner_text() and "Ann Operator" in row.inner_text()
    page.get_by_role("button", name=f"Approve grant {grant}").click()
    console.check("grant-approved")
    assert page.locator("#grant-status").inner_text().startswith("Status: active")

    _view, issued = sr.grants.issue_token(grant)
    url = f"/v1/workspaces/{ws}/projects/{project}/records/{record}"
    with console.site.server.client(issued.token) as operator:
        assert operator.get(url).json()["document"] == {"name": "Ada"}

    console.visit(console.ws(f"/grants/{grant}"), "grant-read")
    assert f"GET {url}" in page.locator("#grant-reads").inner_text()
    console.visit(console.ws("/audit?action=grant.read"), "audit-grant-read")
    assert grant in page.locator("table.audit").inner_text()

    console.visit(console.ws(f"/grants/{grant}"), "grant-before-revoke")
    page.get_by_role("button", name=f"Revoke grant {grant}").click()
    console.check("grant-revoked")
    assert page.locator("#grant-status").inner_text().startswith("Status: revoked")
    with console.site.server.client(issued.token) as operator:
        refused = operator.get(url)
    assert refused.status_code == 401
    (output / "admin").mkdir()
    with Console.open(browser, console.site, output / "admin") as admin:  # sees, not decides
        admin.sign_in("admin")
        admin.visit(admin.ws("/grants"), "grants-admin")
        assert "revoked" in admin.page.locator(f"#grant-{grant}").inner_text()
        assert admin.page.get_by_role("button", name=f"Approve grant {grant}").count() == 0
