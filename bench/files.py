"""file_put_ratio, file_get_ratio and file_peak_rss_mb: a large file through Strongroom's
blob path against a plain copy of the same file.

Throughput (MB = 10^6 bytes): each repetition times ``sr.files.put`` and a baseline copy,
then ``sr.files.get_to_path`` and another baseline copy, alternating which goes first.
The baseline is ``shutil.copyfileobj(source, new file)`` followed by flush + ``os.fsync``
of the destination, because Strongroom's blob writer and get_to_path both fsync.

Peak memory: ``ru_maxrss`` of a child process, read with ``os.wait4`` by a tiny launcher
started with ``python -S``. The launcher matters: Linux carries the pre-exec address
space's high-water RSS into the child's ``ru_maxrss``, so a child spawned straight from
this (large) process would report at least this process's RSS.
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.runner import BENCH_DIR, MIB, Config, Result, Target, alternate, median, work_dir
from strongroom.bootstrap import Strongroom, init_home, open_strongroom

MB = 1_000_000
CHUNK = MIB

_LAUNCHER = """\
import json, os, sys
pid = os.posix_spawn(sys.argv[1], sys.argv[1:], os.environ)
_, status, usage = os.wait4(pid, 0)
print(json.dumps({"exit": os.waitstatus_to_exitcode(status), "maxrss_kib": usage.ru_maxrss}))
"""


def make_source(path: Path, size: int) -> None:
    """``size`` bytes of random data (incompressible, so nothing can take shortcuts)."""
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(CHUNK, left)
            f.write(os.urandom(n))
            left -= n


def plain_copy(source: Path, destination: Path) -> float:
    """The baseline: copyfileobj into a new file, flush, fsync; returns seconds."""
    t0 = time.perf_counter()
    with open(source, "rb") as src, open(destination, "wb") as dst:
        shutil.copyfileobj(src, dst)
        dst.flush()
        os.fsync(dst.fileno())
    elapsed = time.perf_counter() - t0
    destination.unlink()
    return elapsed


@dataclass
class Home:
    sr: Strongroom
    workspace_id: str
    project_id: str


def _make_home(folder: Path) -> tuple[Path, str, str]:
    home = folder / "home"
    init_home(home)
    with open_strongroom(home) as sr:
        ws = sr.workspaces.create("Bench Files", "owner@example.com")
        prj = sr.projects.create(ws.id, "Attachments")
    return home, ws.id, prj.id


def _sr_put(h: Home, source: Path) -> tuple[float, str]:
    t0 = time.perf_counter()
    with open(source, "rb") as f:
        stored = h.sr.files.put(h.workspace_id, h.project_id, "source.bin", f)
    return time.perf_counter() - t0, stored.id


def _sr_get(h: Home, file_id: str, destination: Path) -> float:
    t0 = time.perf_counter()
    h.sr.files.get_to_path(h.workspace_id, h.project_id, file_id, destination)
    elapsed = time.perf_counter() - t0
    destination.unlink()
    return elapsed


def run_throughput(config: Config, wanted: frozenset[str]) -> list[Result]:
    size = config.file_bytes
    sr_put: list[float] = []
    base_put: list[float] = []
    sr_get: list[float] = []
    base_get: list[float] = []
    with work_dir(config.work, "files-") as folder:
        source = folder / "source.bin"
        make_source(source, size)
        home, ws, prj = _make_home(folder)
        out = folder / "out.bin"
        with open_strongroom(home) as sr:
            h = Home(sr, ws, prj)
            plain_copy(source, out)  # warm-up: the source in the page cache
            for rep in range(config.file_reps):
                gc.collect()
                if alternate(rep):
                    seconds, file_id = _sr_put(h, source)
                    sr_put.append(seconds)
                    base_put.append(plain_copy(source, out))
                else:
                    base_put.append(plain_copy(source, out))
                    seconds, file_id = _sr_put(h, source)
                    sr_put.append(seconds)
                if alternate(rep):
                    sr_get.append(_sr_get(h, file_id, out))
                    base_get.append(plain_copy(source, out))
                else:
                    base_get.append(plain_copy(source, out))
                    sr_get.append(_sr_get(h, file_id, out))
                _check_round_trip(h, file_id, source, out)
                sr.ctx.blobs.delete(file_id)

    def rate(seconds: list[float]) -> float:
        return median(size / MB / s for s in seconds)

    detail = f"{size // MIB} MiB random file, median of {config.file_reps} repetitions"
    results = []
    if "file_put_ratio" in wanted:
        results.append(
            Result(
                "file_put_ratio",
                rate(sr_put),
                rate(base_put),
                "MB/s",
                Target("ratio", ">=", 0.50),
                "Strongroom: sr.files.put from an open file (AES-GCM 64 KiB segments into a temp "
                "blob, fsync, rename, directory fsync, then the files row + audit event). "
                "Baseline: shutil.copyfileobj(source, new file) + flush + os.fsync of the "
                f"destination (no rename, no directory fsync); {detail}.",
            )
        )
    if "file_get_ratio" in wanted:
        results.append(
            Result(
                "file_get_ratio",
                rate(sr_get),
                rate(base_get),
                "MB/s",
                Target("ratio", ">=", 0.50),
                "Strongroom: sr.files.get_to_path (decrypt segment by segment into a temp "
                "file, fsync, rename). Baseline: shutil.copyfileobj of the source into a new "
                f"file + flush + os.fsync; {detail}.",
            )
        )
    return results


def _check_round_trip(h: Home, file_id: str, source: Path, out: Path) -> None:
    """Untimed: the file read back is the file put in (compared chunk by chunk)."""
    h.sr.files.get_to_path(h.workspace_id, h.project_id, file_id, out)
    try:
        with open(source, "rb") as a, open(out, "rb") as b:
            while True:
                x, y = a.read(CHUNK), b.read(CHUNK)
                if x != y:
                    raise AssertionError("the file read back differs from the file put in")
                if not x:
                    return
    finally:
        out.unlink()


# peak RSS --------------------------------------------------------------------------------
def child_peak_rss_mib(args: list[str]) -> float:
    """Peak RSS (MiB) of ``python -m bench.child ARGS``, via the launcher."""
    command = [sys.executable, "-S", "-c", _LAUNCHER, sys.executable, "-m", "bench.child"]
    done = subprocess.run(
        command + args, cwd=BENCH_DIR.parent, capture_output=True, text=True, check=False
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"peak-RSS child failed: {done.stderr.strip()[-2000:]}")
    report = json.loads(lines[-1])
    if report["exit"] != 0:
        raise RuntimeError(f"peak-RSS child exited {report['exit']}: {done.stderr[-2000:]}")
    return float(report["maxrss_kib"]) / 1024


def run_peak_rss(config: Config, wanted: frozenset[str]) -> list[Result]:
    size = config.file_bytes
    worked: list[float] = []
    idle: list[float] = []
    with work_dir(config.work, "rss-") as folder:
        source = folder / "source.bin"
        make_source(source, size)
        home, ws, prj = _make_home(folder)
        put_get = ["put-get", str(home), ws, prj, str(source), str(folder / "out.bin")]
        just_open = ["open", str(home)]
        for rep in range(config.rss_reps):
            if alternate(rep):
                worked.append(child_peak_rss_mib(put_get))
                idle.append(child_peak_rss_mib(just_open))
            else:
                idle.append(child_peak_rss_mib(just_open))
                worked.append(child_peak_rss_mib(put_get))
    return [
        Result(
            "file_peak_rss_mb",
            median(worked),
            median(idle),
            "MiB",
            Target("value", "<=", 150),
            f"ru_maxrss (os.wait4) of a child doing open_strongroom + files.put + "
            f"files.get_to_path of a {size // MIB} MiB file; baseline: a child that imports "
            f"strongroom and opens the same home only; median of {config.rss_reps} runs each.",
        )
    ]
