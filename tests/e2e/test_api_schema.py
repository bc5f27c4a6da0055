"""Schemathesis against the OpenAPI document of a live server: no 5xx, and every response
(status, content type, headers, body) inside the schema; once as a workspace owner, once
as an operator on the operators' endpoints."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.api_support import LiveServer, live_server

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
    ]
)


def _schemathesis(live: LiveServer, token: str, report: Path, *options: str) -> str:
    binary = Path(sys.executable).parent / "schemathesis"
    command = str(binary) if binary.exists() else shutil.which("schemathesis")
    assert command, "schemathesis is a dev dependency; run make test"
    result = subprocess.run(
        [
            command,
            "run",
            f"{live.url}/openapi.json",
            "--header",
            f"Authorization: Bearer {token}",
            "--tls-verify",
            str(live.ca),
            "--checks",
            CHECKS,
            "--max-examples",
            "15",
            "--seed",
            "2026",
            "--no-color",
            "--report",
            "junit",
            "--report-dir",
            str(report),
            *options,
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    summary = result.stdout[-4000:]
    assert result.returncode == 0, summary
    return summary


@pytest.mark.slow
def test_schemathesis_finds_no_server_error_and_no_off_schema_response(tmp_path: Path) -> None:
    with live_server(tmp_path / "home") as live:
        ws = live.sr.workspaces.create("Fuzzed", "owner@fuzz.example")
        live.sr.projects.create(ws.id, "Target")
        token = live.sr.access.create_token(ws.id, "owner").token
        summary = _schemathesis(live, token, tmp_path / "report")
    assert "passed" in summary


@pytest.mark.slow
def test_schemathesis_on_the_operators_endpoints(tmp_path: Path) -> None:
    with live_server(tmp_path / "home") as live:
        sr = live.sr
        ws = sr.workspaces.create("Fuzzed", "owner@fuzz.example")
        project = sr.projects.create(ws.id, "Target")
        record = sr.records.put(ws.id, project.id, "notes", {"n": 1}).id
        sr.trash.purge_now(ws.id, sr.records.delete(ws.id, project.id, record).id)
        sr.worker.run_once()  # one certificate in the ledger
        sr.records.delete(ws.id, project.id, sr.records.put(ws.id, project.id, "notes", {}).id)
        token = sr.access.create_operator_token().token
        summary = _schemathesis(live, token, tmp_path / "report", "--include-tag", "operators")
    assert "passed" in summary
