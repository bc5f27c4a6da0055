"""Every endpoint, for every role, in the caller's own workspace and in another tenant's:
the role matrix holds, another tenant's data is 404 (never 403, never data)."""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from strongroom.api.app import create_app
from strongroom.domain.roles import Action, Role
from tests.e2e.api_support import LiveServer, live_server
from tests.roles_specification import allowed_actions

_fresh = itertools.count()


@dataclass
class World:
    live: LiveServer
    ws: str
    project: str
    record: str
    file: str
    tokens: dict[str, str]
    certificate: dict[str, Any]
    caller: str = ""  # set by each test before it makes its request


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with live_server(tmp_path_factory.mktemp("api") / "home") as live:
        sr = live.sr
        ws = sr.workspaces.create("Tenant A", "owner@a.example")
        other = sr.workspaces.create("Tenant B", "owner@b.example")
        project = sr.projects.create(ws.id, "Hiring")
        record = sr.records.put(ws.id, project.id, "notes", {"text": "hello"}).id
        stored = sr.files.put(ws.id, project.id, "cv.txt", io.BytesIO(b"resume"))
        tokens = {role.value: sr.access.create_token(ws.id, role.value).token for role in Role}
        tokens["other-tenant-owner"] = sr.access.create_token(other.id, "owner").token
        staff = sr.staff.add("Staff Member", "staff@saas.example")  # see _staff
        sr.staff.record_agreement("staff@saas.example", "1", "2025-01-01")
        tokens["operator"] = sr.access.create_operator_token(operator_id=staff.id).token
        doomed = sr.records.put(ws.id, project.id, "notes", {"text": "doomed"}).id
        sr.trash.purge_now(ws.id, sr.records.delete(ws.id, project.id, doomed).id)
        sr.worker.run_once()
        certificate = sr.certificates.get(sr.certificates.list(ws.id)[0]["certificate_id"])
        yield World(live, ws.id, project.id, record, stored.id, tokens, certificate)


Request = tuple[str, str, dict[str, Any]]  # method, path, httpx keyword arguments


def _base(w: World) -> str:
    return f"/v1/workspaces/{w.ws}"


def _prj(w: World) -> str:
    return f"{_base(w)}/projects/{w.project}"


def _fresh_record(w: World) -> str:
    return w.live.sr.records.put(w.ws, w.project, "notes", {"n": next(_fresh)}).id


def _fresh_member(w: World) -> str:
    return w.live.sr.workspaces.add_member(w.ws, f"m{next(_fresh)}@a.example", "viewer").user_id


def _fresh_token(w: World) -> str:
    return w.live.sr.access.create_token(w.ws, "viewer").id


def _fresh_project(w: World) -> str:
    return w.live.sr.projects.create(w.ws, f"P{next(_fresh)}").id


def _fresh_file(w: World) -> str:
    return w.live.sr.files.put(w.ws, w.project, "f.txt", io.BytesIO(b"x")).id


def _fresh_trash(w: World) -> str:
    """A trash entry deleted by the local CLI: only owners and admins may restore it."""
    return w.live.sr.records.delete(w.ws, w.project, _fresh_record(w)).id


def _scratch_workspace(w: World) -> str:
    """A workspace of its own, for requests that would end or change the shared one."""
    return w.live.sr.workspaces.create("Scratch", f"s{next(_fresh)}@c.example").id


def _fresh_dpa(w: World) -> str:
    """A new DPA version (so each caller meets one not yet accepted), with SCCs under it."""
    sr, today = w.live.sr, w.live.sr.ctx.clock.now().date() + timedelta(days=1)
    if not sr.agreements.list("scc"):
        sr.agreements.publish("scc", "1", b"SAMPLE SCCs\n", today)
    version = f"roles-{next(_fresh)}"
    sr.agreements.publish("dpa", version, b"SAMPLE DPA\n", today)
    return version


def _staff(w: World) -> str:
    """An operator (a person) with a confidentiality agreement, made on first use."""
    email = "staff@saas.example"
    if not any(o.email == email for o in w.live.sr.staff.list()):
        w.live.sr.staff.add("Staff Member", email)
        w.live.sr.staff.record_agreement(email, "1", "2025-01-01")
    return email


def _fresh_grant(w: World) -> str:
    """A new pending break-glass grant of the world's workspace (issue 17)."""
    grant = w.live.sr.grants.request(w.ws, _staff(w), "a support case", "T-1", 1)
    return grant.id


