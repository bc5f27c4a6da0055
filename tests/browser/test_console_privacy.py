"""Privacy requests in the console, in a real browser: the inbox by due date (overdue first,
said in words), a deletion request taken from receipt to its certificate, refusals that keep
what was typed, and the role matrix and tenancy at the door."""

from __future__ import annotations

import zipfile
from datetime import date, timedelta

import httpx

from strongroom.domain.privacy_clock import add_months
from tests.browser.console_support import Console

ADA = "ada@example.com"


def _candidate(console: Console) -> tuple[str, str]:
    """(project, record): a record of Ada's in a collection whose ``email`` is a personal
    field, beside one of Bob's."""
    sr, ws = console.site.sr, console.site.workspace_id
    project = sr.projects.create(ws, "Hiring").id
    sr.records.declare_collection(ws, "candidates", ["email", "name"])
    sr.records.put(ws, project, "candidates", {"email": "bob@example.com", "name": "Bob"})
    return project, sr.records.put(ws, project, "candidates", {"email": ADA, "name": "Ada"}).id


def _new_request(console: Console, type_: str, law: str, identifier: str) -> None:
    page = console.page
    page.get_by_label("Type", exact=True).select_option(type_)
    page.get_by_label("Law", exact=True).select_option(law)
    page.get_by_label("Identifier 1").fill(identifier)
    page.get_by_role("button", name="Record the request").click()
    page.wait_for_load_state("load")


def test_an_owner_takes_a_deletion_request_to_its_certificate(console: Console) -> None:
    _, record_id = _candidate(console)
    sr, ws = console.site.sr, console.site.workspace_id
    page = console.page
    console.sign_in("owner")
    console.visit(console.ws(), "overview")
    page.get_by_role("link", name="Privacy requests").click()
    console.check("inbox-empty")
    assert page.get_by_text("0 open requests").is_visible()

    _new_request(console, "deletion", "gdpr", ADA)
    console.check("request-received")
    (request,) = sr.privacy.list(ws)
    assert page.url.endswith(console.ws(f"/privacy/{request.id}"))
    assert page.get_by_role("heading", level=1).inner_text() == "Deletion request (GDPR)"
    assert page.get_by_text(f"email: {ADA}").is_visible()
    due = add_months(request.received_on, 1)
    assert page.locator("#due-date").inner_text().startswith(due.isoformat())
    days = (due - request.received_on).days
    assert page.locator("#days-left").inner_text() == f"due in {days} days"
    # erasure waits for verification: it is not offered yet
    assert page.get_by_role("button", name="Erase the subject").count() == 0

    page.get_by_label("How it was verified").fill("replied from the address on file")
    page.get_by_role("button", name="Record the verification").click()
    console.check("request-verified")
    assert page.get_by_role("status").inner_text() == "Identity verified."
    assert (
        "Identity verified by owner@acme.example" in page.locator(".privacy-history").inner_text()
    )

    page.get_by_role("link", name="Locate the subject's records").click()
    console.check("locate")
    matches = page.locator("table.privacy-matches tbody tr")
    assert matches.count() == 1
    assert record_id in matches.first.inner_text()
    assert "candidates" in matches.first.inner_text()
    page.get_by_role("link", name="Back to the request").click()

    page.get_by_label("Reason").first.fill("the subject's records span three projects")
    page.get_by_label("Extend by").fill("2")
    page.get_by_label("Unit").select_option("months")
    page.get_by_role("button", name="Extend").click()
    console.check("request-extended")
    extended = add_months(due, 2)
    assert page.get_by_role("status").inner_text() == f"Extended: now due {extended.isoformat()}."
    assert page.locator("#due-date").inner_text().startswith(extended.isoformat())
    assert page.get_by_role("button", name="Extend").count() == 0  # the law allows one

    page.get_by_role("button", name="Erase the subject").click()  # not confirmed
    console.check("erase-unconfirmed")
    assert page.locator("#erase-confirm-error").is_visible()
    assert sr.privacy.erasure_status(ws, request.id) is None
    page.get_by_label("I understand: the subject's data is erased for good").check()
    page.get_by_role("button", name="Erase the subject").click()
    page.wait_for_load_state("load")
    sr.worker.run_once()
    console.visit(console.ws(f"/privacy/{request.id}"), "request-erased")
    status = sr.privacy.erasure_status(ws, request.id)
    assert status is not None and status.certificate_id
    assert page.locator("#erasure-state").inner_text().startswith("completed")
    assert page.locator("#erasure-certificate").inner_text() == status.certificate_id
    assert page.locator(".state").first.inner_text() == "completed"
    assert sr.privacy.locate(ws, request.id) == []
    console.visit(console.ws(f"/privacy/{request.id}/erasure"), "erasure")
    assert page.locator("#erasure-certificate").inner_text() == status.certificate_id


