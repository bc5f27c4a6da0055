"""Deletion certificates in the console: listed, viewed, downloaded as signed JSON that
the service verifies, and verified in place, in a real browser."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.browser.console_support import Console, Site


def _purge_a_record(site: Site) -> str:
    """A purge through the services (as tests/e2e/test_api_roles.py makes one): the id of
    the certificate it leaves."""
    sr, ws = site.sr, site.workspace_id
    project = sr.projects.create(ws, "Hiring")
    record = sr.records.put(ws, project.id, "notes", {"text": "doomed"}).id
    sr.trash.purge_now(ws, sr.records.delete(ws, project.id, record).id)
    sr.worker.run_once()
    [entry] = sr.certificates.list(ws)
    return str(entry["certificate_id"])


def test_a_certificate_is_viewed_downloaded_and_verified(console: Console, output: Path) -> None:
    certificate_id = _purge_a_record(console.site)
    page = console.page
    console.sign_in("admin")
    console.visit(console.ws("/certificates"), "certificates")
    page.get_by_role("link", name=certificate_id).click()
    console.check("certificate")
    assert page.get_by_role("heading", name="Deletion certificate").is_visible()
    facts = page.locator("dl.facts").inner_text()
    assert "record" in facts and "Keys destroyed" in facts

    with page.expect_download() as waiting:
        page.get_by_role("link", name="Download signed JSON").click()
    download = waiting.value
    assert download.suggested_filename == f"{certificate_id}.json"
    saved = output / download.suggested_filename
    download.save_as(saved)
    text = saved.read_text()
    assert json.loads(text)["certificate_id"] == certificate_id
    assert console.site.sr.certificates.verify(text).certificate_id == certificate_id

    page.get_by_role("button", name="Verify").click()
    console.check("certificate-verified")
    verdict = page.locator("#certificate-verdict").inner_text()
    assert verdict.startswith("Valid: signed by this deployment's key")


def test_another_tenants_certificate_is_not_found_and_a_member_is_refused(
    console: Console,
) -> None:
    sr = console.site.sr
    other = sr.workspaces.create("Other Co", "someone@other.example")
    project = sr.projects.create(other.id, "Theirs")
    record = sr.records.put(other.id, project.id, "notes", {"text": "theirs"}).id
    sr.trash.purge_now(other.id, sr.records.delete(other.id, project.id, record).id)
    sr.worker.run_once()
    [theirs] = sr.certificates.list(other.id)
    console.sign_in("owner")
    console.visit(console.ws("/certificates"), "certificates-empty")
    assert console.page.get_by_text("there are no certificates").is_visible()
    for suffix in ("", "/verify", "/download"):
        path = console.ws(f"/certificates/{theirs['certificate_id']}{suffix}")
        with httpx.Client(verify=False, base_url=console.site.url) as client:  # noqa: S501
            for c in console.page.context.cookies():
                client.cookies.set(c["name"], c["value"])
            assert client.get(path).status_code == 404, suffix
    response = console.visit(console.ws(f"/certificates/{theirs['certificate_id']}"), "theirs")
    assert response.status == 404


def test_a_member_may_not_open_a_certificate(console: Console) -> None:
    certificate_id = _purge_a_record(console.site)
    console.sign_in("member")
    response = console.visit(console.ws(f"/certificates/{certificate_id}"), "refused")
    assert response.status == 403
