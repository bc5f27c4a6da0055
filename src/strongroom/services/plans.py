"""Plans and the end of a workspace: billing events (idempotent by event id), deletion by
its owner, legal holds, and what is scheduled (``lifecycle plan``)."""

from __future__ import annotations

import builtins
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from strongroom import ids
from strongroom.crypto.envelope import Binding
from strongroom.domain.lifecycle import (
    PURGES,
    DeadlineAction,
    PurgeReason,
    effective_state,
    is_held,
    parse_billing_kind,
    plan_after,
)
from strongroom.domain.model import WorkspaceState
from strongroom.domain.roles import Action
from strongroom.domain.rules import check_name, check_text
from strongroom.errors import Conflict, InvalidInput, NotFound
from strongroom.services import audit
from strongroom.services.context import Context
from strongroom.services.deadlines import new_deadline
from strongroom.services.guards import require_existing, require_usable, require_workspace
from strongroom.services.workspaces import workspace_name
from strongroom.storage.rows import BillingEventRow, DeadlineRow, HoldRow, WorkspaceRow
from strongroom.storage.unit_of_work import DataUnitOfWork

MAX_EVENT_ID = 128
MAX_REASON = 500


@dataclass(frozen=True)
class PlanStatus:
    workspace_id: str
    state: WorkspaceState
    trial_ends_at: datetime | None
    state_since: datetime | None
    purge_due_at: datetime | None
    purge_reason: str | None
    holds: list[dict[str, Any]]

    def as_json(self) -> dict[str, Any]:
        def t(v: datetime | None) -> str | None:
            return v.isoformat() if v else None

        return {
            "workspace_id": self.workspace_id,
            "state": self.state.value,
            "trial_ends_at": t(self.trial_ends_at),
            "state_since": t(self.state_since),
            "purge_due_at": t(self.purge_due_at),
            "purge_reason": self.purge_reason,
            "holds": self.holds,
        }


@dataclass(frozen=True)
class ScheduledPurge:
    deadline_id: str
    action: str
    workspace_id: str
    subject_id: str
    reason: str
    due_at: datetime
    step: str
    held: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "deadline_id": self.deadline_id,
            "action": self.action,
            "workspace_id": self.workspace_id,
            "subject_id": self.subject_id,
            "reason": self.reason,
            "due_at": self.due_at.isoformat(),
            "step": self.step,
            "held": self.held,
        }


def hold_binding(workspace_id: str, hold_id: str) -> Binding:
    return Binding("hold-reason", workspace_id, "", hold_id)


def _check_reason(reason: str) -> str:
    reason = check_text("reason", reason).strip()
    if not reason or len(reason) > MAX_REASON:
        raise InvalidInput(f"a hold needs a reason of 1 to {MAX_REASON} characters")
    return reason


def _workspace_purge(uow: DataUnitOfWork, workspace_id: str) -> DeadlineRow | None:
    pending = uow.deadlines.pending_for(workspace_id, DeadlineAction.PURGE_WORKSPACE.value)
    return pending[0] if pending else None


