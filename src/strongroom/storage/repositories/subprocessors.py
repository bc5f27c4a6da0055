"""Subprocessor notices, objections, subscribers, their deliveries, and the public
subscription's attempts per client address."""

from __future__ import annotations

import builtins
from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from strongroom.errors import Conflict
from strongroom.storage import tables as t
from strongroom.storage.repositories.base import Repository, fields


class NoticeRow(NamedTuple):
    id: str
    subprocessor_id: str
    kind: str
    details: str | None
    effective_on: date
    published_at: datetime
    published_by: str
    seq: int


class ObjectionRow(NamedTuple):
    id: str
    notice_id: str
    workspace_id: str
    user_id: str
    reason_sealed: bytes | None
    at: datetime


class SubscriberRow(NamedTuple):
    id: str
    email_sealed: bytes
    email_index: bytes
    state: str
    source: str
    created_at: datetime
    changed_at: datetime
    opted_out: bool = False  # an owner's opt-out (only the owner clears it)
    confirm_queued_at: datetime | None = None  # a confirmation mail the worker owes


class DeliveryRow(NamedTuple):
    id: str
    notice_id: str
    subscriber_id: str
    state: str
    attempts: int
    message_id: str | None
    last_error: str | None
    updated_at: datetime
    failing_since: datetime | None


class OwnerRow(NamedTuple):
    """A workspace owner as the notices need them: who, and their sealed address."""

    user_id: str
    email_sealed: bytes
    email_index: bytes


_N = t.subprocessor_notices
_O = t.subprocessor_objections
_S = t.subprocessor_subscribers
_D = t.subprocessor_deliveries


class SubprocessorNotices(Repository):
    def add(self, row: NoticeRow) -> None:
        self.conn.execute(insert(_N).values(fields(row)))

    def get(self, notice_id: str) -> NoticeRow | None:
        r = self.conn.execute(select(_N).where(_N.c.id == notice_id)).first()
        return NoticeRow(*r) if r is not None else None

    def all(self) -> builtins.list[NoticeRow]:
        rows = self.conn.execute(select(_N).order_by(_N.c.seq))
        return [NoticeRow(*r) for r in rows]

    def lock(self) -> None:
        """Serialise publications (PostgreSQL: one advisory lock; SQLite: the write
        transaction already does), so two changes of one entry cannot both pass the check."""
        if self.is_postgresql:
            self.conn.execute(select(func.pg_advisory_xact_lock(0x5B9_0CE55)))


class SubprocessorObjections(Repository):
    def add(self, row: ObjectionRow) -> None:
        try:
            with self.conn.begin_nested():
                self.conn.execute(insert(_O).values(fields(row)))
        except IntegrityError:
            raise Conflict(
                "this workspace has already objected to this notice",
                notice_id=row.notice_id,
                workspace_id=row.workspace_id,
            ) from None

    def all(self) -> builtins.list[ObjectionRow]:
        rows = self.conn.execute(select(_O).order_by(_O.c.at, _O.c.id))
        return [ObjectionRow(*r) for r in rows]

    def of_workspace(self, workspace_id: str) -> builtins.list[ObjectionRow]:
        rows = self.conn.execute(select(_O).where(_O.c.workspace_id == workspace_id))
        return [ObjectionRow(*r) for r in rows]


class SubprocessorSubscribers(Repository):
    def add(self, row: SubscriberRow) -> None:
        self.conn.execute(insert(_S).values(fields(row)))

    def get(self, subscriber_id: str) -> SubscriberRow | None:
        r = self.conn.execute(select(_S).where(_S.c.id == subscriber_id)).first()
        return SubscriberRow(*r) if r is not None else None

    def find(self, email_index: bytes) -> SubscriberRow | None:
        r = self.conn.execute(select(_S).where(_S.c.email_index == email_index)).first()
        return SubscriberRow(*r) if r is not None else None

    def set_state(
        self,
        subscriber_id: str,
        state: str,
        now: datetime,
        *,
        opted_out: bool | None = None,
        confirm_queued_at: datetime | None = None,
    ) -> None:
        """The subscriber's state; ``opted_out`` when given; ``confirm_queued_at`` when
        given (a confirmation mail to send)."""
        values: dict[str, object] = {"state": state, "changed_at": now}
        if opted_out is not None:
            values["opted_out"] = opted_out
        if confirm_queued_at is not None:
            values["confirm_queued_at"] = confirm_queued_at
        self.conn.execute(update(_S).where(_S.c.id == subscriber_id).values(values))

    def confirmations_due(self, limit: int) -> builtins.list[SubscriberRow]:
        """Pending subscribers owed a confirmation mail, oldest request first."""
        rows = self.conn.execute(
            select(_S)
            .where(_S.c.confirm_queued_at.is_not(None), _S.c.state == "pending")
            .order_by(_S.c.confirm_queued_at, _S.c.id)
            .limit(limit)
        )
        return [SubscriberRow(*r) for r in rows]

    def claim_confirmation(self, subscriber_id: str, queued_at: datetime) -> bool:
        """Take the confirmation owed to one subscriber (one worker only: a conditional
        UPDATE; False if another took it first or it was asked again since)."""
        done = self.conn.execute(
            update(_S)
            .where(_S.c.id == subscriber_id, _S.c.confirm_queued_at == queued_at)
            .values(confirm_queued_at=None)
        )
        return done.rowcount == 1

    def confirmed(self) -> builtins.list[SubscriberRow]:
        rows = self.conn.execute(select(_S).where(_S.c.state == "confirmed").order_by(_S.c.id))
        return [SubscriberRow(*r) for r in rows]

    def counts(self) -> dict[str, int]:
        rows = self.conn.execute(select(_S.c.state, func.count()).group_by(_S.c.state))
        return {str(state): int(n) for state, n in rows}

    def owners(self) -> builtins.list[OwnerRow]:
        """Every owner of a workspace that is not closed, once each."""
        rows = self.conn.execute(
            select(t.users.c.id, t.users.c.email_sealed, t.users.c.email_index)
            .distinct()
            .select_from(
                t.members.join(t.users, t.users.c.id == t.members.c.user_id).join(
                    t.workspaces, t.workspaces.c.id == t.members.c.workspace_id
                )
            )
            .where(t.members.c.role == "owner", t.workspaces.c.state != "closed")
            .order_by(t.users.c.id)
        )
        return [OwnerRow(*r) for r in rows]


