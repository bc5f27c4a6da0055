"""Dependencies every route uses: the Strongroom instance, the caller, and the role check
(a pending Grant, checked by :func:`one_hop` in the route's own worker-thread call)."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from strongroom.api.params import WorkspaceId
from strongroom.bootstrap import Strongroom
from strongroom.domain.access import Principal, PrincipalKind
from strongroom.domain.roles import Action, Role, may
from strongroom.errors import Conflict, PermissionDenied, Unauthenticated


async def get_strongroom(request: Request) -> Strongroom:  # async: no thread hop
    sr: Strongroom = request.app.state.strongroom
    return sr


SR = Annotated[Strongroom, Depends(get_strongroom)]
T = TypeVar("T")
_bearer = HTTPBearer(auto_error=False, description="An API, session or operator token.")


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _authenticate(sr: Strongroom, token: str | None) -> Principal:
    if token is None:
        raise Unauthenticated("a bearer token is required")
    return sr.access.authenticate(token)


def _token(credentials: HTTPAuthorizationCredentials | None) -> str | None:
    return None if credentials is None else credentials.credentials


def current_caller(sr: SR, credentials: Credentials) -> Principal:
    """The caller of a route that checks no workspace role itself. A break-glass grant's
    token is refused here: it only reads its workspace, through the role check."""
    caller = _authenticate(sr, _token(credentials))
    if caller.kind is PrincipalKind.GRANT:
        raise PermissionDenied("a break-glass grant's token only reads its workspace's data")
    return caller


Caller = Annotated[Principal, Depends(current_caller)]


class Grant:
    """A caller allowed an action in one workspace, with their role there.

    The dependency makes it pending (no IO on the event loop); :func:`one_hop` resolves it
    (token lookup, role check) in the same worker-thread call as the route itself."""

    def __init__(
        self,
        sr: Strongroom,
        token: str | None,
        workspace_id: str,
        action: Action,
        fallback: Action | None = None,
        project_id: str | None = None,
        what: str | None = None,
        safe: bool = False,
    ) -> None:
        self._sr = sr
        self._token = token
        self._action = action
        self._fallback = fallback
        self.workspace_id = workspace_id
        #: The project the request names (a break-glass grant may cover one only), and
        #: the request itself as a grant's reads record it.
        self._project_id = project_id
        self._what = what
        self._safe = safe  # a GET or HEAD request: changes nothing
        self._caller: Principal | None = None
        self._role: Role | None = None

    def resolve(self) -> None:
        """Authenticate and check the role matrix (once); raises 401, 403 or 404 errors."""
        if self._caller is not None:
            return
        caller = _authenticate(self._sr, self._token)
        access, ws, project = self._sr.access, self.workspace_id, self._project_id
        try:
            self._role = access.require(caller, ws, self._action, project, self._what, self._safe)
        except Conflict:  # the plan state refuses it: the fallback, if the role allows that
            role = access.role_in(caller, ws)
            if self._fallback is None or role is None or not may(role, self._fallback):
                raise
            self._role = access.require(caller, ws, self._fallback, project, self._what, self._safe)
        self._caller = caller

    @property
    def caller(self) -> Principal:
        if self._caller is None:
            raise RuntimeError("grant used before it was checked")
        return self._caller

    @property
    def role(self) -> Role:
        if self._role is None:
            raise RuntimeError("grant used before it was checked")
        return self._role


def allowed(action: Action, fallback: Action | None = None) -> Any:
    """A dependency that lets the request through only if the caller's role in the path's
    workspace allows ``action`` (404 for another tenant's workspace, 403 otherwise). When
    the workspace's plan state refuses ``action`` (409), ``fallback`` is tried instead, if
    the caller's role allows it. The check itself runs in the route's worker thread (see
    :func:`one_hop`)."""

    async def pending(
        workspace_id: WorkspaceId, sr: SR, credentials: Credentials, request: Request
    ) -> Grant:
        project_id = request.path_params.get("project_id")
        query = request.url.query
        what = f"{request.method} {request.url.path}" + (f"?{query}" if query else "")
        safe = request.method in ("GET", "HEAD")
        token = _token(credentials)
        return Grant(sr, token, workspace_id, action, fallback, project_id, what, safe)

    return Depends(pending)


def one_hop(route: Callable[..., T]) -> Callable[..., Awaitable[T]]:
    """Run a sync route, and the check of its grants, in ONE worker-thread call.

    FastAPI would otherwise hop to the thread pool for each sync dependency, the route and
    its response validation; each hop costs a GIL hand-over on the hot path."""

    @functools.wraps(route)
    async def run(**kwargs: Any) -> T:
        def job() -> T:
            for value in kwargs.values():
                if isinstance(value, Grant):
                    value.resolve()
            return route(**kwargs)

        return await run_in_threadpool(job)

    return run


def operator(caller: Caller) -> Principal:
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
TrashPurger = Annotated[Grant, allowed(Action.PURGE_TRASH)]
WorkspaceDeleter = Annotated[Grant, allowed(Action.DELETE_WORKSPACE)]
PrivacyManager = Annotated[Grant, allowed(Action.PRIVACY)]
GrantDecider = Annotated[Grant, allowed(Action.DECIDE_GRANTS)]
#: Anyone who may read, and in an ended trial (where reading is refused) owners and
#: admins through EXPORT, the one action every plan state but closed allows them.
PlanReader = Annotated[Grant, allowed(Action.READ, fallback=Action.EXPORT)]
