"""The subprocessor list: operators publish changes as notices, the list follows them on
their effective dates, workspace owners object until then.

Publishing a change (add, replace, remove) is one transaction: the notice rule is checked
(domain/subprocessors.py), the notice stored, a delivery queued for every subscriber
(services/subprocessor_mail.py; the worker mails them), and the change audited. Nothing
of a refused change is stored.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from strongroom import ids
from strongroom.crypto.envelope import Binding
from strongroom.domain import subprocessors as rules
from strongroom.domain.promises import Verdict
from strongroom.domain.subprocessors import Change, Details, NoticeKind
from strongroom.errors import InvalidInput, KeyUnavailable, NotFound
from strongroom.services import audit
from strongroom.services.context import Context
from strongroom.services.guards import require_workspace
from strongroom.services.subprocessor_mail import queue_deliveries
from strongroom.storage.repositories.subprocessors import NoticeRow, ObjectionRow

#: A delivery unsent for longer than this breaks the promise (subscribers are told).
DELIVERY_GRACE = timedelta(days=1)


@dataclass(frozen=True)
class Notice:
    id: str
    subprocessor_id: str
    kind: NoticeKind
    effective: date
    published_at: datetime
    details: Details | None
    in_force: bool

    @property
    def objections_open(self) -> bool:
        return not self.in_force

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "subprocessor_id": self.subprocessor_id,
            "kind": self.kind.value,
            "effective": self.effective.isoformat(),
            "published_at": self.published_at.isoformat(),
            "in_force": self.in_force,
            "objections_open": self.objections_open,
            "details": self.details.as_json() if self.details else None,
        }


@dataclass(frozen=True)
class Entry:
    """A subprocessor in force now."""

    id: str
    details: Details

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, **self.details.as_json()}


@dataclass(frozen=True)
class Objection:
    id: str
    notice_id: str
    workspace_id: str
    user_id: str
    reason: str | None  # None: unreadable (the workspace was purged with its key)
    at: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "notice_id": self.notice_id,
            "workspace_id": self.workspace_id,
            "user_id": self.user_id,
            "reason": self.reason,
            "at": self.at.isoformat(),
        }


def _details(row: NoticeRow) -> Details | None:
    return Details(**json.loads(row.details)) if row.details else None


def _change(row: NoticeRow) -> Change:
    return Change(
        row.subprocessor_id, NoticeKind(row.kind), row.effective_on, row.seq, _details(row)
    )


def _reason_binding(workspace_id: str, objection_id: str) -> Binding:
    return Binding("subprocessor-objection", workspace_id, "", objection_id)


def parse_effective(value: str) -> date:
    """An effective date as typed (YYYY-MM-DD)."""
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"an effective date is YYYY-MM-DD, not {value[:40]!r}") from None


class Subprocessors:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    # publishing ----------------------------------------------------------------------------
    def add(self, details: Mapping[str, object], effective: date, actor: str) -> Notice:
        return self._publish(NoticeKind.ADD, None, rules.check_details(details), effective, actor)

    def replace(
        self, subprocessor_id: str, details: Mapping[str, object], effective: date, actor: str
    ) -> Notice:
        ids.check_id("subprocessor", subprocessor_id)
        checked = rules.check_details(details)
        return self._publish(NoticeKind.REPLACE, subprocessor_id, checked, effective, actor)

    def remove(self, subprocessor_id: str, effective: date, actor: str) -> Notice:
        ids.check_id("subprocessor", subprocessor_id)
        return self._publish(NoticeKind.REMOVE, subprocessor_id, None, effective, actor)

    def _publish(
        self,
        kind: NoticeKind,
        subprocessor_id: str | None,
        details: Details | None,
        effective: date,
        actor: str,
    ) -> Notice:
        now = self.ctx.clock.now()
        rules.check_effective(effective, now, self.ctx.settings.subprocessor_notice_days)
        with self.ctx.store.write() as uow:
            uow.subprocessor_notices.lock()
            rows = uow.subprocessor_notices.all()
            if subprocessor_id is not None:
                rules.check_change(kind, subprocessor_id, [_change(r) for r in rows])
            row = NoticeRow(
                ids.new_id("subprocessor-notice"),
                subprocessor_id or ids.new_id("subprocessor"),
                kind.value,
                json.dumps(details.as_json(), sort_keys=True) if details else None,
                effective,
                now,
                actor[:128],
                max((r.seq for r in rows), default=0) + 1,  # under the lock: one order
            )
            uow.subprocessor_notices.add(row)
            queued = queue_deliveries(self.ctx, uow, row.id, now)
            audit.append(
                uow,
                now,
                actor,
                f"subprocessor.{kind.value}",
                None,
                subprocessor_id=row.subprocessor_id,
                notice_id=row.id,
                effective=effective.isoformat(),
                deliveries=queued,
            )
            uow.commit()
        self.ctx.wake_worker()
        return self._notice(row, now)

    # reading -------------------------------------------------------------------------------
    def _notice(self, row: NoticeRow, now: datetime) -> Notice:
        return Notice(
            row.id,
            row.subprocessor_id,
            NoticeKind(row.kind),
            row.effective_on,
            row.published_at,
            _details(row),
            rules.in_force(row.effective_on, now),
        )

    def notices(self) -> builtins.list[Notice]:
        """Every notice, newest first."""
        now = self.ctx.clock.now()
        with self.ctx.store.read() as uow:
            rows = uow.subprocessor_notices.all()
        return [self._notice(r, now) for r in reversed(rows)]

    def notice(self, notice_id: str) -> Notice:
        ids.check_id("subprocessor-notice", notice_id)
        with self.ctx.store.read() as uow:
            row = uow.subprocessor_notices.get(notice_id)
        if row is None:
            raise NotFound(f"no subprocessor notice {notice_id}", notice_id=notice_id)
        return self._notice(row, self.ctx.clock.now())

    def current(self) -> builtins.list[Entry]:
        """The list in force now, by legal name."""
        with self.ctx.store.read() as uow:
            changes = [_change(r) for r in uow.subprocessor_notices.all()]
        listed = rules.current_list(changes, self.ctx.clock.now())
        entries = [Entry(sid, details) for sid, details in listed.items()]
        return sorted(entries, key=lambda e: (e.details.legal_name.casefold(), e.id))

    def upcoming(self) -> builtins.list[Notice]:
        """Changes announced but not yet in force, soonest first."""
        pending = [n for n in self.notices() if not n.in_force]
        return sorted(reversed(pending), key=lambda n: n.effective)  # then in publication order

    def history(self, subprocessor_id: str) -> builtins.list[Notice]:
        ids.check_id("subprocessor", subprocessor_id)
        found = [n for n in self.notices() if n.subprocessor_id == subprocessor_id]
        if not found:
            raise NotFound(f"no subprocessor {subprocessor_id}", subprocessor_id=subprocessor_id)
        return found

    # objections ----------------------------------------------------------------------------
    def object(
        self, workspace_id: str, notice_id: str, user_id: str, reason: str, actor: str
    ) -> Objection:
        """A workspace owner's objection (the caller checked the role): until the notice's
        effective date, once per workspace and notice; the reason sealed under the
        workspace's key."""
        ids.check_id("subprocessor-notice", notice_id)
        reason = rules.check_reason(reason)
        now = self.ctx.clock.now()
        objection_id = ids.new_id("objection")
        with self.ctx.store.write() as uow:
            require_workspace(uow, workspace_id)
            notice = uow.subprocessor_notices.get(notice_id)
            if notice is None:
                raise NotFound(f"no subprocessor notice {notice_id}", notice_id=notice_id)
            rules.check_objection_open(notice.effective_on, now)
            sealed = None
            if reason:
                binding = _reason_binding(workspace_id, objection_id)
                sealed = self.ctx.seal(workspace_id, binding, reason.encode("utf-8"))
            row = ObjectionRow(objection_id, notice_id, workspace_id, user_id, sealed, now)
            uow.subprocessor_objections.add(row)
            audit.append(
                uow,
                now,
                actor,
                "subprocessor.objection",
                workspace_id,
                notice_id=notice_id,
                objection_id=objection_id,
            )
            uow.commit()
        return Objection(objection_id, notice_id, workspace_id, user_id, reason, now)

    def objections(self, actor: str = "system") -> builtins.list[Objection]:
        """Every objection, oldest first, with its reason (for operators: a customer's
        message to them)."""
        with self.ctx.store.read() as uow:
            rows = uow.subprocessor_objections.all()
        return [self._objection(r, actor) for r in rows]

    def objected_by(self, workspace_id: str) -> set[str]:
        """The notices a workspace objected to."""
        with self.ctx.store.read() as uow:
            return {r.notice_id for r in uow.subprocessor_objections.of_workspace(workspace_id)}

    def _objection(self, row: ObjectionRow, actor: str) -> Objection:
        reason: str | None = ""
        if row.reason_sealed is not None:
            binding = _reason_binding(row.workspace_id, row.id)
            try:
                reason = self.ctx.open(row.workspace_id, binding, row.reason_sealed, actor).decode()
            except KeyUnavailable:
                reason = None
        return Objection(row.id, row.notice_id, row.workspace_id, row.user_id, reason, row.at)

    # the trust page's promise ------------------------------------------------------------
    def verdict(self, now: datetime) -> Verdict:
        """The "subprocessor list" promise: the list can be read, every notice gave at least
        the notice promised (``subprocessor_notice_days``), and no subscriber's notice has
        been unsent for over a day after publication, whatever its state (never tried,
        failing); a public address given up as dead does not count, an owner's does."""
        with self.ctx.store.read() as uow:
            rows = uow.subprocessor_notices.all()
            unsent = uow.subprocessor_deliveries.unsent_since(now - DELIVERY_GRACE)
        days = self.ctx.settings.subprocessor_notice_days
        short = [r for r in rows if r.effective_on < rules.earliest_effective(r.published_at, days)]
        listed = rules.current_list([_change(r) for r in rows], now)
        if short:
            return Verdict.failed(
                f"{len(short)} of {len(rows)} subprocessor notices gave less than {days} days' "
                f"notice (first: {short[0].id})"
            )
        if unsent:
            return Verdict.failed(
                f"{unsent} subprocessor notice deliveries have been unsent for more than a day"
            )
        return Verdict.passed(
            f"{len(listed)} subprocessors listed; all {len(rows)} notices gave at least {days} "
            "days' notice; no notice delivery unsent for more than a day"
        )
