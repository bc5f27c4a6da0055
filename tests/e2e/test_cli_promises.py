"""``strongroom promises check`` as an operator runs it beside the live server: every
promise holds after the worker's first pass (exit 0); two days later, under ``faketime``
(the real system-clock path), backups have stopped: exit 1, the backup promise failing in
the JSON and in the table, and /trust says so too."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.test_cli import run
from tests.e2e.test_cli_lifecycle import faketime  # noqa: F401 - a fixture
from tests.e2e.trust_support import trust_server


def test_promises_check_exit_codes(tmp_path: Path, faketime: str) -> None:  # noqa: F811
    home = tmp_path / "home"
    with trust_server(home) as server:
        server.sr.worker.run_once(scheduled=True)  # a backup, a drill, the first checks

        now = run("promises", "check", "--json", home=home)
        assert now.returncode == 0, (now.stdout, now.stderr)
        lines = now.stdout.decode().splitlines()
        assert len(lines) == 1
        result = json.loads(lines[0])
        assert result["all_hold"] is True
        assert len(result["promises"]) == 15

        later = run("promises", "check", "--json", home=home, wrap=[faketime, "-f", "+2d"])
        assert later.returncode == 1, later.stderr
        found = {p["id"]: p for p in json.loads(later.stdout)["promises"]}
        assert found["backup-purge-window"]["holds"] is False
        assert "backups have stopped" in found["backup-purge-window"]["evidence"]
        assert found["tls"]["holds"] is True  # the live server still answers as promised

        table = run("promises", "check", home=home, wrap=[faketime, "-f", "+2d"])
        assert table.returncode == 1
        out = table.stdout.decode()
        assert "backup-purge-window" in out and "NO" in out
        assert "failing:" in out and "Traceback" not in table.stderr.decode()

        with server.client() as client:
            page = client.get("/trust.json").json()
        status = {p["id"]: p["status"] for p in page["promises"]}
        assert status["backup-purge-window"] == "failing"  # the newest stored check
