"""Who may call: API tokens, user passwords and sessions, operators; and the check of a
caller against the role matrix.

Tokens are 256 random bits shown once; only their SHA-256 is stored (a random secret
needs no slow hash). Passwords are argon2id. Failed logins are counted per email and per
client address in the data store, so the limits hold across every server process: the
email's stops guessing one password, the address's stops one client spraying many emails
(and locking all of them out).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from strongroom import ids
from strongroom.crypto.blind_index import BlindIndexer
from strongroom.domain.access import (
    LOGIN_WINDOW,
    Principal,
    PrincipalKind,
    check_workspace_access,
    login_retry_after,
)
from strongroom.domain.client_address import address_key
from strongroom.domain.grants import GrantState, GrantStatus
from strongroom.domain.grants import status as grant_status
from strongroom.domain.lifecycle import check_plan_allows, effective_state
from strongroom.domain.model import WorkspaceState
from strongroom.domain.roles import MATRIX, Action, Role, parse_role
from strongroom.domain.rules import check_email
from strongroom.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RateLimited,
    Unauthenticated,
)
from strongroom.services import audit
from strongroom.services.context import Context
from strongroom.services.guards import require_usable, require_workspace
from strongroom.services.workspaces import directory_index, sealed_workspace_name, user_email
from strongroom.storage.repositories.grants import GrantRow
from strongroom.storage.rows import TokenRow
from strongroom.storage.unit_of_work import DataUnitOfWork

TOKEN_PREFIX = "srt_"  # noqa: S105 - a prefix, not a secret
SESSION_HOURS = 12
DEFAULT_TOKEN_DAYS = 90
MAX_TOKEN_DAYS = 3650
MIN_PASSWORD_CHARS = 12
_VERIFYING = threading.BoundedSemaphore(2)


@dataclass(frozen=True)
class IssuedToken:
    id: str
    token: str  # shown once, never stored
    expires_at: datetime | None

    def __repr__(self) -> str:
        return f"IssuedToken(id={self.id!r}, token=<redacted>, expires_at={self.expires_at!r})"


@dataclass(frozen=True)
class Presence:
    """A signed-in member at the console: who, their email, and in a workspace page their
    role and the workspace's name."""

    principal: Principal
    email: str
    role: Role | None
    workspace_name: str | None


def address_index(ctx: Context, address: str) -> bytes:
    """The digest a client address is counted under: keyed, so the table of failures
    names no address in clear; normalised first (an IPv6 client by its /64, an
    IPv4-mapped address as IPv4), so one client cannot spread its failures over the
    addresses it holds."""
    _version, key = ctx.keyring.directory_key()
    return BlindIndexer(key).digest("sign_in_address", address_key(address))


def _secret_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


@functools.cache
def _no_password() -> str:
    """A hash to verify against for unknown users, so they cost what known ones do. Made on
    first use: argon2 takes ~64 MiB and tens of ms, which no CLI start should pay."""
    return PasswordHasher().hash(secrets.token_urlsafe(16))


