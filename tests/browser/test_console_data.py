"""Projects, collections and records in the console, in a real browser: the issue's main
path (create, delete, find in the trash with its days left, restore, read again), paging,
search, refused input kept, and the role matrix (hidden controls, 403 typed anyway, 404
for another tenant's ids)."""

from __future__ import annotations

import json
import re

from playwright.sync_api import expect

from strongroom.domain.lifecycle import EntryState
from tests.browser.console_support import Console


def post(console: Console, path: str, **fields: str) -> int:
    """A form POST from the signed-in page (with its CSRF token, as a form sends it), typed
    by hand: the status the server answered, after redirects."""
    status: int = console.page.evaluate(
        """async ([path, fields]) => {
             const token = document.querySelector("input[name=csrftoken]").value;
             const body = new URLSearchParams({csrftoken: token, ...fields});
             return (await fetch(path, {method: "POST", body})).status;
           }""",
        [path, fields],
    )
    return status


def sample_project(console: Console, name: str = "Hiring 2025") -> str:
    sr, ws = console.site.sr, console.site.workspace_id
    project = sr.projects.create(ws, name)
    sr.records.declare_collection(ws, "candidates", ["email:email"])
    return project.id


def test_an_owner_creates_deletes_and_restores_a_project_and_reads_its_record_again(
    console: Console,
) -> None:
    page = console.page
    console.sign_in("owner")
    console.visit(console.ws("/projects"), "projects-empty")
    expect(page.get_by_text("No projects yet.")).to_be_visible()
    page.get_by_label("Name").fill("Hiring 2025")
    page.get_by_role("button", name="Create project").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hiring 2025")
    console.check("project")
    project_url = page.url
    project_id = project_url.rsplit("/", 1)[1]

    page.get_by_label("Collection name").fill("candidates")
    page.get_by_label("Personal fields").fill("email:email, name:name")
    page.get_by_role("button", name="Declare collection").click()
    expect(page.get_by_role("status")).to_have_text("Declared the collection candidates.")
    expect(page.get_by_role("cell", name="email:email, name:name")).to_be_visible()

    page.get_by_role("link", name="New record").click()
    console.check("record-new")
    page.get_by_label("Collection").fill("candidates")
    page.get_by_label("Document (a JSON object)").fill(
        json.dumps({"name": "Ada Lovelace", "email": "ada@example.com", "stage": "interview"})
    )
    page.get_by_role("button", name="Save record").click()
    expect(page.get_by_role("status")).to_have_text("Saved the record.")
    console.check("record")
    record_url = page.url
    assert re.search(r"/records/rec_[a-z2-7]+$", record_url)
    expect(page.locator("pre.json")).to_contain_text('"email": "ada@example.com"')

    console.visit(f"{project_url}/records?collection=candidates", "records")
    expect(page.get_by_role("cell", name=re.compile("Ada Lovelace"))).to_be_visible()

    console.visit(project_url, "project-with-collection")
    page.get_by_role("link", name="Delete project").click()
    console.check("project-delete-confirm")
    expect(page.get_by_role("heading", level=1)).to_have_text("Delete the project Hiring 2025?")
    page.get_by_role("button", name="Delete project").click()
    expect(page).to_have_url(re.compile(r"/trash$"))
    expect(page.get_by_role("status")).to_have_text("Moved the project Hiring 2025 to the trash.")
    console.check("trash")
    row = page.locator("tr", has_text="Hiring 2025")
    expect(row).to_contain_text("owner@acme.example")
    expect(row).to_contain_text("for 30 more days")
    expect(row).to_contain_text("deleted forever in 30 days")
    assert page.goto(record_url).status == 404  # gone from reads while in the trash

    console.visit(console.ws("/trash"), "trash-again")
    row.get_by_role("button", name="Restore").click()
    expect(page.get_by_role("status")).to_have_text("Restored the project Hiring 2025.")
    expect(page.get_by_text("The trash is empty.")).to_be_visible()

    response = console.visit(record_url, "record-restored")
    assert response.status == 200
    expect(page.locator("pre.json")).to_contain_text('"name": "Ada Lovelace"')
    assert console.site.sr.projects.get(console.site.workspace_id, project_id).name == (
        "Hiring 2025"
    )


def test_a_record_is_deleted_to_the_trash_after_a_confirmation(console: Console) -> None:
    project_id = sample_project(console)
    sr, ws = console.site.sr, console.site.workspace_id
    record = sr.records.put(ws, project_id, "candidates", {"email": "bo@example.com"})
    console.sign_in("member")
    path = console.ws(f"/projects/{project_id}/records/{record.id}")
    console.visit(path, "record-member")
    console.page.get_by_role("link", name="Delete record").click()
    console.check("record-delete-confirm")
    console.page.get_by_role("button", name="Delete record").click()
    expect(console.page.get_by_role("status")).to_contain_text("to the trash")
    assert console.page.goto(path).status == 404
    entry = sr.trash.list(ws).items[0]
    assert entry.subject_id == record.id and entry.state is EntryState.TRASHED


