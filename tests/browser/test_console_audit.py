"""The audit log in the console: filtered by action and dates, paged, and its chain
verified, in a real browser."""

from __future__ import annotations

from datetime import timedelta

from tests.browser.console_support import Console


def _actions(console: Console) -> list[str]:
    cells = console.page.locator("table.audit td.audit-action")
    return [str(c).strip() for c in cells.all_inner_texts()]


def test_the_log_filtered_by_an_action_shows_only_it_and_the_chain_verifies(
    console: Console,
) -> None:
    sr, ws = console.site.sr, console.site.workspace_id
    added = sr.workspaces.add_member(ws, "temp@acme.example", "viewer", actor="test")
    sr.workspaces.set_role(ws, added.user_id, "member", actor="test")
    sr.workspaces.set_role(ws, added.user_id, "admin", actor="test")
    page = console.page
    console.sign_in("admin")
    console.visit(console.ws("/audit"), "audit")
    everything = _actions(console)
    assert {"workspace.create", "member.add", "member.set_role"} <= set(everything)

    page.get_by_label("Action").fill("member.set_role")
    page.get_by_role("button", name="Show events").click()
    console.check("audit-filtered")
    assert _actions(console) == ["member.set_role", "member.set_role"]
    assert page.get_by_label("Action").input_value() == "member.set_role"

    page.get_by_role("button", name="Verify chain").click()
    console.check("audit-verified")
    verdict = page.locator("#chain-verdict").inner_text()
    assert verdict.startswith("The audit chain is intact")
    assert _actions(console) == ["member.set_role", "member.set_role"]  # the filter is kept

    page.get_by_label("Action").fill("member")  # a prefix: every member.* action
    page.get_by_role("button", name="Show events").click()
    console.check("audit-prefix")
    assert set(_actions(console)) == {"member.add", "member.set_role"}


def test_a_time_range_keeps_only_its_days_and_a_backwards_range_is_refused(
    console: Console,
) -> None:
    sr, ws, clock = console.site.sr, console.site.workspace_id, console.site.clock
    today = clock.now().date()
    clock.advance(timedelta(days=3))
    sr.workspaces.add_member(ws, "later@acme.example", "viewer", actor="test")
    later = clock.now().date()
    page = console.page
    console.sign_in("owner")
    console.visit(console.ws("/audit"), "audit")

    page.get_by_label("From (UTC)").fill(later.isoformat())
    page.get_by_role("button", name="Show events").click()
    console.check("audit-from-later")
    assert _actions(console) == ["member.add"]  # later@ only

    page.get_by_label("From (UTC)").fill(today.isoformat())
    page.get_by_label("To (UTC, inclusive)").fill(today.isoformat())
    page.get_by_role("button", name="Show events").click()
    console.check("audit-today-only")
    # the workspace and its first members (admin, member, viewer), not later@
    assert _actions(console) == ["workspace.create"] + ["member.add"] * 3

    page.get_by_label("From (UTC)").fill(later.isoformat())
    page.get_by_label("To (UTC, inclusive)").fill(today.isoformat())
    with page.expect_response(lambda r: "/audit?" in r.url) as answer:
        page.get_by_role("button", name="Show events").click()
    console.check("audit-backwards")
    assert answer.value.status == 422
    assert "comes before the start date" in page.locator("#audit-until-error").inner_text()
    assert page.get_by_label("To (UTC, inclusive)").input_value() == today.isoformat()


def test_the_log_pages(console: Console) -> None:
    sr, ws = console.site.sr, console.site.workspace_id
    for n in range(60):
        sr.workspaces.add_member(ws, f"p{n}@acme.example", "viewer", actor="test")
    console.sign_in("owner")
    console.visit(console.ws("/audit?action=member.add"), "audit-page-1")
    first = console.page.locator("table.audit tbody tr").count()
    assert first == 50
    console.page.get_by_role("link", name="Next page").click()
    console.check("audit-page-2")
    assert _actions(console) == ["member.add"] * (63 - 50)  # 3 first members + 60
    assert console.page.get_by_role("link", name="Next page").count() == 0


def test_an_edited_event_makes_verify_chain_report_it_broken(console: Console) -> None:
    """An intruder with database access edits an event (through the tables, as in
    tests/integration/test_audit_tampering.py): the console says the chain is broken."""
    from sqlalchemy import update

    from strongroom.storage import tables as t

    sr = console.site.sr
    with sr.ctx.store.write() as uow:
        uow.conn.execute(
            update(t.audit_events).where(t.audit_events.c.seq == 2).values(actor="someone-else")
        )
        uow.commit()
    console.sign_in("owner")
    console.visit(console.ws("/audit/verify"), "audit-broken")
    verdict = console.page.locator("#chain-verdict").inner_text()
    assert verdict == (
        "The audit chain is broken: an event was changed after it was written. Tell your operator."
    )