def _delete_scratch_workspace(w: World) -> Request:
    """The caller holds its role in a scratch workspace (deleting the shared one would end
    every other test); another tenant's owner, the operator and no token stay as they are."""
    ws = _scratch_workspace(w)
    kwargs: dict[str, Any] = {"json": {"confirm_name": "Scratch"}}
    if w.caller in {r.value for r in Role}:
        token = w.live.sr.access.create_token(ws, w.caller).token
        kwargs["headers"] = {"Authorization": f"Bearer {token}"}
    return ("DELETE", f"/v1/workspaces/{ws}", kwargs)


def _held_scratch_workspace(w: World) -> str:
    ws = _scratch_workspace(w)
    w.live.sr.plans.set_hold(ws, None, "litigation")
    return ws


#: The action of an endpoint only operator tokens may call.
OPERATOR_ONLY = None
_done_exports: dict[str, str] = {}


_ADA = {
    "type": "deletion",
    "law": "gdpr",
    "identifiers": [{"kind": "email", "value": "a@x.example"}],
}


def _fresh_notice(w: World) -> str:
    effective = (w.live.sr.ctx.clock.now() + timedelta(days=31)).date()
    details = dict.fromkeys(
        ("legal_name", "address", "contact", "purpose", "data_categories", "location"), "x"
    )
    return w.live.sr.subprocessors.add(
        {**details, "transfer_mechanism": "SCCs"}, effective, "operator:test"
    ).id


def _fresh_request(w: World) -> str:
    return w.live.sr.privacy.create(
        w.ws, type="deletion", law="gdpr", identifiers=[("email", "a@x.example")]
    ).id


def _restriction(w: World) -> str:
    return w.live.sr.privacy.create(
        w.ws, type="restriction", law="gdpr", identifiers=[("email", "nobody@x.example")]
    ).id


def _verified_correction(w: World) -> str:
    w.live.sr.records.declare_collection(w.ws, "people", ["email"])
    request_id = w.live.sr.privacy.create(
        w.ws, type="correction", law="gdpr", identifiers=[("email", "old@x.example")]
    ).id
    w.live.sr.privacy.verify(w.ws, request_id, method="email reply", by="support")
    return request_id


def _verified_access(w: World) -> str:
    request_id = w.live.sr.privacy.create(
        w.ws, type="access", law="gdpr", identifiers=[("email", "a@x.example")]
    ).id
    w.live.sr.privacy.verify(w.ws, request_id, method="email reply", by="support")
    return request_id


def _verified_request(w: World) -> str:
    request_id = _fresh_request(w)
    w.live.sr.privacy.verify(w.ws, request_id, method="email reply", by="support")
    return request_id


def _erased(w: World) -> str:
    request_id = _verified_request(w)
    w.live.sr.privacy.erase(w.ws, request_id)
    return request_id


def _privacy(path: str = "") -> str:
    return "/v1/workspaces/{workspace_id}/privacy-requests" + path


def _done_export(w: World) -> str:
    """One finished export job of the world's workspace, made on first use."""
    if w.ws not in _done_exports:
        job = w.live.sr.exports.create_job(w.ws)
        _done_exports[w.ws] = w.live.sr.exports.run_job(job.id).id
    return _done_exports[w.ws]


