"""Workspaces, their members, and the users behind them."""

from __future__ import annotations

import builtins
from datetime import datetime

from strongroom import ids
from strongroom.crypto.blind_index import BlindIndexer
from strongroom.crypto.envelope import Binding
from strongroom.crypto.keyring import DIRECTORY, workspace_key_id
from strongroom.domain.lifecycle import effective_state
from strongroom.domain.model import Member, User, Workspace, WorkspaceState
from strongroom.domain.roles import Role, parse_role
from strongroom.domain.rules import check_email, check_name
from strongroom.errors import Conflict, NotFound, PermissionDenied
from strongroom.services import audit
from strongroom.services.context import Context
from strongroom.services.guards import require_workspace
from strongroom.storage.rows import MemberRow, UserRow, WorkspaceRow
from strongroom.storage.unit_of_work import DataUnitOfWork


def _name_binding(workspace_id: str) -> Binding:
    return Binding("workspace-name", workspace_id, "", workspace_id)


def _email_binding(user_id: str) -> Binding:
    return Binding("user-email", "", "", user_id)


def directory_index(ctx: Context, email: str) -> bytes:
    """The blind index of a user's email in the deployment directory."""
    _version, key = ctx.keyring.directory_key()
    return BlindIndexer(key).digest("email", email)


def workspace_name(ctx: Context, row: WorkspaceRow, actor: str) -> str:
    return sealed_workspace_name(ctx, row.id, row.name_sealed, actor)


def sealed_workspace_name(ctx: Context, workspace_id: str, sealed: bytes, actor: str) -> str:
    return ctx.open(workspace_id, _name_binding(workspace_id), sealed, actor).decode()


def user_email(ctx: Context, user_id: str, sealed: bytes, actor: str) -> str:
    return ctx.open(DIRECTORY, _email_binding(user_id), sealed, actor).decode()


