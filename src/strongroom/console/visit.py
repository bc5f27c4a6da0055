"""Who is looking at a console page, and what they may do there.

A route names what it needs, as the API's routes do (api/deps.py): ``Signed`` for any
signed-in member, ``Member(Action.X)`` for a workspace page that the role matrix allows.
The check runs in the route's worker thread; a refusal is an exception that the console's
handlers turn into a page (console/app.py): sign-in for no session, 403 for a role that
may not, 404 for another tenant's workspace."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from starlette.responses import HTMLResponse, RedirectResponse

from strongroom.bootstrap import Strongroom
from strongroom.console import csrf, pages
from strongroom.domain.access import Principal, PrincipalKind
from strongroom.domain.roles import MATRIX, Action, Role
from strongroom.errors import Unauthenticated

#: The session's keys: the member session it carries, and one-time messages.
TOKEN_ID = "token_id"  # noqa: S105 - a session key, not a secret
FLASH = "flash"


class SignInNeeded(Exception):
    """No session, or one that has ended: the sign-in page, then back to ``next``."""

    def __init__(self, next_path: str, page: str | None = None) -> None:
        super().__init__(next_path)
        self.next_path = next_path
        #: Where to sign in: the members' page (then back to ``next``), or another
        #: (the operators' sign-in, console/operator.py).
        self.url = page or sign_in_url(next_path)


@dataclass
class Visit:
    """One request of a signed-in member (in a workspace, for workspace pages)."""

    request: Request
    sr: Strongroom
    principal: Principal
    email: str
    workspace_id: str | None = None
    role: Role | None = None
    workspace_name: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def may(self, action: Action | str) -> bool:
        return self.role is not None and Action(action) in MATRIX[self.role]

    @property
    def operator(self) -> bool:
        """An operator's visit (console/operator.py): the operators' pages, no workspace."""
        return self.principal.kind is PrincipalKind.OPERATOR

    @property
    def actor(self) -> str:
        return self.principal.actor

    def context(self, **values: Any) -> dict[str, Any]:
        return {**page_context(self.request), "visit": self, **values}

    def render(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        return pages.render(template, self.context(**values), status)

    def redirect(self, path: str, flash: str | None = None) -> RedirectResponse:
        """After a POST: 303 to ``path`` (a console path), with a message shown once."""
        if flash:
            self.request.session[FLASH] = flash
        return RedirectResponse(path, status_code=303)

    def url(self, suffix: str = "") -> str:
        """A path under this workspace's pages."""
        return f"/console/w/{self.workspace_id}{suffix}"


def page_context(request: Request) -> dict[str, Any]:
    """What every page's template gets, signed in or not."""
    flash = request.session.pop(FLASH, None) if "session" in request.scope else None
    return {"request": request, "csrf_token": csrf.token(request.scope), "flash": flash}


def _strongroom(request: Request) -> Strongroom:
    sr: Strongroom = request.app.state.strongroom
    return sr


def _present(
    request: Request, workspace_id: str | None = None, action: Action | None = None
) -> Visit:
    """The signed-in member (and their role in ``workspace_id``), in one read; a session
    that has ended is cleared and sent to the sign-in page."""
    sr = _strongroom(request)
    token_id = request.session.get(TOKEN_ID)
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if not token_id:
        raise SignInNeeded(path)
    try:
        found = sr.access.presence(str(token_id), workspace_id, action)
    except Unauthenticated:
        request.session.clear()
        raise SignInNeeded(path) from None
    return Visit(
        request,
        sr,
        found.principal,
        found.email,
        workspace_id if found.role is not None else None,
        found.role,
        found.workspace_name,
    )


def signed_in(request: Request) -> Visit:
    return _present(request)


def member(action: Action) -> Any:
    """A dependency: the signed-in member, in the path's workspace, allowed ``action``."""

    def check(request: Request, workspace_id: str) -> Visit:
        return _present(request, workspace_id, action)

    return Depends(check)


Signed = Annotated[Visit, Depends(signed_in)]
Reader = Annotated[Visit, member(Action.READ)]
DataWriter = Annotated[Visit, member(Action.WRITE_DATA)]
ProjectManager = Annotated[Visit, member(Action.MANAGE_PROJECTS)]
MemberManager = Annotated[Visit, member(Action.MANAGE_MEMBERS)]
AuditReader = Annotated[Visit, member(Action.READ_AUDIT)]
Exporter = Annotated[Visit, member(Action.EXPORT)]
TrashPurger = Annotated[Visit, member(Action.PURGE_TRASH)]
WorkspaceDeleter = Annotated[Visit, member(Action.DELETE_WORKSPACE)]
PrivacyManager = Annotated[Visit, member(Action.PRIVACY)]


def sign_in_url(next_path: str) -> str:
    return "/console/sign-in?next=" + quote(next_path, safe="/")