class SubprocessorDeliveries(Repository):
    def add(self, row: DeliveryRow) -> None:
        self.conn.execute(insert(_D).values(fields(row)))

    def due(
        self, max_attempts: int, limit: int, lease_over: datetime
    ) -> builtins.list[DeliveryRow]:
        """Deliveries still to try: pending, not sent for want of a server, failed fewer
        than ``max_attempts`` times, or claimed by a worker that has not recorded the
        outcome since ``lease_over`` (it stopped mid-send)."""
        rows = self.conn.execute(
            select(_D)
            .where(
                (_D.c.state.in_(("pending", "not-sent", "failed")))
                | ((_D.c.state == "sending") & (_D.c.updated_at < lease_over)),
                _D.c.attempts < max_attempts,
            )
            .order_by(_D.c.updated_at, _D.c.id)
            .limit(limit)
        )
        return [DeliveryRow(*r) for r in rows]

    def claim(self, row: DeliveryRow, now: datetime) -> bool:
        """Take one delivery to send it (a conditional UPDATE: of two workers that read
        the same row, one takes it; False for the other)."""
        done = self.conn.execute(
            update(_D)
            .where(
                _D.c.id == row.id,
                _D.c.state == row.state,
                _D.c.attempts == row.attempts,
                _D.c.updated_at == row.updated_at,
            )
            .values(state="sending", updated_at=now)
        )
        return done.rowcount == 1

    def record(self, row: DeliveryRow) -> None:
        values = fields(row)
        del values["id"]
        self.conn.execute(update(_D).where(_D.c.id == row.id).values(values))

    def of_notice(self, notice_id: str) -> builtins.list[DeliveryRow]:
        rows = self.conn.execute(select(_D).where(_D.c.notice_id == notice_id))
        return [DeliveryRow(*r) for r in rows]

    def all(self) -> builtins.list[DeliveryRow]:
        return [DeliveryRow(*r) for r in self.conn.execute(select(_D).order_by(_D.c.id))]

    def unsent_since(self, before: datetime) -> int:
        """How many deliveries of notices published before ``before`` are still unsent,
        whatever their state (never tried, claimed, failing), leaving out those of
        subscribers marked dead (a public address that failed for good)."""
        return int(
            self.conn.execute(
                select(func.count())
                .select_from(
                    _D.join(_N, _N.c.id == _D.c.notice_id).join(_S, _S.c.id == _D.c.subscriber_id)
                )
                .where(
                    _D.c.state.not_in(("sent", "skipped")),
                    _N.c.published_at < before,
                    _S.c.state != "dead",
                )
            ).scalar_one()
        )


class SubscribeAttempts(Repository):
    """Subscriptions asked for per client-address digest, within a window."""

    def lock_address(self, address_index: bytes) -> None:
        """Serialise the subscriptions of one client address to the end of the
        transaction, so parallel requests cannot outrun the limit (SQLite: the write
        transaction's BEGIN IMMEDIATE already does; PostgreSQL: an advisory lock)."""
        if self.is_postgresql:
            key = int.from_bytes(address_index[:8], "big", signed=True) ^ 0x5B5C
            self.conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})

    def count_since(self, address_index: bytes, since: datetime) -> int:
        a = t.subscribe_attempts
        return int(
            self.conn.execute(
                select(func.count())
                .select_from(a)
                .where(a.c.address_index == address_index, a.c.at > since)
            ).scalar_one()
        )

    def oldest_since(self, address_index: bytes, since: datetime) -> datetime | None:
        a = t.subscribe_attempts
        value = self.conn.execute(
            select(func.min(a.c.at)).where(a.c.address_index == address_index, a.c.at > since)
        ).scalar_one()
        return value if isinstance(value, datetime) else None

    def add(self, address_index: bytes, at: datetime) -> None:
        self.conn.execute(insert(t.subscribe_attempts).values(address_index=address_index, at=at))

    def prune(self, before: datetime) -> None:
        self.conn.execute(delete(t.subscribe_attempts).where(t.subscribe_attempts.c.at <= before))
