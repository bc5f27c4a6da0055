"""When the next shred epoch is due: pure rules over dates (no IO, no clock).

A shred epoch makes a new root version, rewraps every key under it and destroys every
older version in the KMS. A key destroyed by a purge may linger, wrapped, in copies the
purge cannot reach (free pages, replicas, keystore backups); those copies are wrapped by
root versions that exist until the next epoch destroys them. So the epoch after a purge
is when the purged key became unrecoverable everywhere, and it must come within the
backup window of the deletion.

Some KMSs only schedule a destroy (AWS KMS: 7 days at the shortest): ``delay`` is how long
after the epoch the old version is really gone, so the epoch comes that much earlier and
the key is unrecoverable that much later.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

#: An epoch comes this long before a shredded key's window closes, not at the last instant.
MARGIN = timedelta(hours=1)


def next_epoch_due(
    last_epoch: datetime | None,
    period: timedelta,
    shreds: Iterable[tuple[datetime, datetime]],
    window: timedelta,
    now: datetime,
    delay: timedelta = timedelta(0),
) -> datetime:
    """When the next epoch is due: ``period`` after the last one, or sooner when a key
    destroyed since (``shreds``: (deleted_at, purged_at)) would otherwise outlive
    ``deleted_at + window`` in a lingering copy (``delay`` after the epoch, when the KMS
    really deletes the old version). Never before ``now`` is meaningful: a date in the
    past means "due now"."""
    due = last_epoch + period if last_epoch is not None else now
    for deleted_at, purged_at in shreds:
        if last_epoch is None or purged_at >= last_epoch:
            due = min(due, deleted_at + window - delay - MARGIN)
    return due


def unrecoverable_by(
    last_epoch: datetime | None,
    period: timedelta,
    deleted_at: datetime,
    window: timedelta,
    now: datetime,
    delay: timedelta = timedelta(0),
) -> datetime:
    """For a deletion certificate issued ``now`` for a purge that destroyed a key: the
    time of the epoch after it plus ``delay`` (until the KMS really deletes the old
    version), by which every lingering copy of the key is unreadable (the next epoch
    counts this purge; one already overdue runs on the worker's next pass, counted as
    ``now``)."""
    due = next_epoch_due(last_epoch, period, [(deleted_at, now)], window, now, delay)
    return max(due, now) + delay
