"""Break-glass grants over a live HTTPS server, on SQLite and PostgreSQL: an operator asks,
the owner approves, the operator reads with the grant's token, the owner sees the read in
the grant and the audit, revokes, and the next read is refused; and the hostile cases
(another workspace's ids, another project, writes, an expired grant, a refused grant)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest

from strongroom.clock import FixedClock
from tests.e2e.api_support import LiveServer, backend_settings, live_server
from tests.smtp_support import SmtpServer, smtp_server

OPERATOR = "ann@saas.example"


@dataclass
class World:
    live: LiveServer
    clock: FixedClock
    mail: SmtpServer
    operator: str  # an operator token issued to Ann
    owner: str  # an owner token of workspace A
    admin: str
    ws: str
    project: str
    other_project: str
    record: str
    other_record: str
    ws_b: str
    project_b: str
    record_b: str


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def w(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    clock = FixedClock()
    home = tmp_path_factory.mktemp("grants") / "home"
    with smtp_server() as mail:
        settings = {
            **{k: str(v) for k, v in mail.settings().items()},
            "grant_self_approval": "on",
            "grant_max_hours": "8",
            **backend_settings(request),
        }
        with live_server(home, clock=clock, **settings) as live:
            sr = live.sr
            ws = sr.workspaces.create("Acme", "owner@acme.example").id
            sr.workspaces.add_member(ws, "admin@acme.example", "admin")
            project = sr.projects.create(ws, "Hiring").id
            other_project = sr.projects.create(ws, "Payroll").id
            record = sr.records.put(ws, project, "candidates", {"name": "Ada"}).id
            other_record = sr.records.put(ws, other_project, "salaries", {"sum": 1}).id
            ws_b = sr.workspaces.create("Bravo", "owner@bravo.example").id
            project_b = sr.projects.create(ws_b, "Secrets").id
            record_b = sr.records.put(ws_b, project_b, "notes", {"x": "B's"}).id
            person = sr.staff.add("Ann Operator", OPERATOR)
            sr.staff.record_agreement(OPERATOR, "2026-01", "2025-12-01")
            yield World(
                live,
                clock,
                mail,
                sr.access.create_operator_token(operator_id=person.id).token,
                sr.access.create_token(ws, "owner").token,
                sr.access.create_token(ws, "admin").token,
                ws,
                project,
                other_project,
                record,
                other_record,
                ws_b,
                project_b,
                record_b,
            )


def _ask(w: World, hours: int = 2, **extra: object) -> str:
    body = {"reason": "customer reports a broken import", "ticket": "SUP-42", "hours": hours}
    with w.live.client(w.operator) as client:
        asked = client.post(f"/v1/workspaces/{w.ws}/grants", json={**body, **extra})
    assert asked.status_code == 201, asked.text
    assert asked.json()["id"].startswith("grt_")
    return str(asked.json()["id"])


def _decide(w: World, grant: str, decision: str, token: str | None = None) -> int:
    with w.live.client(token or w.owner) as client:
        return client.post(f"/v1/workspaces/{w.ws}/grants/{grant}/{decision}").status_code


def _token(w: World, grant: str) -> str:
    with w.live.client(w.operator) as client:
        issued = client.post(f"/v1/grants/{grant}/token")
    assert issued.status_code == 201, issued.text
    return str(issued.json()["token"])


def test_request_approve_read_see_revoke_refused(w: World) -> None:
    """The issue's done-when path, over the API."""
    grant = _ask(w)
    assert _decide(w, grant, "approve", w.admin) == 403  # owners decide, not admins
    assert _decide(w, grant, "approve") == 200
    token = _token(w, grant)
    record_url = f"/v1/workspaces/{w.ws}/projects/{w.project}/records/{w.record}"
    with w.live.client(token) as grantee:
        read = grantee.get(record_url)
        assert read.status_code == 200
        assert read.json()["document"] == {"name": "Ada"}
    with w.live.client(w.owner) as owner:
        seen = owner.get(f"/v1/workspaces/{w.ws}/grants/{grant}").json()
        assert seen["status"] == "active"
        assert [r["request"] for r in seen["reads"]] == [f"GET {record_url}"]
        events = owner.get(f"/v1/workspaces/{w.ws}/audit", params={"limit": 1000}).json()
        reads = [e for e in events["items"] if e["action"] == "grant.read"]
        assert reads[-1]["subject"]["grant_id"] == grant
        assert reads[-1]["actor"] == f"grant:{grant}"
        assert owner.post(f"/v1/workspaces/{w.ws}/grants/{grant}/revoke").status_code == 200
    with w.live.client(token) as grantee:
        refused = grantee.get(record_url)
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/problem+json"
    with w.live.client(w.owner) as owner:
        ended = owner.get(f"/v1/workspaces/{w.ws}/grants").json()["grants"]
        assert {g["id"]: g["status"] for g in ended}[grant] == "revoked"


