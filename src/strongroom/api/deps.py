"""Dependencies every route uses: the Strongroom instance, the caller, the role check."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from strongroom.api.params import WorkspaceId
from strongroom.bootstrap import Strongroom
from strongroom.domain.access import Principal, PrincipalKind
from strongroom.domain.roles import Action, Role
from strongroom.errors import PermissionDenied, Unauthenticated


async def get_strongroom(request: Request) -> Strongroom:  # async: no thread hop
    sr: Strongroom = request.app.state.strongroom
    return sr


SR = Annotated[Strongroom, Depends(get_strongroom)]
_bearer = HTTPBearer(auto_error=False, description="An API, session or operator token.")


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _authenticate(sr: Strongroom, credentials: HTTPAuthorizationCredentials | None) -> Principal:
    if credentials is None:
        raise Unauthenticated("a bearer token is required")
    return sr.access.authenticate(credentials.credentials)


def current_caller(sr: SR, credentials: Credentials) -> Principal:
    return _authenticate(sr, credentials)


Caller = Annotated[Principal, Depends(current_caller)]


@dataclass(frozen=True)
class Grant:
    """A caller allowed an action in one workspace, with their role there."""

    caller: Principal
    workspace_id: str
    role: Role


def allowed(action: Action) -> Any:
    """A dependency that lets the request through only if the caller's role in the path's
    workspace allows ``action`` (404 for another tenant's workspace, 403 otherwise)."""

    def check(workspace_id: WorkspaceId, sr: SR, credentials: Credentials) -> Grant:
        # Token lookup and role check in one dependency: one thread-pool hop, not two.
        caller = _authenticate(sr, credentials)
        return Grant(caller, workspace_id, sr.access.require(caller, workspace_id, action))

    return Depends(check)


def operator(sr: SR, caller: Caller) -> Principal:
    if caller.kind is not PrincipalKind.OPERATOR:
        raise PermissionDenied("only an operator token may do this")
    return caller


Operator = Annotated[Principal, Depends(operator)]

# A route names what it needs; the dependency checks it against the role matrix.
Reader = Annotated[Grant, allowed(Action.READ)]
DataWriter = Annotated[Grant, allowed(Action.WRITE_DATA)]
ProjectManager = Annotated[Grant, allowed(Action.MANAGE_PROJECTS)]
MemberManager = Annotated[Grant, allowed(Action.MANAGE_MEMBERS)]
AuditReader = Annotated[Grant, allowed(Action.READ_AUDIT)]
KeyReader = Annotated[Grant, allowed(Action.READ_KEYS)]

Route = Callable[..., Any]
