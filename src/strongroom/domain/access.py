"""Who is calling, and what they may do: pure rules, no IO."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from strongroom.domain.grants import check_grant_allows
from strongroom.domain.roles import Action, Role, may
from strongroom.errors import NotFound, PermissionDenied


class PrincipalKind(StrEnum):
    TOKEN = "token"  # noqa: S105 - a kind of caller, not a secret
    SESSION = "session"  # a user who logged in: their memberships decide
    OPERATOR = "operator"  # the SaaS's staff: the deployment, never customer data
    GRANT = "grant"  # an operator's break-glass grant: reads one workspace, for a while


@dataclass(frozen=True)
class Principal:
    kind: PrincipalKind
    id: str  # token id (API tokens and sessions), never the secret
    user_id: str | None = None
    #: For API tokens, the one workspace and role; sessions look their memberships up.
    workspace_id: str | None = None
    role: Role | None = None
    #: For API tokens, their workspace's plan as read with the token (state, trial end).
    plan: tuple[str, datetime | None] | None = None
    #: For a break-glass grant's token: the grant, and the one project it covers (None: all).
    grant_id: str | None = None
    project_id: str | None = None

    @property
    def actor(self) -> str:
        """How the audit log names this caller (a grant's token: by its grant)."""
        return f"{self.kind.value}:{self.grant_id or self.user_id or self.id}"


def check_workspace_access(
    principal: Principal,
    workspace_id: str,
    role: Role | None,
    action: Action,
    project_id: str | None = None,
    safe: bool = False,
) -> None:
    """Raise unless ``principal`` (with ``role`` in ``workspace_id``, None if not a member)
    may do ``action`` there (``project_id``: the project the request names, if any;
    ``safe``: the request changes nothing, GET or HEAD).
    Another tenant's workspace is NotFound, never 403: its existence is not disclosed. A
    break-glass grant only reads, and only its project when it names one."""
    if principal.kind is PrincipalKind.OPERATOR:
        raise PermissionDenied("operators have no access to customer data")
    if role is None:
        raise NotFound(f"no workspace {workspace_id}", workspace_id=workspace_id)
    if principal.kind is PrincipalKind.GRANT:
        check_grant_allows(principal.project_id, action, project_id, safe)
    if not may(role, action):
        raise PermissionDenied(f"the {role.value} role may not {action.value.replace('_', ' ')}")


#: Login attempts: this many failures per email within the window, then wait. (Failures
#: per client address have a limit of their own, a setting: sign_in_failures_per_address.)
LOGIN_FAILURES_ALLOWED = 5
LOGIN_WINDOW = timedelta(minutes=15)


def login_retry_after(
    failures: list[datetime], now: datetime, allowed: int = LOGIN_FAILURES_ALLOWED
) -> int:
    """Seconds until another login attempt is allowed (0: allowed now), after ``allowed``
    failures within the window."""
    recent = sorted(t for t in failures if now - t < LOGIN_WINDOW)
    if len(recent) < allowed:
        return 0
    oldest_counted = recent[-allowed]
    return max(1, int((oldest_counted + LOGIN_WINDOW - now).total_seconds()) + 1)
