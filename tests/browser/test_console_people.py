"""Members and roles, API tokens and sessions in the console, in a real browser."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from strongroom.domain.access import Principal, PrincipalKind
from tests.browser.console_support import Console, Site


def _role_of(site: Site, email: str) -> str:
    members = site.sr.workspaces.members(site.workspace_id)
    return next(m.role.value for m in members if m.email == email)


def _row(console: Console, text: str) -> Any:
    return console.page.get_by_role("row").filter(has_text=text)


def _second_cell(console: Console, text: str) -> str:
    """The second cell (the role, in members and tokens) of the row with ``text``."""
    return str(_row(console, text).locator("td").nth(1).inner_text()).strip()


def _api_status(site: Site, token: str) -> int:
    with httpx.Client(verify=False, base_url=site.url) as api:  # noqa: S501 - the test's own CA
        answer = api.get(
            f"/v1/workspaces/{site.workspace_id}", headers={"Authorization": f"Bearer {token}"}
        )
    return answer.status_code


# members ----------------------------------------------------------------------------------
def test_an_owner_adds_a_member_and_changes_their_role(console: Console) -> None:
    page = console.page
    console.sign_in("owner")
    console.visit(console.ws("/members"), "members")
    assert _second_cell(console, "viewer@acme.example") == "viewer"

    page.get_by_label("Email").fill("newcomer@acme.example")
    page.get_by_label("Role", exact=True).select_option("viewer")
    page.get_by_role("button", name="Add member").click()
    console.check("member-added")
    assert page.url.endswith(console.ws("/members"))
    assert page.get_by_role("status").inner_text() == "newcomer@acme.example was added as viewer."
    assert _second_cell(console, "newcomer@acme.example") == "viewer"

    page.get_by_label("Role of newcomer@acme.example").select_option("member")
    page.get_by_role("button", name="Change role of newcomer@acme.example").click()
    console.check("role-changed")
    assert page.get_by_role("status").inner_text() == "newcomer@acme.example is now member."
    assert _second_cell(console, "newcomer@acme.example") == "member"
    assert _role_of(console.site, "newcomer@acme.example") == "member"


def test_a_refused_member_keeps_what_was_typed_and_says_why(console: Console) -> None:
    page = console.page
    console.sign_in("admin")
    console.visit(console.ws("/members"), "members")
    page.get_by_label("Email").fill("member@acme.example")  # already one
    page.get_by_role("button", name="Add member").click()
    console.check("already-a-member")
    error = page.locator("#member-email-error")
    assert "already a member" in error.inner_text()
    assert page.get_by_label("Email").input_value() == "member@acme.example"
    assert page.get_by_label("Email").get_attribute("aria-describedby") == "member-email-error"
    # an admin is not offered the owner role to add
    assert "owner" not in page.get_by_label("Role", exact=True).inner_text()


def test_an_admin_cannot_demote_the_owner_and_is_told_why(console: Console) -> None:
    page = console.page
    console.sign_in("admin")
    console.visit(console.ws("/members"), "members")
    page.get_by_label("Role of owner@acme.example").select_option("admin")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Change role of owner@acme.example").click()
    console.check("owner-demotion-refused")
    assert answer.value.status == 403
    refusal = page.get_by_role("alert").inner_text()
    assert "only an owner may grant or remove the owner role" in refusal
    assert _role_of(console.site, "owner@acme.example") == "owner"
    assert _second_cell(console, "owner@acme.example") == "owner"
    assert page.get_by_label("Role of owner@acme.example").input_value() == "admin"  # kept


def test_a_member_sees_no_management_links_and_typed_pages_are_refused(
    console: Console,
) -> None:
    page = console.page
    console.sign_in("member")
    console.visit(console.ws("/members"), "members-as-member")
    nav = page.get_by_role("navigation", name="Workspace")
    assert nav.get_by_role("link", name="Members").is_visible()
    assert nav.get_by_role("link", name="Sessions").is_visible()
    for hidden in ("API tokens", "Audit log", "Certificates", "Delete workspace"):
        assert nav.get_by_role("link", name=hidden).count() == 0, hidden
    assert page.get_by_role("button", name="Add member").count() == 0
    assert page.get_by_role("button", name=re.compile("^Change role")).count() == 0
    for suffix in ("/tokens", "/audit", "/certificates", "/delete"):
        response = console.visit(console.ws(suffix), f"refused{suffix.replace('/', '-')}")
        assert response.status == 403, suffix
        assert page.get_by_role("heading", level=1).inner_text() == "Permission denied"
    # and the forms' POSTs, from the member's own session, change nothing
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    console.visit(console.ws("/members"), "members-again")
    csrf = page.locator("input[name=csrftoken]").first.get_attribute("value")
    with httpx.Client(verify=False, base_url=console.site.url, cookies=cookies) as client:  # noqa: S501
        added = client.post(
            console.ws("/members"),
            data={"csrftoken": csrf, "email": "sneaky@acme.example", "role": "owner"},
        )
        token = client.post(console.ws("/tokens"), data={"csrftoken": csrf, "role": "viewer"})
    assert added.status_code == 403 and token.status_code == 403
    assert console.site.sr.access.tokens(console.site.workspace_id) == []
    assert "sneaky@acme.example" not in {
        m.email for m in console.site.sr.workspaces.members(console.site.workspace_id)
    }


# API tokens -------------------------------------------------------------------------------
def test_a_token_is_shown_once_works_and_stops_when_revoked(console: Console) -> None:
    page = console.page
    console.sign_in("admin")
    console.visit(console.ws("/tokens"), "tokens-empty")
    assert page.get_by_text("No API tokens yet.").is_visible()
    page.get_by_label("Role").select_option("viewer")
    page.get_by_label("Days until it expires").fill("7")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Create token").click()
    console.check("token-created")
    assert answer.value.status == 200
    assert answer.value.headers["cache-control"] == "no-store"
    shown = page.locator("#new-token")
    token = shown.input_value()
    assert token.startswith("sr_") or len(token) > 30
    assert "shown this once" in page.get_by_role("region", name="Your new token").inner_text()
    [issued] = console.site.sr.access.tokens(console.site.workspace_id)
    assert issued.role == "viewer"
    assert token not in page.url
    assert _api_status(console.site, token) == 200

    console.visit(console.ws("/tokens"), "tokens-listed")
    assert token not in page.content()
    assert _second_cell(console, issued.id) == "viewer"

    _row(console, issued.id).get_by_role("link", name=re.compile("^Revoke")).click()
    console.check("token-revoke-confirm")
    assert _api_status(console.site, token) == 200  # the confirmation page changes nothing
    page.get_by_role("button", name="Revoke token").click()
    console.check("token-revoked")
    assert "was revoked" in page.get_by_role("status").inner_text()
    assert _api_status(console.site, token) == 401
    assert _row(console, issued.id).get_by_role("link", name=re.compile("^Revoke")).count() == 0


def test_a_token_above_ones_role_or_lifetime_is_refused_next_to_the_field(
    console: Console,
) -> None:
    page = console.page
    console.sign_in("admin")
    console.visit(console.ws("/tokens"), "tokens")
    page.get_by_label("Role").select_option("owner")
    page.get_by_role("button", name="Create token").click()
    console.check("token-above-role")
    assert "admin cannot issue a owner token" in page.locator("#token-role-error").inner_text()
    page.get_by_label("Role").select_option("viewer")
    page.get_by_label("Days until it expires").fill("99999")
    page.get_by_role("button", name="Create token").click()
    console.check("token-too-long")
    assert "1 to 3650 days" in page.locator("#token-days-error").inner_text()
    assert page.get_by_label("Days until it expires").input_value() == "99999"
    assert page.locator("#new-token").count() == 0
    assert console.site.sr.access.tokens(console.site.workspace_id) == []


def test_another_tenants_token_is_not_found(console: Console) -> None:
    other = console.site.sr.workspaces.create("Other Co", "someone@other.example")
    theirs = console.site.sr.access.create_token(other.id, "viewer")
    console.sign_in("owner")
    response = console.visit(console.ws(f"/tokens/{theirs.id}/revoke"), "other-tenant-token")
    assert response.status == 404


# sessions ---------------------------------------------------------------------------------
@pytest.fixture
def second(browser: object, site: Site, output: Path) -> Iterator[Console]:
    """Another browser (its own cookies) on the same site."""
    folder = output / "second-browser"
    folder.mkdir()
    with Console.open(browser, site, folder) as opened:
        yield opened


def test_ending_another_session_signs_that_browser_out(console: Console, second: Console) -> None:
    second.sign_in("owner")
    second.visit(second.ws(), "second-signed-in")
    assert second.page.url.endswith(second.ws())

    console.sign_in("owner")
    console.visit(console.ws("/sessions"), "sessions")
    rows = console.page.get_by_role("row").filter(has=console.page.get_by_role("button"))
    assert rows.count() == 2
    mine = rows.filter(has_text="this browser")
    assert mine.count() == 1
    rows.filter(has_not_text="this browser").get_by_role("button", name=re.compile("^End")).click()
    console.check("session-ended")
    assert "signed out" in console.page.get_by_role("status").inner_text()
    assert console.page.get_by_role("row").filter(has_text="this browser").count() == 1
    assert len(console.site.sr.access.sessions_of(_owner_principal(console))) == 1

    second.visit(second.ws(), "second-sent-to-sign-in")
    assert "/console/sign-in" in second.page.url

    # ending this browser's own session signs it out
    console.page.get_by_role("button", name=re.compile(r"\(sign out\)")).click()
    console.check("own-session-ended")
    assert "/console/sign-in" in console.page.url
    console.visit(console.ws("/sessions"), "sessions-after")
    assert "/console/sign-in" in console.page.url


def _owner_principal(console: Console) -> Principal:
    """Whose sessions ``sessions_of`` lists: the owner (by user id)."""
    members = console.site.sr.workspaces.members(console.site.workspace_id)
    owner = next(m for m in members if m.email == console.site.emails["owner"])
    return Principal(PrincipalKind.SESSION, "tok_unused", owner.user_id)


def test_another_members_session_cannot_be_ended(console: Console) -> None:
    sr = console.site.sr
    theirs = sr.access.login(console.site.emails["admin"], "correct horse battery staple")
    console.sign_in("owner")
    console.visit(console.ws("/sessions"), "sessions")
    assert theirs.id not in console.page.content()
    cookies = {c["name"]: c["value"] for c in console.page.context.cookies()}
    csrf = console.page.locator("input[name=csrftoken]").first.get_attribute("value")
    with httpx.Client(verify=False, base_url=console.site.url, cookies=cookies) as client:  # noqa: S501
        answer = client.post(console.ws(f"/sessions/{theirs.id}/end"), data={"csrftoken": csrf})
    assert answer.status_code == 404
    assert sr.access.resume_session(theirs.id).user_id is not None  # still in force
