"""Agreements on SQLite and PostgreSQL: published texts the database itself will not let
change, owners' signed receipts, and re-acceptance on the new version's clock."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from strongroom import open_strongroom
from strongroom.bootstrap import Strongroom
from strongroom.clock import FixedClock
from strongroom.config import Settings
from strongroom.domain.agreements import Standing
from strongroom.domain.roles import Role
from strongroom.errors import Conflict, IntegrityFailure, InvalidInput, NotFound, PermissionDenied
from strongroom.services.agreements import Acceptor

SCC = b"SAMPLE standard contractual clauses, module two, for tests.\n"
DPA = "SAMPLE data processing agreement, for tests: caf\u00e9 \u2014 no modifications.\n"
OWNER = "owner@acme.example"


def _publish_pair(sr: Strongroom, today: date) -> None:
    sr.agreements.publish("scc", "2021-06", SCC, today)
    sr.agreements.publish("dpa", "2026-01", DPA.encode(), today)


def test_published_versions_are_refused_change_by_the_database_itself(sr: Strongroom) -> None:
    _publish_pair(sr, date(2026, 1, 2))
    before = sr.agreements.get("dpa", "2026-01")
    statements = [
        "UPDATE agreement_versions SET body = 'edited' WHERE kind = 'dpa'",
        "UPDATE agreement_versions SET sha256 = 'x', effective_on = effective_on",
        "DELETE FROM agreement_versions WHERE kind = 'dpa'",
        "DELETE FROM agreement_versions",
    ]
    if sr.ctx.store.engine.dialect.name == "postgresql":
        statements.append("TRUNCATE agreement_versions CASCADE")
    for statement in statements:
        refused = pytest.raises(DBAPIError, match="agreement versions are immutable")
        with refused, sr.ctx.store.engine.begin() as conn:
            conn.execute(text(statement))
    after = sr.agreements.get("dpa", "2026-01")
    assert after == before
    assert after.body == DPA
    assert len(sr.agreements.list()) == 2


def test_publishing_fixes_the_text_and_its_hash(sr: Strongroom) -> None:
    _publish_pair(sr, date(2026, 1, 2))
    dpa = sr.agreements.current("dpa")
    assert dpa.sha256 == hashlib.sha256(DPA.encode()).hexdigest()
    assert dpa.scc_version == "2021-06"  # the newest SCCs, when none is named
    with pytest.raises(Conflict):
        sr.agreements.publish("dpa", "2026-01", b"another text", date(2026, 1, 2))
    assert sr.agreements.current("dpa").body == DPA


@pytest.mark.parametrize(
    ("kind", "version", "body", "effective", "scc"),
    [
        ("msa", "1", b"text", date(2026, 1, 2), None),
        ("dpa", "../1", b"text", date(2026, 1, 2), None),
        ("dpa", "1", b"\xff\xfe not utf-8", date(2026, 1, 2), None),
        ("dpa", "1", b"   \n", date(2026, 1, 2), None),
        ("dpa", "1", b"bell\x07", date(2026, 1, 2), None),
        ("dpa", "1", b"x" * (256 * 1024 + 1), date(2026, 1, 2), None),
        ("dpa", "1", b"text", date(2025, 12, 31), None),  # effective in the past
        ("dpa", "1", b"text", date(2026, 1, 1), None),  # today: 00:00 UTC has passed
        ("dpa", "1", b"text", date(2026, 1, 2), "1999"),  # no such SCC version
        ("scc", "1", b"text", date(2026, 1, 2), "2021-06"),  # SCCs incorporate nothing
    ],
)
def test_bad_versions_are_refused_and_change_nothing(
    sr: Strongroom, kind: str, version: str, body: bytes, effective: date, scc: str | None
) -> None:
    sr.agreements.publish("scc", "2021-06", SCC, date(2026, 1, 2))
    with pytest.raises(InvalidInput):
        sr.agreements.publish(kind, version, body, effective, scc)
    assert [v.version for v in sr.agreements.list()] == ["2021-06"]


def test_a_dpa_needs_published_sccs(sr: Strongroom) -> None:
    with pytest.raises(InvalidInput, match="SCC"):
        sr.agreements.publish("dpa", "1", b"text", date(2026, 1, 2))


def test_an_owner_accepts_and_the_receipt_verifies(sr: Strongroom) -> None:
    ws = sr.workspaces.create("Acme", OWNER)
    _publish_pair(sr, date(2026, 1, 2))
    owner = sr.workspaces.members(ws.id)[0]
    receipt = sr.agreements.accept(
        ws.id,
        "2026-01",
        Acceptor(Role.OWNER, owner.user_id),
        client_address="203.0.113.9",
        user_agent="Mozilla/5.0\r\nX-Injected: 1",
    )
    assert receipt["agreement"]["sha256"] == sr.agreements.current("dpa").sha256
    assert receipt["incorporates"]["version"] == "2021-06"
    assert receipt["accepted_by"]["email"] == OWNER
    assert receipt["client"] == {
        "address": "203.0.113.9",
        "user_agent": "Mozilla/5.0??X-Injected: 1",
    }
    checked = sr.agreements.verify_receipt(json.dumps(receipt))
    assert checked["valid"] and checked["version"] == "2026-01"
    assert sr.agreements.status(ws.id).standing is Standing.CURRENT
    assert sr.agreements.receipts(ws.id) == [receipt]
    events = [e for e in sr.audit.events(ws.id) if e.action == "agreement.accept"]
    assert len(events) == 1
    with pytest.raises(Conflict):  # accepted once is enough
        sr.agreements.accept(ws.id, "2026-01", Acceptor(Role.OWNER, owner.user_id))


def test_the_receipt_is_sealed_at_rest(sr: Strongroom) -> None:
    ws = sr.workspaces.create("Acme", OWNER)
    _publish_pair(sr, date(2026, 1, 2))
    sr.agreements.accept_as(ws.id, "2026-01", OWNER)
    with sr.ctx.store.engine.connect() as conn:
        stored = b"".join(
            bytes(r[0])
            for r in conn.execute(text("SELECT receipt_sealed FROM agreement_acceptances"))
        )
    assert OWNER.encode() not in stored and b"accepted_by" not in stored


@pytest.mark.parametrize(
    "tamper",
    [
        lambda r: r["agreement"].update(version="2099-01"),
        lambda r: r["client"].update(address="198.51.100.1"),
        lambda r: r.update(workspace_id="ws_" + "a" * 26),
        lambda r: r.update(signature=r["signature"][:-4] + "AAA="),
    ],
)
def test_a_tampered_receipt_fails(sr: Strongroom, tamper: object) -> None:
    ws = sr.workspaces.create("Acme", OWNER)
    _publish_pair(sr, date(2026, 1, 2))
    receipt = sr.agreements.accept_as(ws.id, "2026-01", OWNER)
    assert callable(tamper)
    tamper(receipt)
    with pytest.raises(IntegrityFailure):
        sr.agreements.verify_receipt(json.dumps(receipt))


def test_only_owners_accept_and_another_tenant_is_not_found(sr: Strongroom) -> None:
    ws = sr.workspaces.create("Acme", OWNER)
    _publish_pair(sr, date(2026, 1, 2))
    for role in ("admin", "member", "viewer"):
        sr.workspaces.add_member(ws.id, f"{role}@acme.example", role)
        with pytest.raises(PermissionDenied):
            sr.agreements.accept_as(ws.id, "2026-01", f"{role}@acme.example")
    other = sr.workspaces.create("Other", "boss@other.example")
    with pytest.raises(NotFound):
        sr.agreements.accept_as(other.id, "2026-01", OWNER)
    assert sr.agreements.status(ws.id).standing is Standing.NOT_ACCEPTED


def test_a_new_version_asks_for_reacceptance_by_its_effective_date(
    sr: Strongroom, clock: FixedClock
) -> None:
    ws = sr.workspaces.create("Acme", OWNER)
    late = sr.workspaces.create("Late", "late@late.example")
    _publish_pair(sr, date(2026, 1, 2))
    sr.agreements.accept_as(ws.id, "2026-01", OWNER)
    sr.agreements.accept_as(late.id, "2026-01", "late@late.example")
    assert sr.agreements.verdict(clock.now()).holds

    clock.advance(timedelta(days=10))  # 2026-01-11: v2 takes effect on 2026-02-10
    sr.agreements.publish("dpa", "2026-02", b"SAMPLE DPA, second version.\n", date(2026, 2, 10))
    status = sr.agreements.status(ws.id)
    assert status.standing is Standing.REACCEPT_DUE
    assert status.accepted == "2026-01" and status.current == "2026-02"
    assert status.days_left(clock.now()) == 30
    with pytest.raises(Conflict, match="superseded"):
        sr.agreements.accept_as(ws.id, "2026-01", OWNER)
    verdict = sr.agreements.verdict(clock.now())
    assert verdict.holds and "2 re-acceptance(s) due" in verdict.evidence

    sr.agreements.accept_as(ws.id, "2026-02", OWNER)
    clock.advance(timedelta(days=29, hours=23))  # the earlier acceptance still valid
    assert sr.agreements.status(late.id).standing is Standing.REACCEPT_DUE
    assert sr.agreements.verdict(clock.now()).holds
    clock.advance(timedelta(hours=1))  # 2026-02-10 00:00 UTC
    assert sr.agreements.status(late.id).standing is Standing.OVERDUE
    assert sr.agreements.status(ws.id).standing is Standing.CURRENT
    verdict = sr.agreements.verdict(clock.now())
    assert not verdict.holds and "1 workspace(s) past the date" in verdict.evidence


def test_the_verdict_fails_without_a_dpa_and_when_a_stored_text_was_altered(
    sr: Strongroom, clock: FixedClock
) -> None:
    verdict = sr.agreements.verdict(clock.now())
    assert not verdict.holds and "no DPA" in verdict.evidence
    _publish_pair(sr, date(2026, 1, 2))
    assert sr.agreements.verdict(clock.now()).holds
    # Someone with the database owner's rights drops the trigger and edits the text.
    with sr.ctx.store.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE agreement_versions DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER agreement_versions_no_update"))
        conn.execute(text("UPDATE agreement_versions SET body = 'softer terms' WHERE kind='dpa'"))
    verdict = sr.agreements.verdict(clock.now())
    assert not verdict.holds and "dpa 2026-01" in verdict.evidence


def test_the_demo_publishes_sample_texts_and_its_owner_accepts(
    sr: Strongroom, clock: FixedClock
) -> None:
    from strongroom import demo

    loaded = demo.load_sample(sr)
    assert sr.agreements.status(loaded.workspace_id).standing is Standing.CURRENT
    assert sr.agreements.current("dpa").body.startswith("SAMPLE ONLY - NOT LEGAL ADVICE")
    assert sr.agreements.verdict(clock.now()).holds
    demo.accept_sample_agreements(sr, loaded.workspace_id)  # again: nothing new
    assert len(sr.agreements.list()) == 2
    assert len(sr.agreements.receipts(loaded.workspace_id)) == 1


def test_two_owners_accepting_at_once_make_one_acceptance(sr: Strongroom) -> None:
    import threading

    ws = sr.workspaces.create("Acme", OWNER)
    sr.workspaces.add_member(ws.id, "second@acme.example", "owner")
    _publish_pair(sr, date(2026, 1, 2))
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def accept(email: str) -> None:
        start.wait()
        try:
            sr.agreements.accept_as(ws.id, "2026-01", email)
            outcomes.append("accepted")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=accept, args=(e,)) for e in (OWNER, "second@acme.example")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["accepted", "conflict"]
    assert len(sr.agreements.receipts(ws.id)) == 1


def test_an_ended_trial_does_not_fail_the_promise_but_a_cancelled_workspace_does(
    sr: Strongroom, clock: FixedClock
) -> None:
    trial = sr.workspaces.create("Trial", "t@trial.example")
    cancelled = sr.workspaces.create("Gone", "g@gone.example")
    sr.plans.billing_event(trial.id, "trial_started", "evt-1", trial_days=5)
    _publish_pair(sr, date(2026, 1, 2))
    sr.agreements.accept_as(trial.id, "2026-01", "t@trial.example")
    sr.agreements.accept_as(cancelled.id, "2026-01", "g@gone.example")
    sr.plans.billing_event(cancelled.id, "cancelled", "evt-2")
    sr.agreements.publish("dpa", "2026-02", b"SAMPLE DPA two\n", date(2026, 1, 3))
    clock.advance(timedelta(days=6))  # past the new date, and the trial has ended
    verdict = sr.agreements.verdict(clock.now())
    assert not verdict.holds and "1 workspace(s)" in verdict.evidence
    assert set(sr.agreements.statuses()) == {cancelled.id}  # in its export window: bound


def test_versions_keep_their_publication_order_when_the_clock_stands_still(
    sr: Strongroom,
) -> None:
    labels = [f"v{i}" for i in range(8)]  # ids are random: a tie would order them at random
    sr.agreements.publish("scc", "1", SCC, date(2026, 1, 2))
    for label in labels:
        sr.agreements.publish("dpa", label, b"SAMPLE DPA\n", date(2026, 1, 2))
    assert [v.version for v in sr.agreements.list("dpa")] == labels
    assert sr.agreements.current("dpa").version == "v7"


def _row(sr: Strongroom) -> tuple[object, ...]:
    with sr.ctx.store.engine.connect() as conn:
        found = conn.execute(
            text("SELECT id, body, sha256 FROM agreement_versions WHERE kind = 'dpa'")
        ).all()
    assert len(found) == 1
    return tuple(found[0])


def test_inserts_that_would_replace_a_published_text_are_refused(sr: Strongroom) -> None:
    _publish_pair(sr, date(2026, 1, 2))
    before = _row(sr)
    softer = hashlib.sha256(b"softer terms").hexdigest()
    columns = (
        "id, kind, version, body, sha256, effective_on, scc_version, published_at, published_by"
    )
    same_id = (
        "SELECT id, kind, version, 'softer terms', :sha, effective_on, scc_version, "
        "published_at, published_by FROM agreement_versions WHERE kind = 'dpa'"
    )
    new_id = same_id.replace("SELECT id,", "SELECT 'agreement_x',", 1)
    upsert = "DO UPDATE SET body = excluded.body, sha256 = excluded.sha256"
    statements = [
        f"INSERT INTO agreement_versions ({columns}) {same_id} ON CONFLICT (id) {upsert}",
        f"INSERT INTO agreement_versions ({columns}) {new_id} ON CONFLICT (kind, version) {upsert}",
    ]
    postgresql = sr.ctx.store.engine.dialect.name == "postgresql"
    if not postgresql:  # SQLite's REPLACE deletes the old row without a DELETE trigger
        statements += [
            f"INSERT OR REPLACE INTO agreement_versions ({columns}) {same_id}",
            f"INSERT OR REPLACE INTO agreement_versions ({columns}) {new_id}",
            f"REPLACE INTO agreement_versions ({columns}) {same_id}",
        ]
    for statement in statements:
        refused = pytest.raises(DBAPIError, match="agreement versions are immutable")
        with refused, sr.ctx.store.engine.begin() as conn:
            conn.execute(text(statement), {"sha": softer})
        assert _row(sr) == before, statement
    assert sr.agreements.current("dpa").body == DPA
    if postgresql:
        # Without the INSERT trigger, the upsert still meets the UPDATE trigger.
        with sr.ctx.store.engine.begin() as conn:
            conn.execute(text("DROP TRIGGER agreement_versions_no_replace ON agreement_versions"))
        refused = pytest.raises(DBAPIError, match="agreement versions are immutable")
        with refused, sr.ctx.store.engine.begin() as conn:
            conn.execute(text(statements[0]), {"sha": softer})
        assert _row(sr) == before
    # A new version still publishes.
    sr.agreements.publish("dpa", "2026-02", b"SAMPLE DPA two\n", date(2026, 2, 1))
    assert sr.agreements.current("dpa").version == "2026-02"


def _drop_guards(sr: Strongroom) -> None:
    """Someone with the database owner's rights removes the triggers."""
    with sr.ctx.store.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE agreement_versions DISABLE TRIGGER USER"))
        else:
            for name in ("no_update", "no_delete", "no_replace"):
                conn.execute(text(f"DROP TRIGGER agreement_versions_{name}"))


