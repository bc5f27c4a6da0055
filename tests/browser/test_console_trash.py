"""The trash in the console, in a real browser: who deleted what and when, days left,
restore under the service's rules, and deleting forever (owners, with the name typed,
checked by the server too)."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import expect

from strongroom.domain.lifecycle import EntryState
from tests.browser.console_support import Console
from tests.browser.test_console_data import post


def deleted_project(console: Console, name: str = "Old campaign") -> tuple[str, str]:
    """A project with a record, deleted by the owner: (project id, trash entry id)."""
    sr, ws = console.site.sr, console.site.workspace_id
    project = sr.projects.create(ws, name)
    sr.records.put(ws, project.id, "notes", {"text": "kept"})
    owner = next(m for m in sr.workspaces.members(ws) if m.role.value == "owner")
    entry = sr.projects.delete(ws, project.id, actor=f"session:{owner.user_id}")
    return project.id, entry.id


def test_the_trash_says_who_deleted_what_when_and_the_days_left(console: Console) -> None:
    deleted_project(console)
    console.site.clock.advance(timedelta(days=10, hours=1))
    console.sign_in("admin")
    console.visit(console.ws("/trash"), "trash-admin")
    row = console.page.locator("tr", has_text="Old campaign")
    expect(row).to_contain_text("project")
    expect(row).to_contain_text("owner@acme.example")
    expect(row).to_contain_text("for 20 more days")  # 30 days, 10 of them gone
    expect(row).to_contain_text("deleted forever in 20 days")
    expect(row.get_by_role("button", name="Restore")).to_be_visible()  # admins: anything
    expect(row.get_by_role("link", name=re.compile("forever"))).to_have_count(0)


def test_an_owner_deletes_an_entry_forever_only_with_its_name_typed(console: Console) -> None:
    _project_id, entry_id = deleted_project(console)
    sr, ws = console.site.sr, console.site.workspace_id
    page = console.page
    console.sign_in("owner")
    console.visit(console.ws("/trash"), "trash-owner")
    page.get_by_role("link", name="Delete project Old campaign forever").click()
    console.check("trash-purge-confirm")
    button = page.get_by_role("button", name="Delete forever")
    expect(button).to_be_disabled()  # until the name is typed
    page.get_by_label("Type Old campaign to confirm").fill("Old campaig")
    expect(button).to_be_disabled()

    path = console.ws(f"/trash/{entry_id}/purge")
    assert post(console, path, confirm_name="old campaign") == 422  # the server checks too
    assert sr.trash.get(ws, entry_id).state is EntryState.TRASHED

    page.get_by_label("Type Old campaign to confirm").fill("Old campaign")
    expect(button).to_be_enabled()
    button.click()
    expect(page).to_have_url(re.compile(r"/trash$"))
    expect(page.get_by_role("status")).to_contain_text("is being deleted forever")
    console.check("trash-purged")
    # the purge is due now: the worker's next pass deletes it
    sr.worker.run_once()
    assert sr.trash.get(ws, entry_id).state is EntryState.PURGED
    console.visit(console.ws("/trash"), "trash-after-purge")
    expect(page.get_by_text("The trash is empty.")).to_be_visible()


def test_a_refused_name_keeps_what_was_typed_and_says_why(console: Console) -> None:
    _project_id, entry_id = deleted_project(console)
    console.sign_in("owner")
    console.visit(console.ws(f"/trash/{entry_id}/purge"), "trash-purge")
    # without JavaScript the button is not held back: the server refuses the wrong name
    console.page.get_by_label("Type Old campaign to confirm").fill("Old")
    with console.page.expect_navigation() as answered:
        console.page.evaluate("document.querySelector('form[data-confirm-name]').submit()")
    assert answered.value.status == 422
    console.check("trash-purge-refused")
    field = console.page.get_by_label("Type Old campaign to confirm")
    expect(field).to_have_attribute("aria-describedby", "confirm-name-error")
    expect(field).to_have_value("Old")
    expect(console.page.locator("#confirm-name-error")).to_contain_text("exactly")


def test_a_member_is_refused_the_purge_and_the_entry_stays(console: Console) -> None:
    _project_id, entry_id = deleted_project(console)
    sr, ws = console.site.sr, console.site.workspace_id
    console.sign_in("member")
    console.visit(console.ws("/trash"), "trash-member")
    row = console.page.locator("tr", has_text="Old campaign")
    expect(row).to_be_visible()
    expect(row.get_by_role("link", name=re.compile("forever"))).to_have_count(0)
    expect(row.get_by_role("button", name=re.compile("Restore"))).to_have_count(0)  # not theirs

    path = console.ws(f"/trash/{entry_id}/purge")
    assert post(console, path, confirm_name="Old campaign") == 403
    response = console.visit(path, "trash-purge-member")
    assert response.status == 403
    # restore typed anyway: the service's rule (members restore what they deleted)
    console.page.goto(console.ws("/trash"))
    assert post(console, console.ws(f"/trash/{entry_id}/restore")) == 403
    entry = sr.trash.get(ws, entry_id)
    assert entry.state is EntryState.TRASHED
    console.visit(console.ws("/trash"), "trash-member-after")
    expect(console.page.locator("tr", has_text="Old campaign")).to_be_visible()


def test_a_member_restores_what_they_deleted(console: Console) -> None:
    sr, ws = console.site.sr, console.site.workspace_id
    project = sr.projects.create(ws, "Shared")
    record = sr.records.put(ws, project.id, "notes", {"text": "mine"})
    console.sign_in("member")
    record_path = console.ws(f"/projects/{project.id}/records/{record.id}")
    console.page.goto(record_path + "/delete")
    console.page.get_by_role("button", name="Delete record").click()
    console.visit(console.ws("/trash"), "trash-member-own")
    row = console.page.locator("tr", has_text=record.id)
    expect(row).to_contain_text("member@acme.example")
    row.get_by_role("button", name="Restore").click()
    expect(console.page.get_by_role("status")).to_have_text(f"Restored the record {record.id}.")
    assert console.visit(record_path, "record-back").status == 200
    expect(console.page.locator("pre.json")).to_contain_text('"text": "mine"')


def test_a_viewer_cannot_restore(console: Console) -> None:
    _project_id, entry_id = deleted_project(console)
    console.sign_in("viewer")
    console.visit(console.ws("/trash"), "trash-viewer")
    expect(console.page.get_by_role("button", name="Restore")).to_have_count(0)
    assert post(console, console.ws(f"/trash/{entry_id}/restore")) == 403
    assert console.site.sr.trash.get(console.site.workspace_id, entry_id).state is (
        EntryState.TRASHED
    )


def test_the_trash_pages_and_another_tenants_entry_is_not_found(console: Console) -> None:
    sr, ws = console.site.sr, console.site.workspace_id
    project = sr.projects.create(ws, "Many")
    record_ids = sr.records.put_many(ws, project.id, "notes", [{"n": i} for i in range(55)])
    for record_id in record_ids:
        sr.records.delete(ws, project.id, record_id)
    other = sr.workspaces.create("Other Co", "someone@other.example")
    theirs = sr.projects.create(other.id, "Their project")
    their_entry = sr.projects.delete(other.id, theirs.id)

    console.sign_in("owner")
    console.visit(console.ws("/trash"), "trash-page-1")
    rows = console.page.locator("table.trash tbody tr")
    expect(rows).to_have_count(50)
    console.page.get_by_role("link", name="Next page").click()
    console.check("trash-page-2")
    expect(rows).to_have_count(5)
    expect(console.page.get_by_text("system", exact=True).first).to_be_visible()  # who: the CLI

    response = console.visit(console.ws(f"/trash/{their_entry.id}/purge"), "trash-other")
    assert response.status == 404
    assert "Their project" not in console.page.content()
    console.page.goto(console.ws("/trash"))
    assert post(console, console.ws(f"/trash/{their_entry.id}/restore")) == 404
    assert post(console, console.ws(f"/trash/{their_entry.id}/purge"), confirm_name="x") == 404
    assert sr.trash.get(other.id, their_entry.id).state is EntryState.TRASHED
