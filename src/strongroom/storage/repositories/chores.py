"""Chore leases: at most one worker at a time takes a scheduled backup, runs a restore
drill or a shred epoch, however many workers share the data store."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert, update
from sqlalchemy.exc import IntegrityError

from strongroom.storage import tables as t
from strongroom.storage.repositories.base import Repository

_C = t.chore_leases.c


class ChoreLeases(Repository):
    def claim(self, chore: str, owner: str, now: datetime, until: datetime) -> bool:
        """Take the chore's lease until ``until`` if nobody holds it (or the holder's ran
        out); False if another owner holds it. Renewing one's own lease is a claim too."""
        taken = self.conn.execute(
            update(t.chore_leases)
            .where(_C.chore == chore, (_C.lease_until < now) | (_C.owner == owner))
            .values(owner=owner, lease_until=until)
        )
        if taken.rowcount:
            return True
        try:
            with self.conn.begin_nested():  # the first claim ever: the row is new
                self.conn.execute(
                    insert(t.chore_leases).values(chore=chore, owner=owner, lease_until=until)
                )
        except IntegrityError:
            return False  # another worker made it (and holds it) meanwhile
        return True

    def release(self, chore: str, owner: str) -> None:
        self.conn.execute(delete(t.chore_leases).where(_C.chore == chore, _C.owner == owner))