def test_the_verdict_checks_texts_against_the_hashes_the_audit_chain_recorded(
    sr: Strongroom, clock: FixedClock
) -> None:
    _publish_pair(sr, date(2026, 1, 2))
    assert sr.agreements.verdict(clock.now()).holds
    _drop_guards(sr)
    softer = "softer terms"
    with sr.ctx.store.engine.begin() as conn:  # the text AND its stored hash, together
        conn.execute(
            text("UPDATE agreement_versions SET body = :b, sha256 = :h WHERE kind = 'dpa'"),
            {"b": softer, "h": hashlib.sha256(softer.encode()).hexdigest()},
        )
    assert sr.agreements.current("dpa").body == softer
    verdict = sr.agreements.verdict(clock.now())
    assert not verdict.holds
    assert "recorded at publication: dpa 2026-01" in verdict.evidence


def test_the_verdict_fails_for_a_version_with_no_publication_event(
    sr: Strongroom, clock: FixedClock
) -> None:
    _publish_pair(sr, date(2026, 1, 2))
    _drop_guards(sr)
    body = "SAMPLE DPA slipped in\n"
    with sr.ctx.store.engine.begin() as conn:  # written past the service: no audit event
        conn.execute(
            text(
                "INSERT INTO agreement_versions (id, kind, version, body, sha256, effective_on, "
                "scc_version, published_at, published_by) SELECT 'agreement_forged', kind, "
                "'2099-01', :b, :h, effective_on, scc_version, published_at, published_by "
                "FROM agreement_versions WHERE kind = 'dpa'"
            ),
            {"b": body, "h": hashlib.sha256(body.encode()).hexdigest()},
        )
    assert "2099-01" in [v.version for v in sr.agreements.list("dpa")]
    verdict = sr.agreements.verdict(clock.now())
    assert not verdict.holds
    assert "no publication recorded in the audit chain for: dpa 2099-01" in verdict.evidence


