"""Every ``strongroom`` command pays for what its start-up imports (with a 1 GiB ``file
put`` the start-up is most of the gap to a plain copy): the largest libraries that only
one command needs are imported by that command, not by the rest; a command's module only
when that command runs; and the cycle collector, off while a command starts, is on when it
runs (a server or a worker runs for days)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ONLY_FOR_ONE_COMMAND = {
    "jsonschema": "export verify",
    "cryptography.x509": "init and serve (certificates)",
    "prometheus_client": "serve and worker (GET /metrics)",
}

#: ``strongroom ARGS…`` as the installed script runs it (``strongroom.cli.main:run``), then
#: the names of every module the process imported, as JSON, into the file $MODULES_OUT.
_PROBE = """\
import atexit, json, os, sys
atexit.register(
    lambda: open(os.environ["MODULES_OUT"], "w").write(json.dumps(sorted(sys.modules)))
)
sys.argv = ["strongroom", *sys.argv[1:]]
from strongroom.cli.main import run
run()
"""


def imported_by(*args: str, scratch: Path) -> tuple[set[str], str]:
    """The modules the process ``strongroom ARGS…`` imported, and what it printed."""
    out = scratch / "modules.json"
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *args],
        env={**os.environ, "MODULES_OUT": str(out)},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(out.read_text("utf-8"))), done.stdout


def test_the_command_line_starts_without_what_one_command_needs() -> None:
    probe = (
        "import sys, strongroom.cli.main; "
        f"print(','.join(m for m in {sorted(ONLY_FOR_ONE_COMMAND)!r} if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == "", done.stdout


def test_version_imports_no_command_and_no_database(tmp_path: Path) -> None:
    modules, printed = imported_by("--version", scratch=tmp_path)
    assert printed.startswith("strongroom ")
    heavy = {"sqlalchemy", "pydantic", "rich", "strongroom.bootstrap", "strongroom.config"}
    assert modules & heavy == set()
    assert [m for m in modules if m.startswith("strongroom.cli.commands.")] == []


def test_a_command_runs_with_the_cycle_collector_on() -> None:
    # A command of its own, registered as the command line registers every command.
    probe = """\
import gc, sys, types
from strongroom.cli import main
module = types.ModuleType("strongroom.cli.commands.probe")
def probe() -> None:
    print("collector on" if gc.isenabled() else "collector off")
module.probe = probe
sys.modules[module.__name__] = module
main.COMMANDS["probe"] = "probe"
sys.argv = ["strongroom", "probe"]
main.run()
"""
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False, timeout=120
    )
    assert (done.returncode, done.stdout.strip()) == (0, "collector on"), done.stderr
