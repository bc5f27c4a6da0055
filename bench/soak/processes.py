"""Strongroom's processes under the soak, kept running as systemd would keep them.

Each :class:`Service` is one command (``strongroom serve``, ``strongroom worker``) whose
stdout and stderr go to a log file; its first stdout line is the ``--json`` started line.
When it exits on its own (a SIGKILL from the fault injector, or a start that failed while
a dependency was down), it is started again a second later (``Restart=always``,
``RestartSec=1``) and the restart is counted.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RESTART_SECONDS = 1.0


@dataclass
class Service:
    name: str
    argv: list[str]
    env: dict[str, str]
    logs: Path
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    restarts: int = 0
    started_line: dict[str, Any] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _thread: threading.Thread | None = None

    @property
    def stdout(self) -> Path:
        return self.logs / f"{self.name}.{self.starts}.out"

    def _spawn(self) -> None:
        with self._lock:
            self.started_line = {}
            self.starts += 1
            with self.stdout.open("wb") as out, (self.logs / f"{self.name}.err").open("ab") as err:
                self.process = subprocess.Popen(
                    self.argv, stdout=out, stderr=err, env=self.env, start_new_session=True
                )

    def start(self) -> None:
        self._spawn()
        self._thread = threading.Thread(target=self._keep_running, name=self.name, daemon=True)
        self._thread.start()

    def _keep_running(self) -> None:
        while not self._stop.is_set():
            process = self.process
            assert process is not None
            if process.poll() is None:
                self._stop.wait(0.2)
                continue
            if self._stop.wait(RESTART_SECONDS):
                return
            self.restarts += 1
            self._spawn()

    def started(self, seconds: float = 60) -> dict[str, Any]:
        """The current process's started line, waiting for it (and through restarts)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.started_line:
                return self.started_line
            try:
                first = self.stdout.read_text().splitlines()
            except FileNotFoundError:
                first = []
            if first:
                try:
                    self.started_line = json.loads(first[0])
                    return self.started_line
                except json.JSONDecodeError:
                    pass  # half written
            time.sleep(0.05)
        raise TimeoutError(f"{self.name} did not start within {seconds:.0f} s: see {self.logs}")

    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def kill(self) -> int:
        """SIGKILL the current process (the service restarts it); its pid."""
        pid = self.pid()
        os.kill(pid, signal.SIGKILL)
        return pid

    def children(self) -> list[int]:
        """The current process's child pids (the API processes of ``serve --workers``)."""
        pid = self.pid()
        found: list[int] = []
        for task in Path(f"/proc/{pid}/task").glob("*"):
            try:
                found += [int(p) for p in (task / "children").read_text().split()]
            except (FileNotFoundError, ProcessLookupError):
                continue
        return found

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        process = self.process
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


def serve_supports_workers(strongroom: str) -> bool:
    """Whether this Strongroom's ``serve`` has ``--workers`` (several API processes)."""
    shown = subprocess.run(
        [strongroom, "serve", "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    return "--workers" in shown.stdout