# (method, route template, action, request factory)
ENDPOINTS: list[tuple[str, str, Action | None, Callable[[World], Request]]] = [
    ("GET", "/v1/workspaces/{workspace_id}", Action.READ, lambda w: ("GET", _base(w), {})),
    (
        "GET",
        "/v1/workspaces/{workspace_id}/members",
        Action.READ,
        lambda w: ("GET", f"{_base(w)}/members", {}),
    ),
    (
        "GET",
        "/v1/workspaces/{workspace_id}/projects",
        Action.READ,
        lambda w: ("GET", f"{_base(w)}/projects", {}),
    ),
    (
        "GET",
        "/v1/workspaces/{workspace_id}/projects/{project_id}",
        Action.READ,
        lambda w: ("GET", _prj(w), {}),
    ),
    (
        "GET",
        "/v1/workspaces/{workspace_id}/collections",
        Action.READ,
        lambda w: ("GET", f"{_base(w)}/collections", {}),
    ),
    (
        "GET",
        "/v1/workspaces/{workspace_id}/projects/{project_id}/records",
        Action.READ,
        lambda w: ("GET", f"{_prj(w)}/records", {"params": {"collection": "notes"}}),
    ),
    (
        "GET",
        "/v1/workspaces/{workspace_id}/projects/{project_id}/records/{record_id}",
        Action.READ,
        lambda w: ("GET", f"{_prj(w)}/records/{w.record}", {}),
    ),
    (
        "GET",
        "/v1/workspaces/{workspace_id}/projects/{project_id}/files",
        Action.READ,
        lambda w: ("GET", f"{_prj(w)}/files", {}),
    ),
    (
        "GET",
        "/v1/workspaces/{workspace_id}/projects/{project_id}/files/{file_id}",
        Action.READ,
        lambda w: ("GET", f"{_prj(w)}/files/{w.file}", {}),
    ),
    (
        "GET",
        "/v1/workspaces/{workspace_id}/projects/{project_id}/files/{file_id}/content",
        Action.READ,
        lambda w: ("GET", f"{_prj(w)}/files/{w.file}/content", {}),
    ),
    (
        "POST",
        "/v1/workspaces/{workspace_id}/projects/{project_id}/records",
        Action.WRITE_DATA,
        lambda w: (
            "POST",
            f"{_prj(w)}/records",
            {"json": {"collection": "notes", "document": {"by": "test"}}},
        ),
    ),
    (
        "PUT",
        "/v1/workspaces/{workspace_id}/projects/{project_id}/records/{record_id}",
        Action.WRITE_DATA,
        lambda w: (
            "PUT",
            f"{_prj(w)}/records/{_fresh_record(w)}",
            {"json": {"document": {"v": 2}}},
        ),
    ),
    (
        "DELETE",
        "/v1/workspaces/{workspace_id}/projects/{project_id}/records/{record_id}",
        Action.WRITE_DATA,
        lambda w: ("DELETE", f"{_prj(w)}/records/{_fresh_record(w)}", {}),
    ),
    (
        "POST",
        "/v1/workspaces/{workspace_id}/projects/{project_id}/files",
        Action.WRITE_DATA,
        lambda w: (
            "POST",
            f"{_prj(w)}/files",
            {
                "params": {"name": "a.bin"},
                "content": b"data",
                "headers": {"content-type": "application/octet-stream"},
            },
        ),
    ),
    (
        "POST",
        "/v1/workspaces/{workspace_id}/projects",
        Action.MANAGE_PROJECTS,
        lambda w: ("POST", f"{_base(w)}/projects", {"json": {"name": "New"}}),
    ),
    (
        "PUT",
        "/v1/workspaces/{workspace_id}/collections/{name}",
        Action.MANAGE_PROJECTS,
        lambda w: (
            "PUT",
            f"{_base(w)}/collections/contacts",
            {"json": {"personal_fields": ["email"]}},
        ),
    ),
    (
        "GET",
        "/v1/workspaces/{workspace_id}/tokens",
        Action.MANAGE_MEMBERS,
        lambda w: ("GET", f"{_base(w)}/tokens", {}),
    ),
    (
        "POST",
        "/v1/workspaces/{workspace_id}/tokens",
        Action.MANAGE_MEMBERS,
        lambda w: ("POST", f"{_base(w)}/tokens", {"json": {"role": "viewer"}}),
    ),
    (
        "DELETE",
        "/v1/workspaces/{workspace_id}/tokens/{token_id}",
        Action.MANAGE_MEMBERS,
        lambda w: ("DELETE", f"{_base(w)}/tokens/{_fresh_token(w)}", {}),
    ),
    (
        "POST",
        "/v1/workspaces/{workspace_id}/members",
        Action.MANAGE_MEMBERS,
        lambda w: (
            "POST",
            f"{_base(w)}/members",
            {"json": {"email": f"n{next(_fresh)}@a.example", "role": "viewer"}},
        ),
    ),
    (
        "PUT",
        "/v1/workspaces/{workspace_id}/members/{user_id}",
        Action.MANAGE_MEMBERS,
        lambda w: ("PUT", f"{_base(w)}/members/{_fresh_member(w)}", {"json": {"role": "member"}}),
    ),
    (
        "GET",
        "/v1/workspaces/{workspace_id}/audit",
        Action.READ_AUDIT,
        lambda w: ("GET", f"{_base(w)}/audit", {}),
    ),
    (
        "GET",
        "/v1/workspaces/{workspace_id}/keys",
        Action.READ_KEYS,
        lambda w: ("GET", f"{_base(w)}/keys", {}),
    ),
    # the lifecycle
    (
        "DELETE",
        "/v1/workspaces/{workspace_id}/projects/{project_id}",
        Action.MANAGE_PROJECTS,
        lambda w: ("DELETE", f"{_base(w)}/projects/{_fresh_project(w)}", {}),
    ),
    (
        "DELETE",
        "/v1/workspaces/{workspace_id}/projects/{project_id}/files/{file_id}",
        Action.WRITE_DATA,
        lambda w: ("DELETE", f"{_prj(w)}/files/{_fresh_file(w)}", {}),
    ),
    (
        "GET",
        "/v1/workspaces/{workspace_id}/trash",
        Action.READ,
        lambda w: ("GET", f"{_base(w)}/trash", {}),
    ),
    (
        # Anyone who writes data may ask; the service lets members restore only their own
        # deletions, so an entry someone else deleted needs RESTORE_ANY.
        "POST",
        "/v1/workspaces/{workspace_id}/trash/{trash_id}/restore",
        Action.RESTORE_ANY,
        lambda w: ("POST", f"{_base(w)}/trash/{_fresh_trash(w)}/restore", {}),
    ),
    (
        "DELETE",
        "/v1/workspaces/{workspace_id}/trash/{trash_id}",
        Action.PURGE_TRASH,
        lambda w: (
            "DELETE",
            f"{_base(w)}/trash/{_fresh_trash(w)}",
            {"params": {"confirm": "true"}},
        ),
    ),
    (
        "GET",
        "/v1/workspaces/{workspace_id}/plan",
        Action.READ,
        lambda w: ("GET", f"{_base(w)}/plan", {}),
    ),
    (
        "GET",
        "/v1/workspaces/{workspace_id}/certificates",
        Action.READ_AUDIT,
        lambda w: ("GET", f"{_base(w)}/certificates", {}),
    ),
    ("DELETE", "/v1/workspaces/{workspace_id}", Action.DELETE_WORKSPACE, _delete_scratch_workspace),
    (
        "POST",
        "/v1/workspaces/{workspace_id}/billing-events",
        OPERATOR_ONLY,
        lambda w: (
            "POST",
            f"/v1/workspaces/{_scratch_workspace(w)}/billing-events",
            {
                "json": {
                    "kind": "trial_started",
                    "event_id": f"evt-{next(_fresh)}",
                    "trial_days": 14,
                }
            },
        ),
    ),
    (
        "POST",
        "/v1/workspaces/{workspace_id}/holds",
        OPERATOR_ONLY,
        lambda w: (
            "POST",
            f"/v1/workspaces/{_scratch_workspace(w)}/holds",
            {"json": {"reason": "litigation"}},
        ),
    ),
    (
        "DELETE",
        "/v1/workspaces/{workspace_id}/holds",
        OPERATOR_ONLY,
        lambda w: ("DELETE", f"/v1/workspaces/{_held_scratch_workspace(w)}/holds", {}),
    ),
    (
        "POST",
        "/v1/workspaces/{workspace_id}/exports",
        Action.EXPORT,
        lambda w: ("POST", f"{_base(w)}/exports", {}),
    ),
    (
        "GET",
        "/v1/workspaces/{workspace_id}/exports/{export_id}",
        Action.EXPORT,
        lambda w: ("GET", f"{_base(w)}/exports/{_done_export(w)}", {}),
    ),
    (
        "GET",
        "/v1/workspaces/{workspace_id}/exports/{export_id}/download",
        Action.EXPORT,
        lambda w: ("GET", f"{_base(w)}/exports/{_done_export(w)}/download", {}),
    ),
    (
        "POST",
        _privacy(),
        Action.PRIVACY,
        lambda w: ("POST", f"{_base(w)}/privacy-requests", {"json": _ADA}),
    ),
    ("GET", _privacy(), Action.PRIVACY, lambda w: ("GET", f"{_base(w)}/privacy-requests", {})),
    (
        "GET",
        "/v1/workspaces/{workspace_id}/privacy-report",
        Action.PRIVACY,
        lambda w: ("GET", f"{_base(w)}/privacy-report?year=2026", {}),
    ),
    (
        "GET",
        _privacy("/{request_id}"),
        Action.PRIVACY,
        lambda w: ("GET", f"{_base(w)}/privacy-requests/{_fresh_request(w)}", {}),
    ),
    (
        "GET",
        _privacy("/{request_id}/locate"),
        Action.PRIVACY,
        lambda w: ("GET", f"{_base(w)}/privacy-requests/{_fresh_request(w)}/locate", {}),
    ),
    (
        "POST",
        _privacy("/{request_id}/correct"),
        Action.PRIVACY,
        lambda w: (
            "POST",
            f"{_base(w)}/privacy-requests/{_verified_correction(w)}/correct",
            {"json": {"changes": [{"field": "email", "value": "new@x.example"}]}},
        ),
    ),
    (
        "POST",
        _privacy("/{request_id}/export"),
        Action.PRIVACY,
        lambda w: ("POST", f"{_base(w)}/privacy-requests/{_verified_access(w)}/export", {}),
    ),
    (
        "POST",
        _privacy("/{request_id}/erase"),
        Action.PRIVACY,
        lambda w: (
            "POST",
            f"{_base(w)}/privacy-requests/{_verified_request(w)}/erase",
            {"json": {"confirm": True}},
        ),
    ),
    (
        "GET",
        _privacy("/{request_id}/erasure"),
        Action.PRIVACY,
        lambda w: ("GET", f"{_base(w)}/privacy-requests/{_erased(w)}/erasure", {}),
    ),
    (
        "POST",
        _privacy("/{request_id}/restrict"),
        Action.PRIVACY,
        lambda w: ("POST", f"{_base(w)}/privacy-requests/{_restriction(w)}/restrict", {}),
    ),
    (
        "POST",
        _privacy("/{request_id}/lift"),
        Action.PRIVACY,
        lambda w: ("POST", f"{_base(w)}/privacy-requests/{_restriction(w)}/lift", {}),
    ),
    (
        "POST",
        _privacy("/{request_id}/verify"),
        Action.PRIVACY,
        lambda w: (
            "POST",
            f"{_base(w)}/privacy-requests/{_fresh_request(w)}/verify",
            {"json": {"method": "email reply", "by": "support"}},
        ),
    ),
    (
        "POST",
        _privacy("/{request_id}/extend"),
        Action.PRIVACY,
        lambda w: (
            "POST",
            f"{_base(w)}/privacy-requests/{_fresh_request(w)}/extend",
            {"json": {"reason": "complex", "months": 1}},
        ),
    ),
    (
        "POST",
        _privacy("/{request_id}/reject"),
        Action.PRIVACY,
        lambda w: (
            "POST",
            f"{_base(w)}/privacy-requests/{_fresh_request(w)}/reject",
            {"json": {"reason": "not a customer"}},
        ),
    ),
    (
        "POST",
        _privacy("/{request_id}/complete"),
        Action.PRIVACY,
        lambda w: ("POST", f"{_base(w)}/privacy-requests/{_verified_request(w)}/complete", {}),
    ),
    # agreements (issue 14): any member sees the standing; accepting binds the workspace,
    # so it is the owners' alone, as deleting it is.
    (
        "GET",
        "/v1/workspaces/{workspace_id}/agreements",
        Action.READ,
        lambda w: ("GET", f"{_base(w)}/agreements", {}),
    ),
    (
        "POST",
        "/v1/workspaces/{workspace_id}/agreements/acceptances",
        Action.DELETE_WORKSPACE,
        lambda w: (
            "POST",
            f"{_base(w)}/agreements/acceptances",
            {"json": {"version": _fresh_dpa(w)}},
        ),
    ),
    # break-glass grants (issue 17): operators ask, owners and admins see, owners decide
    (
        "POST",
        "/v1/workspaces/{workspace_id}/grants",
        OPERATOR_ONLY,
        lambda w: (
            "POST",
            f"{_base(w)}/grants",
            {"json": {"operator": _staff(w), "reason": "r", "ticket": "T-1", "hours": 1}},
        ),
    ),
    (
        "GET",
        "/v1/workspaces/{workspace_id}/grants",
        Action.READ_AUDIT,
        lambda w: ("GET", f"{_base(w)}/grants", {}),
    ),
    (
        "GET",
        "/v1/workspaces/{workspace_id}/grants/{grant_id}",
        Action.READ_AUDIT,
        lambda w: ("GET", f"{_base(w)}/grants/{_fresh_grant(w)}", {}),
    ),
    *[
        (
            "POST",
            f"/v1/workspaces/{{workspace_id}}/grants/{{grant_id}}/{decision}",
            Action.DECIDE_GRANTS,
            lambda w, decision=decision: (  # type: ignore[misc]
                "POST",
                f"{_base(w)}/grants/{_fresh_grant(w)}/{decision}",
                {},
            ),
        )
        for decision in ("approve", "refuse", "revoke")
    ],
    # subprocessors (issue 14)
    (
        "GET",
        "/v1/workspaces/{workspace_id}/subprocessor-notices",
        Action.READ,
        lambda w: ("GET", f"{_base(w)}/subprocessor-notices", {}),
    ),
    (
        "POST",
        "/v1/workspaces/{workspace_id}/subprocessor-notices/{notice_id}/objection",
        Action.OBJECT_SUBPROCESSOR,
        lambda w: (
            "POST",
            f"{_base(w)}/subprocessor-notices/{_fresh_notice(w)}/objection",
            {"json": {"reason": "not in the US"}},
        ),
    ),
]

