"""Deleting the workspace from the console, in a real browser: the name typed back, checked
by the server too."""

from __future__ import annotations

from strongroom.domain.model import WorkspaceState
from tests.browser.console_support import Console


def test_a_wrong_name_deletes_nothing_and_the_right_one_deletes_the_workspace(
    console: Console,
) -> None:
    sr, ws = console.site.sr, console.site.workspace_id
    token = sr.access.create_token(ws, "viewer")
    page = console.page
    console.sign_in("owner")
    console.visit(console.ws("/delete"), "delete")
    assert page.get_by_role("heading", name="Delete Acme Recruiting").is_visible()
    assert "purges everything in it now" in page.locator("main").inner_text()
    button = page.get_by_role("button", name="Delete this workspace")
    field = page.get_by_label("Type the workspace's name")

    field.fill("Acme")
    assert button.is_disabled()  # console.js waits for the exact name
    page.evaluate("document.querySelector('form[data-confirm-name] button').disabled = false")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        button.click()
    console.check("delete-wrong-name")
    assert answer.value.status == 422
    error = page.locator("#confirm-name-error")
    assert "Nothing was deleted" in error.inner_text()
    assert field.get_attribute("aria-describedby") == "confirm-name-error"
    assert field.input_value() == "Acme"
    assert sr.plans.status(ws).state is not WorkspaceState.CLOSED
    assert sr.access.authenticate(token.token).workspace_id == ws  # the token still works

    field.fill("Acme Recruiting")
    assert button.is_enabled()
    button.click()
    console.check("deleted")
    assert page.url.endswith("/console/") or "/console/?" in page.url
    assert "Acme Recruiting was deleted" in page.get_by_role("status").inner_text()
    assert page.get_by_role("link", name="Acme Recruiting").count() == 0
    assert "belong to no workspace" in page.locator("main").inner_text()
    assert sr.plans.status(ws, closed_too=True).state is WorkspaceState.CLOSED
    response = console.visit(console.ws(), "deleted-workspace")
    assert response.status == 404


def test_only_an_owner_may_delete_the_workspace(console: Console) -> None:
    console.sign_in("admin")
    console.visit(console.ws(), "overview-as-admin")
    assert console.page.get_by_role("link", name="Delete workspace").count() == 0
    response = console.visit(console.ws("/delete"), "delete-refused")
    assert response.status == 403
