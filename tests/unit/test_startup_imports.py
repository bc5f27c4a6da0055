"""Every ``strongroom`` command pays for what its start-up imports (with a 1 GiB ``file
put`` the start-up is most of the gap to a plain copy): the largest libraries that only
one command needs are imported by that command, not by the rest."""

from __future__ import annotations

import subprocess
import sys

ONLY_FOR_ONE_COMMAND = {
    "jsonschema": "export verify",
    "cryptography.x509": "init and serve (certificates)",
}


def test_the_command_line_starts_without_what_one_command_needs() -> None:
    probe = (
        "import sys, strongroom.cli.main; "
        f"print(','.join(m for m in {sorted(ONLY_FOR_ONE_COMMAND)!r} if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == "", done.stdout
