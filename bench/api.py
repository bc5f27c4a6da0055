"""api_read_ratio, api_read_p50_ms, api_read_p99_ms and api_write_ratio: Strongroom's HTTPS
API under load from wrk, against a minimal app served by the same runner.

Both servers run in their own processes (``python -m bench.api_server``, see there for
what each side does), through :class:`strongroom.api.server.HttpsService` with the same
certificate, TLS settings and security headers. The Strongroom side serves a fresh home
(init_home) holding one workspace, one project and a few thousand ~1 KiB records; the
plain side serves a SQLite file whose ``plain_records`` table holds, for each of those
record ids, the exact response body Strongroom answers with (checked byte for byte,
headers included, before anything is measured).

Load: ``wrk -t1 -c4 --latency`` over HTTPS with keep-alive (wrk does not verify the
certificate), the same ``Authorization: Bearer`` header and the same Lua script on both
sides. Reads pick a random record id per request (the same seeded sequence on both
sides); writes POST one fixed ~1 KiB document. Each side runs once untimed to warm up,
then several times alternating which side goes first; requests per second, p50 and p99
are the medians over those runs.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import select
import shutil
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from bench.api_server import PLAIN_SCHEMA, connect_plain
from bench.records import COLLECTION, contacts
from bench.runner import BENCH_DIR, Config, Result, Target, alternate, median, work_dir
from strongroom.api.schemas import RecordOut
from strongroom.bootstrap import init_home, open_strongroom

READ_NAMES = frozenset({"api_read_ratio", "api_read_p50_ms", "api_read_p99_ms"})
WRITE_NAMES = frozenset({"api_write_ratio"})
THREADS = 1
CONNECTIONS = 4
BATCH = 500
STARTUP_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0
CHECKED_READS = 5


@dataclass(frozen=True)
class Plan:
    records: int
    reps: int
    seconds: int
    warmup_seconds: int

    @classmethod
    def make(cls, config: Config) -> Plan:
        if config.quick:
            return cls(records=1_000, reps=1, seconds=2, warmup_seconds=1)
        return cls(records=5_000, reps=3, seconds=5, warmup_seconds=2)


# wrk ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WrkRun:
    rate: float  # requests/s
    p50_ms: float
    p99_ms: float
    requests: int
    socket_errors: int


_UNITS_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}
_DURATION = r"([\d.]+)(us|ms|s|m|h)"


def parse_wrk(output: str) -> WrkRun:
    """Requests/s, the 50% and 99% lines of "Latency Distribution", and the error counts;
    raises if any response was not 2xx/3xx (a benchmark of error pages means nothing)."""

    def find(pattern: str) -> re.Match[str]:
        match = re.search(pattern, output, re.MULTILINE)
        if match is None:
            raise RuntimeError(f"unexpected wrk output (no {pattern!r}):\n{output}")
        return match

    def percentile(p: int) -> float:
        match = find(rf"^\s*{p}%\s+{_DURATION}\s*$")
        return float(match.group(1)) * _UNITS_MS[match.group(2)]

    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    if bad is not None and int(bad.group(1)):
        raise RuntimeError(f"wrk got {bad.group(1)} error responses:\n{output}")
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return WrkRun(
        rate=float(find(r"^Requests/sec:\s+([\d.]+)").group(1)),
        p50_ms=percentile(50),
        p99_ms=percentile(99),
        requests=int(find(r"^\s*(\d+) requests in").group(1)),
        socket_errors=sum(int(n) for n in errors.groups()) if errors else 0,
    )


def run_wrk(
    url: str, script: Path, token: str, seconds: int, connections: int = CONNECTIONS
) -> WrkRun:
    command = [
        "wrk",
        f"-t{THREADS}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(script),
        "-H",
        f"Authorization: Bearer {token}",
        url,
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    return parse_wrk(done.stdout)


def _lua_string(text: str) -> str:
    """A Lua long string holding ``text`` exactly."""
    level = 0
    while f"]{'=' * level}]" in text:
        level += 1
    eq = "=" * level
    return f"[{eq}[{text}]{eq}]"


def read_script(path: Path, prefix: str, record_ids: list[str]) -> Path:
    ids_table = ",\n".join(json.dumps(i) for i in record_ids)
    path.write_text(
        "-- api_read_ratio: GET one random record per request (bench/api.py)\n"
        f"local ids = {{\n{ids_table}\n}}\n"
        f"local prefix = {_lua_string(prefix)}\n"
        "math.randomseed(2026)\n"
        "request = function()\n"
        '  return wrk.format("GET", prefix .. ids[math.random(#ids)])\n'
        "end\n",
        "utf-8",
    )
    return path


def write_script(path: Path, body: bytes) -> Path:
    path.write_text(
        "-- api_write_ratio: POST one ~1 KiB JSON document per request (bench/api.py)\n"
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f"wrk.body = {_lua_string(body.decode())}\n",
        "utf-8",
    )
    return path


# the server processes ------------------------------------------------------------------------
@contextmanager
def server_process(args: list[str], log: Path) -> Iterator[str]:
    """``python -m bench.api_server ARGS`` in its own process; yields its URL. The process
    is stopped (SIGINT, then SIGKILL) whatever happens."""
    with open(log, "wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bench.api_server", *args],
            cwd=BENCH_DIR.parent,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )
        try:
            assert proc.stdout is not None
            yield _await_url(proc, proc.stdout, log)
        finally:
            _stop(proc)


def _await_url(proc: subprocess.Popen[str], stdout: IO[str], log: Path) -> str:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        ready, _, _ = select.select([stdout], [], [], 0.2)
        if ready:
            line = stdout.readline().strip()
            if line.startswith("https://"):
                return line
        if proc.poll() is not None:
            break
    tail = log.read_text("utf-8", errors="replace")[-2000:]
    raise RuntimeError(f"the API server {proc.args!r} did not start:\n{tail}")


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)  # graceful: run_server returns, the home is closed
        try:
            proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()


# setup -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Setup:
    home: Path
    plain_db: Path
    cert: Path
    key: Path
    ca: Path
    token: str
    workspace_id: str
    project_id: str
    record_ids: list[str]
    body_bytes: int

    @property
    def records_path(self) -> str:
        return f"/v1/workspaces/{self.workspace_id}/projects/{self.project_id}/records"


def prepare(folder: Path, n: int) -> Setup:
    """A Strongroom home with ``n`` records and the plain table of their response bodies."""
    home = folder / "home"
    init_home(home)
    bodies: list[tuple[str, bytes]] = []
    with open_strongroom(home) as sr:
        ws = sr.workspaces.create("Bench API", "owner@example.com")
        prj = sr.projects.create(ws.id, "Referrals")
        documents = contacts(n)
        record_ids: list[str] = []
        for start in range(0, n, BATCH):
            record_ids += sr.records.put_many(
                ws.id, prj.id, COLLECTION, documents[start : start + BATCH]
            )
        for record_id in record_ids:
            r = sr.records.get(ws.id, prj.id, record_id)
            out = RecordOut(
                id=r.id,
                collection=r.collection,
                document=r.document,
                created_at=r.created_at,
                updated_at=r.updated_at,
            )
            bodies.append((record_id, out.model_dump_json().encode()))
        token = sr.access.create_token(ws.id, "owner", actor="bench").token
        cert, key = Path(sr.settings.tls_cert), Path(sr.settings.tls_key)
    plain_db = folder / "plain.db"
    conn = connect_plain(plain_db)
    try:
        for statement in PLAIN_SCHEMA:
            conn.execute(statement)
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO plain_records (id, body) VALUES (?, ?)", bodies)
        conn.execute("COMMIT")
    finally:
        conn.close()
    sizes = sorted(len(b) for _, b in bodies)
    return Setup(
        home,
        plain_db,
        cert,
        key,
        cert.parent / "ca.pem",
        token,
        ws.id,
        prj.id,
        record_ids,
        sizes[len(sizes) // 2],
    )


def _fetch(
    url: str, ca: Path, method: str, path: str, token: str, body: bytes | None = None
) -> tuple[int, dict[str, str], bytes]:
    host = url.removeprefix("https://")
    conn = http.client.HTTPSConnection(host, context=ssl.create_default_context(cafile=ca))
    try:
        headers = {"Authorization": f"Bearer {token}"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def check_same(setup: Setup, sr_url: str, plain_url: str, post_body: bytes) -> None:
    """Both servers must answer alike: the same status, header names and (for reads) the
    same body bytes; a verified TLS handshake (the CA of the home) on both."""
    for record_id in setup.record_ids[:CHECKED_READS]:
        path = f"{setup.records_path}/{record_id}"
        a = _fetch(sr_url, setup.ca, "GET", path, setup.token)
        b = _fetch(plain_url, setup.ca, "GET", path, setup.token)
        if a[0] != 200 or b[0] != 200 or a[2] != b[2]:
            raise AssertionError(f"GET {path}: {a[0]} vs {b[0]}, bodies differ: {a[2] != b[2]}")
        _same_headers("GET", a[1], b[1])
    a = _fetch(sr_url, setup.ca, "POST", setup.records_path, setup.token, post_body)
    b = _fetch(plain_url, setup.ca, "POST", setup.records_path, setup.token, post_body)
    if a[0] != 201 or b[0] != 201:
        raise AssertionError(f"POST: {a[0]} {a[2][:300]!r} vs {b[0]} {b[2][:300]!r}")
    _same_headers("POST", a[1], b[1])
    ja, jb = json.loads(a[2]), json.loads(b[2])
    if ja.keys() != jb.keys() or ja["document"] != jb["document"]:
        raise AssertionError("POST: the two servers answered with different documents")


def _same_headers(method: str, a: dict[str, str], b: dict[str, str]) -> None:
    varying = {"date", "content-length"}
    fixed_a = {k: v for k, v in a.items() if k not in varying}
    fixed_b = {k: v for k, v in b.items() if k not in varying}
    if fixed_a != fixed_b or a.keys() != b.keys():
        raise AssertionError(f"{method}: response headers differ: {a} vs {b}")


# measuring -----------------------------------------------------------------------------------
@dataclass
class Side:
    name: str
    url: str
    runs: list[WrkRun]


def measure(sides: tuple[Side, Side], path: str, script: Path, token: str, plan: Plan) -> None:
    """One untimed warm-up run per side, then ``plan.reps`` rounds alternating the order."""
    for side in sides:
        run_wrk(side.url + path, script, token, plan.warmup_seconds)
    for rep in range(plan.reps):
        for side in sides if alternate(rep) else sides[::-1]:
            side.runs.append(run_wrk(side.url + path, script, token, plan.seconds))


def _rate(side: Side) -> float:
    return median(r.rate for r in side.runs)


def _p50(side: Side) -> float:
    return median(r.p50_ms for r in side.runs)


def _p99(side: Side) -> float:
    return median(r.p99_ms for r in side.runs)


def _latencies(sr: Side, plain: Side) -> str:
    return (
        f"Latency (wrk --latency, median over runs) p50/p99: Strongroom "
        f"{_p50(sr):.2f}/{_p99(sr):.2f} ms, plain {_p50(plain):.2f}/{_p99(plain):.2f} ms."
    )


def _runs(side: Side) -> str:
    rates = ", ".join(f"{r.rate:,.0f}" for r in side.runs)
    errors = sum(r.socket_errors for r in side.runs)
    return f"{side.name} runs {rates} req/s" + (f" ({errors} socket errors)" if errors else "")


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


COMMON_NOTES = (
    "Both servers: python -m bench.api_server in their own processes, "
    "strongroom.api.server.HttpsService (uvicorn h11, the home's TLS context and "
    "certificate, SecurityHeaders), identical response header names. "
    f"Load: wrk -t{THREADS} -c{CONNECTIONS} --latency, HTTPS keep-alive (no certificate "
    "verification), the same Authorization: Bearer header and Lua script on both sides. "
)
READ_NOTES = (
    "Strongroom: GET /v1/workspaces/{ws}/projects/{p}/records/{id} with an owner token "
    "(token lookup, role check, one select of the live record joining its live project, "
    "HKDF + AES-GCM open, json.loads, RecordOut JSON). Baseline: a Starlette app, sync "
    "endpoint (anyio thread pool, as FastAPI's sync routes), no auth, one sqlite3 "
    "SELECT body FROM plain_records WHERE id = ? (per-thread connection, Strongroom's "
    "pragmas) returning the stored bytes, byte-identical to Strongroom's body (checked). "
    "A random id per request among all records (Lua math.random, the same seed on both "
    "sides). "
)
WRITE_NOTES = (
    "Strongroom: POST .../records {collection, document} (body limit, RecordIn "
    "validation, token + role check, put: write transaction with project check, AES-GCM "
    "seal, insert, audit event, commit with fsync (WAL, synchronous=FULL), then the "
    "route's get of the new record and RecordOut JSON). Baseline: a Starlette app, no "
    "auth: await the body, json.loads, in the thread pool one autocommit INSERT of the "
    "document as JSON text into plain_documents (WAL, synchronous=FULL: an fsync per "
    "commit), 201 with the same fields as json.dumps. The same fixed "
    "document on every request. "
)


def _detail(plan: Plan, sr: Side, plain: Side, before: str) -> str:
    return (
        f"Median of {plan.reps} interleaved runs of {plan.seconds} s per side after a "
        f"{plan.warmup_seconds} s warm-up each; {_runs(sr)}; {_runs(plain)}. "
        f"Load average before/after: {before} / {_load()}."
    )


# entry point ---------------------------------------------------------------------------------
def run(config: Config, wanted: frozenset[str]) -> list[Result]:
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is missing: apt-get install wrk (make bench installs it)")
    plan = Plan.make(config)
    common = COMMON_NOTES
    read, write = bool(wanted & READ_NAMES), bool(wanted & WRITE_NAMES)
    post_document = contacts(1, seed=7)[0]
    post_body = json.dumps(
        {"collection": COLLECTION, "document": post_document},
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
    results: list[Result] = []
    with work_dir(config.work, "api-") as folder:
        setup = prepare(folder, plan.records)
        with (
            server_process(["strongroom", str(setup.home)], folder / "strongroom.log") as sr_url,
            server_process(
                ["plain", str(setup.plain_db), str(setup.cert), str(setup.key)],
                folder / "plain.log",
            ) as plain_url,
        ):
            check_same(setup, sr_url, plain_url, post_body)
            if read:
                before = _load()
                sr, plain = Side("Strongroom", sr_url, []), Side("plain", plain_url, [])
                script = read_script(
                    folder / "read.lua", setup.records_path + "/", setup.record_ids
                )
                measure((sr, plain), setup.records_path, script, setup.token, plan)
                notes = common + READ_NOTES + _latencies(sr, plain) + " "
                notes += f"{setup.body_bytes} B response bodies, {len(setup.record_ids):,} "
                notes += "records. " + _detail(plan, sr, plain, before)
                results.append(
                    Result(
                        "api_read_ratio",
                        _rate(sr),
                        _rate(plain),
                        "requests/s",
                        Target("ratio", ">=", 0.60),
                        notes,
                    )
                )
                see = "Strongroom (value) and the plain app (baseline); see api_read_ratio."
                results.append(
                    Result("api_read_p50_ms", _p50(sr), _p50(plain), "ms", None, "p50 of " + see)
                )
                results.append(
                    Result("api_read_p99_ms", _p99(sr), _p99(plain), "ms", None, "p99 of " + see)
                )
            if write:
                before = _load()
                sr, plain = Side("Strongroom", sr_url, []), Side("plain", plain_url, [])
                script = write_script(folder / "write.lua", post_body)
                measure((sr, plain), setup.records_path, script, setup.token, plan)
                notes = common + WRITE_NOTES + f"{len(post_body)} B request bodies. "
                notes += _latencies(sr, plain) + " " + _detail(plan, sr, plain, before)
                results.append(
                    Result("api_write_ratio", _rate(sr), _rate(plain), "requests/s", None, notes)
                )
    return results
