"""``strongroom operator`` and ``strongroom grant`` with the real command: an operator and
their agreement, a grant asked for, approved by the owner, its token (shown once) checked
as the API checks every request, the read listed, revoked and refused after; bad input as
one line with exit code 2. (The rules' edges are unit and API tests: each command here
costs a process start.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from strongroom import open_strongroom
from strongroom.domain.roles import Action
from strongroom.errors import Unauthenticated
from tests.e2e.test_cli import bad, ok_json
from tests.e2e.test_cli_lifecycle import _workspace, cli_home  # noqa: F401 - fixture

ANN = "ann@saas.example"
OWNER = "o@acme.example"


def test_operator_agreement_grant_token_read_revoke(cli_home: Path) -> None:  # noqa: F811
    home = cli_home
    ws, project, _record = _workspace(home)
    added = ok_json("operator", "add", "--name", "Ann Operator", "--email", ANN, home=home)
    assert added["agreement_in_force"] is False
    ask = ("grant", "request", ws, "--operator", ANN, "--reason", "import fails")
    assert "confidentiality agreement" in bad(*ask, "--ticket", "T-1", "--hours", "2", home=home)
    tomorrow = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()
    sign = ("operator", "agreement", ANN, "--version", "2026-01", "--signed")
    assert "future" in bad(*sign, tomorrow, home=home)
    assert ok_json(*sign, "2025-12-01", home=home)["agreement_in_force"] is True
    listed = ok_json("operator", "list", home=home)["operators"]
    assert [(o["email"], o["agreement"]["version"]) for o in listed] == [(ANN, "2026-01")]
    assert "1 to 24 hours" in bad(*ask, "--ticket", "T-1", "--hours", "25", home=home)
    assert "needs a ticket" in bad(*ask, "--ticket", " ", "--hours", "1", home=home)

    grant = ok_json(*ask, "--ticket", "T-1", "--hours", "2", "--project", project, home=home)["id"]
    assert grant.startswith("grt_")
    assert "pending" in bad("grant", "token", grant, home=home)
    approved = ok_json("grant", "approve", ws, grant, "--email", OWNER, home=home)
    assert approved["status"] == "active" and approved["project_id"] == project
    token = ok_json("grant", "token", grant, home=home)["token"]
    assert "already issued" in bad("grant", "token", grant, home=home)

    with open_strongroom(home) as sr:  # the token, checked as the API checks every request
        caller = sr.access.authenticate(token)
        assert caller.grant_id == grant and caller.project_id == project
        sr.access.require(caller, ws, Action.READ, project, "GET x", safe=True)
    listed = ok_json("grant", "list", ws, home=home)["grants"]
    assert [(g["id"], g["status"], g["read_count"]) for g in listed] == [(grant, "active", 1)]

    assert ok_json("grant", "revoke", ws, grant, "--email", OWNER, home=home)["status"] == "revoked"
    with open_strongroom(home) as sr, pytest.raises(Unauthenticated):
        sr.access.authenticate(token)
    assert "ended" in bad("grant", "revoke", ws, grant, "--email", OWNER, home=home)
    shown = ok_json("grant", "show", ws, grant, home=home)
    assert [r["request"] for r in shown["reads"]] == ["GET x"]
    assert shown["revoked_by"].startswith("user:usr_")
