"""Kill a backup at every step, for test_backup_failures.py:

    python -m tests.integration.backup_killer HOME

A step is anything a backup does that could be the last thing before a crash: a progress
report (a chunk encrypted or copied), an ``os.open``, an ``os.fsync``, an ``os.replace``.
For N = 1, 2, 3, … a child process (forked after the imports, so each kill costs a backup,
not an interpreter start) opens HOME, starts ``sr.backups.create()`` and SIGKILLs itself
just before its N-th step. Each child starts from what the one before it left (pool blobs
already copied are reused, not copied again), so the N-th child dies one step further into
what was left to do, and together they die at every step up to the finished backup.
After each child the parent opens HOME and prints one JSON line: ``{"n", "killed",
"listed", "keystore_listed", "verified", "folders"}`` (the complete data and keystore
backups as listed, whether each verifies, the data folders on disk). It stops after the
first child that finishes without reaching its N-th step.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Callable
from typing import Any

from strongroom.backup.manifest import Folder
from strongroom.bootstrap import open_strongroom

STEPS = ("open", "fsync", "replace")
MAX_STEPS = 500  # a backup of the tests' homes takes well under this


def _die_at(n: int) -> Callable[[], None]:
    """Wrap the steps so that the n-th one SIGKILLs this process before it happens."""
    seen = 0

    def step() -> None:
        nonlocal seen
        seen += 1
        if seen == n:
            os.kill(os.getpid(), signal.SIGKILL)

    for name in STEPS:
        real = getattr(os, name)

        def wrapped(*args: Any, _real: Any = real, **kwargs: Any) -> Any:
            step()
            return _real(*args, **kwargs)

        setattr(os, name, wrapped)
    return step


def _child(home: str, n: int) -> None:
    try:
        step = _die_at(n)
        with open_strongroom(home) as sr:
            sr.backups.create(on_progress=lambda _bytes: step())
    except BaseException as e:  # report anything; never go on into the parent's code
        print(json.dumps({"n": n, "error": repr(e)}), flush=True)
        os._exit(3)
    os._exit(0)


def _state(home: str, n: int, killed: bool) -> dict[str, Any]:
    with open_strongroom(home) as sr:
        listed = [e.id for e in sr.backups.list()]
        keystore = [e.id for e in sr.backups.list("keystore")]
        verified = {i: sr.backups.verify(i).ok for i in listed + keystore}
        folders = Folder(sr.settings.backup_dir).ids("data")
    return {
        "n": n,
        "killed": killed,
        "listed": listed,
        "keystore_listed": keystore,
        "verified": verified,
        "folders": folders,
    }


def main(argv: list[str]) -> int:
    home = argv[0]
    for n in range(1, MAX_STEPS):
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            _child(home, n)
        _, status = os.waitpid(pid, 0)
        killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        if not killed and os.waitstatus_to_exitcode(status) != 0:
            return 3
        print(json.dumps(_state(home, n, killed)), flush=True)
        if not killed:
            return 0
    return 4


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
