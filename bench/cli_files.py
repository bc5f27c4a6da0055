"""cli_file_put_ratio and cli_file_get_ratio: ``strongroom file put`` and ``strongroom file
get`` as the user runs them, whole processes, against ``cat file > copy && sync copy``.

Each side is a process started by the same tiny launcher (``python -S``), which times it
from spawn to exit and reads its peak RSS with ``os.wait4``; so both sides pay the same
launch, and Strongroom pays for its interpreter start, imports and opening the home as
well as for the data. Each repetition runs put and the baseline, then get and the
baseline, alternating which goes first; rates are medians. The source is random (nothing
compresses) and in the page cache before the first timed run (the baseline reads it from
there too). Every command's output file is fsynced before it exits: Strongroom's blob (and
its record), the file ``get`` writes, and the baseline's copy (``sync FILE``).
"""

from __future__ import annotations

import compileall
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import strongroom
from bench.files import MB, make_source
from bench.runner import MIB, Config, Result, Target, alternate, median, work_dir
from strongroom.bootstrap import init_home, open_strongroom

_LAUNCHER = """\
import json, os, sys, time
t0 = time.perf_counter()
pid = os.posix_spawn(sys.argv[1], sys.argv[1:], os.environ)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - t0
print(json.dumps({"exit": os.waitstatus_to_exitcode(status), "seconds": seconds,
                  "cpu": usage.ru_utime + usage.ru_stime, "maxrss_kib": usage.ru_maxrss}))
"""


def _compile_package() -> None:
    """Byte-compile the package, as ``pip install .`` does for an installed one: otherwise,
    under PYTHONDONTWRITEBYTECODE or in a fresh editable checkout, every process would
    compile Strongroom's sources again (about 0.1 s here), which no installed copy does."""
    compileall.compile_dir(str(Path(strongroom.__file__).parent), quiet=1)


def _strongroom_command() -> list[str]:
    """The installed ``strongroom`` script beside this interpreter, as a user runs it."""
    script = Path(sys.executable).with_name("strongroom")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "strongroom.cli.main"]


@dataclass(frozen=True)
class Run:
    seconds: float  # wall clock, spawn to exit
    cpu: float  # user + system seconds of the process and its children
    peak_mib: float
    stdout: str


def _launch(command: list[str], env: dict[str, str]) -> Run:
    """Run ``command`` under the launcher."""
    program = shutil.which(command[0]) or command[0]
    done = subprocess.run(
        [sys.executable, "-S", "-c", _LAUNCHER, program, *command[1:]],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"launcher failed: {done.stderr.strip()[-2000:]}")
    report = json.loads(lines[-1])
    if report["exit"] != 0:
        raise RuntimeError(f"{command[:3]} exited {report['exit']}: {done.stderr[-2000:]}")
    return Run(
        float(report["seconds"]),
        float(report["cpu"]),
        float(report["maxrss_kib"]) / 1024,
        "\n".join(lines[:-1]),
    )