def test_refused_json_keeps_the_typed_text_and_says_why_next_to_the_field(
    console: Console,
) -> None:
    project_id = sample_project(console)
    page = console.page
    console.sign_in("member")
    console.visit(console.ws(f"/projects/{project_id}/records/new"), "record-new-member")
    typed = '{"email": "ada@example.com",, }'
    page.get_by_label("Collection").fill("candidates")
    page.get_by_label("Document (a JSON object)").fill(typed)
    with page.expect_navigation() as answered:
        page.get_by_role("button", name="Save record").click()
    assert answered.value.status == 422
    console.check("record-refused")
    document = page.get_by_label("Document (a JSON object)")
    expect(document).to_have_value(typed)
    expect(document).to_have_attribute("aria-describedby", "record-document-error")
    expect(page.locator("#record-document-error")).to_contain_text("not valid JSON")
    expect(page.get_by_label("Collection")).to_have_value("candidates")

    document.fill("[1, 2]")  # JSON, but not an object
    with page.expect_navigation() as answered:
        page.get_by_role("button", name="Save record").click()
    assert answered.value.status == 422
    expect(page.locator("#record-document-error")).to_contain_text("a record is a JSON object")

    page.get_by_label("Collection").fill("Not A Name")
    document.fill('{"a": 1}')
    with page.expect_navigation() as answered:
        page.get_by_role("button", name="Save record").click()
    assert answered.value.status == 400
    expect(page.locator("#record-collection-error")).to_contain_text("collection names are")
    expect(document).to_have_value('{"a": 1}')
    assert console.site.sr.records.list(console.site.workspace_id, project_id, None).items == []


def test_records_page_fifty_at_a_time_and_search_by_a_personal_field(console: Console) -> None:
    project_id = sample_project(console)
    sr, ws = console.site.sr, console.site.workspace_id
    documents = [{"email": f"person{i:02d}@example.com", "n": i} for i in range(60)]
    sr.records.put_many(ws, project_id, "candidates", documents)
    page = console.page
    console.sign_in("viewer")
    console.visit(console.ws(f"/projects/{project_id}/records?collection=candidates"), "records-1")
    rows = page.locator("table.records tbody tr")
    expect(rows).to_have_count(50)
    page.get_by_role("link", name="Next page").click()
    console.check("records-2")
    expect(rows).to_have_count(10)
    expect(page.get_by_role("link", name="Next page")).to_have_count(0)
    expect(page.get_by_role("link", name="First page")).to_be_visible()
    shown = set(page.locator("table.records tbody td.id").all_inner_texts())
    page.get_by_role("link", name="First page").click()
    first = set(page.locator("table.records tbody td.id").all_inner_texts())
    assert len(first | shown) == 60  # every record once, no page repeats one

    page.get_by_label("Personal field").fill("email")
    page.get_by_label("Value").fill("PERSON07@example.com")  # the canonical form matches
    page.get_by_role("button", name="Search").click()
    console.check("records-search")
    expect(page.get_by_role("heading", name=re.compile("^1 record with email"))).to_be_visible()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("person07@example.com")

    page.get_by_label("Personal field").fill("phone")
    with page.expect_navigation() as answered:
        page.get_by_role("button", name="Search").click()
    assert answered.value.status == 422
    console.check("records-search-undeclared")
    field = page.get_by_label("Personal field")
    expect(field).to_have_value("phone")
    expect(field).to_have_attribute("aria-describedby", "search-field-error")
    expect(page.locator("#search-field-error")).to_contain_text("declares 'phone' personal")


def test_a_viewer_sees_no_controls_that_change_data_and_a_typed_post_is_refused(
    console: Console,
) -> None:
    project_id = sample_project(console)
    sr, ws = console.site.sr, console.site.workspace_id
    record = sr.records.put(ws, project_id, "candidates", {"email": "cy@example.com"})
    page = console.page
    console.sign_in("viewer")
    console.visit(console.ws("/projects"), "projects-viewer")
    expect(page.get_by_role("link", name="Hiring 2025")).to_be_visible()
    expect(page.get_by_role("heading", name="New project")).to_have_count(0)
    console.visit(console.ws(f"/projects/{project_id}"), "project-viewer")
    for name in ("Delete project", "New record"):
        expect(page.get_by_role("link", name=name)).to_have_count(0)
    expect(page.get_by_role("button", name="Declare collection")).to_have_count(0)
    console.visit(console.ws(f"/projects/{project_id}/records/{record.id}"), "record-viewer")
    expect(page.get_by_role("link", name="Delete record")).to_have_count(0)

    refused = [
        post(console, console.ws("/projects"), name="Sneaky"),
        post(console, console.ws(f"/projects/{project_id}/delete")),
        post(console, console.ws(f"/projects/{project_id}/collections"), name="x"),
        post(
            console,
            console.ws(f"/projects/{project_id}/records"),
            collection="candidates",
            document="{}",
        ),
        post(console, console.ws(f"/projects/{project_id}/records/{record.id}/delete")),
    ]
    assert refused == [403] * 5
    response = console.visit(console.ws(f"/projects/{project_id}/delete"), "delete-viewer")
    assert response.status == 403
    assert [p.name for p in sr.projects.list(ws)] == ["Hiring 2025"]
    assert sr.records.get(ws, project_id, record.id).document == {"email": "cy@example.com"}
    assert sr.trash.list(ws).items == []


def test_another_tenants_project_and_record_are_not_found(console: Console) -> None:
    sr = console.site.sr
    other = sr.workspaces.create("Other Co", "someone@other.example")
    theirs = sr.projects.create(other.id, "Their secrets")
    record = sr.records.put(other.id, theirs.id, "notes", {"secret": "theirs"})
    console.sign_in("owner")
    for suffix in ("", "/records", "/records?collection=notes", f"/records/{record.id}", "/delete"):
        response = console.visit(console.ws(f"/projects/{theirs.id}{suffix}"), "other-tenant")
        assert response.status == 404, suffix
        assert "Their secrets" not in console.page.content()
        assert "theirs" not in console.page.content()
    console.page.goto(console.ws())  # a page of ours, with a form's CSRF token
    assert post(console, console.ws(f"/projects/{theirs.id}/delete")) == 404
    assert sr.projects.get(other.id, theirs.id).name == "Their secrets"
