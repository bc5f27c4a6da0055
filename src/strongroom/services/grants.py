"""Break-glass grants: an operator asks to read one workspace (or one project) for a
reason and a ticket; an owner approves or refuses; the grant's token reads through the
normal API until the grant ends (its hours pass, or an owner revokes it).

1. ``request``: the operator must exist and have a current confidentiality agreement; the
   workspace (and project) must exist; hours at most ``grant_max_hours`` (never over 24).
   In an emergency, where ``grant_self_approval`` is on, the grant is approved at once by
   the operator, and every owner of the workspace is mailed (after the commit: a mail
   cannot be taken back, so it goes only for a grant that exists), with the outcome
   audited.
2. ``decide``: an owner approves (the hours start now), refuses or revokes. Revoking
   revokes the grant's token in the same transaction: the token check reads both rows at
   every request (services/access.py), so the next request fails on every API process.
3. ``issue_token``: once, for an active grant; it expires with the grant.
4. Reads: the one role check records each request a grant's token makes
   (services/access.py ``require``), in the grant's reads and the audit chain.
"""

from __future__ import annotations

import builtins
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from strongroom import ids
from strongroom.crypto.envelope import Binding
from strongroom.domain import grants as rules
from strongroom.domain.grants import Decision, GrantState, GrantStatus
from strongroom.domain.roles import Role
from strongroom.domain.rules import check_email
from strongroom.errors import Conflict, MailNotSent, NotFound, PermissionDenied
from strongroom.mail import Mail, Mailer
from strongroom.services import audit
from strongroom.services.access import Access, IssuedToken
from strongroom.services.context import Context
from strongroom.services.guards import require_project, require_workspace
from strongroom.services.operators import Staff
from strongroom.services.workspaces import directory_index, user_email
from strongroom.storage.repositories.grants import GrantReadRow, GrantRow
from strongroom.storage.unit_of_work import DataUnitOfWork

log = logging.getLogger("strongroom.grants")


@dataclass(frozen=True)
class GrantRead:
    at: datetime
    request: str
    audit_seq: int

    def as_json(self) -> dict[str, Any]:
        # (not the audit's global seq: a tenant is never shown it, see services/audit.py)
        return {"at": self.at.isoformat(), "request": self.request}


@dataclass(frozen=True)
class GrantView:
    """A grant as the customer and the operator see it."""

    id: str
    workspace_id: str
    project_id: str | None
    operator_id: str
    operator_name: str
    operator_email: str
    reason: str
    ticket: str
    hours: int
    status: GrantStatus
    emergency: bool
    requested_at: datetime
    requested_by: str
    decided_at: datetime | None
    decided_by: str | None
    expires_at: datetime | None
    revoked_at: datetime | None
    revoked_by: str | None
    token_issued: bool
    read_count: int
    reads: tuple[GrantRead, ...] = ()

    @property
    def ends_at(self) -> datetime | None:
        """When it ended or ends (None: pending, or refused)."""
        return self.revoked_at or self.expires_at

    def as_json(self, with_reads: bool = False) -> dict[str, Any]:
        def when(t: datetime | None) -> str | None:
            return None if t is None else t.isoformat()

        out: dict[str, Any] = {
            "id": self.id,
            "workspace_id": self.workspace_id,
            "project_id": self.project_id,
            "operator": {
                "id": self.operator_id,
                "name": self.operator_name,
                "email": self.operator_email,
            },
            "reason": self.reason,
            "ticket": self.ticket,
            "hours": self.hours,
            "status": self.status.value,
            "emergency": self.emergency,
            "requested_at": when(self.requested_at),
            "requested_by": self.requested_by,
            "decided_at": when(self.decided_at),
            "decided_by": self.decided_by,
            "expires_at": when(self.expires_at),
            "revoked_at": when(self.revoked_at),
            "revoked_by": self.revoked_by,
            "token_issued": self.token_issued,
            "read_count": self.read_count,
        }
        if with_reads:
            out["reads"] = [r.as_json() for r in self.reads]
        return out


def _binding(field: str, workspace_id: str, grant_id: str) -> Binding:
    return Binding(f"grant-{field}", workspace_id, "", grant_id)


