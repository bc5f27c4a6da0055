"""`strongroom serve --workers N` and `strongroom worker` as real processes, for the
many-nodes and outage tests (and the soak): start, the started line's pids, stop.

Which API process serves a connection is read from the kernel, not from anything the
server says: :func:`serving_pid` finds the server's end of a client's TCP connection in
/proc/net/tcp (its inode) and the process holding that socket in /proc/PID/fd.
"""

from __future__ import annotations

import json
import os
import select
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.ports import free_port

STRONGROOM = str(Path(sys.executable).parent / "strongroom")


def _first_line(process: subprocess.Popen[str], within: float) -> str:
    """The process's first stdout line, waiting at most ``within`` seconds."""
    assert process.stdout is not None
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.2)
        if ready:
            return process.stdout.readline()
        if process.poll() is not None:
            break
    raise AssertionError(f"{process.args!r} did not start (exit {process.poll()})")


@dataclass
class Serving:
    """A running `strongroom serve`; ``started`` is its --json started line."""

    process: subprocess.Popen[str]
    started: dict[str, object]
    stderr: Path

    @property
    def url(self) -> str:
        return str(self.started["url"])

    @property
    def ca(self) -> Path:
        return Path(str(self.started["ca"]))

    @property
    def processes(self) -> list[int]:
        return [int(p) for p in self.started["processes"]]  # type: ignore[attr-defined]

    def api_pids(self) -> list[int]:
        """The API processes alive now (children of the supervisor)."""
        return children_of(self.process.pid)

    def client(self, token: str | None = None, timeout: float = 15.0) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(
            base_url=self.url,
            verify=ssl.create_default_context(cafile=self.ca),
            headers=headers,
            timeout=timeout,
        )

    def log(self) -> str:
        return self.stderr.read_text(errors="replace")

    def stop(self, within: float = 60.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(within)
        finally:
            _close(self.process)


def serve(
    home: Path, *, workers: int, extra: Sequence[str] = (), env: Mapping[str, str] | None = None
) -> Serving:
    """`strongroom serve --workers N --json` on a free port; returns once it serves."""
    stderr = home.parent / f"serve-{time.monotonic_ns()}.log"
    command = [STRONGROOM, "serve", "--home", str(home), "--port", str(free_port())]
    command += ["--workers", str(workers), "--json", *extra]
    with stderr.open("w") as log:  # the child has its own copy
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            env={**os.environ, **(env or {})},
        )
    try:
        started = json.loads(_first_line(process, 120))
    except BaseException:
        process.kill()
        process.wait()
        _close(process)
        raise AssertionError(stderr.read_text()[-3000:]) from None
    return Serving(process, started, stderr)


def _close(process: subprocess.Popen[str]) -> None:
    if process.stdout is not None:
        process.stdout.close()


@dataclass
class Workers:
    """Some `strongroom worker` processes on one home."""

    processes: list[subprocess.Popen[str]] = field(default_factory=list)

    def stop(self, within: float = 60.0) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in self.processes:
            process.wait(within)
            _close(process)


def start_workers(
    home: Path,
    count: int,
    *,
    interval: int = 1,
    prefix: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> Workers:
    """``count`` `strongroom worker --json` processes (``prefix``: e.g. faketime's command
    line); returns once each has said it runs."""
    workers = Workers()
    for n in range(count):
        log = home.parent / f"worker-{n}-{time.monotonic_ns()}.log"
        command = [*prefix, STRONGROOM, "worker", "--home", str(home)]
        command += ["--interval", str(interval), "--json"]
        with log.open("w") as err:
            workers.processes.append(
                subprocess.Popen(
                    command,
                    stdout=subprocess.PIPE,
                    stderr=err,
                    text=True,
                    env={**os.environ, **(env or {})},
                )
            )
    for process in workers.processes:
        json.loads(_first_line(process, 120))
    return workers


def children_of(pid: int) -> list[int]:
    """The pids whose parent is ``pid`` (from /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so split after its ")".
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry))
    return sorted(found)


def serving_pid(client_port: int, server_port: int, candidates: Sequence[int]) -> int | None:
    """Which of ``candidates`` holds the server's end of the TCP connection from local
    port ``client_port`` to ``server_port`` on 127.0.0.1."""
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        parts = line.split()
        local, remote = parts[1], parts[2]
        if int(local.split(":")[1], 16) == server_port and int(remote.split(":")[1], 16) == (
            client_port
        ):
            inode = parts[9]
    if inode is None:
        return None
    target = f"socket:[{inode}]"
    for pid in candidates:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == target:
                    return pid
            except OSError:
                continue
    return None


class PinnedConnection:
    """One kept-alive HTTPS connection (http.client) and the API process serving it."""

    def __init__(self, serving: Serving, token: str) -> None:
        import http.client
        from urllib.parse import urlsplit

        parts = urlsplit(serving.url)
        assert parts.hostname is not None and parts.port is not None
        self.server_port = parts.port
        context = ssl.create_default_context(cafile=serving.ca)
        self.conn = http.client.HTTPSConnection(
            parts.hostname, parts.port, context=context, timeout=15
        )
        self.conn.connect()
        assert self.conn.sock is not None
        self.client_port = int(self.conn.sock.getsockname()[1])
        self.token = token
        self.pid = self._find_pid(serving)

    def _find_pid(self, serving: Serving) -> int | None:
        self.get("/health")  # the server has accepted it once this answers
        return serving_pid(self.client_port, self.server_port, serving.api_pids())

    def get(self, path: str) -> tuple[int, bytes]:
        self.conn.request("GET", path, headers={"Authorization": f"Bearer {self.token}"})
        response = self.conn.getresponse()
        return response.status, response.read()

    def close(self) -> None:
        self.conn.close()


def connections_to_each(
    serving: Serving, token: str, tries: int = 100
) -> dict[int, PinnedConnection]:
    """A kept-alive connection served by each API process: new connections (each from
    another client port, which the kernel hashes over the processes' sockets) until one
    has reached each; the others are closed."""
    pids = set(serving.api_pids())
    found: dict[int, PinnedConnection] = {}
    for _ in range(tries):
        pinned = PinnedConnection(serving, token)
        if pinned.pid is not None and pinned.pid not in found:
            found[pinned.pid] = pinned
        else:
            pinned.close()
        if set(found) >= pids:
            return found
    for connection in found.values():
        connection.close()
    raise AssertionError(f"no connection reached each API process {sorted(pids)}: {sorted(found)}")
