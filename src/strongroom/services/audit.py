"""The audit chain: append-only events, each hashed with the one before it.

``hash_n = SHA-256(hash_{n-1} || canonical JSON of event n)``; the head row names the
last (seq, hash). Events carry actor, action, ids and counts, never customer data.
Verification walks the chain and names the first position where it breaks.

The chain's ``seq`` counts every tenant's events, so its gaps would tell one tenant how
busy the others are: a workspace's members see each event's ``position`` among their
workspace's events instead (:func:`workspace_events`, :meth:`Event.as_tenant_json`);
operators' views keep ``seq``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from strongroom.errors import AuditChainBroken
from strongroom.storage.rows import AuditRow
from strongroom.storage.unit_of_work import DataStore, DataUnitOfWork

GENESIS = "0" * 64
_PAGE = 1000


def _event_hash(
    prev_hash: str,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    workspace_id: str | None,
    subject: str,
) -> str:
    """SHA-256 over the previous hash, the event's fields as a JSON array, and its subject
    JSON as stored. STORED: changing this breaks verification of every existing chain."""
    fields = json.dumps([seq, at.isoformat(), actor, action, workspace_id], separators=(",", ":"))
    return hashlib.sha256("\n".join((prev_hash, fields, subject)).encode("utf-8")).hexdigest()


def append(
    uow: DataUnitOfWork,
    now: datetime,
    actor: str,
    action: str,
    workspace_id: str | None,
    **subject: Any,
) -> int:
    """Append one event inside the caller's transaction; returns its sequence number."""
    seq, prev = uow.audit.head(lock=True)
    existed = seq > 0
    prev = prev or GENESIS
    seq += 1
    subject_json = json.dumps(subject, sort_keys=True, separators=(",", ":"))
    digest = _event_hash(prev, seq, now, actor, action, workspace_id, subject_json)
    uow.audit.add(AuditRow(seq, now, actor, action, workspace_id, subject_json, prev, digest))
    uow.audit.set_head(seq, digest, existed)
    return seq


def record(
    store: DataStore,
    now: datetime,
    actor: str,
    action: str,
    workspace_id: str | None,
    **subject: Any,
) -> None:
    """Append one event in a transaction of its own (for example a failed decryption)."""
    with store.write() as uow:
        append(uow, now, actor, action, workspace_id, **subject)
        uow.commit()


@dataclass(frozen=True)
class Event:
    seq: int
    at: datetime
    actor: str
    action: str
    workspace_id: str | None
    subject: dict[str, Any]
    hash: str
    position: int | None = None  # among its workspace's events; None for none's

    def as_json(self) -> dict[str, Any]:
        """The operator's view: the chain's ``seq`` and the workspace position."""
        return {"seq": self.seq, "position": self.position, **self._fields()}

    def as_tenant_json(self) -> dict[str, Any]:
        """A workspace member's view (the export): the position, never the global seq."""
        return {"position": self.position, **self._fields()}

    def _fields(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "actor": self.actor,
            "action": self.action,
            "workspace_id": self.workspace_id,
            "subject": self.subject,
            "hash": self.hash,
        }


def _event(row: AuditRow) -> Event:
    return Event(
        row.seq,
        row.at,
        row.actor,
        row.action,
        row.workspace_id,
        json.loads(row.subject),
        row.hash,
        row.workspace_position,
    )


def events(
    store: DataStore, workspace_id: str | None = None, after: int = 0, limit: int = 100
) -> list[Event]:
    with store.read() as uow:
        if workspace_id is None:
            rows = uow.audit.scan(after, limit)
        else:
            rows = uow.audit.for_workspace(workspace_id, after, limit)
    return [_event(r) for r in rows]


def workspace_events(
    store: DataStore, workspace_id: str, after_position: int = 0, limit: int = 100
) -> list[Event]:
    """A workspace's events after ``after_position`` in it, oldest first."""
    with store.read() as uow:
        rows = uow.audit.in_workspace(workspace_id, after_position, limit)
    return [_event(r) for r in rows]


def _rows_up_to(store: DataStore, last: int) -> Iterator[AuditRow]:
    after = 0
    while True:
        with store.read() as uow:
            rows = [r for r in uow.audit.scan(after, _PAGE) if r.seq <= last]
        yield from rows
        if len(rows) < _PAGE:
            return
        after = rows[-1].seq


def verify(store: DataStore) -> int:
    """Check the whole chain; return the number of events or raise AuditChainBroken naming
    the 1-based position of the first bad event."""
    # The head is read first: events appended while we verify come after it and are left
    # for the next run, instead of looking like a broken tail.
    with store.read() as uow:
        head_seq, head_hash = uow.audit.head(lock=False)
    prev = GENESIS
    position = 0
    for row in _rows_up_to(store, head_seq):
        position += 1
        if row.seq != position:
            raise AuditChainBroken(
                f"audit event at position {position} has sequence {row.seq}, expected "
                f"{position}: an event was deleted or reordered",
                position=position,
                reason="sequence",
            )
        if row.prev_hash != prev:
            raise AuditChainBroken(
                f"audit event at position {position} does not follow the event before it: "
                "an event was deleted, inserted or reordered",
                position=position,
                reason="link",
            )
        if (
            _event_hash(prev, row.seq, row.at, row.actor, row.action, row.workspace_id, row.subject)
            != row.hash
        ):
            raise AuditChainBroken(
                f"audit event at position {position} was edited (its hash does not match)",
                position=position,
                reason="hash",
            )
        prev = row.hash
    if head_seq != position:
        raise AuditChainBroken(
            f"the audit chain ends at position {position} but its head says {head_seq}: "
            "events at the end were deleted",
            position=position + 1,
            reason="head",
        )
    if position and head_hash != prev:
        # Every link checked out, so the tail was rewritten with its hashes recomputed:
        # only the head still holds the true last hash. Name the last event, which exists.
        raise AuditChainBroken(
            f"the audit event at position {position} does not match the chain's head: "
            "events at the end were rewritten",
            position=position,
            reason="head",
        )
    return position


class AuditLog:
    """The audit chain as a service."""

    def __init__(self, store: DataStore) -> None:
        self.store = store

    def verify(self) -> int:
        return verify(self.store)

    def events(
        self, workspace_id: str | None = None, after: int = 0, limit: int = 100
    ) -> list[Event]:
        return events(self.store, workspace_id, after, limit)

    def workspace_events(
        self, workspace_id: str, after_position: int = 0, limit: int = 100
    ) -> list[Event]:
        return workspace_events(self.store, workspace_id, after_position, limit)
