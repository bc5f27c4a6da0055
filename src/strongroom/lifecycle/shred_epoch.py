"""The shred epoch: a new root version, every key rewrapped under it, a keystore backup
taken, every backup moved to it, then every older root version destroyed in the KMS.

After an epoch, no lingering copy of a key destroyed before it (SQLite free pages,
PostgreSQL dead rows and replicas, old keystore backups, a copy someone kept) can be
unwrapped: each such copy is wrapped by a root version that no longer exists.

Steps, each safe to repeat (a run that stops anywhere is finished by the next one, which
the worker starts as soon as it sees a root version older than the current one):

0. the workspace key of every workspace where a purge destroyed a (project's) key since
   the last epoch is rotated, unless it was already after that purge: a lingering copy of
   the destroyed data key is wrapped by the old workspace key version, whose own copies
   are wrapped by root versions this epoch destroys (without this, the live workspace
   key would still unwrap the copy);
1. ``rotate``: a new root version; the keystore's keys rewrapped in the same transaction
   (Keys.rotate_root, audited ``key.rotate_root``). Skipped when finishing.
2. every keystore key still under an older version rewrapped (made during the rotation by
   another process, or left by a crash);
3. the backup folder moved to the current version (backup/epoch.py): a fresh keystore
   backup, data backups' keys rewrapped, older keystore backups deleted;
4. step 2 again (a key made meanwhile), then every older root version destroyed (refused
   while any keystore key still needs one);
5. the audit event ``key.shred_epoch``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from strongroom.backup import epoch as backup_epoch
from strongroom.crypto.policy import ROOT_KEY_ROTATION_DAYS, root_destroy_delay
from strongroom.domain.shred_epochs import unrecoverable_by
from strongroom.errors import KeyUnavailable, NotFound
from strongroom.services import audit
from strongroom.services.context import Context
from strongroom.services.keys import Keys

log = logging.getLogger("strongroom.worker")

EVENT = "key.shred_epoch"
#: The events an epoch's period counts from (a plain rotation destroys nothing: not one).
EPOCH_EVENTS = (EVENT, "home.init")


def last_epoch(ctx: Context) -> datetime | None:
    """When the newest shred epoch finished (or the home was made)."""
    with ctx.store.read() as uow:
        newest = uow.promise_evidence.newest_event(EPOCH_EVENTS)
    return newest[0] if newest else None


def key_unrecoverable_by(ctx: Context, deleted_at: datetime, now: datetime) -> datetime:
    """For the certificate of a purge that destroyed a key (issued ``now``): when the
    next epoch is due, which the worker brings forward to stay inside the backup window
    of ``deleted_at`` (domain/shred_epochs.py), plus the KMS's wait before an old version
    is really deleted (AWS KMS: 7 days; crypto/policy.py)."""
    return unrecoverable_by(
        last_epoch(ctx),
        timedelta(days=ROOT_KEY_ROTATION_DAYS),
        deleted_at,
        timedelta(days=ctx.settings.backup_purge_window_days),
        now,
        root_destroy_delay(ctx.settings.kms),
    )


@dataclass(frozen=True)
class ShredEpoch:
    """What one epoch did."""

    previous_root_version: int
    root_version: int
    rotated: bool
    rotated_workspaces: list[str]
    rewrapped_keys: int
    destroyed_versions: list[int]
    backups: backup_epoch.BackupsMoved

    def as_json(self) -> dict[str, Any]:
        return {
            "previous_root_version": self.previous_root_version,
            "root_version": self.root_version,
            "rotated": self.rotated,
            "rotated_workspaces": self.rotated_workspaces,
            "rewrapped_keys": self.rewrapped_keys,
            "destroyed_versions": self.destroyed_versions,
            **self.backups.as_json(),
        }


class ShredEpochs:
    def __init__(self, ctx: Context, keys: Keys) -> None:
        self.ctx = ctx
        self.keys = keys

    def unfinished(self) -> bool:
        """Whether a root version older than the current one still exists (an epoch
        stopped before its destroy, or a plain rotation): the next epoch finishes it."""
        kms = self.ctx.keyring.kms
        current = kms.current_version()
        return any(v.version < current for v in kms.versions())

    def run(self, actor: str = "system", rotate: bool = True) -> ShredEpoch:
        """One epoch; ``rotate=False`` finishes an unfinished one without a new version."""
        keyring = self.ctx.keyring
        workspaces = self._rotate_shredded_workspaces(actor)
        previous = keyring.kms.current_version()
        rewrapped = 0
        if rotate:
            rewrapped += self.keys.rotate_root(actor=actor).rewrapped_keys
        rewrapped += keyring.rewrap_to_current()
        moved = backup_epoch.move_to_current_root(self.ctx, self.ctx.clock.now())
        rewrapped += keyring.rewrap_to_current()
        # Only below the version the backups were moved to: a rotation by another process
        # since then leaves that version in place until the next epoch.
        current = moved.root_version
        destroyed = keyring.destroy_root_versions_before(current)
        result = ShredEpoch(previous, current, rotate, workspaces, rewrapped, destroyed, moved)
        with self.ctx.store.write() as uow:
            audit.append(uow, self.ctx.clock.now(), actor, EVENT, None, **result.as_json())
            uow.commit()
        log.info("shred epoch: %s", result.as_json())
        return result

    def _rotate_shredded_workspaces(self, actor: str) -> list[str]:
        """Step 0: rotate each workspace key older than a key shred in its workspace since
        the last epoch (a workspace purged whole has no key left: nothing to rotate)."""
        since = last_epoch(self.ctx) or datetime.min.replace(tzinfo=UTC)
        rotated = []
        shredded = self.ctx.ledger.key_shreds_by_workspace(since)
        for workspace_id, purged_at in sorted(shredded.items()):
            created = self.ctx.keyring.workspace_status(workspace_id).workspace_key_created_at
            if created is None or created > purged_at:
                continue
            try:
                self.keys.rotate_workspace(workspace_id, actor=actor)
            except (NotFound, KeyUnavailable):  # purged meanwhile
                continue
            rotated.append(workspace_id)
        return rotated
