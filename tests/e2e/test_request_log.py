"""The server's JSON log over a whole request cycle, errors included: every line parses,
every line written for a request carries its id, and no planted email address or token
reaches it (observability/logs.py, api/request_telemetry.py)."""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from strongroom.observability.logs import logging_config
from tests.e2e.metrics_support import metered_server

PLANTED_EMAIL = "planted.person+x@secret-example.org"


@contextmanager
def captured_log(log_format: str) -> Iterator[io.StringIO]:
    """Strongroom's loggers configured as ``serve`` configures them, into a buffer."""
    out = io.StringIO()
    config = logging_config(log_format)
    handler = logging.StreamHandler(out)
    handler.setFormatter(config["formatters"]["line"]["()"]())
    logger = logging.getLogger("strongroom")
    level, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield out
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


def _wait_for(predicate: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting for the log"
        time.sleep(0.05)


def test_json_lines_carry_the_request_id_and_no_email_or_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with metered_server(tmp_path / "home") as live, captured_log("json") as out:
        sr = live.sr
        operator = sr.access.create_operator_token().token
        planted_token = sr.access.create_operator_token().token
        ids: dict[str, str] = {}
        with live.client(operator) as client:
            made = client.post(
                "/v1/workspaces",
                json={"name": "Acme", "owner_email": PLANTED_EMAIL},
                headers={"X-Request-Id": "made-1"},
            )
            assert made.status_code == 201
            ws = made.json()["id"]
            owner = sr.access.create_token(ws, "owner").token
            project = sr.projects.create(ws, "Hiring").id
            with live.client(owner) as as_owner:
                stored = as_owner.post(
                    f"/v1/workspaces/{ws}/projects/{project}/records",
                    json={"collection": "people", "document": {"email": PLANTED_EMAIL}},
                )
                assert stored.status_code == 201
                ids["stored"] = stored.headers["x-request-id"]
            # Hostile or mistaken requests: a token in a path, an email as a request id,
            # a bad credential quoting a real token.
            lost = client.get(f"/v1/workspaces/{PLANTED_EMAIL}/{planted_token}")
            assert lost.status_code in (404, 422)
            ids["lost"] = lost.headers["x-request-id"]
            odd = client.get("/health", headers={"X-Request-Id": PLANTED_EMAIL})
            ids["odd"] = odd.headers["x-request-id"]
            assert ids["odd"] != PLANTED_EMAIL
            with live.client(planted_token + "nope") as wrong:
                assert wrong.get("/v1/workspaces").status_code == 401

            # A bug whose message quotes the caller's input: one traceback, redacted.
            def broken(*_args: object, **_kwargs: object) -> object:
                raise RuntimeError(f"cannot list for {PLANTED_EMAIL} with {planted_token}")

            monkeypatch.setattr(sr.access, "visible_workspaces", broken)
            failed = client.get("/v1/workspaces", headers={"X-Request-Id": "bug-1"})
            assert failed.status_code == 500
            assert failed.headers["x-request-id"] == "bug-1"
        _wait_for(lambda: '"exception"' in out.getvalue())
        text = out.getvalue()

    lines: list[dict[str, Any]] = [json.loads(line) for line in text.splitlines()]
    assert PLANTED_EMAIL not in text and "secret-example.org" not in text
    assert planted_token not in text and operator not in text and owner not in text
    requests = [line for line in lines if line["logger"] == "strongroom.request"]
    assert len(requests) == 6, requests
    assert all(set(line) >= {"time", "level", "message", "request_id"} for line in lines)
    by_id = {line["request_id"]: line for line in requests}
    assert by_id["made-1"]["route"] == "/v1/workspaces"
    assert by_id["made-1"]["status"] == 201 and by_id["made-1"]["method"] == "POST"
    assert by_id[ids["stored"]]["route"].endswith("/projects/{project_id}/records")
    assert by_id[ids["lost"]]["route"] == "unmatched"
    assert by_id[ids["odd"]]["route"] == "/health"
    # The unexpected error: its traceback and the request's line share the request id.
    errors = [line for line in lines if line["level"] == "error"]
    assert len(errors) == 1
    assert errors[0]["request_id"] == "bug-1" and "RuntimeError" in errors[0]["exception"]
    assert "[email]" in errors[0]["exception"] and "srt_[redacted]" in errors[0]["exception"]
    assert by_id["bug-1"]["status"] == 500


def test_text_lines_carry_the_request_id_too(tmp_path: Path) -> None:
    with (
        metered_server(tmp_path / "home") as live,
        captured_log("text") as out,
        live.client() as client,
    ):
        assert client.get("/health", headers={"X-Request-Id": "text-9"}).status_code == 200
        _wait_for(lambda: "text-9" in out.getvalue())
    (line,) = [line for line in out.getvalue().splitlines() if "text-9" in line]
    assert " INFO strongroom.request text-9: GET /health 200 " in line
