"""Members and roles, API tokens, and the member's own sessions.

The same services as the API's routes (api/routes_workspaces.py) with the same actions:
any member reads the members; owners and admins (``manage_members``) add members, change
roles, issue and revoke tokens. The owner guards are the service's: its refusal (an admin
demoting an owner, the last owner stepping down) is shown next to the form that asked.

A token is shown once: in the answer to the POST that created it, never in a redirect or
the session, and that answer is ``Cache-Control: no-store``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form
from starlette.responses import HTMLResponse, RedirectResponse, Response

from strongroom.api.params import TokenCursor, TokenId, UserCursor, UserId, page_keys
from strongroom.api.problems import status_of
from strongroom.console.visit import MemberManager, Reader, Visit
from strongroom.domain.roles import Role
from strongroom.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    StrongroomError,
)
from strongroom.services.access import DEFAULT_TOKEN_DAYS, MAX_TOKEN_DAYS

router = APIRouter()

PAGE = 100
MAX_EMAIL = 320
ROLES = [role.value for role in Role]
#: What the service refuses on a member's or token's form: said next to the field.
REFUSALS = (InvalidInput, Conflict, PermissionDenied)


def _status(error: StrongroomError) -> int:
    return status_of(error)[0]


def _roles_for(visit: Visit) -> list[str]:
    """The roles offered in the add form (only an owner grants owner)."""
    return ROLES if visit.role is Role.OWNER else [r for r in ROLES if r != Role.OWNER]


# members ----------------------------------------------------------------------------------
def _members_page(
    visit: Visit, cursor: str | None = None, status: int = 200, **form: Any
) -> HTMLResponse:
    assert visit.workspace_id is not None
    everyone = {m.user_id: m for m in visit.sr.workspaces.members(visit.workspace_id, visit.actor)}
    ids, next_cursor = page_keys(sorted(everyone), cursor, PAGE)
    values = {
        "email": "",
        "role": Role.MEMBER.value,
        "errors": {},
        "row_errors": {},
        "row_roles": {},  # what was chosen in a refused role change, kept
        **form,
    }
    return visit.render(
        "members_list.html",
        status,
        members=[everyone[i] for i in ids],
        next_cursor=next_cursor,
        roles=ROLES,
        add_roles=_roles_for(visit),
        **values,
    )


@router.get("/w/{workspace_id}/members", response_class=HTMLResponse)
def members(visit: Reader, cursor: UserCursor = None) -> Response:
    return _members_page(visit, cursor)


@router.post("/w/{workspace_id}/members", response_class=HTMLResponse)
def add_member(
    visit: MemberManager,
    email: Annotated[str, Form(max_length=MAX_EMAIL)] = "",
    role: Annotated[str, Form(max_length=32)] = Role.MEMBER.value,
) -> Response:
    assert visit.workspace_id is not None
    try:
        if role == Role.OWNER and visit.role is not Role.OWNER:  # as the API's add_member
            raise PermissionDenied("only an owner may add an owner")
        added = visit.sr.workspaces.add_member(visit.workspace_id, email, role, actor=visit.actor)
    except REFUSALS as refused:
        about_role = isinstance(refused, PermissionDenied) or "role" in str(refused)
        field = "role" if about_role else "email"
        return _members_page(
            visit, status=_status(refused), email=email, role=role, errors={field: str(refused)}
        )
    return visit.redirect(
        visit.url("/members"), flash=f"{added.email} was added as {added.role.value}."
    )


@router.post("/w/{workspace_id}/members/{user_id}/role", response_class=HTMLResponse)
def set_role(
    visit: MemberManager, user_id: UserId, role: Annotated[str, Form(max_length=32)] = ""
) -> Response:
    assert visit.workspace_id is not None
    try:
        changed = visit.sr.workspaces.set_role(
            visit.workspace_id, user_id, role, actor=visit.actor, issuer_role=visit.role
        )
    except REFUSALS as refused:
        return _members_page(
            visit,
            status=_status(refused),
            row_errors={user_id: str(refused)},
            row_roles={user_id: role},
        )
    return visit.redirect(
        visit.url("/members"), flash=f"{changed.email} is now {changed.role.value}."
    )


# API tokens -------------------------------------------------------------------------------
def _tokens_page(
    visit: Visit,
    cursor: str | None = None,
    status: int = 200,
    template: str = "members_tokens.html",
    **form: Any,
) -> HTMLResponse:
    assert visit.workspace_id is not None
    everything = {t.id: t for t in visit.sr.access.tokens(visit.workspace_id)}
    ids, next_cursor = page_keys(sorted(everything), cursor, PAGE)
    values = {"role": Role.VIEWER.value, "days": str(DEFAULT_TOKEN_DAYS), "errors": {}, **form}
    return visit.render(
        template,
        status,
        tokens=[everything[i] for i in ids],
        next_cursor=next_cursor,
        roles=ROLES,
        max_days=MAX_TOKEN_DAYS,
        now=visit.sr.ctx.clock.now(),
        **values,
    )


@router.get("/w/{workspace_id}/tokens", response_class=HTMLResponse)
def tokens(visit: MemberManager, cursor: TokenCursor = None) -> Response:
    return _tokens_page(visit, cursor)


@router.post("/w/{workspace_id}/tokens", response_class=HTMLResponse)
def create_token(
    visit: MemberManager,
    role: Annotated[str, Form(max_length=32)] = Role.VIEWER.value,
    days: Annotated[str, Form(max_length=12)] = str(DEFAULT_TOKEN_DAYS),
) -> Response:
    """The token in this answer and nowhere else (not stored, not in a URL)."""
    assert visit.workspace_id is not None
    if not days.strip().isdigit() or not 1 <= int(days) <= MAX_TOKEN_DAYS:
        error = f"A token lives 1 to {MAX_TOKEN_DAYS} days: type a whole number."
        return _tokens_page(visit, status=422, role=role, days=days, errors={"days": error})
    try:
        issued = visit.sr.access.create_token(
            visit.workspace_id, role, int(days), actor=visit.actor, issuer_role=visit.role
        )
    except REFUSALS as refused:
        return _tokens_page(
            visit, status=_status(refused), role=role, days=days, errors={"role": str(refused)}
        )
    response = _tokens_page(
        visit, template="members_token_created.html", issued=issued, issued_role=role
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/w/{workspace_id}/tokens/{token_id}/revoke", response_class=HTMLResponse)
def revoke_confirm(visit: MemberManager, token_id: TokenId) -> Response:
    assert visit.workspace_id is not None
    token = next((t for t in visit.sr.access.tokens(visit.workspace_id) if t.id == token_id), None)
    if token is None:
        raise NotFound(f"no token {token_id}", token_id=token_id)
    return visit.render("members_token_revoke.html", token=token)


@router.post("/w/{workspace_id}/tokens/{token_id}/revoke", response_class=HTMLResponse)
def revoke(visit: MemberManager, token_id: TokenId) -> Response:
    assert visit.workspace_id is not None
    visit.sr.access.revoke(token_id, actor=visit.actor, workspace_id=visit.workspace_id)
    return visit.redirect(
        visit.url("/tokens"), flash=f"Token {token_id} was revoked: it no longer works."
    )


# sessions ---------------------------------------------------------------------------------
@router.get("/w/{workspace_id}/sessions", response_class=HTMLResponse)
def sessions(visit: Reader) -> Response:
    """The member's own sessions in force (every browser signed in as them)."""
    own = sorted(visit.sr.access.sessions_of(visit.principal), key=lambda s: s.created_at)
    return visit.render(
        "members_sessions.html",
        sessions=own,
        this_session=visit.principal.id,
        now=visit.sr.ctx.clock.now(),
    )


@router.post("/w/{workspace_id}/sessions/{token_id}/end", response_class=HTMLResponse)
def end_session(visit: Reader, token_id: TokenId) -> Response:
    visit.sr.access.end_session(visit.principal, token_id)
    if token_id == visit.principal.id:  # this browser: signed out, as by "Sign out"
        visit.request.session.clear()
        return RedirectResponse("/console/sign-in", status_code=303)
    return visit.redirect(
        visit.url("/sessions"), flash="That session was ended: its browser is signed out."
    )