class Grants:
    def __init__(self, ctx: Context, access: Access, staff: Staff, mailer: Mailer) -> None:
        self.ctx = ctx
        self.access = access
        self.staff = staff
        self.mailer = mailer

    # asking ---------------------------------------------------------------------------
    def request(
        self,
        workspace_id: str,
        operator_email: str,
        reason: str,
        ticket: str,
        hours: int,
        project_id: str | None = None,
        emergency: bool = False,
        actor: str = "system",
        token_operator: str | None = None,
    ) -> GrantView:
        """Ask for read access. ``token_operator``: the operator the calling operator
        token was issued to (the API), who must be the one asking."""
        ids.check_id("workspace", workspace_id)
        reason, ticket = rules.check_reason(reason), rules.check_ticket(ticket)
        rules.check_hours(hours, self.ctx.settings.grant_max_hours)
        if emergency:
            rules.check_self_approval(self.ctx.settings.grant_self_approval == "on")
        now = self.ctx.clock.now()
        grant_id = ids.new_id("grant")
        with self.ctx.store.write() as uow:
            require_workspace(uow, workspace_id)
            if project_id is not None:
                require_project(uow, workspace_id, project_id)
            operator = self.staff.find(uow, operator_email)
            if token_operator is not None and token_operator != operator.id:
                raise PermissionDenied("this operator token was issued to another operator")
            self._require_agreement(uow, operator.id)
            seal = self.ctx.seal
            row = GrantRow(
                grant_id,
                workspace_id,
                project_id,
                operator.id,
                seal(workspace_id, _binding("reason", workspace_id, grant_id), reason.encode()),
                seal(workspace_id, _binding("ticket", workspace_id, grant_id), ticket.encode()),
                hours,
                GrantState.PENDING.value,
                False,
                now,
                actor,
            )
            uow.grants.add(row)
            audit.append(
                uow,
                now,
                actor,
                "grant.request",
                workspace_id,
                grant_id=grant_id,
                operator_id=operator.id,
                project_id=project_id,
                hours=hours,
            )
            owners = self._owner_emails(uow, workspace_id, actor) if emergency else []
            uow.commit()
        if emergency:
            self._self_approve(workspace_id, grant_id, f"operator:{operator.id}", owners, actor)
        return self.get(workspace_id, grant_id, actor)

    def _self_approve(
        self, workspace_id: str, grant_id: str, by: str, owners: list[str], actor: str
    ) -> None:
        """An emergency grant starts only once at least one owner has been told: the owners
        are mailed first, then it is approved. With nobody told it stays pending (an owner
        decides it as any other) and the caller gets MailNotSent."""
        asked = self.get(workspace_id, grant_id, actor)
        ends = rules.expires_at(self.ctx.clock.now(), asked.hours)
        sent = self._mail_owners(asked, ends, owners, actor)
        if not sent:
            raise MailNotSent(
                f"no owner of workspace {workspace_id} could be told of emergency grant "
                f"{grant_id}, so it was not self-approved: it waits for an owner's decision"
            )
        now = self.ctx.clock.now()
        with self.ctx.store.write() as uow:
            row = self._row(uow, workspace_id, grant_id, lock=True)
            if GrantState(row.state) is not GrantState.PENDING:
                raise Conflict(f"grant {grant_id} was decided meanwhile", grant_id=grant_id)
            uow.grants.decide(grant_id, GrantState.APPROVED.value, now, by, ends, True)
            audit.append(
                uow,
                now,
                actor,
                "grant.approve",
                workspace_id,
                grant_id=grant_id,
                emergency=True,
                expires_at=ends.isoformat(),
            )
            uow.commit()

    def _require_agreement(self, uow: DataUnitOfWork, operator_id: str) -> None:
        if not self.staff.in_force(uow, operator_id):
            raise PermissionDenied(
                "the operator has no current confidentiality agreement: record one "
                "(strongroom operator agreement) before asking for or using access"
            )

    def _owner_emails(self, uow: DataUnitOfWork, workspace_id: str, actor: str) -> list[str]:
        emails = []
        for member in uow.members.list(workspace_id):
            user = uow.users.get(member.user_id) if member.role == Role.OWNER else None
            if user is not None:
                emails.append(user_email(self.ctx, user.id, user.email_sealed, actor))
        return emails

    def _mail_owners(self, grant: GrantView, ends: datetime, owners: list[str], actor: str) -> int:
        """Tell every owner at once that an operator approves their own grant; the outcome
        (how many were sent, how many not) is audited. How many the SMTP server took."""
        scope = f"project {grant.project_id}" if grant.project_id else "the whole workspace"
        body = (
            f"Operator {grant.operator_name} <{grant.operator_email}> approved their own "
            f"emergency break-glass grant {grant.id} to read workspace {grant.workspace_id} "
            f"({scope}) for {grant.hours} hours, until {ends:%Y-%m-%d %H:%M} UTC.\n\n"
            f"Ticket: {grant.ticket}\nReason: {grant.reason}\n\n"
            "Every read it makes is listed on the console's Grants page and in the audit log. "
            "An owner can revoke it there at once.\n"
        )
        subject = f"Emergency access to your workspace {grant.workspace_id}: grant {grant.id}"
        sent, failed = 0, 0
        for email in owners:
            try:
                self.mailer.send(Mail(email, subject, body))
                sent += 1
            except MailNotSent as why:
                failed += 1
                log.warning("grant notice not sent for %s: %s", grant.id, why)
        audit.record(
            self.ctx.store,
            self.ctx.clock.now(),
            actor,
            "grant.owners_notified",
            grant.workspace_id,
            grant_id=grant.id,
            sent=sent,
            not_sent=failed,
        )
        return sent

    # deciding -------------------------------------------------------------------------
    def decide(
        self,
        workspace_id: str,
        grant_id: str,
        decision: Decision,
        actor: str = "system",
        by: str | None = None,
    ) -> GrantView:
        """Approve, refuse or revoke (the caller checked the owner's role). ``by``: who
        decided, if not ``actor`` (the CLI acting for an owner)."""
        ids.check_id("grant", grant_id)
        by = by or actor
        now = self.ctx.clock.now()
        with self.ctx.store.write() as uow:
            row = self._row(uow, workspace_id, grant_id, lock=True)
            current = rules.status(GrantState(row.state), row.expires_at, now)
            state = rules.check_decision(grant_id, current, decision)
            detail: dict[str, Any] = {}
            if decision is Decision.REVOKE:
                uow.grants.revoke(grant_id, now, by)
                if row.token_id is not None:
                    uow.tokens.revoke(row.token_id, now)
            else:
                if state is GrantState.APPROVED:
                    # What held when it was asked may not hold now: a lowered limit, an
                    # agreement superseded by a newer required version.
                    rules.check_hours(row.hours, self.ctx.settings.grant_max_hours)
                    self._require_agreement(uow, row.operator_id)
                ends = rules.expires_at(now, row.hours) if state is GrantState.APPROVED else None
                uow.grants.decide(grant_id, state.value, now, by, ends)
                if ends is not None:
                    detail["expires_at"] = ends.isoformat()
            audit.append(
                uow,
                now,
                actor,
                f"grant.{decision.value}",
                workspace_id,
                grant_id=grant_id,
                by=by,
                **detail,
            )
            uow.commit()
        return self.get(workspace_id, grant_id, actor)

    def decide_as(
        self,
        workspace_id: str,
        grant_id: str,
        decision: Decision,
        email: str,
        actor: str = "system",
    ) -> GrantView:
        """Decide as the owner with this email (embedded use, the CLI)."""
        ids.check_id("workspace", workspace_id)
        index = directory_index(self.ctx, check_email(email))
        with self.ctx.store.read() as uow:
            require_workspace(uow, workspace_id)
            user = uow.users.find_by_email_index(index)
            member = None if user is None else uow.members.get(workspace_id, user.id)
        if user is None or member is None:
            raise NotFound(f"no member with that email in {workspace_id}")
        if member.role != Role.OWNER:
            raise PermissionDenied("only a workspace owner decides a break-glass grant")
        return self.decide(workspace_id, grant_id, decision, actor, by=f"user:{user.id}")

    # the token ------------------------------------------------------------------------
    def issue_token(
        self, grant_id: str, actor: str = "system", token_operator: str | None = None
    ) -> tuple[GrantView, IssuedToken]:
        """The grant's token, shown once; only while the grant is active."""
        ids.check_id("grant", grant_id)
        now = self.ctx.clock.now()
        with self.ctx.store.write() as uow:
            row = uow.grants.get(grant_id, lock=True)
            if row is None:
                raise NotFound(f"no grant {grant_id}", grant_id=grant_id)
            if token_operator is not None and token_operator != row.operator_id:
                raise PermissionDenied("this grant is another operator's")
            current = rules.status(GrantState(row.state), row.expires_at, now)
            rules.check_token_issuable(grant_id, current, row.token_id is not None)
            self._require_agreement(uow, row.operator_id)
            assert row.expires_at is not None  # active
            issued = self.access.issue_grant_token(uow, row.workspace_id, row.expires_at)
            if uow.grants.set_token(grant_id, issued.id) != 1:
                raise Conflict(f"grant {grant_id}'s token was already issued", grant_id=grant_id)
            audit.append(
                uow,
                now,
                actor,
                "grant.token",
                row.workspace_id,
                grant_id=grant_id,
                token_id=issued.id,
            )
            uow.commit()
        return self.get(row.workspace_id, grant_id, actor), issued

    # what the customer sees -----------------------------------------------------------
    def list(self, workspace_id: str, actor: str = "system") -> builtins.list[GrantView]:
        with self.ctx.store.read() as uow:
            require_workspace(uow, workspace_id)
            counts = uow.grants.read_counts(workspace_id)
            rows = uow.grants.for_workspace(workspace_id)
            return [self._view(uow, row, counts.get(row.id, 0), (), actor) for row in rows]

    def get(self, workspace_id: str, grant_id: str, actor: str = "system") -> GrantView:
        """One grant of the workspace, with its reads (NotFound for another's grant)."""
        ids.check_id("grant", grant_id)
        with self.ctx.store.read() as uow:
            row = self._row(uow, workspace_id, grant_id)
            reads = tuple(_read(r) for r in uow.grants.reads(grant_id))
            count = uow.grants.read_counts(workspace_id).get(grant_id, 0)
            return self._view(uow, row, count, reads, actor)

    def _row(
        self, uow: DataUnitOfWork, workspace_id: str, grant_id: str, lock: bool = False
    ) -> GrantRow:
        require_workspace(uow, workspace_id)
        row = uow.grants.get(grant_id, lock=lock)
        if row is None or row.workspace_id != workspace_id:
            raise NotFound(f"no grant {grant_id} in workspace {workspace_id}", grant_id=grant_id)
        return row

    def _view(
        self,
        uow: DataUnitOfWork,
        row: GrantRow,
        count: int,
        reads: tuple[GrantRead, ...],
        actor: str,
    ) -> GrantView:
        ws, gid = row.workspace_id, row.id
        reason = self.ctx.open(ws, _binding("reason", ws, gid), row.reason_sealed, actor)
        ticket = self.ctx.open(ws, _binding("ticket", ws, gid), row.ticket_sealed, actor)
        operator = uow.operators.get(row.operator_id)
        assert operator is not None  # a foreign key
        name, email = self.staff.name_of(operator, actor)
        now = self.ctx.clock.now()
        return GrantView(
            gid,
            ws,
            row.project_id,
            row.operator_id,
            name,
            email,
            reason.decode(),
            ticket.decode(),
            row.hours,
            rules.status(GrantState(row.state), row.expires_at, now),
            row.emergency,
            row.requested_at,
            row.requested_by,
            row.decided_at,
            row.decided_by,
            row.expires_at,
            row.revoked_at,
            row.revoked_by,
            row.token_id is not None,
            count,
            reads,
        )


def _read(row: GrantReadRow) -> GrantRead:
    return GrantRead(row.at, row.what, row.audit_seq)