def test_the_inbox_puts_an_overdue_request_first_and_says_so(console: Console) -> None:
    sr, ws, clock = console.site.sr, console.site.workspace_id, console.site.clock
    later = sr.privacy.create(
        ws,
        type="access",
        law="other",
        identifiers=[("email", "cy@example.com")],
        due=clock.now().date() + timedelta(days=60),
    )
    sooner = sr.privacy.create(ws, type="access", law="gdpr", identifiers=[("email", ADA)])
    gone = sr.privacy.create(
        ws, type="deletion", law="ccpa", identifiers=[("email", "d@x.example")]
    )
    sr.privacy.reject(ws, gone.id, reason="not a customer of ours")
    clock.advance(timedelta(days=40))  # the GDPR month has passed; 20 days left on the other

    console.sign_in("owner")
    console.visit(console.ws("/privacy"), "inbox-overdue")
    page = console.page
    rows = page.locator("table.privacy-inbox tbody tr")
    assert rows.count() == 2  # the rejected one is behind the filter
    first, second = rows.nth(0).inner_text(), rows.nth(1).inner_text()
    assert sooner.id in first and "OVERDUE: was due" in first and "days ago" in first
    assert later.id in second and "OVERDUE" not in second and "due in 20 days" in second
    assert "1 overdue" in page.locator(".privacy-summary").inner_text()

    page.get_by_role("link", name="Closed (1)").click()
    console.check("inbox-closed")
    closed = page.locator("table.privacy-inbox tbody tr")
    assert closed.count() == 1 and gone.id in closed.first.inner_text()
    assert "rejected" in closed.first.inner_text()


def test_the_inbox_pages(console: Console) -> None:
    sr, ws = console.site.sr, console.site.workspace_id
    made = [
        sr.privacy.create(ws, type="access", law="gdpr", identifiers=[("email", f"p{i}@x.example")])
        for i in range(27)
    ]
    console.sign_in("owner")
    console.visit(console.ws("/privacy"), "inbox-page-1")
    page = console.page
    assert page.locator("table.privacy-inbox tbody tr").count() == 25
    page.get_by_role("link", name="Next page").click()
    console.check("inbox-page-2")
    rest = page.locator("table.privacy-inbox tbody tr")
    assert rest.count() == 2
    assert page.get_by_role("link", name="Next page").count() == 0
    shown = {rest.nth(i).locator("td").first.inner_text() for i in range(2)}
    assert shown <= {r.id for r in made}


def test_refused_input_keeps_what_was_typed_and_says_why(console: Console) -> None:
    console.sign_in("owner")
    console.visit(console.ws("/privacy"), "inbox")
    page = console.page
    page.get_by_label("Channel (how it arrived)").fill("letter")
    _new_request(console, "access", "other", ADA)  # "other" needs its due date
    console.check("new-request-refused")
    due = page.get_by_label('Due date (only for law "other")')
    assert due.get_attribute("aria-describedby") == "new-due-error"
    assert "needs its due date" in page.locator("#new-due-error").inner_text()
    assert page.get_by_label("Identifier 1").input_value() == ADA
    assert page.get_by_label("Law", exact=True).input_value() == "other"
    assert page.get_by_label("Channel (how it arrived)").input_value() == "letter"
    assert console.site.sr.privacy.list(console.site.workspace_id) == []

    page.get_by_label("Identifier 1").fill("not-an-email")
    page.get_by_label("Law", exact=True).select_option("gdpr")
    page.get_by_role("button", name="Record the request").click()
    console.check("new-request-bad-email")
    assert "needs an @" in page.locator("#new-identifiers-error").inner_text()
    assert page.get_by_label("Identifier 1").input_value() == "not-an-email"

    due.fill((date.today() + timedelta(days=10)).isoformat())
    page.get_by_label("Identifier 1").fill(ADA)
    page.get_by_label("Law", exact=True).select_option("other")
    page.get_by_role("button", name="Record the request").click()
    console.check("new-request-recorded")
    assert page.get_by_role("status").inner_text().startswith("Request recorded: due ")


def _client(console: Console) -> httpx.Client:
    cookies = {c["name"]: c["value"] for c in console.page.context.cookies()}
    return httpx.Client(verify=False, base_url=console.site.url, cookies=cookies)  # noqa: S501


