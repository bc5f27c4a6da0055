"""console_page_ms and console_page_ratio: the console's records page against the API's
list of the same page (issue 13).

One workspace with a project of 10,000 records (``contacts``, ~1 KiB of JSON each, the
records benchmark's documents) on a fresh embedded home (SQLite). The value is the server
time of ``GET /console/w/{ws}/projects/{p}/records?collection=contacts`` (its first page:
50 records decrypted and rendered as HTML), signed in with a console session cookie; the
baseline is ``GET /v1/workspaces/{ws}/projects/{p}/records?collection=contacts&limit=50``
with a member session's bearer token: the same 50 records decrypted and returned as JSON.

"Server time": each request is one call of the ASGI app that ``strongroom serve`` serves
(console/app.create_site: the API with the console mounted, every middleware included),
made in-process with a minimal ASGI driver, from the call to the last body byte: no
sockets or TLS on either side (both would pay the same). Both sides run alternately, after
a warm-up; values are medians. console_page_ratio = api_list_ms / console_page_ms
(higher is better; the issue's target is >= 0.7).
"""

from __future__ import annotations

import asyncio
import gc
import re
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlencode

from bench.records import COLLECTION, contacts
from bench.runner import Config, Result, Target, alternate, median, work_dir
from strongroom.bootstrap import init_home, open_strongroom
from strongroom.console.app import create_site

TARGET_RATIO = 0.70
PAGE = 50
EMAIL = "bench@console.example"
PASSWORD = "a bench password, long enough"  # noqa: S105 - a throwaway home's
ASGI = Callable[[dict[str, Any], Callable[[], Awaitable[dict[str, Any]]], Any], Awaitable[None]]


async def _call(
    app: ASGI, method: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes = b""
) -> tuple[int, dict[bytes, list[bytes]], bytes]:
    """One request through the ASGI app; its status, headers and body."""
    target, _, query = path.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "https",
        "path": target,
        "raw_path": target.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"bench.example"), *headers]
        + ([(b"content-length", str(len(body)).encode())] if body else []),
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 443),
    }
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    status = 0
    got: dict[bytes, list[bytes]] = {}
    chunks: list[bytes] = []

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            for k, v in message.get("headers", []):
                got.setdefault(bytes(k).lower(), []).append(bytes(v))
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, got, b"".join(chunks)


def _cookies(headers: dict[bytes, list[bytes]], jar: dict[str, str]) -> None:
    for line in headers.get(b"set-cookie", []):
        name, _, rest = line.decode().partition("=")
        jar[name] = rest.split(";", 1)[0]


def _cookie_header(jar: dict[str, str]) -> tuple[bytes, bytes]:
    return (b"cookie", "; ".join(f"{k}={v}" for k, v in jar.items()).encode())


async def _sign_in(app: ASGI) -> dict[str, str]:
    """A console session, signed in through the sign-in form."""
    jar: dict[str, str] = {}
    status, headers, page = await _call(app, "GET", "/console/sign-in", [])
    _cookies(headers, jar)
    token = re.search(rb'name="csrftoken" value="([^"]+)"', page)
    assert status == 200 and token, "the sign-in page has no CSRF token"
    form = urlencode(
        {"csrftoken": token.group(1).decode(), "email": EMAIL, "password": PASSWORD}
    ).encode()
    status, headers, _ = await _call(
        app,
        "POST",
        "/console/sign-in",
        [(b"content-type", b"application/x-www-form-urlencoded"), _cookie_header(jar)],
        form,
    )
    assert status == 303, f"console sign-in answered {status}"
    _cookies(headers, jar)
    return jar


def run(config: Config, wanted: frozenset[str]) -> list[Result]:
    records = 1_000 if config.quick else 10_000
    reps = 1 if config.quick else 5
    requests = 20 if config.quick else 100
    with work_dir(config.work, "console-") as folder:
        settings = init_home(folder / "home")
        with open_strongroom(settings=settings) as sr:
            ws = sr.workspaces.create("Bench", EMAIL)
            sr.access.set_password(EMAIL, PASSWORD)
            project = sr.projects.create(ws.id, "contacts")
            documents = contacts(records)
            for start in range(0, records, 1000):
                sr.records.put_many(ws.id, project.id, COLLECTION, documents[start : start + 1000])
            bearer = sr.access.login(EMAIL, PASSWORD).token
            app: ASGI = create_site(sr)  # type: ignore[assignment]
            console_path = (
                f"/console/w/{ws.id}/projects/{project.id}/records?collection={COLLECTION}"
            )
            api_path = (
                f"/v1/workspaces/{ws.id}/projects/{project.id}/records"
                f"?collection={COLLECTION}&limit={PAGE}"
            )

            async def measure() -> tuple[list[float], list[float], int, int]:
                jar = await _sign_in(app)
                console_headers = [_cookie_header(jar)]
                api_headers = [(b"authorization", f"Bearer {bearer}".encode())]

                async def timed(path: str, headers: list[tuple[bytes, bytes]]) -> float:
                    t0 = time.perf_counter()
                    status, _, body = await _call(app, "GET", path, headers)
                    elapsed = time.perf_counter() - t0
                    assert status == 200, f"{path} answered {status}: {body[:200]!r}"
                    return elapsed

                for _ in range(5):  # warm-up: caches, the workspace's key, templates
                    await timed(console_path, console_headers)
                    await timed(api_path, api_headers)
                console_s: list[float] = []
                api_s: list[float] = []
                for rep in range(reps):
                    gc.collect()
                    sides = [(console_path, console_headers, console_s)]
                    sides.append((api_path, api_headers, api_s))
                    if not alternate(rep):
                        sides.reverse()
                    for path, headers, out in sides:
                        out.append(median([await timed(path, headers) for _ in range(requests)]))
                _, _, page = await _call(app, "GET", console_path, console_headers)
                _, _, listed = await _call(app, "GET", api_path, api_headers)
                return console_s, api_s, page.count(b"/records/rec_"), listed.count(b'"id":"rec_')

            # its own thread, so its own event loop (a caller may be running one already)
            with ThreadPoolExecutor(1) as thread:
                console_s, api_s, shown, listed = thread.submit(asyncio.run, measure()).result()
    assert shown >= PAGE and listed == PAGE, f"pages differ: {shown} links, {listed} records"
    console_ms, api_ms = median(console_s) * 1000, median(api_s) * 1000
    notes = (
        f"{records:,} records of ~1 KiB in one project (SQLite); first page of {PAGE}: the "
        f"console's HTML page (session cookie) vs the API's JSON list (bearer), each a call of "
        f"the served ASGI app in-process; medians of {reps} runs of {requests} requests, "
        "alternating"
    )
    results = [
        Result("console_page_ms", console_ms, api_ms, "ms", None, notes + " (baseline: API)"),
        Result(
            "console_page_ratio",
            1 / console_ms,
            1 / api_ms,
            "pages/ms",
            Target("ratio", ">=", TARGET_RATIO),
            "api_list_ms / console_page_ms",
        ),
    ]
    return [r for r in results if r.name in wanted]