class Access:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.hasher = PasswordHasher()  # argon2id with the library's current parameters

    # tokens ---------------------------------------------------------------------------
    def create_token(
        self,
        workspace_id: str,
        role: str,
        expires_days: int | None = DEFAULT_TOKEN_DAYS,
        actor: str = "system",
        issuer_role: Role | None = None,
    ) -> IssuedToken:
        """An API token for one workspace and one role. ``issuer_role`` (a member issuing
        through the API) may not mint a token above itself."""
        parsed = parse_role(role)
        if issuer_role is not None and not MATRIX[parsed] <= MATRIX[issuer_role]:
            raise PermissionDenied(f"a {issuer_role.value} cannot issue a {parsed.value} token")
        with self.ctx.store.write() as uow:
            require_workspace(uow, workspace_id)
            issued = self._issue(uow, PrincipalKind.TOKEN, expires_days, workspace_id, parsed)
            audit.append(
                uow,
                self.ctx.clock.now(),
                actor,
                "token.create",
                workspace_id,
                token_id=issued.id,
                role=parsed.value,
            )
            uow.commit()
        return issued

    def create_operator_token(
        self,
        expires_days: int | None = DEFAULT_TOKEN_DAYS,
        actor: str = "system",
        operator_id: str | None = None,
    ) -> IssuedToken:
        """An operator token; ``operator_id``: the operator (a person) it is issued to."""
        with self.ctx.store.write() as uow:
            issued = self._issue(uow, PrincipalKind.OPERATOR, expires_days)
            if operator_id is not None:
                uow.operators.link_token(issued.id, operator_id)
            audit.append(
                uow,
                self.ctx.clock.now(),
                actor,
                "token.create_operator",
                None,
                token_id=issued.id,
                **({"operator_id": operator_id} if operator_id else {}),
            )
            uow.commit()
        return issued

    def _issue(
        self,
        uow: DataUnitOfWork,
        kind: PrincipalKind,
        expires_days: int | None,
        workspace_id: str | None = None,
        role: Role | None = None,
        user_id: str | None = None,
        lifetime: timedelta | None = None,
    ) -> IssuedToken:
        if expires_days is not None and not 1 <= expires_days <= MAX_TOKEN_DAYS:
            raise InvalidInput(f"a token lives 1 to {MAX_TOKEN_DAYS} days")
        now = self.ctx.clock.now()
        if lifetime is None and expires_days is not None:
            lifetime = timedelta(days=expires_days)
        expires_at = now + lifetime if lifetime is not None else None
        secret = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
        token = TOKEN_PREFIX + secret
        token_id = ids.new_id("token")
        row = TokenRow(
            token_id,
            _secret_hash(token),
            kind.value,
            workspace_id,
            role.value if role else None,
            user_id,
            now,
            expires_at,
            None,
        )
        uow.tokens.add(row)
        return IssuedToken(token_id, token, expires_at)

    def revoke(self, token_id: str, actor: str = "system", workspace_id: str | None = None) -> None:
        """Revoke a token at once. With ``workspace_id``, only a token of that workspace."""
        ids.check_id("token", token_id)
        with self.ctx.store.write() as uow:
            row = uow.tokens.get(token_id)
            if row is None or (workspace_id is not None and row.workspace_id != workspace_id):
                raise NotFound(f"no token {token_id}", token_id=token_id)
            now = self.ctx.clock.now()
            uow.tokens.revoke(token_id, now)
            grant = uow.grants.by_token(token_id) if row.kind == PrincipalKind.GRANT else None
            if grant is not None and (
                grant_status(GrantState(grant.state), grant.expires_at, now) is GrantStatus.ACTIVE
            ):  # a grant's token: the grant ends with it
                uow.grants.revoke(grant.id, now, actor)
            audit.append(
                uow,
                now,
                actor,
                "token.revoke",
                row.workspace_id,
                token_id=token_id,
                **({"grant_id": grant.id} if grant is not None else {}),
            )
            uow.commit()

    def tokens(self, workspace_id: str) -> list[TokenRow]:
        with self.ctx.store.read() as uow:
            require_workspace(uow, workspace_id)
            return uow.tokens.for_workspace(workspace_id)

    def authenticate(self, token: str) -> Principal:
        """The caller behind a bearer token; Unauthenticated for anything else."""
        if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
            raise Unauthenticated("not a Strongroom token")
        with self.ctx.store.lookup() as uow:
            found = uow.tokens.with_plan(_secret_hash(token))
        now = self.ctx.clock.now()
        if found is None:
            raise Unauthenticated("unknown token")
        row, plan = found
        if row.revoked_at is not None:
            raise Unauthenticated("the token was revoked")
        if row.expires_at is not None and row.expires_at <= now:
            raise Unauthenticated("the token has expired")
        kind = PrincipalKind(row.kind)
        role = Role(row.role) if row.role else None
        grant = None
        if kind is PrincipalKind.GRANT:  # its grant is read at every request: no cache
            grant = self._grant_in_force(row.id, now)
        return Principal(
            kind,
            row.id,
            row.user_id,
            row.workspace_id,
            role,
            (plan.state, plan.trial_ends_at) if plan else None,
            grant.id if grant else None,
            grant.project_id if grant else None,
        )

    def _grant_in_force(self, token_id: str, now: datetime) -> GrantRow:
        """The active break-glass grant behind a grant token; Unauthenticated once it is
        revoked, refused or past its end (the token row says so too: belt and braces)."""
        with self.ctx.store.lookup() as uow:
            grant = uow.grants.by_token(token_id)
        if grant is None:
            raise Unauthenticated("unknown break-glass grant")
        current = grant_status(GrantState(grant.state), grant.expires_at, now)
        if current is not GrantStatus.ACTIVE:
            raise Unauthenticated(f"the break-glass grant {grant.id} is {current.value}")
        return grant

    def issue_grant_token(
        self, uow: DataUnitOfWork, workspace_id: str, expires_at: datetime
    ) -> IssuedToken:
        """A break-glass grant's token (in the caller's transaction): reads one workspace,
        as a viewer would, until ``expires_at``; see domain/grants.py for what it may do."""
        lifetime = expires_at - self.ctx.clock.now()
        if lifetime <= timedelta(0):
            raise Conflict("the grant has ended")
        return self._issue(
            uow, PrincipalKind.GRANT, None, workspace_id, Role.VIEWER, lifetime=lifetime
        )

    def presence(
        self, token_id: str, workspace_id: str | None = None, action: Action | None = None
    ) -> Presence:
        """Who a console session is, and (for a workspace page) their role there, checked
        as :meth:`require` checks a caller: one statement for the session, the user and the
        membership. Unauthenticated once the session is revoked or expired; NotFound for a
        workspace that is not theirs; PermissionDenied or Conflict as :meth:`require`."""
        if workspace_id is not None:
            ids.check_id("workspace", workspace_id)
        with self.ctx.store.lookup() as uow:
            row = uow.tokens.presence(token_id, workspace_id or "")
        now = self.ctx.clock.now()
        if row is None or row.kind != PrincipalKind.SESSION:
            raise Unauthenticated("unknown session")
        if row.revoked_at is not None:
            raise Unauthenticated("the session was ended")
        if row.expires_at is None or row.expires_at <= now:
            raise Unauthenticated("the session has expired")
        principal = Principal(PrincipalKind.SESSION, token_id, row.user_id)
        email = user_email(self.ctx, row.user_id, row.email_sealed, principal.actor)
        if workspace_id is None or action is None:
            return Presence(principal, email, None, None)
        closed = row.state is None or row.state == WorkspaceState.CLOSED
        role = None if closed or row.role is None else Role(row.role)
        check_workspace_access(principal, workspace_id, role, action)
        assert role is not None and row.state is not None and row.name_sealed is not None
        state = effective_state(row.state, row.trial_ends_at, now)
        check_plan_allows(workspace_id, state, action)
        name = sealed_workspace_name(self.ctx, workspace_id, row.name_sealed, principal.actor)
        return Presence(principal, email, role, name)

    def resume_session(self, token_id: str) -> Principal:
        """The member behind a session the console keeps by id (console/sessions.py); the
        same checks as :meth:`authenticate`: Unauthenticated once revoked or expired."""
        with self.ctx.store.lookup() as uow:
            row = uow.tokens.get(token_id)
        if row is None or row.kind != PrincipalKind.SESSION or row.user_id is None:
            raise Unauthenticated("unknown session")
        if row.revoked_at is not None:
            raise Unauthenticated("the session was ended")
        if row.expires_at is None or row.expires_at <= self.ctx.clock.now():
            raise Unauthenticated("the session has expired")
        return Principal(PrincipalKind.SESSION, row.id, row.user_id)

    def operator_of(self, principal: Principal) -> str | None:
        """The operator (a person) an operator token was issued to; None for a token
        issued to no one (before staff existed)."""
        if principal.kind is not PrincipalKind.OPERATOR:
            return None
        with self.ctx.store.read() as uow:
            return uow.operators.of_token(principal.id)

    def resume_operator(self, token_id: str) -> Principal:
        """The operator behind a console session kept by their token's id: the same checks
        as :meth:`authenticate`, Unauthenticated once the token is revoked or expired."""
        with self.ctx.store.lookup() as uow:
            row = uow.tokens.get(token_id)
        if row is None or row.kind != PrincipalKind.OPERATOR:
            raise Unauthenticated("unknown operator token")
        if row.revoked_at is not None:
            raise Unauthenticated("the operator token was revoked")
        if row.expires_at is not None and row.expires_at <= self.ctx.clock.now():
            raise Unauthenticated("the operator token has expired")
        return Principal(PrincipalKind.OPERATOR, row.id)

    def console_signing_secret(self) -> bytes:
        """The key the console signs its CSRF tokens with: derived from the directory key,
        so every API node has the same one and none is stored."""
        _version, key = self.ctx.keyring.directory_key()
        return key.derive("console-csrf")

    def sessions_of(self, principal: Principal) -> list[TokenRow]:
        """The caller's own member sessions still in force (the console's sessions page)."""
        if principal.user_id is None:
            return []
        with self.ctx.store.read() as uow:
            return uow.tokens.sessions_of(principal.user_id, self.ctx.clock.now())

    def end_session(self, principal: Principal, token_id: str) -> None:
        """End one of the caller's own sessions (sign-out, or a browser left signed in
        elsewhere); NotFound for anyone else's."""
        ids.check_id("token", token_id)
        with self.ctx.store.write() as uow:
            row = uow.tokens.get(token_id)
            if row is None or row.kind != PrincipalKind.SESSION or row.user_id != principal.user_id:
                raise NotFound(f"no session {token_id}", token_id=token_id)
            now = self.ctx.clock.now()
            uow.tokens.revoke(token_id, now)
            audit.append(uow, now, principal.actor, "session.end", None, token_id=token_id)
            uow.commit()

    # the role matrix ------------------------------------------------------------------
    def role_in(self, principal: Principal, workspace_id: str) -> Role | None:
        if principal.kind in (PrincipalKind.TOKEN, PrincipalKind.GRANT):
            return principal.role if principal.workspace_id == workspace_id else None
        if principal.kind is PrincipalKind.SESSION and principal.user_id:
            with self.ctx.store.read() as uow:
                member = uow.members.get(workspace_id, principal.user_id)
            return Role(member.role) if member else None
        return None

    def require(
        self,
        principal: Principal,
        workspace_id: str,
        action: Action,
        project_id: str | None = None,
        what: str | None = None,
        safe: bool = False,
    ) -> Role:
        """The caller's role in the workspace, if it allows ``action`` (on ``project_id``,
        the project the request names); else NotFound (not theirs) or PermissionDenied
        (theirs, but not allowed). A break-glass grant passes only for a read by a request
        that changes nothing (``safe``: GET or HEAD); what passes is recorded (``what``: the
        request) in the grant's reads and the audit before it runs."""
        role = self.role_in(principal, workspace_id)
        try:
            check_workspace_access(principal, workspace_id, role, action, project_id, safe)
        except (PermissionDenied, NotFound):
            if principal.grant_id is not None and principal.workspace_id is not None:
                # The customer sees what the operator tried too; another tenant's path is
                # not named in this one's audit.
                ours = workspace_id == principal.workspace_id
                self._record_refusal(
                    principal.grant_id,
                    principal.workspace_id,
                    (what or action.value) if ours else "a request outside this workspace",
                )
            raise
        assert role is not None  # check_workspace_access refused otherwise
        # and the plan (cancelled, expired, closed): an API token read it with itself
        now = self.ctx.clock.now()
        if principal.plan is not None and principal.workspace_id == workspace_id:
            state, trial_ends_at = principal.plan
            check_plan_allows(workspace_id, effective_state(state, trial_ends_at, now), action)
        else:
            with self.ctx.store.read() as uow:
                require_usable(uow, workspace_id, action, now)
        if principal.grant_id is not None:
            self._record_read(principal.grant_id, workspace_id, what or action.value, now)
        return role

    def _record_read(self, grant_id: str, workspace_id: str, what: str, now: datetime) -> None:
        with self.ctx.store.write() as uow:
            seq = audit.append(
                uow,
                now,
                f"grant:{grant_id}",
                "grant.read",
                workspace_id,
                grant_id=grant_id,
                request=what[:255],
            )
            uow.grants.add_read(grant_id, workspace_id, now, what, seq)
            uow.commit()

    def _record_refusal(self, grant_id: str, workspace_id: str, what: str) -> None:
        with self.ctx.store.write() as uow:
            audit.append(
                uow,
                self.ctx.clock.now(),
                f"grant:{grant_id}",
                "grant.refused_request",
                workspace_id,
                grant_id=grant_id,
                request=what[:255],
            )
            uow.commit()

    def visible_workspaces(self, principal: Principal) -> list[str]:
        if principal.kind is PrincipalKind.TOKEN and principal.workspace_id:
            return [principal.workspace_id]
        if principal.kind is PrincipalKind.SESSION and principal.user_id:
            with self.ctx.store.read() as uow:  # a deleted (closed) workspace is gone at once
                return [
                    ws
                    for ws in uow.members.workspaces_of(principal.user_id)
                    if (row := uow.workspaces.get(ws)) and row.state != WorkspaceState.CLOSED
                ]
        return []

    # passwords and sessions -----------------------------------------------------------
    def set_password(self, email: str, password: str, actor: str = "system") -> None:
        email = check_email(email)
        if len(password) < MIN_PASSWORD_CHARS:
            raise InvalidInput(f"a password has at least {MIN_PASSWORD_CHARS} characters")
        password_hash = self.hasher.hash(password)
        with self.ctx.store.write() as uow:
            user = uow.users.find_by_email_index(directory_index(self.ctx, email))
            if user is None:
                raise NotFound("no user with this email")
            uow.users.set_password_hash(user.id, password_hash)
            uow.tokens.revoke_sessions(user.id, self.ctx.clock.now())  # a new password ends them
            audit.append(
                uow, self.ctx.clock.now(), actor, "user.set_password", None, user_id=user.id
            )
            uow.commit()

    def login(self, email: str, password: str, address: str | None = None) -> IssuedToken:
        """A session token for the user, or Unauthenticated; RateLimited after repeated
        failures for the same email, or from the same client ``address`` (an IP address;
        None: not counted, as for a caller in this process)."""
        try:
            index: bytes | None = directory_index(self.ctx, check_email(email))
        except InvalidInput:
            index = None  # not an email: counted against the address all the same
        where = address_index(self.ctx, address) if address else None
        now = self.ctx.clock.now()
        # The attempt is counted as a failure first, in a transaction that serialises the
        # attempts of one email and of one address; a success clears the email's count and
        # takes back its own address failure. Parallel guesses cannot outrun either limit.
        with self.ctx.store.write() as uow:
            refusal, failure_id = self._count_attempt(uow, index, where, now)
            if refusal is None and index is not None:
                user = uow.users.find_by_email_index(index)
                stored = uow.users.password_hash(user.id) if user else None
            uow.commit()
        if refusal is not None:
            raise refusal
        if index is None or not self._verify(stored, password) or user is None:
            raise Unauthenticated("wrong email or password")
        with self.ctx.store.write() as uow:
            uow.login_failures.clear(index)
            if failure_id is not None:
                uow.address_failures.forget(failure_id)
            issued = self._issue(
                uow,
                PrincipalKind.SESSION,
                None,
                user_id=user.id,
                lifetime=timedelta(hours=SESSION_HOURS),
            )
            audit.append(uow, now, f"user:{user.id}", "session.create", None, token_id=issued.id)
            uow.commit()
        return issued

    def _count_attempt(
        self, uow: DataUnitOfWork, index: bytes | None, where: bytes | None, now: datetime
    ) -> tuple[RateLimited | None, int | None]:
        """Lock and count one attempt (address first, then email: one lock order); the
        refusal if either limit is reached (nothing counted then), else the id of the
        address failure counted."""
        since = now - LOGIN_WINDOW
        if where is not None:
            uow.address_failures.lock(where)
        if index is not None:
            uow.login_failures.lock(index)
        uow.login_failures.prune(since)
        if where is not None:
            uow.address_failures.prune(since)
            allowed = self.ctx.settings.sign_in_failures_per_address
            wait = login_retry_after(uow.address_failures.since(where, since), now, allowed)
            if wait:
                message = "too many failed logins from this address; try again later"
                return RateLimited(message, retry_after=wait), None
        if index is not None:
            wait = login_retry_after(uow.login_failures.since(index, since), now)
            if wait:
                message = "too many failed logins for this email; try again later"
                return RateLimited(message, retry_after=wait), None
            uow.login_failures.add(index, now)
        return None, (uow.address_failures.add(where, now) if where is not None else None)

    def _verify(self, stored: str | None, password: str) -> bool:
        """argon2id verification; at most two at a time (each takes ~64 MiB)."""
        try:
            with _VERIFYING:
                return self.hasher.verify(stored or _no_password(), password) and stored is not None
        except (VerificationError, InvalidHashError):
            return False
