"""API tokens, sessions and operator tokens (their secrets only as hashes)."""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import bindparam, insert, select, update

from strongroom.domain.access import PrincipalKind
from strongroom.storage import tables as t
from strongroom.storage.driver import DriverQuery, utc
from strongroom.storage.repositories.base import Repository, fields
from strongroom.storage.rows import Plan, TokenRow

# What every API request runs: the token with its workspace's plan (state, trial end), in
# one statement, one snapshot (storage/driver).
_SELECT_TOKEN = DriverQuery(
    select(t.api_tokens, t.workspaces.c.state, t.workspaces.c.trial_ends_at)
    .select_from(t.api_tokens)
    .outerjoin(t.workspaces, t.workspaces.c.id == t.api_tokens.c.workspace_id)
    .where(t.api_tokens.c.secret_hash == bindparam("secret_hash"))
)


# What every console page runs: the member session, its user's sealed email, and (for a
# workspace page) the user's membership and the workspace, in one statement.
_member = t.members.alias("m")
_SELECT_PRESENCE = DriverQuery(
    select(
        t.api_tokens.c.kind,
        t.api_tokens.c.user_id,
        t.api_tokens.c.expires_at,
        t.api_tokens.c.revoked_at,
        t.users.c.email_sealed,
        _member.c.role,
        t.workspaces.c.id,
        t.workspaces.c.state,
        t.workspaces.c.trial_ends_at,
        t.workspaces.c.name_sealed,
    )
    .select_from(t.api_tokens)
    .join(t.users, t.users.c.id == t.api_tokens.c.user_id)
    .outerjoin(
        _member,
        (_member.c.user_id == t.api_tokens.c.user_id)
        & (_member.c.workspace_id == bindparam("workspace_id")),
    )
    .outerjoin(t.workspaces, t.workspaces.c.id == _member.c.workspace_id)
    .where(t.api_tokens.c.id == bindparam("token_id"))
)


class Presence(NamedTuple):
    """A member session as the console reads it (storage.rows holds the table rows)."""

    kind: str
    user_id: str
    expires_at: datetime | None
    revoked_at: datetime | None
    email_sealed: bytes
    role: str | None  # in the workspace asked about; None: not a member
    workspace_id: str | None
    state: str | None
    trial_ends_at: datetime | None
    name_sealed: bytes | None


class Tokens(Repository):
    def presence(self, token_id: str, workspace_id: str) -> Presence | None:
        """The session ``token_id`` with its user's email and their membership of
        ``workspace_id`` (role and workspace None when not a member), in one statement."""
        r = _SELECT_PRESENCE.first(self.conn, {"token_id": token_id, "workspace_id": workspace_id})
        if r is None:
            return None
        return Presence(
            r[0],
            r[1],
            utc(r[2]),
            utc(r[3]),
            bytes(r[4]),
            r[5],
            r[6],
            r[7],
            utc(r[8]),
            None if r[9] is None else bytes(r[9]),
        )

    def add(self, row: TokenRow) -> None:
        self.conn.execute(insert(t.api_tokens).values(**fields(row)))

    def by_secret_hash(self, secret_hash: bytes) -> TokenRow | None:
        found = self.with_plan(secret_hash)
        return None if found is None else found[0]

    def with_plan(self, secret_hash: bytes) -> tuple[TokenRow, Plan | None] | None:
        """The token and its workspace's plan (None for a token of no workspace), read in
        one statement: the authentication of every API request."""
        r = _SELECT_TOKEN.first(self.conn, {"secret_hash": secret_hash})
        if r is None:
            return None
        row = TokenRow._make((*r[:6], utc(r[6]), utc(r[7]), utc(r[8])))  # the timestamps
        return row, (Plan(r[9], utc(r[10])) if r[9] is not None else None)

    def get(self, token_id: str) -> TokenRow | None:
        r = self.conn.execute(select(t.api_tokens).where(t.api_tokens.c.id == token_id)).first()
        return TokenRow(*r) if r else None

    def revoke(self, token_id: str, now: datetime) -> int:
        return self.conn.execute(
            update(t.api_tokens)
            .where(t.api_tokens.c.id == token_id, t.api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        ).rowcount

    def revoke_workspace(self, workspace_id: str, now: datetime) -> int:
        return self.conn.execute(
            update(t.api_tokens)
            .where(t.api_tokens.c.workspace_id == workspace_id, t.api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        ).rowcount

    def revoke_sessions(self, user_id: str, now: datetime) -> None:
        self.conn.execute(
            update(t.api_tokens)
            .where(
                t.api_tokens.c.user_id == user_id,
                t.api_tokens.c.kind == PrincipalKind.SESSION,
                t.api_tokens.c.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        )

    def for_workspace(self, workspace_id: str) -> builtins.list[TokenRow]:
        rows = self.conn.execute(
            select(t.api_tokens)
            .where(t.api_tokens.c.workspace_id == workspace_id)
            .order_by(t.api_tokens.c.created_at, t.api_tokens.c.id)
        )
        return [TokenRow(*r) for r in rows]

    def sessions_of(self, user_id: str, now: datetime) -> builtins.list[TokenRow]:
        """The user's member sessions still in force, newest first."""
        rows = self.conn.execute(
            select(t.api_tokens)
            .where(
                t.api_tokens.c.user_id == user_id,
                t.api_tokens.c.kind == PrincipalKind.SESSION,
                t.api_tokens.c.revoked_at.is_(None),
                t.api_tokens.c.expires_at > now,
            )
            .order_by(t.api_tokens.c.created_at.desc(), t.api_tokens.c.id)
        )
        return [TokenRow(*r) for r in rows]
