"""What a shred epoch does to the backup place (a folder or S3), between the root rewrap
and the destroy.

Every backup's key is wrapped by a root version. Before the older versions are destroyed:

1. a keystore backup is taken from the live keystore, whose keys are all wrapped by the
   current version: from now on it is the one every data backup restores with;
2. every data backup's key is rewrapped by the current version and its manifest resealed
   (same key, same parts: only the ``key`` field changes), so the data backup stays
   restorable;
3. every older keystore backup is deleted: the keys it holds are wrapped by versions about
   to be destroyed, so it could never restore anything again (a data backup restores with
   a keystore backup taken at or after it: the new one).

So a restore never needs a destroyed root version. Each step is safe to repeat: a run that
stops half-way is finished by the next (manifests already under the current version are
left alone, each manifest is replaced atomically).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from strongroom.backup import writer
from strongroom.backup.manifest import DATA, KEY_KINDS, KEYSTORE
from strongroom.backup.places import open_place
from strongroom.errors import IntegrityFailure, KeyUnavailable
from strongroom.services.context import Context

log = logging.getLogger("strongroom.backup")


@dataclass
class BackupsMoved:
    """What the epoch did in the backup folder."""

    keystore_backup_id: str
    #: The root version every backup left in the folder is wrapped by.
    root_version: int
    rewrapped: list[str] = field(default_factory=list)
    retired_keystore_backups: list[str] = field(default_factory=list)
    #: Data backups whose manifest no longer opens (damaged, or a version destroyed by an
    #: epoch that crashed before this step): left alone, they expire by their files' age.
    unreadable: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "keystore_backup_id": self.keystore_backup_id,
            "rewrapped_backups": self.rewrapped,
            "retired_keystore_backups": self.retired_keystore_backups,
            "unreadable_backups": self.unreadable,
        }


def move_to_current_root(ctx: Context, now: datetime) -> BackupsMoved:
    """Steps 1 to 3 of the module docstring, under the folder's exclusive lock (no backup
    is written meanwhile)."""
    folder = open_place(ctx.settings)
    keyring = ctx.keyring
    with folder.lock(exclusive=True):
        writer.remove_incomplete(folder)
        fresh = writer.keystore_backup(ctx, folder, now)
        current = fresh.root_version
        moved = BackupsMoved(fresh.id, current)
        for backup_id in folder.ids(DATA):
            try:
                manifest = folder.read_manifest(DATA, backup_id)
                if manifest.root_version >= current:
                    continue
                key = manifest.key(keyring)  # checks the seal with the key it unwraps
                version, wrapped = keyring.rewrap_backup_key(
                    KEY_KINDS[DATA], manifest.id, manifest.root_version, manifest.wrapped_key
                )
            except (IntegrityFailure, KeyUnavailable) as e:  # a KMS outage stops the epoch
                log.warning("backup %s cannot be rewrapped (%s); left as it is", backup_id, e)
                moved.unreadable.append(backup_id)
                continue
            manifest.root_version, manifest.wrapped_key = version, wrapped
            manifest.seal_with(key)
            folder.write_manifest(manifest)
            moved.rewrapped.append(backup_id)
        for backup_id in folder.ids(KEYSTORE):
            if backup_id != fresh.id:
                folder.delete_backup(KEYSTORE, backup_id)  # the manifest first
                moved.retired_keystore_backups.append(backup_id)
    return moved