class Workspaces:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def create(self, name: str, owner_email: str, actor: str = "system") -> Workspace:
        name = check_name("workspace", name)
        owner_email = check_email(owner_email)
        now = self.ctx.clock.now()
        workspace_id = ids.new_id("workspace")
        self.ctx.keyring.create_workspace_keys(workspace_id, now)
        try:
            sealed_name = self.ctx.seal(workspace_id, _name_binding(workspace_id), name.encode())
            email_index = directory_index(self.ctx, owner_email)
            for attempt in (1, 2):  # a user made concurrently for the same email: use theirs
                try:
                    self._write_new(workspace_id, sealed_name, owner_email, email_index, now, actor)
                    break
                except Conflict:
                    if attempt == 2:
                        raise
        except BaseException:
            self.ctx.keyring.discard_unused(workspace_id)
            raise
        return Workspace(workspace_id, name, WorkspaceState.ACTIVE, now)

    def _write_new(
        self,
        workspace_id: str,
        sealed_name: bytes,
        owner_email: str,
        email_index: bytes,
        now: datetime,
        actor: str,
    ) -> None:
        with self.ctx.store.write() as uow:
            uow.workspaces.add(
                WorkspaceRow(workspace_id, sealed_name, WorkspaceState.ACTIVE, now, now)
            )
            user_id = self._user_for(uow, owner_email, email_index)
            uow.members.add(MemberRow(workspace_id, user_id, Role.OWNER, now))
            audit.append(
                uow,
                now,
                actor,
                "workspace.create",
                workspace_id,
                owner_user_id=user_id,
                keys=[f"{workspace_key_id(workspace_id)} v1", workspace_id],
            )
            uow.commit()

    def get(self, workspace_id: str, actor: str = "system") -> Workspace:
        ids.check_id("workspace", workspace_id)
        with self.ctx.store.read() as uow:
            row = require_workspace(uow, workspace_id)
        return self._workspace(row, actor)

    def list(self, actor: str = "system") -> builtins.list[Workspace]:
        with self.ctx.store.read() as uow:
            rows = uow.workspaces.list()
        return [self._workspace(r, actor) for r in rows if r.state != WorkspaceState.CLOSED]

    def _workspace(self, row: WorkspaceRow, actor: str) -> Workspace:
        state = effective_state(row.state, row.trial_ends_at, self.ctx.clock.now())
        return Workspace(row.id, workspace_name(self.ctx, row, actor), state, row.created_at)

    # members --------------------------------------------------------------------------
    def add_member(self, workspace_id: str, email: str, role: str, actor: str = "system") -> Member:
        ids.check_id("workspace", workspace_id)
        email = check_email(email)
        parsed = parse_role(role)
        now = self.ctx.clock.now()
        email_index = directory_index(self.ctx, email)
        with self.ctx.store.write() as uow:
            if uow.workspaces.get(workspace_id) is None:
                raise NotFound(f"no workspace {workspace_id}", workspace_id=workspace_id)
            user_id = self._user_for(uow, email, email_index)
            if uow.members.get(workspace_id, user_id) is not None:
                raise Conflict(
                    f"user {user_id} is already a member of {workspace_id}",
                    workspace_id=workspace_id,
                    user_id=user_id,
                )
            uow.members.add(MemberRow(workspace_id, user_id, parsed, now))
            audit.append(
                uow, now, actor, "member.add", workspace_id, user_id=user_id, role=parsed.value
            )
            uow.commit()
        return Member(workspace_id, user_id, email, parsed)

    def set_role(
        self,
        workspace_id: str,
        user_id: str,
        role: str,
        actor: str = "system",
        issuer_role: Role | None = None,
    ) -> Member:
        """Change a member's role. Only an owner (or the embedding caller, ``issuer_role``
        None) may grant or take away the owner role; the last owner stays an owner."""
        parsed = parse_role(role)
        ids.check_id("user", user_id)
        now = self.ctx.clock.now()
        with self.ctx.store.write() as uow:
            members = uow.members.list(workspace_id, lock=True)  # owners counted under lock
            current = next((m for m in members if m.user_id == user_id), None)
            if current is None:
                raise NotFound(f"no member {user_id} in {workspace_id}", user_id=user_id)
            touches_owner = Role.OWNER in (parsed, Role(current.role))
            if touches_owner and issuer_role not in (None, Role.OWNER):
                raise PermissionDenied("only an owner may grant or remove the owner role")
            owners = [m for m in members if m.role == Role.OWNER]
            if current.role == Role.OWNER and parsed != Role.OWNER and len(owners) == 1:
                raise Conflict("a workspace keeps at least one owner")
            uow.members.set_role(workspace_id, user_id, parsed)
            audit.append(
                uow, now, actor, "member.set_role", workspace_id, user_id=user_id, role=parsed.value
            )
            user = uow.users.get(user_id)
            uow.commit()
        assert user is not None  # a member row's foreign key guarantees it
        return Member(workspace_id, user_id, self._email(user, actor), parsed)

    def members(self, workspace_id: str, actor: str = "system") -> builtins.list[Member]:
        ids.check_id("workspace", workspace_id)
        with self.ctx.store.read() as uow:
            if uow.workspaces.get(workspace_id) is None:
                raise NotFound(f"no workspace {workspace_id}", workspace_id=workspace_id)
            rows = uow.members.list(workspace_id)
            users = {r.user_id: uow.users.get(r.user_id) for r in rows}
        out = []
        for r in rows:
            user = users[r.user_id]
            assert user is not None  # a foreign key guarantees it
            out.append(Member(workspace_id, r.user_id, self._email(user, actor), Role(r.role)))
        return out

    def user(self, user_id: str, actor: str = "system") -> User:
        ids.check_id("user", user_id)
        with self.ctx.store.read() as uow:
            row = uow.users.get(user_id)
        if row is None:
            raise NotFound(f"no user {user_id}", user_id=user_id)
        return User(row.id, self._email(row, actor), row.created_at)

    # users (deployment directory) -----------------------------------------------------
    def _email(self, row: UserRow, actor: str) -> str:
        return user_email(self.ctx, row.id, row.email_sealed, actor)

    def _user_for(self, uow: DataUnitOfWork, email: str, email_index: bytes) -> str:
        existing = uow.users.find_by_email_index(email_index)
        if existing is not None:
            return existing.id
        user_id = ids.new_id("user")
        sealed = self.ctx.seal(DIRECTORY, _email_binding(user_id), email.encode())
        uow.users.add(UserRow(user_id, sealed, self.ctx.clock.now()), email_index)
        return user_id