def test_a_workspace_that_never_accepts_becomes_overdue(sr: Strongroom, clock: FixedClock) -> None:
    early = sr.workspaces.create("Early", "e@early.example")  # 2026-01-01, before it takes effect
    _publish_pair(sr, date(2026, 1, 2))  # first acceptance due 2026-02-01 00:00 UTC
    clock.advance(timedelta(days=20))
    late = sr.workspaces.create("Late", "l@late.example")  # 2026-01-21: due 2026-02-20
    status = sr.agreements.status(early.id)
    due = datetime(2026, 2, 1, tzinfo=UTC)
    assert (status.standing, status.due_at) == (Standing.NOT_ACCEPTED, due)
    assert status.days_left(clock.now()) == 11
    verdict = sr.agreements.verdict(clock.now())
    assert verdict.holds and "2 first acceptance(s) due" in verdict.evidence

    clock.advance(timedelta(days=10, hours=23, minutes=59))  # 2026-01-31 23:59
    assert sr.agreements.status(early.id).standing is Standing.NOT_ACCEPTED
    assert sr.agreements.verdict(clock.now()).holds
    clock.advance(timedelta(minutes=1))  # 2026-02-01 00:00 UTC
    assert sr.agreements.status(early.id).standing is Standing.OVERDUE
    assert sr.agreements.status(late.id).standing is Standing.NOT_ACCEPTED
    assert sr.agreements.statuses()[early.id].standing is Standing.OVERDUE
    verdict = sr.agreements.verdict(clock.now())
    assert not verdict.holds
    assert "1 workspace(s) past the date" in verdict.evidence
    assert "1 of them never accepted any version" in verdict.evidence

    sr.agreements.accept_as(early.id, "2026-01", "e@early.example")  # late, but accepted
    assert sr.agreements.status(early.id).standing is Standing.CURRENT
    assert sr.agreements.verdict(clock.now()).holds
    clock.advance(timedelta(days=19))  # 2026-02-20 00:00 UTC: the later one's turn
    assert sr.agreements.status(late.id).standing is Standing.OVERDUE
    assert not sr.agreements.verdict(clock.now()).holds


def test_the_first_acceptance_days_come_from_the_settings(
    home: Settings, clock: FixedClock
) -> None:
    with open_strongroom(settings=replace(home, dpa_first_acceptance_days=5), clock=clock) as sr:
        ws = sr.workspaces.create("Acme", OWNER)
        _publish_pair(sr, date(2026, 1, 2))
        clock.advance(timedelta(days=5, hours=23))  # 2026-01-06 23:00
        assert sr.agreements.status(ws.id).standing is Standing.NOT_ACCEPTED
        clock.advance(timedelta(hours=1))  # 2026-01-07 00:00: 5 days after it took effect
        assert sr.agreements.status(ws.id).standing is Standing.OVERDUE
        assert not sr.agreements.verdict(clock.now()).holds
