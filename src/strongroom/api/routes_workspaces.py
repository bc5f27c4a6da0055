"""Workspaces, members, API tokens, a workspace's keys and audit events."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from strongroom.api.deps import SR, AuditReader, Caller, KeyReader, MemberManager, Reader, one_hop
from strongroom.api.params import (
    Limit,
    TokenCursor,
    TokenId,
    UserCursor,
    UserId,
    WorkspaceCursor,
    page_keys,
)
from strongroom.api.schemas import (
    AuditEventOut,
    AuditPage,
    MemberIn,
    MemberOut,
    Page,
    RoleIn,
    TokenIn,
    TokenInfo,
    TokenOut,
    WorkspaceIn,
    WorkspaceOut,
)
from strongroom.api.strict_json import StrictJSONRoute
from strongroom.domain.access import PrincipalKind
from strongroom.domain.model import Member, Workspace, page_limit
from strongroom.domain.roles import Role
from strongroom.errors import PermissionDenied

router = APIRouter(prefix="/v1/workspaces", tags=["workspaces"], route_class=StrictJSONRoute)


def _workspace(ws: Workspace) -> WorkspaceOut:
    return WorkspaceOut(id=ws.id, name=ws.name, state=ws.state.value, created_at=ws.created_at)


def _member(m: Member) -> MemberOut:
    return MemberOut(user_id=m.user_id, email=m.email, role=m.role)


@router.get("", summary="Workspaces the caller belongs to")
def list_workspaces(
    sr: SR, caller: Caller, cursor: WorkspaceCursor = None, limit: Limit = 100
) -> Page[WorkspaceOut]:
    ids, next_cursor = page_keys(sorted(sr.access.visible_workspaces(caller)), cursor, limit)
    items = [_workspace(sr.workspaces.get(i, actor=caller.actor)) for i in ids]
    return Page(items=items, next_cursor=next_cursor)


@router.post("", status_code=201, summary="Create a workspace (operators and signed-in users)")
def create_workspace(sr: SR, caller: Caller, body: WorkspaceIn) -> WorkspaceOut:
    if caller.kind is PrincipalKind.TOKEN:
        raise PermissionDenied("a workspace API token cannot create workspaces")
    if caller.kind is PrincipalKind.SESSION and caller.user_id:
        own = sr.workspaces.user(caller.user_id).email
        if own.lower() != body.owner_email.strip().lower():
            raise PermissionDenied("a signed-in user creates workspaces they own themselves")
    return _workspace(sr.workspaces.create(body.name, body.owner_email, actor=caller.actor))


@router.get("/{workspace_id}")
@one_hop
def get_workspace(sr: SR, grant: Reader) -> WorkspaceOut:
    return _workspace(sr.workspaces.get(grant.workspace_id, actor=grant.caller.actor))


@router.get("/{workspace_id}/members")
@one_hop
def list_members(
    sr: SR, grant: Reader, cursor: UserCursor = None, limit: Limit = 100
) -> Page[MemberOut]:
    members = {m.user_id: m for m in sr.workspaces.members(grant.workspace_id, grant.caller.actor)}
    ids, next_cursor = page_keys(sorted(members), cursor, page_limit(limit))
    return Page(items=[_member(members[i]) for i in ids], next_cursor=next_cursor)


@router.post("/{workspace_id}/members", status_code=201)
@one_hop
def add_member(sr: SR, grant: MemberManager, body: MemberIn) -> MemberOut:
    if body.role is Role.OWNER and grant.role is not Role.OWNER:
        raise PermissionDenied("only an owner may add an owner")
    member = sr.workspaces.add_member(
        grant.workspace_id, body.email, body.role.value, actor=grant.caller.actor
    )
    return _member(member)


@router.put("/{workspace_id}/members/{user_id}")
@one_hop
def set_member_role(sr: SR, grant: MemberManager, user_id: UserId, body: RoleIn) -> MemberOut:
    member = sr.workspaces.set_role(
        grant.workspace_id,
        user_id,
        body.role.value,
        actor=grant.caller.actor,
        issuer_role=grant.role,
    )
    return _member(member)


@router.get("/{workspace_id}/tokens")
@one_hop
def list_tokens(
    sr: SR, grant: MemberManager, cursor: TokenCursor = None, limit: Limit = 100
) -> Page[TokenInfo]:
    tokens = {t.id: t for t in sr.access.tokens(grant.workspace_id)}
    ids, next_cursor = page_keys(sorted(tokens), cursor, limit)
    items = [
        TokenInfo(
            id=t.id,
            role=t.role,
            created_at=t.created_at,
            expires_at=t.expires_at,
            revoked_at=t.revoked_at,
        )
        for t in (tokens[i] for i in ids)
    ]
    return Page(items=items, next_cursor=next_cursor)


@router.post("/{workspace_id}/tokens", status_code=201)
@one_hop
def create_token(sr: SR, grant: MemberManager, body: TokenIn, response: Response) -> TokenOut:
    issued = sr.access.create_token(
        grant.workspace_id,
        body.role.value,
        body.expires_days,
        actor=grant.caller.actor,
        issuer_role=grant.role,
    )
    response.headers["Cache-Control"] = "no-store"
    return TokenOut(id=issued.id, token=issued.token, expires_at=issued.expires_at)


@router.delete("/{workspace_id}/tokens/{token_id}", status_code=204)
@one_hop
def revoke_token(sr: SR, grant: MemberManager, token_id: TokenId) -> Response:
    sr.access.revoke(token_id, actor=grant.caller.actor, workspace_id=grant.workspace_id)
    return Response(status_code=204)


@router.get("/{workspace_id}/keys", summary="Key versions of the workspace (no key material)")
@one_hop
def workspace_keys(sr: SR, grant: KeyReader) -> dict[str, object]:
    return sr.keys.workspace_status(grant.workspace_id).as_json()


@router.get("/{workspace_id}/audit", summary="The workspace's audit events, oldest first")
@one_hop
def workspace_audit(
    sr: SR,
    grant: AuditReader,
    after: Annotated[
        int, Query(ge=0, le=2**62, description="`next_after` of the previous page.")
    ] = 0,
    limit: Limit = 100,
) -> AuditPage:
    events = sr.audit.workspace_events(grant.workspace_id, after, limit)
    items = [
        AuditEventOut(
            position=e.position or 0,
            at=e.at,
            actor=e.actor,
            action=e.action,
            workspace_id=e.workspace_id,
            subject=e.subject,
            hash=e.hash,
        )
        for e in events
    ]
    return AuditPage(items=items, next_after=events[-1].position if len(events) == limit else None)
