"""The lifecycle over real HTTPS: trash and restore, purges and their certificates,
deleting a workspace, billing events and plan states, legal holds. Time passes on a
FixedClock shared by the server; ``run_once`` is the worker's next pass."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from strongroom.clock import FixedClock
from tests.e2e.api_support import LiveServer, live_server

ROLES = ("owner", "admin", "member", "member2", "viewer")


@dataclass
class Env:
    live: LiveServer
    clock: FixedClock
    ws: str
    project: str
    tokens: dict[str, str]

    def client(self, who: str | None) -> httpx.Client:
        return self.live.client(self.tokens[who] if who else None)

    @property
    def base(self) -> str:
        return f"/v1/workspaces/{self.ws}"

    def prj(self, project: str | None = None) -> str:
        return f"{self.base}/projects/{project or self.project}"

    def record(self, document: dict[str, Any] | None = None, project: str | None = None) -> str:
        return self.live.sr.records.put(
            self.ws, project or self.project, "notes", document or {"text": "secret"}
        ).id

    def file(self, project: str | None = None) -> str:
        return self.live.sr.files.put(
            self.ws, project or self.project, "cv.txt", io.BytesIO(b"resume")
        ).id

    def audit_count(self) -> int:
        return len(self.live.sr.audit.events(self.ws, 0, 100_000))

    def run_once(self) -> dict[str, list[str]]:
        return self.live.sr.worker.run_once().as_json()


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
    with live_server(tmp_path / "home", clock=clock) as live:
        sr = live.sr
        ws = sr.workspaces.create("Acme Hiring", "owner@acme.example")
        project = sr.projects.create(ws.id, "Hiring 2027")
        tokens = {who: sr.access.create_token(ws.id, who.rstrip("2")).token for who in ROLES}
        tokens["operator"] = sr.access.create_operator_token().token
        yield Env(live, clock, ws.id, project.id, tokens)


def _entries(env: Env, who: str = "viewer") -> list[dict[str, Any]]:
    with env.client(who) as c:
        return list(c.get(f"{env.base}/trash").json()["items"])


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# trash ------------------------------------------------------------------------------------
def test_deletes_leave_reads_at_once_and_wait_30_days_in_the_trash(env: Env) -> None:
    record, stored = env.record(), env.file()
    other = env.live.sr.projects.create(env.ws, "Old").id
    with env.client("member") as member, env.client("admin") as admin:
        deleted = [
            member.delete(f"{env.prj()}/records/{record}"),
            member.delete(f"{env.prj()}/files/{stored}"),
            admin.delete(env.prj(other)),
        ]
        assert [d.status_code for d in deleted] == [200, 200, 200]
        assert member.get(f"{env.prj()}/records/{record}").status_code == 404
        assert member.get(f"{env.prj()}/files/{stored}/content").status_code == 404
        assert member.get(env.prj(other)).status_code == 404
        assert other not in [p["id"] for p in member.get(f"{env.base}/projects").json()["items"]]
        files = member.get(f"{env.prj()}/files").json()["items"]
        assert stored not in [f["id"] for f in files]
        again = member.delete(f"{env.prj()}/records/{record}")
        assert again.status_code == 404  # already in the trash

    bodies = [d.json() for d in deleted]
    assert [(b["kind"], b["subject_id"]) for b in bodies] == [
        ("record", record),
        ("file", stored),
        ("project", other),
    ]
    for body in bodies:
        assert body["state"] == "trashed"
        assert _at(body["restore_until"]) - _at(body["deleted_at"]) == timedelta(days=30)
        assert _at(body["deleted_at"]) == env.clock.now()
    assert bodies[0]["deleted_by"].startswith("token:") and bodies[0]["project_id"] == env.project

    seen: list[dict[str, Any]] = []
    cursor = None
    with env.client("viewer") as viewer:
        while True:
            params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
            page = viewer.get(f"{env.base}/trash", params=params).json()
            seen += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                break
    assert sorted(e["id"] for e in seen) == sorted(b["id"] for b in bodies)
    assert {e["id"]: e for e in seen} == {b["id"]: b for b in bodies}


def test_a_member_restores_their_own_deletions_and_an_admin_anyones(env: Env) -> None:
    mine, theirs = env.record({"n": 1}), env.record({"n": 2})
    with env.client("member") as a, env.client("member2") as b, env.client("admin") as admin:
        entry = a.delete(f"{env.prj()}/records/{mine}").json()["id"]
        refused = b.post(f"{env.base}/trash/{entry}/restore")
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/problem+json"
        assert "only what it deleted" in refused.json()["detail"]
        assert b.get(f"{env.prj()}/records/{mine}").status_code == 404

        restored = a.post(f"{env.base}/trash/{entry}/restore")
        assert restored.status_code == 200 and restored.json()["state"] == "restored"
        assert a.get(f"{env.prj()}/records/{mine}").json()["document"] == {"n": 1}
        assert a.post(f"{env.base}/trash/{entry}/restore").status_code == 409  # done already

        other = b.delete(f"{env.prj()}/records/{theirs}").json()["id"]
        assert admin.post(f"{env.base}/trash/{other}/restore").status_code == 200
        assert a.get(f"{env.prj()}/records/{theirs}").json()["document"] == {"n": 2}
    assert _entries(env) == []


def test_restoring_a_project_brings_back_what_it_took_and_nothing_deleted_before(
    env: Env,
) -> None:
    alone, kept = env.record({"n": "alone"}), env.record({"n": "kept"})
    stored = env.file()
    with env.client("admin") as admin:
        alone_entry = admin.delete(f"{env.prj()}/records/{alone}").json()["id"]
        project_entry = admin.delete(env.prj()).json()["id"]
        assert admin.get(f"{env.prj()}/records/{kept}").status_code == 404
        early = admin.post(f"{env.base}/trash/{alone_entry}/restore")
        assert early.status_code == 409 and "restore the project first" in early.json()["detail"]

        assert admin.post(f"{env.base}/trash/{project_entry}/restore").status_code == 200
        assert admin.get(f"{env.prj()}/records/{kept}").json()["document"] == {"n": "kept"}
        assert admin.get(f"{env.prj()}/files/{stored}/content").content == b"resume"
        assert admin.get(f"{env.prj()}/records/{alone}").status_code == 404
        assert [e["id"] for e in _entries(env)] == [alone_entry]
        assert admin.post(f"{env.base}/trash/{alone_entry}/restore").status_code == 200
        assert admin.get(f"{env.prj()}/records/{alone}").status_code == 200


def test_after_the_deadline_a_restore_is_refused_and_the_purge_leaves_a_certificate(
    env: Env,
) -> None:
    record = env.record()
    with env.client("member") as member:
        entry = member.delete(f"{env.prj()}/records/{record}").json()
    env.clock.advance(timedelta(days=30, seconds=1))
    with env.client("member") as member:
        late = member.post(f"{env.base}/trash/{entry['id']}/restore")
    assert late.status_code == 409
    assert late.headers["content-type"] == "application/problem+json"
    assert "restore deadline passed" in late.json()["detail"]
    assert entry["restore_until"][:19] in late.json()["detail"]

    assert len(env.run_once()["done"]) == 1
    assert _entries(env) == []
    with env.client("owner") as owner:
        assert owner.get(f"{env.prj()}/records/{record}").status_code == 404
        ledger = owner.get(f"{env.base}/certificates").json()
    [item] = ledger["items"]
    assert (item["kind"], item["subject_id"], item["reason"]) == (
        "record",
        record,
        "trash_expired",
    )
    assert ledger["next_after"] is None
    with env.client("operator") as operator:
        certificate = operator.get(f"/v1/certificates/{item['certificate_id']}").json()
        verified = operator.post("/v1/certificates/verify", json=certificate)
    assert certificate["subject"]["id"] == record
    assert verified.status_code == 200 and verified.json()["valid"] is True
    assert verified.json()["sha256"] == item["sha256"]


def test_an_owner_deletes_forever_only_with_confirmation(env: Env) -> None:
    record = env.record()
    with env.client("member") as member:
        entry = member.delete(f"{env.prj()}/records/{record}").json()["id"]
    before = env.audit_count()
    with env.client("owner") as owner, env.client("admin") as admin:
        unconfirmed = owner.delete(f"{env.base}/trash/{entry}")
        assert unconfirmed.status_code == 400
        assert "confirm" in unconfirmed.json()["detail"]
        assert (
            owner.delete(f"{env.base}/trash/{entry}", params={"confirm": "false"}).status_code
            == 400
        )
        assert env.audit_count() == before and [e["id"] for e in _entries(env)] == [entry]
        assert (
            admin.delete(f"{env.base}/trash/{entry}", params={"confirm": "true"}).status_code == 403
        )

        purged = owner.delete(f"{env.base}/trash/{entry}", params={"confirm": "true"})
        assert purged.status_code == 202
        assert purged.json()["state"] == "purge scheduled"
        assert purged.json()["deadline_id"].startswith("ddl_")
        again = owner.delete(f"{env.base}/trash/{entry}", params={"confirm": "true"})
        assert again.status_code == 202 and again.json() == purged.json()  # the same purge
        assert env.run_once()["done"] == [purged.json()["deadline_id"]]
        assert owner.post(f"{env.base}/trash/{entry}/restore").status_code == 409
        [item] = owner.get(f"{env.base}/certificates").json()["items"]
    assert (item["subject_id"], item["reason"]) == (record, "deleted_forever")


# the end of a workspace -------------------------------------------------------------------
def test_deleting_the_workspace_needs_its_name_and_locks_everyone_out_at_once(env: Env) -> None:
    sr = env.live.sr
    sr.workspaces.add_member(env.ws, "ada@acme.example", "member")
    sr.access.set_password("ada@acme.example", "correct horse battery")
    with env.live.client() as anonymous:
        session = anonymous.post(
            "/v1/sessions", json={"email": "ada@acme.example", "password": "correct horse battery"}
        ).json()["token"]
    record = env.record()
    before = env.audit_count()
    with env.client("owner") as owner, env.client("admin") as admin:
        wrong = owner.request("DELETE", env.base, json={"confirm_name": "Acme"})
        assert wrong.status_code == 400 and "does not match" in wrong.json()["detail"]
        assert owner.request("DELETE", env.base, json={}).status_code == 422
        assert (
            admin.request("DELETE", env.base, json={"confirm_name": "Acme Hiring"}).status_code
            == 403
        )
        assert env.audit_count() == before
        assert owner.get(f"{env.base}/plan").json()["state"] == "active"

        deleted = owner.request("DELETE", env.base, json={"confirm_name": "Acme Hiring"})
        assert deleted.status_code == 202
        assert deleted.json()["state"] == "closed"
        assert deleted.json()["purge_reason"] == "workspace_deleted"
        assert _at(deleted.json()["purge_due_at"]) == env.clock.now()
    for who in ROLES:
        with env.client(who) as client:
            assert client.get(env.base).status_code == 401, who
    with env.live.client(session) as member:
        assert member.get(env.base).status_code == 404
        assert member.get(f"{env.prj()}/records/{record}").status_code == 404
        assert member.get("/v1/workspaces").json()["items"] == []

    assert len(env.run_once()["done"]) == 1
    with env.client("operator") as operator:
        ledger = operator.get("/v1/certificates", params={"workspace_id": env.ws}).json()
        [item] = [i for i in ledger["items"] if i["kind"] == "workspace"]
        assert (item["subject_id"], item["reason"]) == (env.ws, "workspace_deleted")
        certificate = operator.get(f"/v1/certificates/{item['certificate_id']}").json()
        assert operator.post("/v1/certificates/verify", json=certificate).json()["valid"]


# plans ------------------------------------------------------------------------------------
def _billing(env: Env, kind: str, event_id: str, **extra: Any) -> httpx.Response:
    with env.client("operator") as operator:
        return operator.post(
            f"{env.base}/billing-events", json={"kind": kind, "event_id": event_id, **extra}
        )


def test_billing_events_are_applied_once(env: Env) -> None:
    start = env.clock.now()
    trial = _billing(env, "trial_started", "evt-1", trial_days=14)
    assert trial.status_code == 200
    plan = trial.json()
    assert plan["state"] == "trial"
    assert _at(plan["trial_ends_at"]) == start + timedelta(days=14)
    assert _at(plan["purge_due_at"]) == start + timedelta(days=44)
    assert plan["purge_reason"] == "trial_expired"

    before = env.audit_count()
    env.clock.advance(timedelta(days=1))
    repeated = _billing(env, "trial_started", "evt-1", trial_days=14)
    assert (repeated.status_code, repeated.json()) == (200, plan)
    assert env.audit_count() == before
    reused = _billing(env, "cancelled", "evt-1")
    assert reused.status_code == 409 and "already used" in reused.json()["detail"]

    activated = _billing(env, "activated", "evt-2").json()
    assert (activated["state"], activated["purge_due_at"]) == ("active", None)
    cancelled = _billing(env, "cancelled", "evt-3").json()
    assert cancelled["state"] == "cancelled"
    assert _at(cancelled["purge_due_at"]) == env.clock.now() + timedelta(days=30)
    assert _billing(env, "cancelled", "evt-3").json() == cancelled
    assert _billing(env, "trial_started", "evt-4", trial_days=3).status_code == 409
    reactivated = _billing(env, "reactivated", "evt-5").json()
    assert (reactivated["state"], reactivated["purge_due_at"]) == ("active", None)
    with env.client("viewer") as viewer:
        assert viewer.get(f"{env.base}/plan").json() == reactivated


def test_a_cancelled_workspace_is_read_only(env: Env) -> None:
    record = env.record()
    entry = env.live.sr.records.delete(env.ws, env.project, env.record()).id
    _billing(env, "cancelled", "evt-c")
    with env.client("owner") as owner:
        assert owner.get(f"{env.prj()}/records/{record}").status_code == 200
        assert owner.get(f"{env.base}/trash").status_code == 200
        assert owner.get(f"{env.base}/plan").json()["state"] == "cancelled"
        writes = [
            owner.post(f"{env.prj()}/records", json={"collection": "notes", "document": {"x": 1}}),
            owner.delete(f"{env.prj()}/records/{record}"),
            owner.delete(env.prj()),
            owner.post(f"{env.base}/trash/{entry}/restore"),
            owner.delete(f"{env.base}/trash/{entry}", params={"confirm": "true"}),
        ]
        assert [w.status_code for w in writes] == [409] * 5
        assert "read-only" in writes[0].json()["detail"]
    with env.client("viewer") as viewer:
        assert viewer.get(f"{env.base}/plan").status_code == 200


def test_an_expired_trial_is_kept_but_unusable_until_activated(env: Env) -> None:
    record = env.record()
    _billing(env, "trial_started", "evt-t", trial_days=14)
    env.clock.advance(timedelta(days=15))
    with env.client("owner") as owner, env.client("viewer") as viewer:
        refused = viewer.get(f"{env.prj()}/records/{record}")
        assert refused.status_code == 409 and "trial has ended" in refused.json()["detail"]
        assert viewer.get(f"{env.base}/plan").status_code == 409
        plan = owner.get(f"{env.base}/plan")
        assert plan.status_code == 200 and plan.json()["state"] == "expired"
        assert _billing(env, "activated", "evt-a").json()["state"] == "active"
        assert viewer.get(f"{env.prj()}/records/{record}").status_code == 200


# legal holds ------------------------------------------------------------------------------
def test_a_hold_keeps_a_due_purge_until_it_is_cleared(env: Env) -> None:
    record = env.record()
    with env.client("member") as member:
        entry = member.delete(f"{env.prj()}/records/{record}").json()["id"]
    with env.client("operator") as operator:
        held = operator.post(f"{env.base}/holds", json={"reason": "litigation 2027-114"})
        assert held.status_code == 201 and held.json()["id"].startswith("hld_")
        env.clock.advance(timedelta(days=31))
        assert env.run_once()["held"] != []
        assert [e["id"] for e in _entries(env)] == [entry]
        [due] = operator.get("/v1/lifecycle/plan").json()["items"]
        assert (due["subject_id"], due["held"]) == (entry, True)
        with env.client("owner") as owner:
            plan = owner.get(f"{env.base}/plan").json()
            assert [h["id"] for h in plan["holds"]] == [held.json()["id"]]
            assert "litigation" not in owner.get(f"{env.base}/plan").text  # sealed

        cleared = operator.delete(f"{env.base}/holds")
        assert cleared.status_code == 200 and cleared.json()["cleared"] == [held.json()["id"]]
        assert operator.delete(f"{env.base}/holds").status_code == 404
        assert operator.get("/v1/lifecycle/plan").json()["items"][0]["held"] is False
    assert len(env.run_once()["done"]) == 1
    assert _entries(env) == []
    with env.client("owner") as owner:
        assert owner.get(f"{env.base}/plan").json()["holds"] == []
        assert len(owner.get(f"{env.base}/certificates").json()["items"]) == 1


def test_the_schedule_and_the_ledger_page_through(env: Env) -> None:
    entries = [env.live.sr.records.delete(env.ws, env.project, env.record()) for _ in range(3)]
    for entry in entries:
        env.clock.advance(timedelta(minutes=1))
        env.live.sr.trash.purge_now(env.ws, entry.id)
    with env.client("operator") as operator:
        first = operator.get("/v1/lifecycle/plan", params={"limit": 2}).json()
        second = operator.get(
            "/v1/lifecycle/plan", params={"limit": 2, "cursor": first["next_cursor"]}
        ).json()
        assert second["next_cursor"] is None
        due = [i["subject_id"] for i in first["items"] + second["items"]]
        assert due == [e.id for e in entries]  # by due time
        assert (
            operator.get("/v1/lifecycle/plan", params={"until": "2000-01-01T00:00:00Z"}).json()[
                "items"
            ]
            == []
        )
        assert operator.get("/v1/lifecycle/plan", params={"until": "2030-01-01"}).status_code == 422
        env.run_once()
        page = operator.get("/v1/certificates", params={"workspace_id": env.ws, "limit": 2}).json()
        rest = operator.get(
            "/v1/certificates", params={"workspace_id": env.ws, "after": page["next_after"]}
        ).json()
    assert len(page["items"]) == 2 and len(rest["items"]) == 1 and rest["next_after"] is None
    subjects = [i["subject_id"] for i in page["items"] + rest["items"]]
    assert sorted(subjects) == sorted(e.subject_id for e in entries)


# certificates -----------------------------------------------------------------------------
def test_verify_names_what_fails(env: Env) -> None:
    sr = env.live.sr
    sr.trash.purge_now(env.ws, sr.records.delete(env.ws, env.project, env.record()).id)
    env.run_once()
    [item] = sr.certificates.list(env.ws)
    with env.client("operator") as operator:
        good = operator.get(f"/v1/certificates/{item['certificate_id']}").json()
        assert operator.post("/v1/certificates/verify", json=good).json()["valid"] is True

        def verify(document: dict[str, Any]) -> httpx.Response:
            return operator.post("/v1/certificates/verify", json=document)

        tampered = verify({**good, "reason": "trash_expired"})
        assert tampered.status_code == 422
        assert tampered.json()["type"].endswith("/invalid-certificate")
        assert "signature does not match" in tampered.json()["detail"]
        garbled = verify({**good, "signature": "%%%"})
        assert garbled.status_code == 422 and "garbled" in garbled.json()["detail"]
        foreign_key = {**good["signing_key"], "public_key": "A" * 43 + "="}
        assert (
            "not this deployment" in verify({**good, "signing_key": foreign_key}).json()["detail"]
        )
        not_one = verify({**good, "format": "something.else"})
        assert (
            not_one.status_code == 400 and "not a deletion certificate" in not_one.json()["detail"]
        )
        assert verify({**good, "extra": 1}).status_code == 422
        assert verify({**good, "counts": {"records": "1"}}).status_code == 422  # never coerced
        assert operator.post("/v1/certificates/verify", content=b"[]").status_code == 422
        missing = operator.get("/v1/certificates/crt_" + "a" * 26)
        assert missing.status_code == 404


def test_bad_bodies_change_nothing(env: Env) -> None:
    before = env.audit_count()
    with env.client("operator") as operator, env.client("owner") as owner:
        bad = [
            operator.post(f"{env.base}/billing-events", json={"kind": "refunded", "event_id": "e"}),
            operator.post(f"{env.base}/billing-events", json={"kind": "activated"}),
            operator.post(
                f"{env.base}/billing-events",
                json={"kind": "trial_started", "event_id": "e", "trial_days": 0},
            ),
            operator.post(
                f"{env.base}/billing-events",
                json={"kind": "cancelled", "event_id": "e", "note": "x"},
            ),
            operator.post(
                f"{env.base}/billing-events", json={"kind": "trial_started", "event_id": "e"}
            ),
            operator.post(
                f"{env.base}/billing-events", json={"kind": "cancelled", "event_id": "\x00"}
            ),
            operator.post(f"{env.base}/holds", json={"reason": ""}),
            operator.post(f"{env.base}/holds", json={"reason": "x", "project_id": "nope"}),
            operator.post(f"{env.base}/holds", json={"reason": "x", "scope": "all"}),
            operator.post(f"{env.base}/holds", json={"reason": " "}),
            owner.request("DELETE", env.base, json={"confirm_name": "Acme Hiring", "force": True}),
            owner.request("DELETE", env.base, content=b"not json"),
            owner.request("DELETE", env.base, json={"confirm_name": "x" * 201}),
        ]
        statuses = [r.status_code for r in bad]
        assert statuses == [422, 422, 422, 422, 400, 400, 422, 422, 422, 400, 422, 422, 422]
        assert all(r.headers["content-type"] == "application/problem+json" for r in bad)
        unknown_project = operator.post(
            f"{env.base}/holds", json={"reason": "x", "project_id": "prj_" + "a" * 26}
        )
        assert unknown_project.status_code == 404
        big = operator.post(f"{env.base}/holds", json={"reason": "x" * 70_000})
        assert big.status_code == 413
        assert owner.get(f"{env.base}/plan").json()["state"] == "active"
        assert owner.get(f"{env.base}/plan").json()["holds"] == []
    assert env.audit_count() == before


def test_another_tenants_trash_entry_is_404_under_your_own_workspace(env: Env) -> None:
    sr = env.live.sr
    other = sr.workspaces.create("Other", "owner@other.example")
    project = sr.projects.create(other.id, "Theirs")
    record = sr.records.put(other.id, project.id, "n", {})
    entry = sr.records.delete(other.id, project.id, record.id)
    with env.client("owner") as owner:
        assert owner.post(f"{env.base}/trash/{entry.id}/restore").status_code == 404
        purge = owner.delete(f"{env.base}/trash/{entry.id}", params={"confirm": "true"})
        assert purge.status_code == 404
        assert owner.get(f"/v1/workspaces/{other.id}/trash").status_code == 404
    assert [e.id for e in sr.trash.list(other.id).items] == [entry.id]