class Plans:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    # billing ---------------------------------------------------------------------------
    def billing_event(
        self,
        workspace_id: str,
        kind: str,
        event_id: str,
        trial_days: int | None = None,
        actor: str = "system",
    ) -> PlanStatus:
        """Apply a billing event once: a repeated ``event_id`` changes nothing and answers
        the plan as it is now."""
        billing = parse_billing_kind(kind)
        if not event_id or len(event_id) > MAX_EVENT_ID or not event_id.isprintable():
            raise InvalidInput(f"an event id is 1 to {MAX_EVENT_ID} printable characters")
        now = self.ctx.clock.now()
        with self.ctx.store.write() as uow:
            row = require_workspace(uow, workspace_id)
            seen = uow.billing.get(event_id)
            if seen is not None:
                if seen.workspace_id != workspace_id or seen.kind != billing.value:
                    raise Conflict(f"event id {event_id!r} was already used for another event")
                return self._status(uow, row, now)
            purge = _workspace_purge(uow, workspace_id)
            change = plan_after(
                billing,
                effective_state(row.state, row.trial_ends_at, now),
                now=now,
                retention=self.ctx.retention,
                trial_days=trial_days,
                billed_before=uow.billing.any_for(workspace_id),
                purge_due=purge.due_at if purge else None,
            )
            if change.cancel_purge and purge is not None:
                uow.deadlines.cancel_for(workspace_id, (DeadlineAction.PURGE_WORKSPACE,), now)
            if change.purge_at is not None and change.purge_reason is not None:
                uow.deadlines.add(
                    new_deadline(
                        DeadlineAction.PURGE_WORKSPACE,
                        workspace_id,
                        workspace_id,
                        change.purge_reason.value,
                        change.purge_at,
                        now,
                    )
                )
            uow.workspaces.set_plan(workspace_id, change.state, change.trial_ends_at, now)
            uow.billing.add(
                BillingEventRow(
                    event_id, workspace_id, billing.value, trial_days, now, change.state
                )
            )
            audit.append(
                uow,
                now,
                actor,
                f"billing.{billing.value}",
                workspace_id,
                event_id=event_id,
                state=change.state.value,
                purge_due_at=change.purge_at.isoformat() if change.purge_at else None,
            )
            status = self._status(uow, uow.workspaces.get(workspace_id) or row, now)
            uow.commit()
        return status

    # deletion by the owner -------------------------------------------------------------
    def delete_workspace(
        self, workspace_id: str, confirm_name: str, actor: str = "system"
    ) -> PlanStatus:
        """Close the workspace at once (every API token revoked, every member locked out)
        and make its purge due now. ``confirm_name`` must be the workspace's name."""
        now = self.ctx.clock.now()
        with self.ctx.store.read() as uow:
            row = require_usable(uow, workspace_id, Action.DELETE_WORKSPACE, now)
        if check_name("workspace", confirm_name) != workspace_name(self.ctx, row, actor):
            raise InvalidInput("the confirmation does not match the workspace's name")
        with self.ctx.store.write() as uow:
            row = require_usable(uow, workspace_id, Action.DELETE_WORKSPACE, now)
            uow.deadlines.cancel_for(workspace_id, (DeadlineAction.PURGE_WORKSPACE,), now)
            uow.deadlines.add(
                new_deadline(
                    DeadlineAction.PURGE_WORKSPACE,
                    workspace_id,
                    workspace_id,
                    PurgeReason.WORKSPACE_DELETED.value,
                    now,
                    now,
                )
            )
            uow.workspaces.set_plan(workspace_id, WorkspaceState.CLOSED, None, now)
            revoked = uow.tokens.revoke_workspace(workspace_id, now)
            audit.append(uow, now, actor, "workspace.delete", workspace_id, tokens_revoked=revoked)
            status = self._status(uow, uow.workspaces.get(workspace_id) or row, now)
            uow.commit()
        self.ctx.wake_worker()
        return status

    # status ----------------------------------------------------------------------------
    def status(self, workspace_id: str, closed_too: bool = False) -> PlanStatus:
        """The plan of a workspace; with ``closed_too`` also of a deleted one whose purge
        has not run yet (an operator's view: its state, holds and purge due time)."""
        now = self.ctx.clock.now()
        with self.ctx.store.read() as uow:
            if closed_too:
                row = require_existing(uow, workspace_id)
            else:
                row = require_workspace(uow, workspace_id)
            return self._status(uow, row, now)

    def _status(self, uow: DataUnitOfWork, row: WorkspaceRow, now: datetime) -> PlanStatus:
        purge = _workspace_purge(uow, row.id)
        holds = [
            {
                "id": h.id,
                "project_id": h.project_id,
                "set_at": h.set_at.isoformat(),
                "set_by": h.set_by,
            }
            for h in uow.holds.active(row.id)
        ]
        return PlanStatus(
            row.id,
            effective_state(row.state, row.trial_ends_at, now),
            row.trial_ends_at,
            row.state_since,
            purge.due_at if purge else None,
            purge.reason if purge else None,
            holds,
        )

    # legal holds -----------------------------------------------------------------------
    def set_hold(
        self,
        workspace_id: str,
        project_id: str | None,
        reason: str,
        actor: str = "system",
    ) -> str:
        """Block every purge of the workspace (or of one project in it) until cleared."""
        reason = _check_reason(reason)
        if project_id is not None:
            ids.check_id("project", project_id)
        hold_id = ids.new_id("hold")
        sealed = self.ctx.seal(workspace_id, hold_binding(workspace_id, hold_id), reason.encode())
        now = self.ctx.clock.now()
        with self.ctx.store.write() as uow:
            require_existing(uow, workspace_id)
            if project_id is not None and uow.projects.get(workspace_id, project_id) is None:
                raise NotFound(f"no project {project_id} in workspace {workspace_id}")
            uow.holds.add(
                HoldRow(hold_id, workspace_id, project_id, sealed, actor, now, None, None)
            )
            audit.append(
                uow, now, actor, "hold.set", workspace_id, hold_id=hold_id, project_id=project_id
            )
            uow.commit()
        return hold_id

    def clear_hold(
        self, workspace_id: str, project_id: str | None, reason: str, actor: str = "system"
    ) -> builtins.list[str]:
        """Clear the holds on the workspace (or that project), saying why; overdue purges
        run on the worker's next pass. Returns the cleared hold ids."""
        reason = _check_reason(reason)
        sealed = self.ctx.seal(
            workspace_id,
            hold_binding(workspace_id, "clear:" + (project_id or "")),
            reason.encode(),
        )
        now = self.ctx.clock.now()
        with self.ctx.store.write() as uow:
            require_existing(uow, workspace_id)
            cleared = uow.holds.clear(workspace_id, project_id, actor, now, sealed)
            if not cleared:
                raise NotFound("no active hold there")
            uow.deadlines.unpark(workspace_id)
            audit.append(
                uow, now, actor, "hold.clear", workspace_id, hold_ids=cleared, project_id=project_id
            )
            uow.commit()
        self.ctx.wake_worker()
        return cleared

    def hold_reason(self, workspace_id: str, hold_id: str, actor: str = "system") -> str:
        with self.ctx.store.read() as uow:
            for hold in uow.holds.active(workspace_id):
                if hold.id == hold_id:
                    return self.ctx.open(
                        workspace_id,
                        hold_binding(workspace_id, hold_id),
                        hold.reason_sealed,
                        actor,
                    ).decode()
        raise NotFound(f"no active hold {hold_id}")

    # what is scheduled -------------------------------------------------------------------
    def scheduled(
        self, until: datetime | None = None, workspace_id: str | None = None
    ) -> builtins.list[ScheduledPurge]:
        """Pending purges due by ``until`` (all if None), with whether a hold blocks them."""
        with self.ctx.store.read() as uow:
            rows = uow.deadlines.pending(workspace_id, until)
            holds = uow.holds.active_all()
        out = []
        for d in rows:
            if d.action not in PURGES:
                continue
            project = json.loads(d.progress).get("project_id")
            out.append(
                ScheduledPurge(
                    d.id,
                    d.action,
                    d.workspace_id,
                    d.subject_id,
                    d.reason,
                    d.due_at,
                    d.step,
                    is_held(
                        [(h.workspace_id, h.project_id) for h in holds], d.workspace_id, project
                    ),
                )
            )
        return out
