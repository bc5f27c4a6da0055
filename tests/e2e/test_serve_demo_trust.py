"""`strongroom serve --demo` in a real process, as `make serve` runs it: after the first
pass of its worker (a backup, a restore drill, every check, probing the server itself)
every promise on /trust.json holds, with no step by hand."""

from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
import threading
import time
from pathlib import Path

import httpx

from tests.e2e.test_cli import STRONGROOM
from tests.e2e.trust_support import free_port


def test_the_demo_keeps_every_promise_after_the_first_pass(tmp_path: Path) -> None:
    home, port = tmp_path / "home", free_port()
    proc = subprocess.Popen(
        [STRONGROOM, "serve", "--demo", "--home", str(home), "--port", str(port), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "STRONGROOM_PUBLIC_URL": f"https://127.0.0.1:{port}"},
    )
    watchdog = threading.Timer(120, proc.kill)  # a hung server fails the test, never CI
    watchdog.start()
    try:
        assert proc.stdout is not None
        started = json.loads(proc.stdout.readline() or b'{"url": "(exited)"}')
        assert started["url"] == f"https://127.0.0.1:{port}"
        verify = ssl.create_default_context(cafile=home / "tls" / "ca.pem")
        deadline, report = time.monotonic() + 60, {}
        with httpx.Client(base_url=started["url"], verify=verify) as client:
            while time.monotonic() < deadline:
                report = client.get("/trust.json").json()
                if report["counts"]["stale"] == 0:  # the first pass has checked them all
                    break
                time.sleep(0.2)
        every = len(report["promises"])
        assert report["counts"] == {"holding": every, "failing": 0, "stale": 0}, report
        assert {"subprocessors", "dpa", "response-time"} <= {p["id"] for p in report["promises"]}
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
