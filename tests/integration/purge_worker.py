"""A lifecycle worker in a process of its own, for the crash tests (test_purge_crash.py):

    python -m tests.integration.purge_worker HOME NOW
        [--die-in STEP[@N] | --die-after-blobs N | --die-at N]

It opens HOME with a clock fixed at NOW (ISO 8601), prints ``claimed DEADLINE_ID STEP``
(flushed) for every deadline it claims, runs one pass (``sr.worker.run_once()``) and
prints the pass report as JSON on its last line.

``--die-in STEP@N`` makes the process SIGKILL itself at the N-th (default 1st) time the
purge records its progress while in STEP, after that step's work and before its
transaction commits: the worst instant of the step. ``--die-after-blobs N`` kills it
after N blobs were deleted, before their rows are. ``--die-at N`` kills it at the N-th
progress event of any kind: a step saved or finished (before its commit), a blob deleted,
a key destroyed (each just after it happened); the test draws N at random, so the kills
land anywhere in the purge, yet each one at a known point, never at a wall-clock instant.
All act on this process only (they wrap the purge from outside).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from datetime import datetime
from typing import Any

from strongroom.blobs.folder import FolderBlobStore
from strongroom.bootstrap import open_strongroom
from strongroom.clock import FixedClock
from strongroom.crypto.keyring import Keyring
from strongroom.lifecycle.purge import Step
from strongroom.storage.rows import DeadlineRow


def _die() -> None:
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def _die_in(step_name: str, nth: int) -> None:
    """SIGKILL at the ``nth`` save (or finish) made while the purge is in ``step_name``."""
    calls = 0
    save, finish = Step.save, Step.finish

    def counted(step: Step) -> None:
        nonlocal calls
        if step.name == step_name:
            calls += 1
            if calls == nth:
                _die()

    def dying_save(self: Step, uow: Any, name: str) -> None:
        counted(self)
        save(self, uow, name)

    def dying_finish(self: Step, uow: Any, now: datetime, state: str = "done") -> None:
        counted(self)
        finish(self, uow, now, state)

    Step.save = dying_save  # type: ignore[method-assign]
    Step.finish = dying_finish  # type: ignore[method-assign]


def _die_after_blobs(n: int) -> None:
    deleted = 0
    delete = FolderBlobStore.delete

    def dying_delete(self: FolderBlobStore, key: str) -> None:
        nonlocal deleted
        delete(self, key)
        deleted += 1
        if deleted == n:
            _die()

    FolderBlobStore.delete = dying_delete  # type: ignore[method-assign]


def _die_at(n: int) -> None:
    """SIGKILL at the ``n``-th progress event of the purge, whatever its kind."""
    events = 0

    def event() -> None:
        nonlocal events
        events += 1
        if events == n:
            _die()

    save, finish, delete = Step.save, Step.finish, FolderBlobStore.delete
    destroy_data_key, destroy_workspace_keys = (
        Keyring.destroy_data_key,
        Keyring.destroy_workspace_keys,
    )

    def counted_save(self: Step, uow: Any, name: str) -> None:
        event()
        save(self, uow, name)

    def counted_finish(self: Step, uow: Any, now: datetime, state: str = "done") -> None:
        event()
        finish(self, uow, now, state)

    def counted_delete(self: FolderBlobStore, key: str) -> None:
        delete(self, key)
        event()

    def counted_destroy_data_key(self: Keyring, *args: Any, **kwargs: Any) -> None:
        destroy_data_key(self, *args, **kwargs)
        event()

    def counted_destroy_workspace_keys(self: Keyring, *args: Any, **kwargs: Any) -> None:
        destroy_workspace_keys(self, *args, **kwargs)
        event()

    Step.save = counted_save  # type: ignore[method-assign]
    Step.finish = counted_finish  # type: ignore[method-assign]
    FolderBlobStore.delete = counted_delete  # type: ignore[method-assign]
    Keyring.destroy_data_key = counted_destroy_data_key  # type: ignore[method-assign]
    Keyring.destroy_workspace_keys = counted_destroy_workspace_keys  # type: ignore[method-assign]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("home")
    parser.add_argument("now", type=datetime.fromisoformat)
    parser.add_argument("--die-in", default=None)
    parser.add_argument("--die-after-blobs", type=int, default=None)
    parser.add_argument("--die-at", type=int, default=None)
    args = parser.parse_args(argv)
    if args.die_in:
        name, _, nth = args.die_in.partition("@")
        _die_in(name, int(nth or 1))
    if args.die_after_blobs:
        _die_after_blobs(args.die_after_blobs)
    if args.die_at:
        _die_at(args.die_at)

    def claimed(deadline: DeadlineRow) -> None:
        print("claimed", deadline.id, deadline.step, flush=True)

    with open_strongroom(args.home, clock=FixedClock(args.now)) as sr:
        report = sr.worker.run_once(on_claimed=claimed)
    print(json.dumps(report.as_json()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
