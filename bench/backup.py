"""backup_vs_restic, restore_vs_restic and backup_incremental_ratio.

A home holding ``backup_bytes`` of customer data (a fifth records of about 4 KiB, the rest
files of 8 MiB; random content) is backed up by ``strongroom backup create`` (its Python
call) into a fresh backup folder, and by Debian's ``restic`` (0.14) into a fresh local
repository (``restic init`` untimed; the home's own backups folder excluded). Then each is
restored: ``restore_home`` into a new folder, ``restic restore latest`` into another.
Figures are MB/s of the home's size (MB = 10^6 bytes), so the ratio is restic's time
divided by Strongroom's. Repetitions alternate which goes first.

backup_incremental_ratio: after the first backup, 1% more data (records and one file) is
written and a second backup taken; value = its seconds, baseline = the first's. The data
store snapshot is taken whole every time (it is one encrypted part); files are copied once.
"""

from __future__ import annotations

import gc
import os
import shutil
import subprocess
import time
from pathlib import Path

from bench.runner import MIB, Config, Result, Target, alternate, median, work_dir
from strongroom.bootstrap import Strongroom, init_home, open_strongroom

MB = 1_000_000
FILE_BYTES = 8 * MIB
RECORD_BYTES = 4096
PASSWORD = "bench-only-restic-password"  # noqa: S105 - a throwaway benchmark repository


def _restic() -> str:
    found = shutil.which("restic")
    if found is None:
        raise SystemExit("restic is not installed: apt-get install restic (make bench does)")
    return found


def _fill(sr: Strongroom, ws: str, project: str, size: int, tag: str) -> None:
    """``size`` bytes of random customer data: a fifth records, the rest files."""
    record_count = max(1, size // 5 // RECORD_BYTES)
    for start in range(0, record_count, 500):
        batch = [
            {"note": os.urandom(RECORD_BYTES // 2).hex(), "n": i}
            for i in range(start, min(record_count, start + 500))
        ]
        sr.records.put_many(ws, project, "notes", batch)
    left = size - record_count * RECORD_BYTES
    n = 0
    while left > 0:
        chunk = min(FILE_BYTES, left)
        path = sr.settings.home.parent / f"source-{tag}-{n}.bin"
        path.write_bytes(os.urandom(chunk))
        with open(path, "rb") as src:
            sr.files.put(ws, project, path.name, src)
        path.unlink()
        left -= chunk
        n += 1


def _home_bytes(home: Path) -> int:
    backups = home / "backups"
    return sum(
        p.stat().st_size for p in home.rglob("*") if p.is_file() and backups not in p.parents
    )


def _env(folder: Path) -> dict[str, str]:
    return {**os.environ, "RESTIC_PASSWORD": PASSWORD, "RESTIC_CACHE_DIR": str(folder / "cache")}


def _restic_backup(folder: Path, home: Path, rep: int) -> tuple[float, Path]:
    repo = folder / f"restic-{rep}"
    env = _env(folder)
    subprocess.run([_restic(), "-r", str(repo), "init", "-q"], env=env, check=True)
    started = time.perf_counter()
    subprocess.run(
        [_restic(), "-r", str(repo), "backup", "-q", str(home), "--exclude", str(home / "backups")],
        env=env,
        check=True,
    )
    return time.perf_counter() - started, repo


def _restic_restore(folder: Path, repo: Path, rep: int) -> float:
    target = folder / f"restic-restored-{rep}"
    started = time.perf_counter()
    subprocess.run(
        [_restic(), "-r", str(repo), "restore", "latest", "-q", "--target", str(target)],
        env=_env(folder),
        check=True,
    )
    elapsed = time.perf_counter() - started
    shutil.rmtree(target)
    return elapsed


def _sr_backup(sr: Strongroom, folder: Path, rep: int) -> tuple[float, str]:
    shutil.rmtree(sr.settings.backup_dir, ignore_errors=True)
    started = time.perf_counter()
    entry = sr.backups.create()
    return time.perf_counter() - started, entry.id


def _sr_restore(sr: Strongroom, folder: Path, backup_id: str, rep: int) -> float:
    target = folder / f"sr-restored-{rep}"
    started = time.perf_counter()
    sr.backups.restore_home(backup_id, target)
    elapsed = time.perf_counter() - started
    shutil.rmtree(target)
    return elapsed


def run(config: Config, wanted: frozenset[str]) -> list[Result]:
    sr_backup: list[float] = []
    restic_backup: list[float] = []
    sr_restore: list[float] = []
    restic_restore: list[float] = []
    with work_dir(config.work, "backup-") as folder:
        home = folder / "home"
        init_home(home)
        with open_strongroom(home) as sr:
            ws = sr.workspaces.create("Bench Backup", "owner@example.com").id
            project = sr.projects.create(ws, "Data").id
            _fill(sr, ws, project, config.backup_bytes, "base")
            size = _home_bytes(home)
            for rep in range(config.backup_reps):
                gc.collect()
                if alternate(rep):
                    seconds, backup_id = _sr_backup(sr, folder, rep)
                    sr_backup.append(seconds)
                    seconds, repo = _restic_backup(folder, home, rep)
                    restic_backup.append(seconds)
                else:
                    seconds, repo = _restic_backup(folder, home, rep)
                    restic_backup.append(seconds)
                    seconds, backup_id = _sr_backup(sr, folder, rep)
                    sr_backup.append(seconds)
                if alternate(rep):
                    sr_restore.append(_sr_restore(sr, folder, backup_id, rep))
                    restic_restore.append(_restic_restore(folder, repo, rep))
                else:
                    restic_restore.append(_restic_restore(folder, repo, rep))
                    sr_restore.append(_sr_restore(sr, folder, backup_id, rep))
                shutil.rmtree(repo)
            first = sr_backup[-1]
            _fill(sr, ws, project, config.backup_bytes // 100, "more")
            started = time.perf_counter()
            second = sr.backups.create()
            incremental = time.perf_counter() - started

    def rate(seconds: list[float]) -> float:
        return median(size / MB / s for s in seconds)

    detail = (
        f"home of {size / MIB:.0f} MiB (records and files), median of {config.backup_reps}; "
        "MB/s of the home's size, Strongroom vs restic 0.14 into a fresh local repository"
    )
    results = []
    if "backup_vs_restic" in wanted:
        results.append(
            Result(
                "backup_vs_restic",
                rate(sr_backup),
                rate(restic_backup),
                "MB/s",
                Target("ratio", ">=", 1.0),
                detail,
            )
        )
    if "restore_vs_restic" in wanted:
        results.append(
            Result(
                "restore_vs_restic",
                rate(sr_restore),
                rate(restic_restore),
                "MB/s",
                Target("ratio", ">=", 1.0),
                detail + "; Strongroom's restore includes the ledger replay",
            )
        )
    if "backup_incremental_ratio" in wanted:
        results.append(
            Result(
                "backup_incremental_ratio",
                incremental,
                first,
                "s",
                None,
                f"second backup after 1% new data vs the first; it wrote "
                f"{second.new_bytes / MIB:.1f} MiB of {second.size / MIB:.0f} MiB",
            )
        )
    return results
