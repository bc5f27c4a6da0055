"""Signing in to the console in a real browser: the cookie, the CSP, CSRF, sign-out."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

from tests.browser.console_support import PASSWORD, Console, Site


def test_an_owner_signs_in_and_sees_the_workspace_overview(console: Console) -> None:
    console.visit("/console/", "sign-in")
    assert "/console/sign-in" in console.page.url
    console.sign_in("owner")
    assert console.page.url.endswith(console.ws())
    console.check("overview")
    assert console.page.get_by_role("heading", name="Acme Recruiting").is_visible()
    assert console.page.get_by_text("owner@acme.example").is_visible()

    cookies = {c["name"]: c for c in console.page.context.cookies()}
    session = cookies["__Host-strongroom"]
    assert session["secure"] and session["httpOnly"] and session["sameSite"] == "Lax"
    assert session["path"] == "/" and not session["domain"].startswith(".")
    assert cookies["__Host-csrftoken"]["secure"]


def test_a_wrong_password_keeps_the_email_and_says_why(console: Console) -> None:
    console.page.goto("/console/sign-in")
    console.page.get_by_label("Email").fill("owner@acme.example")
    console.page.get_by_label("Password").fill("not the password")
    console.page.get_by_role("button", name="Sign in").click()
    console.check("sign-in-refused")
    assert console.page.get_by_role("alert").inner_text() == "Wrong email or password."
    assert console.page.get_by_label("Email").input_value() == "owner@acme.example"


def test_signing_out_ends_the_session_on_the_server(console: Console) -> None:
    console.sign_in("owner")
    stolen = {c["name"]: c["value"] for c in console.page.context.cookies()}
    console.page.get_by_role("button", name="Sign out").click()
    console.page.wait_for_load_state("load")
    assert "/console/sign-in" in console.page.url
    # the old cookie, replayed from elsewhere, signs nobody in
    with httpx.Client(verify=False, base_url=console.site.url) as other:  # noqa: S501
        other.cookies.set("__Host-strongroom", stolen["__Host-strongroom"])
        answer = other.get(console.ws(), follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/console/sign-in")


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(console: Console) -> None:
    console.sign_in("owner")
    status = console.page.evaluate(
        """async () => (await fetch("/console/sign-out", {method: "POST",
             headers: {"content-type": "application/x-www-form-urlencoded"},
             body: "x=1"})).status"""
    )
    assert status == 403
    forged = console.page.evaluate(
        """async () => (await fetch("/console/sign-out", {method: "POST",
             headers: {"content-type": "application/x-www-form-urlencoded"},
             body: "csrftoken=forged"})).status"""
    )
    assert forged == 403
    console.visit(console.ws(), "still-signed-in")  # the sign-out never happened
    assert console.page.url.endswith(console.ws())
    assert console.page.get_by_role("button", name="Sign out").is_visible()


def test_every_console_page_has_a_strict_content_security_policy(console: Console) -> None:
    response = console.visit("/console/sign-in", "sign-in")
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert response.headers["strict-transport-security"].startswith("max-age=")


def test_another_tenants_workspace_is_not_found(console: Console) -> None:
    other = console.site.sr.workspaces.create("Other Co", "someone@other.example")
    console.sign_in("owner")
    response = console.visit(f"/console/w/{other.id}", "other-tenant")
    assert response.status == 404
    assert "Other Co" not in console.page.content()


def test_the_console_works_at_phone_width_and_by_keyboard(console: Console) -> None:
    console.page.set_viewport_size({"width": 375, "height": 812})
    console.sign_in("owner")
    console.check("overview-phone")
    overflow = console.page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px at phone width"
    console.page.keyboard.press("Tab")  # the first stop: skip to the content
    focused = console.page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Skip to content"
    outline = console.page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("", "none"), "the focused link shows no focus ring"
    console.page.keyboard.press("Enter")
    assert console.page.evaluate("document.activeElement.id") == "main"


def test_times_are_shown_in_the_readers_time_zone_with_utc_on_hover(
    browser: object, site: Site, output: Path
) -> None:
    sr = site.sr
    project = sr.projects.create(site.workspace_id, "Autumn Hiring")
    created = project.created_at.astimezone(UTC)
    with Console.open(browser, site, output, timezone="Asia/Tokyo") as console:
        console.sign_in("owner")
        console.visit(console.ws("/projects"), "projects-tokyo")
        shown = console.page.locator("td time").first
        assert shown.get_attribute("title") == created.strftime("%Y-%m-%d %H:%M UTC")
        tokyo = created.astimezone(ZoneInfo("Asia/Tokyo"))
        text = shown.inner_text()
        assert f"{tokyo.hour % 12 or 12}:{tokyo.minute:02d}" in text, text
        assert "UTC" not in text


@contextmanager
def _signed_in_client(site: Site, role: str = "owner") -> Iterator[httpx.Client]:
    with httpx.Client(verify=False, base_url=site.url) as client:  # noqa: S501 - own CA
        form = client.get("/console/sign-in").text
        token = form.split('name="csrftoken" value="', 1)[1].split('"', 1)[0]
        answer = client.post(
            "/console/sign-in",
            data={"csrftoken": token, "email": site.emails[role], "password": PASSWORD},
        )
        assert answer.status_code == 303
        yield client


def _csrf(client: httpx.Client) -> str:
    return str(client.cookies["__Host-csrftoken"])


def test_a_message_naming_a_project_is_never_stored_in_clear(site: Site) -> None:
    with _signed_in_client(site) as client:
        created = client.post(
            f"/console/w/{site.workspace_id}/projects",
            data={"csrftoken": _csrf(client), "name": "Secret Orchard Hiring"},
        )
        assert created.status_code == 303  # the message waits in the session, unread
        home = site.sr.settings.home
        for path in home.rglob("*"):
            if path.is_file():
                assert b"Secret Orchard" not in path.read_bytes(), path
        shown = client.get(created.headers["location"])
        assert "Secret Orchard Hiring" in shown.text


def test_signing_in_over_a_session_ends_the_old_one(site: Site) -> None:
    with _signed_in_client(site, "owner") as client:
        old = client.cookies["__Host-strongroom"]
        client.post(  # a sign-in form left open from before, say
            "/console/sign-in",
            data={"csrftoken": _csrf(client), "email": site.emails["admin"], "password": PASSWORD},
        )
        assert client.cookies["__Host-strongroom"] != old
    with httpx.Client(verify=False, base_url=site.url) as replay:  # noqa: S501
        replay.cookies.set("__Host-strongroom", old)
        answer = replay.get(f"/console/w/{site.workspace_id}", follow_redirects=False)
    assert answer.status_code == 303 and "/console/sign-in" in answer.headers["location"]