CALLERS = [r.value for r in Role] + ["other-tenant-owner", "operator", "no-token"]


def _expected(caller: str, action: Action | None) -> set[int]:
    if caller == "no-token":
        return {401}
    if action is OPERATOR_ONLY:
        return {200, 201} if caller == "operator" else {403}
    if caller == "operator":
        return {403}
    if caller == "other-tenant-owner":
        return {404}
    # From the README's table written out on its own, never from the matrix under test.
    return {200, 201, 202, 204} if action.value in allowed_actions(caller) else {403}


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(
    ("method", "route", "action", "make"), ENDPOINTS, ids=[f"{m} {r}" for m, r, _a, _f in ENDPOINTS]
)
def test_role_matrix(
    world: World,
    caller: str,
    method: str,
    route: str,
    action: Action | None,
    make: Callable[[World], Request],
) -> None:
    world.caller = caller
    verb, path, kwargs = make(world)
    with world.live.client(world.tokens.get(caller)) as client:
        response = client.request(verb, path, **kwargs)
    assert response.status_code in _expected(caller, action), response.text
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"
        body = response.text
        assert "hello" not in body and "resume" not in body and "Tenant A" not in body


def test_every_workspace_endpoint_is_in_the_matrix(world: World) -> None:
    """A new endpoint under a workspace fails this until it is added to ENDPOINTS."""
    paths = create_app(world.live.sr).openapi()["paths"]
    routes = {
        (method.upper(), path)
        for path, operations in paths.items()
        if path.startswith("/v1/workspaces/{workspace_id}")
        for method in operations
    }
    assert routes == {(m, r) for m, r, _a, _f in ENDPOINTS}