def test_a_grant_never_writes_deletes_exports_or_manages(w: World) -> None:
    grant = _ask(w)
    _decide(w, grant, "approve")
    token = _token(w, grant)
    ws, p, r = w.ws, w.project, w.record
    with w.live.client(token) as grantee:
        attempts = [
            grantee.post(
                f"/v1/workspaces/{ws}/projects/{p}/records",
                json={"collection": "c", "document": {}},
            ),
            grantee.put(f"/v1/workspaces/{ws}/projects/{p}/records/{r}", json={"document": {}}),
            grantee.delete(f"/v1/workspaces/{ws}/projects/{p}/records/{r}"),
            grantee.post(f"/v1/workspaces/{ws}/exports"),
            grantee.get(f"/v1/workspaces/{ws}/privacy-requests"),
            grantee.post(f"/v1/workspaces/{ws}/tokens", json={"role": "viewer"}),
            grantee.get(f"/v1/workspaces/{ws}/keys"),
            grantee.get(f"/v1/workspaces/{ws}/audit"),
            grantee.post(f"/v1/workspaces/{ws}/agreements/acceptances", json={"version": "1"}),
            grantee.post(f"/v1/workspaces/{ws}/grants/{grant}/revoke"),
            grantee.get("/v1/workspaces"),  # no route around the role check
            grantee.post("/v1/workspaces", json={"name": "X", "owner_email": "x@x.example"}),
        ]
        for response in attempts:
            assert response.status_code == 403, (response.request.url, response.text)
            assert response.headers["content-type"] == "application/problem+json"
        # and it still reads
        assert grantee.get(f"/v1/workspaces/{ws}/projects/{p}/records/{r}").status_code == 200
    assert w.live.sr.records.get(ws, p, r).document == {"name": "Ada"}


def test_another_workspaces_ids_are_not_found(w: World) -> None:
    grant = _ask(w)
    _decide(w, grant, "approve")
    token = _token(w, grant)
    with w.live.client(token) as grantee:
        b = f"/v1/workspaces/{w.ws_b}/projects/{w.project_b}"
        assert grantee.get(f"{b}/records/{w.record_b}").status_code == 404
        assert grantee.get(f"{b}/records", params={"collection": "notes"}).status_code == 404
        # B's record under A's workspace id: not there either
        assert (
            grantee.get(
                f"/v1/workspaces/{w.ws}/projects/{w.project_b}/records/{w.record_b}"
            ).status_code
            == 404
        )


def test_a_project_grant_reads_that_project_only(w: World) -> None:
    grant = _ask(w, project_id=w.project)
    _decide(w, grant, "approve")
    token = _token(w, grant)
    with w.live.client(token) as grantee:
        mine = f"/v1/workspaces/{w.ws}/projects/{w.project}"
        assert grantee.get(f"{mine}/records/{w.record}").status_code == 200
        assert (
            grantee.get(f"{mine}/records", params={"collection": "candidates"}).status_code == 200
        )
        other = f"/v1/workspaces/{w.ws}/projects/{w.other_project}"
        assert grantee.get(f"{other}/records/{w.other_record}").status_code == 403
        assert grantee.get(f"{other}/records", params={"collection": "salaries"}).status_code == 403
        assert grantee.get(f"/v1/workspaces/{w.ws}/projects").status_code == 403
        assert grantee.get(f"/v1/workspaces/{w.ws}/members").status_code == 403


def test_a_grant_ends_by_itself(w: World) -> None:
    grant = _ask(w, hours=1)
    _decide(w, grant, "approve")
    token = _token(w, grant)
    url = f"/v1/workspaces/{w.ws}/projects/{w.project}/records/{w.record}"
    with w.live.client(token) as grantee:
        assert grantee.get(url).status_code == 200
        w.clock.advance(timedelta(hours=1))
        assert grantee.get(url).status_code == 401
    with w.live.client(w.owner) as owner:
        assert owner.get(f"/v1/workspaces/{w.ws}/grants/{grant}").json()["status"] == "expired"
        assert owner.post(f"/v1/workspaces/{w.ws}/grants/{grant}/revoke").status_code == 409
    with w.live.client(w.operator) as client:
        assert client.post(f"/v1/grants/{grant}/token").status_code == 409


def test_refused_and_pending_grants_have_no_token(w: World) -> None:
    pending = _ask(w)
    with w.live.client(w.operator) as client:
        assert client.post(f"/v1/grants/{pending}/token").status_code == 409
    assert _decide(w, pending, "refuse") == 200
    assert _decide(w, pending, "approve") == 409
    with w.live.client(w.operator) as client:
        assert client.post(f"/v1/grants/{pending}/token").status_code == 409


def test_a_token_is_shown_once(w: World) -> None:
    grant = _ask(w)
    _decide(w, grant, "approve")
    _token(w, grant)
    with w.live.client(w.operator) as client:
        assert client.post(f"/v1/grants/{grant}/token").status_code == 409


