"""HOME/tmp: where restores and drills decrypt, owner-only, swept of old leftovers only."""

from __future__ import annotations

import os
import time
from pathlib import Path

from strongroom.backup.scratch import LEFTOVER_SECONDS, scratch_folder
from strongroom.config import load_settings


def test_the_scratch_folder_is_owner_only_and_sweeps_only_old_leftovers(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, {})
    folder = scratch_folder(settings)
    assert folder == tmp_path.resolve() / "tmp"
    assert folder.stat().st_mode & 0o777 == 0o700
    old_db = folder / ".scratch-aaaa.db"
    old_drill = folder / "strongroom-drill-x"
    fresh = folder / ".scratch-bbbb.db"
    other = folder / "keep-me"
    old_db.write_bytes(b"x")
    old_drill.mkdir()
    (old_drill / "data.db").write_bytes(b"x")
    fresh.write_bytes(b"x")
    other.write_bytes(b"x")
    long_ago = time.time() - LEFTOVER_SECONDS - 60
    for path in (old_db, old_drill, other):
        os.utime(path, (long_ago, long_ago))
    scratch_folder(settings)
    assert not old_db.exists() and not old_drill.exists()
    assert fresh.exists() and other.exists()  # a run still going; not ours
