"""A ``file put`` killed mid-stream leaves a ``.partial`` blob that no rename will claim: the
worker's pass and the server's start-up remove it once it is a day old, and never touch one
an upload is still writing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from strongroom import open_strongroom
from strongroom.clock import FixedClock
from tests.e2e.test_cli import STRONGROOM, ok_json, run
from tests.ports import free_port

TWO_DAYS = 2 * 24 * 3600


def _home(tmp_path: Path) -> tuple[Path, str, str]:
    home = tmp_path / "home"
    assert run("init", home=home).returncode == 0
    ws = ok_json("workspace", "create", "Acme", "--owner", "o@acme.example", home=home)["id"]
    project = ok_json("project", "create", ws, "Hiring", home=home)["id"]
    return home, ws, project


def partials(home: Path) -> list[Path]:
    return sorted((home / "blobs").glob("*/.*.partial"))


def killed_put(tmp_path: Path, home: Path, ws: str, project: str) -> Path:
    """Run a real `strongroom file put` of a large file and kill -9 it once its blob is
    being written; the ``.partial`` it leaves."""
    source = tmp_path / "big.bin"
    with open(source, "wb") as f:  # sparse: costs no disk, still 512 MiB to encrypt
        f.truncate(512 * 1024 * 1024)
    put = subprocess.Popen(
        [STRONGROOM, "file", "put", ws, project, str(source), "--home", str(home), "--json"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120  # generous: the machine is shared
    try:
        while put.poll() is None and time.monotonic() < deadline:
            found = [p for p in partials(home) if p.stat().st_size >= 1024 * 1024]
            if found:
                put.send_signal(signal.SIGKILL)
                put.wait()
                return found[0]
            time.sleep(0.005)  # polling for the event, not waiting for luck
        raise AssertionError(f"file put ended before a partial blob was seen: {put.returncode}")
    finally:
        if put.poll() is None:
            put.kill()
            put.wait()


def age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_the_worker_removes_a_killed_puts_partial_once_a_day_old(tmp_path: Path) -> None:
    home, ws, project = _home(tmp_path)
    left = killed_put(tmp_path, home, ws, project)
    assert left.exists()
    clock = FixedClock()
    with open_strongroom(home, clock=clock) as sr:
        sr.worker.run_once()
        assert partials(home) == [left]  # fresh: it could be an upload still going

        age(left, TWO_DAYS)
        fresh = left.with_name(".fil_fresh.1.partial")
        fresh.write_bytes(b"x")
        clock.advance(timedelta(hours=1))  # the worker sweeps hourly
        sr.worker.run_once()
        assert partials(home) == [fresh]
        age(fresh, 23 * 3600)  # under a day: kept
        clock.advance(timedelta(hours=1))
        sr.worker.run_once()
        assert partials(home) == [fresh]


def test_an_upload_in_progress_is_never_swept(tmp_path: Path) -> None:
    home, _ws, _project = _home(tmp_path)
    with open_strongroom(home, clock=FixedClock()) as sr:
        with sr.ctx.blobs.writer("fil_inprogress") as out:
            out.write(b"a" * 70000)
            sr.worker.run_once()  # a pass while the upload writes
            out.write(b"b" * 70000)
        with sr.ctx.blobs.open("fil_inprogress") as blob:
            assert blob.read() == b"a" * 70000 + b"b" * 70000
    assert partials(home) == []


@contextmanager
def serving(home: Path) -> Iterator[dict[str, object]]:
    """`strongroom serve --no-worker` in a process (so only its start-up can sweep)."""
    port = free_port()
    server = subprocess.Popen(
        [STRONGROOM, "serve", "--no-worker", "--home", str(home), "--port", str(port), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert server.stdout is not None
        yield json.loads(server.stdout.readline())
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
        assert server.stdout is not None and server.stderr is not None
        server.stdout.close()
        server.stderr.close()


def test_the_server_start_up_removes_a_killed_puts_partial(tmp_path: Path) -> None:
    home, ws, project = _home(tmp_path)
    left = killed_put(tmp_path, home, ws, project)
    age(left, TWO_DAYS)
    fresh = left.with_name(".fil_fresh.1.partial")
    fresh.write_bytes(b"x")
    with serving(home) as started:
        assert started["worker"] is False
        assert partials(home) == [fresh]