def run(config: Config, wanted: frozenset[str]) -> list[Result]:
    size = config.cli_file_bytes
    sr_put: list[float] = []
    sr_get: list[float] = []
    base_put: list[float] = []
    base_get: list[float] = []
    rss: list[float] = []
    sr_put_cpu: list[float] = []
    sr_get_cpu: list[float] = []
    base_cpu: list[float] = []
    _compile_package()
    with work_dir(config.work, "cli-files-") as folder:
        source, copy, out = folder / "source.bin", folder / "copy.bin", folder / "out.bin"
        make_source(source, size)
        home = folder / "home"
        init_home(home)
        with open_strongroom(home) as sr:
            ws = sr.workspaces.create("Bench CLI Files", "owner@example.com").id
            prj = sr.projects.create(ws, "Attachments").id
        env = {**os.environ, "STRONGROOM_HOME": str(home)}
        baseline = ["sh", "-c", f"cat '{source}' > '{copy}' && sync '{copy}'"]
        put = [*_strongroom_command(), "file", "put", ws, prj, str(source), "--json"]

        def plain_copy(cpu: list[float]) -> float:
            run = _launch(baseline, env)
            copy.unlink()
            cpu.append(run.cpu)
            return run.seconds

        def sr_put_once() -> tuple[float, str]:
            run = _launch(put, env)
            rss.append(run.peak_mib)
            sr_put_cpu.append(run.cpu)
            return run.seconds, str(json.loads(run.stdout)["id"])

        def sr_get_once(file_id: str) -> float:
            get = [*_strongroom_command(), "file", "get", ws, prj, file_id, "-o", str(out)]
            run = _launch([*get, "--json"], env)
            rss.append(run.peak_mib)
            sr_get_cpu.append(run.cpu)
            _same_file(source, out)
            out.unlink()
            return run.seconds

        plain_copy([])  # warm-up: the source in the page cache, the interpreter's files too
        for rep in range(config.file_reps):
            if alternate(rep):
                seconds, file_id = sr_put_once()
                sr_put.append(seconds)
                base_put.append(plain_copy(base_cpu))
                sr_get.append(sr_get_once(file_id))
                base_get.append(plain_copy(base_cpu))
            else:
                base_put.append(plain_copy(base_cpu))
                seconds, file_id = sr_put_once()
                sr_put.append(seconds)
                base_get.append(plain_copy(base_cpu))
                sr_get.append(sr_get_once(file_id))
            with open_strongroom(home) as sr:
                sr.ctx.blobs.delete(file_id)

    def rate(seconds: list[float]) -> float:
        return median(size / MB / s for s in seconds)

    def runs(seconds: list[float]) -> str:
        return ", ".join(f"{s:.2f}" for s in seconds)

    detail = (
        f"{size // MIB} MiB random file, median of {config.file_reps} alternating repetitions; "
        f"peak RSS of the Strongroom processes {max(rss):.0f} MiB (target <= 150)"
    )
    put_runs = (
        f"seconds per run: Strongroom {runs(sr_put)}, baseline {runs(base_put)}; CPU seconds "
        f"(user + system): Strongroom {runs(sr_put_cpu)}, baseline {runs(base_cpu)}"
    )
    get_runs = (
        f"seconds per run: Strongroom {runs(sr_get)}, baseline {runs(base_get)}; CPU seconds "
        f"(user + system): Strongroom {runs(sr_get_cpu)}, baseline {runs(base_cpu)}"
    )
    results = []
    if "cli_file_put_ratio" in wanted:
        results.append(
            Result(
                "cli_file_put_ratio",
                rate(sr_put),
                rate(base_put),
                "MB/s",
                Target("ratio", ">=", 0.50),
                "Strongroom (its package byte-compiled first, as an installed copy is): "
                "the process `strongroom file put WS PRJ FILE --json` (start-up, "
                "open the home, encrypt into a blob, fsync, rename, record). Baseline: the "
                f"process `sh -c 'cat FILE > COPY && sync COPY'`; {detail}; {put_runs}.",
            )
        )
    if "cli_file_get_ratio" in wanted:
        results.append(
            Result(
                "cli_file_get_ratio",
                rate(sr_get),
                rate(base_get),
                "MB/s",
                Target("ratio", ">=", 0.50),
                "Strongroom (byte-compiled, as above): the process `strongroom file get WS PRJ ID "
                "-o OUT --json` "
                "(start-up, open the home, decrypt into a temporary file, fsync, rename). "
                f"Baseline: the same `cat > COPY && sync COPY` process; {detail}; {get_runs}.",
            )
        )
    return results


def _same_file(a: Path, b: Path) -> None:
    """Untimed: the file read back is the file put in."""
    with open(a, "rb") as x, open(b, "rb") as y:
        while True:
            one, two = x.read(MIB), y.read(MIB)
            if one != two:
                raise AssertionError("the file read back differs from the file put in")
            if not one:
                return
