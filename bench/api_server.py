"""The HTTPS servers of api_read_ratio and api_write_ratio, each in its own process (so
the benchmark process's GIL never competes with the server being measured)::

    python -m bench.api_server strongroom HOME
    python -m bench.api_server plain DATABASE CERT KEY

Both print the server's URL on one stdout line once it accepts connections, then serve
until SIGINT (a graceful stop) or SIGTERM. Both run through Strongroom's own runner,
:class:`strongroom.api.server.HttpsService`: the same uvicorn settings (h11), the same
TLS context (cert and key files of the Strongroom home), the same security headers.

``strongroom`` serves ``create_app(open_strongroom(HOME))``, as ``strongroom serve`` does.

``plain`` serves a minimal Starlette app over an unencrypted SQLite file, without any
authentication, on the same paths as Strongroom's record routes:

* ``GET  /v1/workspaces/{ws}/projects/{p}/records/{id}``: one ``SELECT body FROM
  plain_records WHERE id = ?`` and those bytes as the ``application/json`` response (the
  table holds, for every record, the exact body Strongroom answers with);
* ``POST /v1/workspaces/{ws}/projects/{p}/records``: the JSON body parsed, its document
  inserted as JSON text into ``plain_documents`` (one autocommit INSERT), 201 with the
  same fields Strongroom answers with.

Each of the server's worker threads has its own sqlite3 connection with the pragmas of
Strongroom's engine (WAL, synchronous=FULL, foreign_keys, busy_timeout). Like FastAPI's
sync routes, the database work runs in the anyio thread pool.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from strongroom.api.security_headers import ASGIApp
from strongroom.api.server import HttpsService

RECORD_PATH = "/v1/workspaces/{workspace_id}/projects/{project_id}/records/{record_id}"
RECORDS_PATH = "/v1/workspaces/{workspace_id}/projects/{project_id}/records"

PLAIN_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS plain_records (id TEXT PRIMARY KEY, body BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS plain_documents ("
    " id TEXT PRIMARY KEY, workspace_id TEXT NOT NULL, project_id TEXT NOT NULL,"
    " collection TEXT NOT NULL, document TEXT NOT NULL, size INTEGER NOT NULL,"
    " created_at TEXT NOT NULL, updated_at TEXT NOT NULL)",
)


def connect_plain(path: Path | str) -> sqlite3.Connection:
    """A connection with the pragmas of strongroom.storage.database.make_engine."""
    conn = sqlite3.connect(path, isolation_level=None)  # autocommit: one statement, one tx
    for pragma in (
        "PRAGMA journal_mode=WAL",
        "PRAGMA synchronous=FULL",
        "PRAGMA foreign_keys=ON",
        "PRAGMA busy_timeout=30000",
    ):
        conn.execute(pragma)
    return conn


def plain_app(database: Path) -> Starlette:
    """The baseline: no auth, no encryption, no validation beyond json.loads."""
    from strongroom import ids  # the same id shape as Strongroom's

    local = threading.local()

    def conn() -> sqlite3.Connection:
        c: sqlite3.Connection | None = getattr(local, "conn", None)
        if c is None:
            c = local.conn = connect_plain(database)
        return c

    def get_record(request: Request) -> Response:
        row = (
            conn()
            .execute(
                "SELECT body FROM plain_records WHERE id = ?", (request.path_params["record_id"],)
            )
            .fetchone()
        )
        if row is None:
            return Response(b'{"detail":"not found"}', 404, media_type="application/json")
        return Response(row[0], media_type="application/json")

    def insert(workspace_id: str, project_id: str, body: bytes) -> bytes:
        parsed = json.loads(body)
        collection, document = parsed["collection"], parsed["document"]
        text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
        record_id = ids.new_id("record")
        now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        conn().execute(
            "INSERT INTO plain_documents VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (record_id, workspace_id, project_id, collection, text, len(text), now, now),
        )
        out = {
            "id": record_id,
            "collection": collection,
            "document": document,
            "created_at": now,
            "updated_at": now,
        }
        return json.dumps(out, ensure_ascii=False, separators=(",", ":")).encode()

    async def create_record(request: Request) -> Response:
        body = await request.body()
        params = request.path_params
        content = await run_in_threadpool(
            insert, params["workspace_id"], params["project_id"], body
        )
        return Response(content, 201, media_type="application/json")

    return Starlette(
        routes=[
            Route(RECORD_PATH, get_record, methods=["GET"]),
            Route(RECORDS_PATH, create_record, methods=["POST"]),
        ]
    )


def serve(app: ASGIApp, cert: Path, key: Path) -> None:
    """Serve ``app`` on a free port of 127.0.0.1 until SIGINT or SIGTERM; print the URL."""
    service = HttpsService(app, host="127.0.0.1", port=0, cert_path=cert, key_path=key)

    def started() -> None:
        print(f"https://127.0.0.1:{service.https_port}", flush=True)

    try:
        with asyncio.Runner(loop_factory=service.loop_factory()) as runner:
            runner.run(service.serve(started))
    except KeyboardInterrupt:  # SIGINT, raised again by uvicorn after the graceful stop
        pass


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("strongroom", "plain"):
        raise SystemExit(__doc__)
    mode, *rest = argv
    if mode == "strongroom":
        from strongroom.api.app import create_app
        from strongroom.bootstrap import open_strongroom

        (home,) = rest
        with open_strongroom(home) as sr:
            serve(create_app(sr), Path(sr.settings.tls_cert), Path(sr.settings.tls_key))
        return 0
    database, cert, key = (Path(a) for a in rest)
    serve(plain_app(database), cert, key)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
