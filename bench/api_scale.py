"""api_scale_ratio: requests/s of `strongroom serve --workers 2` against `--workers 1`,
the same load from wrk, in one run.

Both are the real command (``strongroom serve --no-worker --json``) on one home (SQLite,
the records of api_read_ratio: bench/api.py's ``prepare``), each on a port of its own and
both running throughout, so neither pays a start-up inside a measurement. Load: wrk over
HTTPS with keep-alive, a random record id per request (the same seeded Lua script as
api_read_ratio), ``CONNECTIONS`` connections from ``THREADS`` thread, interleaved runs;
requests per second are the medians over those runs. While each run of the
``--workers 2`` side lasts, the established connections to its port are counted per API
process from /proc (which process holds each socket), so the notes say how the kernel
spread them.

wrk runs on the same machine and needs CPU of its own: on a 2-core machine the two API
processes and wrk compete for the cores, so the ratio is below what two cores give two
processes alone (the notes give the load average and the connection spread).
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench.api import THREADS, Plan, WrkRun, prepare, read_script, run_wrk
from bench.runner import Config, Result, Target, alternate, median, work_dir

NAMES = frozenset({"api_scale_ratio"})
CONNECTIONS = 8

STARTUP_TIMEOUT = 120.0
STRONGROOM = str(Path(sys.executable).parent / "strongroom")


@dataclass
class Served:
    workers: int
    url: str
    port: int
    supervisor: int
    runs: list[WrkRun] = field(default_factory=list)
    spreads: list[dict[int, int]] = field(default_factory=list)


@contextmanager
def serving(home: Path, workers: int, log: Path) -> Iterator[Served]:
    """`strongroom serve --workers N` on a free port until the block ends (SIGINT)."""
    command = [STRONGROOM, "serve", "--home", str(home), "--port", "0", "--no-worker"]
    command += ["--workers", str(workers), "--json"]
    if workers == 1:  # the single-process path names the port it was given: give one
        command[command.index("--port") + 1] = str(_free_port())
    with open(log, "wb") as err:
        proc = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err, text=True
        )
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], STARTUP_TIMEOUT)
        line = proc.stdout.readline() if ready else ""
        if not line:
            raise RuntimeError(f"serve --workers {workers} did not start:\n{log.read_text()}")
        started = json.loads(line)
        url = str(started["url"])
        yield Served(workers, url, int(url.rsplit(":", 1)[1]), int(started["pid"]))
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def connections_per_process(port: int, supervisor: int) -> dict[int, int]:
    """Established connections to ``port``, counted per process holding them (the
    supervisor's children), from /proc/net/tcp and /proc/PID/fd."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        parts = line.split()
        if int(parts[1].split(":")[1], 16) == port and parts[3] == "01":  # ESTABLISHED
            inodes.add(f"socket:[{parts[9]}]")
    spread: Counter[int] = Counter()
    for pid in _children(supervisor) or [supervisor]:
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                try:
                    if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                        spread[pid] += 1
                except OSError:
                    continue
        except OSError:
            continue
    return dict(spread)


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def _measure(side: Served, path: str, script: Path, token: str, seconds: int) -> None:
    """One wrk run; halfway through, the connections are counted per API process."""
    spread: dict[int, int] = {}

    def count() -> None:
        time.sleep(seconds / 2)
        spread.update(connections_per_process(side.port, side.supervisor))

    counter = threading.Thread(target=count)
    counter.start()
    side.runs.append(run_wrk(side.url + path, script, token, seconds, CONNECTIONS))
    counter.join()
    side.spreads.append(spread)


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _rate(side: Served) -> float:
    return median(r.rate for r in side.runs)


def _describe(side: Served) -> str:
    rates = ", ".join(f"{r.rate:,.0f}" for r in side.runs)
    spreads = "; ".join(
        "/".join(str(n) for n in sorted(s.values(), reverse=True)) or "none" for s in side.spreads
    )
    return f"--workers {side.workers}: runs {rates} req/s, connections per process {spreads}"


def run(config: Config, wanted: frozenset[str]) -> list[Result]:
    if not wanted & NAMES:
        return []
    plan = Plan.make(config)
    with work_dir(config.work, "api-scale-") as folder:
        setup = prepare(folder, plan.records)
        script = read_script(folder / "read.lua", setup.records_path + "/", setup.record_ids)
        before = _load()
        with (
            serving(setup.home, 1, folder / "one.log") as one,
            serving(setup.home, 2, folder / "two.log") as two,
        ):
            sides = (two, one)
            for side in sides:  # warm-up, untimed
                run_wrk(
                    side.url + setup.records_path,
                    script,
                    setup.token,
                    plan.warmup_seconds,
                    CONNECTIONS,
                )
            for rep in range(plan.reps):
                for side in sides if alternate(rep) else sides[::-1]:
                    _measure(side, setup.records_path, script, setup.token, plan.seconds)
        cores = os.cpu_count() or 0
        notes = (
            "strongroom serve --workers 2 against --workers 1 (both --no-worker, one SQLite "
            "home, both started before measuring). Load: the api_read_ratio script (GET one "
            f"random record of {len(setup.record_ids):,} per request, an owner token) from "
            f"wrk -t{THREADS} -c{CONNECTIONS}, HTTPS keep-alive; median of {plan.reps} "
            f"interleaved runs of {plan.seconds} s after a {plan.warmup_seconds} s warm-up "
            f"each. {_describe(two)}; {_describe(one)}. {cores} cores, shared with wrk itself "
            "(which takes a good part of one): the two API processes cannot have two cores "
            f"to themselves. Load average before/after: {before} / {_load()}."
        )
    return [
        Result(
            "api_scale_ratio",
            _rate(two),
            _rate(one),
            "requests/s",
            Target("ratio", ">=", 1.6),
            notes,
        )
    ]
