"""Until when a backup can be restored, and until when a keystore backup may be kept:
pure rules over dates (no IO, no clock).

- A data backup restores only with a keystore backup taken at or after it (keys are only
  ever added or destroyed, so a later keystore opens everything the backup holds that was
  not purged since). It is restorable until the latest expiry among those, capped at its
  own expiry.
- A keystore backup holds every key that existed when it was taken. A purge that destroys
  a key (a project's or a workspace's) after that promises the key gone from every copy
  within the window of the deletion: such a keystore backup expires at the earliest
  ``deleted_at + window`` among those purges, if that comes before its age limit.
- So that a keystore backup going early never strands a data backup, retention takes a
  fresh keystore backup (which cannot hold a destroyed key) whenever some data backup
  would otherwise stop being restorable before it expires: :func:`needs_renewal`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

#: (deleted_at, purged_at) of a purge that destroyed a key.
Shred = tuple[datetime, datetime]
#: (created_at, expires_at) of a backup.
Dated = tuple[datetime, datetime]


def keystore_expiry(
    taken: datetime, by_age: datetime, shreds: Iterable[Shred], window: timedelta
) -> datetime:
    """When a keystore backup taken at ``taken`` must be gone: its age limit, or sooner if
    a key it holds was destroyed since (purged after it was taken)."""
    deadlines = [deleted + window for deleted, purged in shreds if purged > taken]
    return min([by_age, *deadlines])


def restorable_until(
    taken: datetime, expires: datetime, keystores: Iterable[Dated]
) -> datetime | None:
    """Until when a data backup taken at ``taken`` can be restored; None if no keystore
    backup taken at or after it exists."""
    later = [until for created, until in keystores if created >= taken]
    return min(expires, max(later)) if later else None


def needs_renewal(data: Iterable[Dated], keystores: Iterable[Dated]) -> bool:
    """Whether some data backup would stop being restorable before it expires."""
    keystores = list(keystores)
    for taken, expires in data:
        until = restorable_until(taken, expires, keystores)
        if until is None or until < expires:
            return True
    return False