def test_bad_requests_are_refused(w: World) -> None:
    good = {"reason": "r", "ticket": "T-1", "hours": 1}
    with w.live.client(w.operator) as client:
        for body, status in [
            ({**good, "hours": 9}, 400),  # over grant_max_hours (8 here)
            ({**good, "hours": 25}, 422),  # over 24: never
            ({**good, "reason": "  "}, 400),
            ({**good, "ticket": ""}, 400),
            ({**good, "project_id": w.project_b}, 404),  # another workspace's project
            ({**good, "operator": "nobody@saas.example"}, 404),
        ]:
            refused = client.post(f"/v1/workspaces/{w.ws}/grants", json=body)
            assert refused.status_code == status, (body, refused.text)
            assert refused.headers["content-type"] == "application/problem+json"
        missing = "ws_" + "a" * 26
        assert client.post(f"/v1/workspaces/{missing}/grants", json=good).status_code == 404
    with w.live.client(w.owner) as owner:  # an owner's token cannot ask
        assert owner.post(f"/v1/workspaces/{w.ws}/grants", json=good).status_code == 403
    w.live.sr.staff.add("Bob NoAgreement", "bob@saas.example")
    with w.live.client(w.operator) as client:  # the token is Ann's: not Bob's to use
        as_bob = client.post(
            f"/v1/workspaces/{w.ws}/grants", json={**good, "operator": "bob@saas.example"}
        )
        assert as_bob.status_code == 403


def test_an_emergency_grant_mails_the_owners_at_once(w: World) -> None:
    before = len(w.mail.inbox.to("owner@acme.example"))
    grant = _ask(w, emergency=True)
    mails = w.mail.inbox.to("owner@acme.example")
    assert len(mails) == before + 1
    assert grant in mails[-1]["Subject"]
    assert w.mail.inbox.to("admin@acme.example") == []  # owners only
    with w.live.client(w.owner) as owner:
        seen = owner.get(f"/v1/workspaces/{w.ws}/grants/{grant}").json()
        assert seen["status"] == "active" and seen["emergency"] is True


def test_an_operator_token_issued_to_no_one_cannot_ask_or_take_a_token(w: World) -> None:
    """Such a token could otherwise ask in any operator's name, on that operator's
    agreement, and self-approve where the deployment allows it."""
    anonymous = w.live.sr.access.create_operator_token().token
    grant = _ask(w)
    assert _decide(w, grant, "approve") == 200
    body = {"reason": "r", "ticket": "T", "hours": 1, "operator": OPERATOR, "emergency": True}
    with w.live.client(anonymous) as client:
        asked = client.post(f"/v1/workspaces/{w.ws}/grants", json=body)
        taken = client.post(f"/v1/grants/{grant}/token")
    for answer in (asked, taken):
        assert answer.status_code == 403
        assert "names no operator" in answer.json()["detail"]
    _token(w, grant)  # Ann's own token still takes it


def test_an_emergency_grant_nobody_was_told_of_does_not_start(w: World) -> None:
    w.mail.inbox.refusing = True
    try:
        body = {"reason": "outage", "ticket": "INC-9", "hours": 1, "emergency": True}
        with w.live.client(w.operator) as client:
            asked = client.post(f"/v1/workspaces/{w.ws}/grants", json=body)
    finally:
        w.mail.inbox.refusing = False
    assert asked.status_code == 503, asked.text
    assert "not self-approved" in asked.json()["detail"]
    pending = [g for g in w.live.sr.grants.list(w.ws) if g.ticket == "INC-9"]
    assert [g.status.value for g in pending] == ["pending"]


def test_the_customer_sees_what_the_grant_tried_and_its_query(w: World) -> None:
    """Refused requests are audited too (a write, another project), and reads name their
    query; a request into another tenant's workspace is audited without naming it."""
    grant = _ask(w, project_id=w.project)
    _decide(w, grant, "approve")
    token = _token(w, grant)
    mine = f"/v1/workspaces/{w.ws}/projects/{w.project}"
    with w.live.client(token) as grantee:
        assert (
            grantee.get(f"{mine}/records", params={"collection": "candidates"}).status_code == 200
        )
        assert grantee.delete(f"{mine}/records/{w.record}").status_code == 403
        other = f"/v1/workspaces/{w.ws}/projects/{w.other_project}/records/{w.other_record}"
        assert grantee.get(other).status_code == 403
        elsewhere = f"/v1/workspaces/{w.ws_b}/projects/{w.project_b}/records/{w.record_b}"
        assert grantee.get(elsewhere).status_code == 404
    events = [
        e for e in w.live.sr.audit.events(w.ws, limit=10_000) if e.subject.get("grant_id") == grant
    ]
    reads = [e.subject["request"] for e in events if e.action == "grant.read"]
    refused = [e.subject["request"] for e in events if e.action == "grant.refused_request"]
    assert f"GET {mine}/records?collection=candidates" in reads
    assert f"DELETE {mine}/records/{w.record}" in refused
    assert f"GET {other}" in refused
    assert "a request outside this workspace" in refused
    assert not any(w.ws_b in r for r in refused + reads)
    assert not [e for e in w.live.sr.audit.events(w.ws_b, limit=10_000) if "grant" in e.action]
