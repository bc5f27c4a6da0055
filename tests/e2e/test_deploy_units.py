"""The systemd units in deploy/: systemd accepts them, and the command each starts is one
the installed ``strongroom`` accepts."""

from __future__ import annotations

import configparser
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import need_service

DEPLOY = Path(__file__).parents[2] / "deploy"
INSTALLED_AT = "/opt/strongroom/.venv/bin/strongroom"
UNITS = ["strongroom-api.service", "strongroom-worker@.service"]


def exec_start(unit: Path) -> list[str]:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(unit)
    return shlex.split(parser["Service"]["ExecStart"])


@pytest.mark.parametrize("name", UNITS)
def test_systemd_accepts_the_unit(tmp_path: Path, name: str) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        need_service("systemd-analyze is not installed")
    here = str(Path(sys.executable).with_name("strongroom"))
    unit = tmp_path / name
    unit.write_text((DEPLOY / name).read_text().replace(INSTALLED_AT, here))
    checked = subprocess.run(
        [analyze, "verify", str(unit)], capture_output=True, text=True, check=False
    )
    # verify warns about a line it ignores (a misspelt setting) on stderr with status 0.
    complaints = [line for line in checked.stderr.splitlines() if name in line]
    assert checked.returncode == 0 and complaints == [], checked.stderr


@pytest.mark.parametrize("name", UNITS)
def test_the_unit_starts_a_command_strongroom_accepts(name: str) -> None:
    argv = exec_start(DEPLOY / name)
    assert argv[0] == INSTALLED_AT
    strongroom = str(Path(sys.executable).with_name("strongroom"))
    # --help is eager: it answers 0 only once every option before it parsed.
    said = subprocess.run(
        [strongroom, *argv[1:], "--help"], capture_output=True, text=True, check=False
    )
    assert said.returncode == 0, said.stderr