def test_a_member_sees_no_privacy_link_and_is_refused(console: Console) -> None:
    console.sign_in("member")
    console.visit(console.ws(), "member-overview")
    assert console.page.get_by_role("link", name="Projects", exact=True).is_visible()
    assert console.page.get_by_role("link", name="Privacy requests").count() == 0
    response = console.visit(console.ws("/privacy"), "member-privacy")
    assert response.status == 403
    with _client(console) as client:
        token = client.cookies["__Host-csrftoken"]
        refused = client.post(
            console.ws("/privacy"),
            data={
                "csrftoken": token,
                "type": "access",
                "law": "gdpr",
                "identifier_kind": "email",
                "identifier_value": ADA,
            },
        )
    assert refused.status_code == 403
    assert console.site.sr.privacy.list(console.site.workspace_id) == []


def test_another_tenants_request_is_not_found(console: Console) -> None:
    sr = console.site.sr
    other = sr.workspaces.create("Other Co", "someone@other.example").id
    theirs = sr.privacy.create(other, type="deletion", law="gdpr", identifiers=[("email", ADA)])
    console.sign_in("owner")
    response = console.visit(console.ws(f"/privacy/{theirs.id}"), "other-tenant-request")
    assert response.status == 404
    assert ADA not in console.page.content()
    assert console.visit(f"/console/w/{other}/privacy/{theirs.id}", "other-ws").status == 404
    with _client(console) as client:
        token = client.cookies["__Host-csrftoken"]
        reject = client.post(
            console.ws(f"/privacy/{theirs.id}/reject"),
            data={"csrftoken": token, "reason": "not ours", "confirm": "yes"},
        )
    assert reject.status_code == 404
    assert sr.privacy.get(other, theirs.id).state.value == "received"


def test_an_access_request_downloads_the_subjects_package(console: Console) -> None:
    _, record_id = _candidate(console)
    sr, ws = console.site.sr, console.site.workspace_id
    made = sr.privacy.create(ws, type="access", law="ccpa", identifiers=[("email", ADA)])
    console.sign_in("owner")
    console.visit(console.ws(f"/privacy/{made.id}"), "access-received")
    page = console.page
    assert page.get_by_role("button", name="Download the subject's package (ZIP)").count() == 0
    page.get_by_label("How it was verified").fill("signed letter")
    page.get_by_role("button", name="Record the verification").click()
    console.check("access-verified")
    with page.expect_download() as downloading:
        page.get_by_role("button", name="Download the subject's package (ZIP)").click()
    download = downloading.value
    assert download.suggested_filename.endswith(".zip")
    with zipfile.ZipFile(download.path()) as package:
        names = package.namelist()
        text = b"".join(package.read(n) for n in names if n.endswith(".jsonl"))
    assert "manifest.json" in names
    assert record_id.encode() in text and b"bob@example.com" not in text
    console.visit(console.ws(f"/privacy/{made.id}"), "access-in-progress")
    assert page.locator(".state").first.inner_text() == "in progress"


def test_a_correction_and_a_restriction_through_their_forms(console: Console) -> None:
    project, record_id = _candidate(console)
    sr, ws = console.site.sr, console.site.workspace_id
    fix = sr.privacy.create(ws, type="correction", law="gdpr", identifiers=[("email", ADA)])
    sr.privacy.verify(ws, fix.id, method="id check", by="eve")
    console.sign_in("owner")
    console.visit(console.ws(f"/privacy/{fix.id}"), "correction")
    page = console.page
    page.get_by_label("Field 1 (a personal path)").fill("nickname")  # not declared
    page.get_by_label("New value 1").fill("Countess")
    page.get_by_role("button", name="Correct", exact=True).click()
    console.check("correction-refused")
    assert "nickname" in page.locator("#correct-changes-error").inner_text()
    assert page.get_by_label("New value 1").input_value() == "Countess"
    page.get_by_label("Field 1 (a personal path)").fill("email")
    page.get_by_label("New value 1").fill("ada@lovelace.example")
    page.get_by_role("button", name="Correct", exact=True).click()
    console.check("corrected")
    assert page.get_by_role("status").inner_text() == "Corrected 1 value in 1 record."
    assert sr.privacy.locate(ws, fix.id) == []  # the old address is nowhere now
    assert sr.records.get(ws, project, record_id).document["email"] == "ada@lovelace.example"

    new = [("email", "ada@lovelace.example")]
    stop = sr.privacy.create(ws, type="restriction", law="gdpr", identifiers=new)
    console.visit(console.ws(f"/privacy/{stop.id}"), "restriction")
    page.get_by_role("button", name="Restrict the subject's records").click()
    console.check("restricted")
    assert page.get_by_role("status").inner_text() == "Restricted 1 record."
    page.get_by_role("link", name="Locate the subject's records").click()
    console.check("locate-restricted")
    assert "restricted" in page.locator("table.privacy-matches tbody tr").first.inner_text()