@pytest.mark.parametrize("caller", CALLERS)
def test_operator_endpoints(world: World, caller: str) -> None:
    certificate_id = world.certificate["certificate_id"]
    with world.live.client(world.tokens.get(caller)) as client:
        statuses = [
            client.get("/v1/keys").status_code,
            client.post("/v1/keys/rotate").status_code,
            client.get("/v1/lifecycle/plan").status_code,
            client.get("/v1/certificates", params={"workspace_id": world.ws}).status_code,
            client.get(f"/v1/certificates/{certificate_id}").status_code,
            client.post("/v1/certificates/verify", json=world.certificate).status_code,
        ]
    expected = {"operator": 200, "no-token": 401}.get(caller, 403)
    assert statuses == [expected] * len(statuses)


def test_workspace_list_shows_only_the_callers_workspace(world: World) -> None:
    with world.live.client(world.tokens["viewer"]) as client:
        listed = client.get("/v1/workspaces").json()
    assert [w["id"] for w in listed["items"]] == [world.ws]
    with world.live.client(world.tokens["operator"]) as client:
        assert client.get("/v1/workspaces").json()["items"] == []
        created = client.post(
            "/v1/workspaces", json={"name": "Provisioned", "owner_email": "o@p.example"}
        )
    assert created.status_code == 201
    with world.live.client(world.tokens["owner"]) as client:
        refused = client.post("/v1/workspaces", json={"name": "X", "owner_email": "x@x.example"})
    assert refused.status_code == 403


def test_an_admin_cannot_mint_an_owner_token_or_make_an_owner(world: World) -> None:
    with world.live.client(world.tokens["admin"]) as client:
        assert client.post(f"{_base(world)}/tokens", json={"role": "owner"}).status_code == 403
        added = client.post(
            f"{_base(world)}/members", json={"email": "boss@a.example", "role": "owner"}
        )
        assert added.status_code == 403


def test_unguessable_ids_of_another_tenant_are_404(world: World) -> None:
    with world.live.client(world.tokens["other-tenant-owner"]) as client:
        for path in (
            f"{_prj(world)}/records/{world.record}",
            f"{_prj(world)}/files/{world.file}/content",
            _base(world),
        ):
            response = client.get(path)
            assert response.status_code == 404
            assert "hello" not in response.text and "resume" not in response.text
