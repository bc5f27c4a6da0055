"""Operators in the console: an operator token opens the operators' pages, nothing else
does, and a revoked token ends the session at once."""

from __future__ import annotations

import httpx

from tests.browser.console_support import Console


def _sign_in_as_operator(console: Console, token: str) -> None:
    console.visit("/console/operator/sign-in", "operator-sign-in")
    console.page.get_by_label("Operator token").fill(token)
    console.page.get_by_role("button", name="Sign in").click()
    console.page.wait_for_load_state("load")


def test_an_operator_token_opens_the_operators_pages(console: Console) -> None:
    issued = console.site.sr.access.create_operator_token(1, actor="test")
    console.visit("/console/operator/", "operator-home-signed-out")
    assert console.page.url.endswith("/console/operator/sign-in")
    _sign_in_as_operator(console, issued.token)
    assert console.page.url.endswith("/console/operator/")
    console.check("operator-home")
    assert console.page.get_by_role("heading", name="Operations").is_visible()
    assert console.page.get_by_role("navigation", name="Operators").is_visible()

    console.site.sr.access.revoke(issued.id, actor="test")
    console.visit("/console/operator/", "operator-revoked")
    assert console.page.url.endswith("/console/operator/sign-in")


def test_a_member_token_or_a_wrong_one_is_refused(console: Console) -> None:
    member = console.site.sr.access.create_token(console.site.workspace_id, "owner", 1, actor="t")
    for token in (member.token, "srt_not_a_token", ""):
        _sign_in_as_operator(console, token)
        console.check("operator-refused")
        assert console.page.get_by_role("alert").inner_text() == (
            "That is not an operator token in force."
        )
        assert console.page.url.endswith("/console/operator/sign-in")


def test_a_member_session_is_not_an_operator_session(console: Console) -> None:
    console.sign_in("owner")
    console.visit("/console/operator/", "operator-as-member")
    assert console.page.url.endswith("/console/operator/sign-in")


def test_signing_out_ends_the_operator_session(console: Console) -> None:
    issued = console.site.sr.access.create_operator_token(1, actor="test")
    _sign_in_as_operator(console, issued.token)
    cookie = {c["name"]: c["value"] for c in console.page.context.cookies()}["__Host-strongroom"]
    console.page.get_by_role("button", name="Sign out").click()
    console.page.wait_for_load_state("load")
    with httpx.Client(verify=False, base_url=console.site.url) as other:  # noqa: S501
        other.cookies.set("__Host-strongroom", cookie)
        answer = other.get("/console/operator/", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/operator/sign-in"
