"""A deadline being worked on: its step and progress, saved with the step's own writes,
under a lease that another worker may take over when it runs out."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from strongroom.domain.lifecycle import DeadlineState
from strongroom.storage.rows import DeadlineRow
from strongroom.storage.unit_of_work import DataUnitOfWork


class LeaseLost(Exception):
    """Another worker took this deadline over (our lease ran out)."""


class NotDueYet(Exception):
    """A purge claimed before its subject's time: it is put back, nothing is touched."""


class Step:
    """The deadline being worked on: its step and progress, saved after every step in the
    same transaction as the step's own writes."""

    def __init__(self, deadline: DeadlineRow, owner: str, lease_until: Callable[[], datetime]):
        self.deadline = deadline
        self.owner = owner
        self.name = deadline.step
        self.progress: dict[str, Any] = json.loads(deadline.progress)
        self._lease_until = lease_until

    def save(self, uow: DataUnitOfWork, name: str) -> None:
        progress = json.dumps(self.progress, sort_keys=True)
        if not uow.deadlines.advance(
            self.deadline.id, self.owner, name, progress, self._lease_until()
        ):
            raise LeaseLost(self.deadline.id)
        self.name = name

    def finish(
        self, uow: DataUnitOfWork, now: datetime, state: DeadlineState = DeadlineState.DONE
    ) -> None:
        if not uow.deadlines.finish(self.deadline.id, self.owner, now, state):
            raise LeaseLost(self.deadline.id)
        self.name = state
