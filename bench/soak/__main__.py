"""``python -m bench.soak`` (``make soak``): Strongroom under load and faults; nothing
acknowledged may be lost. See docs/reliability.md.

Settings from the environment: ``SOAK_MINUTES`` (10), ``SOAK_CLIENTS`` (50), ``SOAK_SEED``
(random, printed: the same seed gives the same fault order and moments), ``SOAK_KEEP=1``
keeps the work folder, ``SOAK_OUT`` (bench/soak/results.json). Exit 0 only when no
acknowledged write was lost, no 5xx other than a proper 503/507 was answered, the audit
chain and the newest backup verify, and every fault was recovered from within the bound.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.soak import checks, report
from bench.soak.faults import Deployment, Injector, schedule
from bench.soak.ledger import Ledger, Tally
from bench.soak.load import Seat, Shared, run_clients
from bench.soak.processes import Service, serve_supports_workers

API_PROCESSES = 2
WORKERS = 2
WORKER_INTERVAL_SECONDS = 5
BLOB_MB = 2048
KEY_CACHE_TTL_SECONDS = 10
RESULTS = Path(__file__).parent / "results.json"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _strongroom() -> str:
    found = Path(sys.executable).parent / "strongroom"
    return str(found) if found.exists() else "strongroom"


def _mount_blob_store(folder: Path) -> bool:
    """A size-limited tmpfs for the blob store when root (its disk can be filled)."""
    folder.mkdir(parents=True)
    if os.geteuid() != 0:
        return False
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={BLOB_MB}m,mode=0700", "tmpfs", str(folder)],
        capture_output=True,
    )
    return done.returncode == 0


def _setup(home: Path, clients: int) -> tuple[list[Seat], Seat, dict[str, str]]:
    """Workspaces (one per ten clients, at most five), a project per client, owner tokens."""
    from strongroom import open_strongroom

    seats = []
    tokens: dict[str, str] = {}
    with open_strongroom(home) as sr:
        workspaces = []
        for n in range(max(1, min(5, clients // 10)) + 1):
            ws = sr.workspaces.create(f"Soak {n}", f"owner{n}@soak.example").id
            sr.records.declare_collection(ws, "contacts", ["email", "name"])
            tokens[ws] = sr.access.create_token(ws, "owner", 2).token
            workspaces.append(ws)
        probe_ws = workspaces.pop()
        probe = Seat(probe_ws, sr.projects.create(probe_ws, "Probe").id, tokens[probe_ws])
        for n in range(clients):
            ws = workspaces[n % len(workspaces)]
            seats.append(Seat(ws, sr.projects.create(ws, f"Client {n}").id, tokens[ws]))
    return seats, probe, tokens


def _backups(
    strongroom: str, env: dict[str, str], home: Path, every: float, stop: threading.Event
) -> list[dict[str, Any]]:
    """``strongroom backup create`` every ``every`` seconds, as a cron job would."""
    runs: list[dict[str, Any]] = []

    def loop() -> None:
        while not stop.wait(every):
            began = time.monotonic()
            code, out = checks.cli_json(strongroom, env, "backup", "create", "--home", str(home))
            runs.append(
                {
                    "exit": code,
                    "seconds": round(time.monotonic() - began, 1),
                    "id": out.get("id") if isinstance(out, dict) else None,
                    "error": None if code == 0 else str(out)[-300:],
                }
            )

    threading.Thread(target=loop, name="backups", daemon=True).start()
    return runs


def main() -> int:
    minutes = float(os.environ.get("SOAK_MINUTES", "10"))
    clients = int(os.environ.get("SOAK_CLIENTS", "50"))
    seed = int(os.environ.get("SOAK_SEED") or random.randrange(1 << 31))
    out = Path(os.environ.get("SOAK_OUT", RESULTS))
    seconds = minutes * 60
    began = time.monotonic()

    def say(what: str) -> None:
        print(f"soak [{time.monotonic() - began:5.1f} s]: {what}", flush=True)

    say(f"{clients} clients, {minutes:g} min, seed {seed}")

    from tests.postgres_server_support import OwnPostgres
    from tests.transit_support import persistent_bao

    work = Path(tempfile.mkdtemp(prefix="strongroom-soak-"))
    work.chmod(0o755)
    strongroom = _strongroom()
    services: list[Service] = []
    blob_dir = work / "blobs"
    mounted = False
    postgres = None
    try:
        postgres = OwnPostgres()  # a server of its own: the fault restarts it
        postgres.start()
        data = postgres.create_database("strongroom_data")
        keys = postgres.create_database("strongroom_keys")
        mounted = _mount_blob_store(blob_dir)
        say(f"PostgreSQL on port {postgres.port}")
        with persistent_bao(work / "bao") as bao:
            say(f"OpenBao at {bao.url}")
            os.environ["VAULT_TOKEN"] = bao.root_token
            env = {**os.environ, "VAULT_TOKEN": bao.root_token}
            home = work / "home"
            from strongroom import init_home

            init_home(
                home,
                kms="transit",
                transit_url=bao.url,
                transit_key="strongroom-soak",
                database_url=data,
                keystore_url=keys,
                blob_dir=str(blob_dir),
                # shorter than the KMS outage, so the API needs the KMS during it (the
                # default, 300 s, would hide a 30 s outage behind the key cache)
                key_cache_ttl_seconds=KEY_CACHE_TTL_SECONDS,
            )
            say(f"home {home} made")
            seats, probe, tokens = _setup(home, clients)
            logs = work / "logs"
            logs.mkdir()
            port = free_port()
            several = serve_supports_workers(strongroom)
            serve_argv = [strongroom, "serve", "--port", str(port), "--no-worker", "--json"]
            serve_argv += ["--workers", str(API_PROCESSES)] if several else []
            api = Service("api", [*serve_argv, "--home", str(home)], env, logs)
            worker_argv = [strongroom, "worker", "--interval", str(WORKER_INTERVAL_SECONDS)]
            worker_argv += ["--json", "--home", str(home)]
            workers = [Service(f"worker{n}", worker_argv, env, logs) for n in range(WORKERS)]
            services = [api, *workers]
            for service in services:
                service.start()
            started = api.started()
            for worker in workers:
                worker.started()
            url = f"https://127.0.0.1:{port}"
            ca = str(home / "tls" / "ca.pem")
            say(f"serving {url} (API processes {started.get('processes') or [api.pid()]})")

            ledger = Ledger()
            tally = Tally()
            stop_backups = threading.Event()
            backups = _backups(strongroom, env, home, max(10.0, seconds / 5), stop_backups)
            plan = schedule(seed, seconds)
            deployment = Deployment(api, workers, postgres, bao, blob_dir, url, ca, probe, ledger)
            injector = Injector(deployment, seed, tally.started)
            stop_faults = threading.Event()
            if not mounted:
                plan = [(t, f) for t, f in plan if f != "disk_full"]
            faults = threading.Thread(
                target=injector.run, args=(plan, stop_faults), name="faults", daemon=True
            )
            faults.start()

            async def until_done() -> None:
                while time.monotonic() - tally.started < seconds or faults.is_alive():
                    await asyncio.sleep(0.5)

            async def load() -> None:
                shared = Shared(ledger, tally, asyncio.Event(), asyncio.Lock())
                await run_clients(url, ca, seats, shared, seed, until_done)

            asyncio.run(load())
            load_seconds = time.monotonic() - tally.started
            stop_backups.set()
            time.sleep(WORKER_INTERVAL_SECONDS)  # purges asked for at the end: one more pass
            say("load over; checking every acknowledged write")

            projects = [(s.workspace, s.project) for s in [*seats, probe]]
            verdict = checks.run_checks(url, ca, tokens, ledger, projects)
            audit = checks.cli_json(strongroom, env, "audit", "verify", "--home", str(home))
            if not any(b["exit"] == 0 for b in backups):  # every one fell into a fault
                code, answer = checks.cli_json(
                    strongroom, env, "backup", "create", "--home", str(home)
                )
                backups.append({"exit": code, "after_load": True, "id": answer.get("id")})
            newest = next((b["id"] for b in reversed(backups) if b["exit"] == 0), None)
            backup_check = (
                checks.cli_json(strongroom, env, "backup", "verify", newest, "--home", str(home))
                if newest
                else (1, "no backup succeeded")
            )
            results = report.build(
                seed=seed,
                clients=clients,
                minutes=minutes,
                load_seconds=load_seconds,
                api_processes=started.get("processes") or [api.pid()],
                several=several,
                tally=tally,
                ledger=ledger,
                verdict=verdict,
                faults=[r.as_json() for r in injector.reports],
                skipped_faults=[] if mounted else ["disk_full (not root: no tmpfs)"],
                restarts={s.name: s.restarts for s in services},
                backups=backups,
                audit=audit,
                backup_verify=backup_check,
                partial_blobs=checks.partial_blobs(blob_dir),
                finished=datetime.now(UTC),
            )
    finally:
        for service in services:
            service.stop()
        if postgres is not None:
            postgres.close()
        if mounted:
            subprocess.run(["umount", "-l", str(blob_dir)], check=False)
        if os.environ.get("SOAK_KEEP") != "1":
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"soak: kept {work}")
    out.write_text(json.dumps(results, indent=2) + "\n")
    report.print_table(results)
    print(f"soak: results in {out}")
    return 0 if results["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
