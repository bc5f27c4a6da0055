"""Where restores and drills keep what they decrypt while they run: ``HOME/tmp`` (0700),
inside the home they come from, never in the backup folder or a shared /tmp. What a killed
run left there is removed by the next run, once it is a day old (so a run still going is
never touched)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from strongroom.config import Settings

LEFTOVER_SECONDS = 24 * 3600
#: What restores and drills leave, and the SQLite snapshots backups take (storage/snapshots.py).
PREFIXES = (".scratch-", "strongroom-drill-", ".data-", ".keystore-")


def scratch_folder(settings: Settings) -> Path:
    """``HOME/tmp``, made owner-only, swept of old leftovers."""
    folder = settings.home / "tmp"
    folder.mkdir(mode=0o700, exist_ok=True)
    folder.chmod(0o700)
    cutoff = time.time() - LEFTOVER_SECONDS
    for item in folder.iterdir():
        if not item.name.startswith(PREFIXES) or item.lstat().st_mtime > cutoff:
            continue
        if item.is_dir() and not item.is_symlink():
            shutil.rmtree(item, ignore_errors=True)
        else:
            item.unlink(missing_ok=True)
    return folder
