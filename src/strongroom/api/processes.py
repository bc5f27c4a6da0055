"""Many API processes on one port (``strongroom serve --workers N``).

The supervisor binds the listening sockets once, then starts N API processes that each
serve on sockets they inherit; the kernel hands every new connection to one of them. The
HTTPS port has one socket per API process (SO_REUSEPORT: the kernel spreads connections
evenly over them; one socket shared by all would hand a burst of new connections to
whichever process woke first, and keep-alive clients would stay there); the redirect
listener is one socket they share. Step by step:

1. Each API process is a fresh interpreter (``strongroom serve`` run again with the
   sockets' file descriptors), never a fork: no database connection, PKCS#11 session or
   key cache of the supervisor is shared, and the supervisor opens none while it runs.
2. An API process says it is ready by writing its pid to a pipe of its own once it
   accepts connections. One that ends before it is ready, while the first N start, stops
   them all (:class:`~strongroom.api.server.ServerFailed`): a bad certificate or a
   database that refuses every process is not retried for ever.
3. Once all are ready, one that ends (killed, crashed) is logged and replaced at once;
   a replacement that fails too is tried again after a pause that doubles up to 30 s.
   The supervisor keeps each process's socket open meanwhile: connections the kernel
   hands to it wait in its queue for the replacement (about a second), none is refused.
4. SIGTERM and SIGINT: every API process gets SIGTERM and stops gracefully (open requests
   finish within the server's graceful-stop time); after SIGTERM the supervisor ends as a
   SIGTERM would, after SIGINT it returns. SIGHUP is passed on to every API process (each
   reloads the certificate).
5. The API processes run in a process group of their own, so a terminal's Ctrl-C reaches
   the supervisor only (which stops them in order); an API process whose supervisor has
   gone (SIGKILL) stops itself (api/server.py checks its parent every tick).
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import FrameType

from strongroom.api.server import GRACEFUL_SHUTDOWN_SECONDS, ServerFailed

logger = logging.getLogger("strongroom.server")

#: Seconds the first API processes have to become ready.
READY_TIMEOUT = 120.0
#: The longest pause before another try at replacing an API process that keeps failing.
MAX_RESTART_PAUSE = 30.0
_TICK = 0.1

#: Builds an API process's command line: (slot, ready pipe's fd) -> argv. Slot 0 is the
#: one that may run the lifecycle worker.
Command = Callable[[int, int], list[str]]


@dataclass
class _Process:
    slot: int
    popen: subprocess.Popen[bytes]
    ready_fd: int
    ready: bool = False
    said: bytes = b""


@dataclass
class _Slot:
    failures: int = 0
    start_after: float = 0.0


@dataclass
class ApiProcesses:
    """An API process per entry of ``sockets`` (the sockets that process serves);
    :meth:`run` until a signal."""

    command: Command
    sockets: Sequence[Sequence[socket.socket]]
    ready_timeout: float = READY_TIMEOUT
    _running: dict[int, _Process] = field(default_factory=dict)
    _slots: dict[int, _Slot] = field(default_factory=dict)
    _stop_signal: int | None = None

    def run(self, on_started: Callable[[list[int]], None] | None = None) -> None:
        """Start the API processes, call ``on_started`` with their pids once all are
        ready, keep them running until SIGTERM or SIGINT, then stop them."""
        previous = {
            sig: signal.signal(sig, self._on_signal)
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
        }
        try:
            for slot in range(len(self.sockets)):
                self._slots[slot] = _Slot()
                self._start(slot)
            self._wait_until_ready()
            if self._stop_signal is None and on_started is not None:
                on_started(self.pids())
            while self._stop_signal is None:
                self._tick()
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if self._stop_signal == signal.SIGTERM:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)

    def pids(self) -> list[int]:
        return [p.popen.pid for p in sorted(self._running.values(), key=lambda p: p.slot)]

    # signals ------------------------------------------------------------------------
    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if signum == signal.SIGHUP:
            for process in list(self._running.values()):
                _send(process.popen, signal.SIGHUP)
        elif self._stop_signal is None:
            self._stop_signal = signum

    # starting -----------------------------------------------------------------------
    def _start(self, slot: int) -> None:
        read_fd, write_fd = os.pipe()
        try:
            popen = subprocess.Popen(
                self.command(slot, write_fd),
                pass_fds=[write_fd, *(s.fileno() for s in self.sockets[slot])],
                process_group=0,
                stdin=subprocess.DEVNULL,
            )
        except BaseException:
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)
        os.set_blocking(read_fd, False)
        self._running[slot] = _Process(slot, popen, read_fd)

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + self.ready_timeout
        while self._stop_signal is None and not all(p.ready for p in self._running.values()):
            self._read_ready(_TICK)
            for process in self._running.values():
                if not process.ready and process.popen.poll() is not None:
                    raise ServerFailed(
                        f"an API process could not start ({_how(process.popen.returncode)}); "
                        "see its log above"
                    )
            if time.monotonic() > deadline:
                raise ServerFailed(
                    f"the API processes were not ready within {self.ready_timeout:.0f} s"
                )

    def _read_ready(self, timeout: float) -> None:
        waiting = {p.ready_fd: p for p in self._running.values() if not p.ready and p.ready_fd >= 0}
        if not waiting:
            time.sleep(timeout)
            return
        try:
            readable, _, _ = select.select(list(waiting), [], [], timeout)
        except InterruptedError:  # a signal: the caller looks at the flags
            return
        for fd in readable:
            process = waiting[fd]
            try:
                chunk = os.read(fd, 64)
            except BlockingIOError:
                continue
            process.said += chunk
            if b"\n" in process.said:
                process.ready = True
                os.close(fd)
                self._slots[process.slot].failures = 0
                logger.info("API process %d (slot %d) serving", process.popen.pid, process.slot)
            elif not chunk:  # the pipe closed without a word: it ended
                os.close(fd)
                process.ready_fd = -1

    # keeping them running -------------------------------------------------------------
    def _tick(self) -> None:
        self._read_ready(_TICK)
        now = time.monotonic()
        for slot, state in self._slots.items():
            process = self._running.get(slot)
            if process is not None:
                code = process.popen.poll()
                if code is None or self._stop_signal is not None:
                    continue
                self._forget(process)
                if process.ready:
                    logger.warning(
                        "API process %d (slot %d) ended (%s); starting another",
                        process.popen.pid,
                        slot,
                        _how(code),
                    )
                else:
                    state.failures += 1
                    pause = min(MAX_RESTART_PAUSE, 2.0 ** (state.failures - 1))
                    state.start_after = now + pause
                    logger.error(
                        "a new API process (slot %d) ended before serving (%s); "
                        "trying again in %.0f s",
                        slot,
                        _how(code),
                        pause,
                    )
            if slot not in self._running and now >= state.start_after:
                self._start(slot)

    def _forget(self, process: _Process) -> None:
        del self._running[process.slot]
        if not process.ready and process.ready_fd >= 0:
            os.close(process.ready_fd)

    # stopping -------------------------------------------------------------------------
    def _stop_all(self) -> None:
        processes = list(self._running.values())
        for process in processes:
            _send(process.popen, signal.SIGTERM)
        deadline = time.monotonic() + GRACEFUL_SHUTDOWN_SECONDS + 10
        for process in processes:
            try:
                process.popen.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                logger.error("API process %d did not stop: killing it", process.popen.pid)
                process.popen.kill()
                process.popen.wait()
            self._forget(process)


def _send(popen: subprocess.Popen[bytes], signum: int) -> None:
    if popen.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            popen.send_signal(signum)


def _how(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit status {returncode}"


def listening_socket(bound: socket.socket, backlog: int = 2048) -> socket.socket:
    """``bound``, listening: connections queue while an API process is replaced."""
    bound.listen(backlog)
    return bound
