"""Billing events: each applied once, by its event id."""

from __future__ import annotations

from sqlalchemy import insert, select

from strongroom.storage import tables as t
from strongroom.storage.repositories.base import Repository, fields
from strongroom.storage.rows import BillingEventRow


class BillingEvents(Repository):
    def get(self, event_id: str) -> BillingEventRow | None:
        r = self.conn.execute(
            select(t.billing_events).where(t.billing_events.c.event_id == event_id)
        ).first()
        return BillingEventRow(*r) if r else None

    def add(self, row: BillingEventRow) -> None:
        self.conn.execute(insert(t.billing_events).values(**fields(row)))

    def any_for(self, workspace_id: str) -> bool:
        c = t.billing_events.c
        found = self.conn.execute(select(c.event_id).where(c.workspace_id == workspace_id).limit(1))
        return found.first() is not None
