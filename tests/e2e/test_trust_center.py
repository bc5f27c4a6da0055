"""The trust center against a real deployment: a live HTTPS server whose ``public_url``
is itself, on SQLite and PostgreSQL. Every promise holds after the worker's first pass;
each is then broken on purpose (backups stopped, a purge overdue, the audit chain edited,
a backup part in clear, the KMS silent) and shows as failing in /trust.json and on /trust,
which always list the same promises with the same statuses."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from strongroom.backup.manifest import DATA
from strongroom.clock import FixedClock
from strongroom.errors import KeyUnavailable
from strongroom.storage import tables as t
from tests.e2e.api_support import LiveServer
from tests.e2e.trust_support import serve_home, trust_server

STANDARD = [
    "encryption-at-rest",
    "key-custody",
    "root-key-rotation",
    "tls",
    "certificate",
    "trash-window",
    "backup-purge-window",
    "workspace-deletion",
    "cancellation-window",
    "trial-retention",
    "privacy-requests",
    "audit-chain",
    "subprocessors",
    "dpa",
    "response-time",
]
_ROW = re.compile(r'data-promise="([a-z0-9-]+)" data-status="([a-z]+)"')


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def served(tmp_path: Path, clock: FixedClock, backend: dict[str, str]) -> Iterator[LiveServer]:
    with trust_server(tmp_path / "home", clock, **backend) as server:
        server.sr.worker.run_once(scheduled=True)  # the first pass: backup, drill, checks
        yield server


def trust(server: LiveServer) -> tuple[dict[str, Any], dict[str, str], str]:
    """/trust.json, the statuses /trust shows (by promise), and /trust's HTML; both read
    without signing in."""
    with server.client() as client:
        answer = client.get("/trust.json")
        page = client.get("/trust")
    assert answer.status_code == 200 and page.status_code == 200
    assert answer.headers["cache-control"] == page.headers["cache-control"] == "public, max-age=60"
    assert "max-age=" in page.headers["strict-transport-security"]
    shown = dict(_ROW.findall(page.text))
    report = answer.json()
    assert shown == {p["id"]: p["status"] for p in report["promises"]}  # never disagree
    return report, shown, page.text


def promise(report: dict[str, Any], promise_id: str) -> dict[str, Any]:
    return next(p for p in report["promises"] if p["id"] == promise_id)


def test_every_promise_holds_after_the_first_worker_pass(served: LiveServer) -> None:
    report, shown, html = trust(served)
    assert [p["id"] for p in report["promises"]] == STANDARD
    assert report["all_holding"] is True, [
        p for p in report["promises"] if p["status"] != "holding"
    ]
    assert set(shown.values()) == {"holding"}
    assert html.count(">Holding</strong>") == len(STANDARD)
    assert report["crypto_policy"]["cipher"] == "AES-256-GCM"
    tls = promise(report, "tls")["evidence"]
    assert "refused TLS 1.0 (" in tls and "TLS 1.1 (" in tls and "max-age=63072000" in tls
    assert "root key is kept in a local key file" in promise(report, "key-custody")["claim"]
    assert served.sr.backups.list(DATA), "the worker took a backup"


def test_stopped_backups_turn_the_backup_promise_failing(
    served: LiveServer, clock: FixedClock
) -> None:
    sr = served.sr
    clock.advance(timedelta(hours=26))  # past the 24-hour interval, no backup taken
    run = sr.promises.check_all()
    assert not run.all_hold
    report, shown, html = trust(served)
    backups = promise(report, "backup-purge-window")
    assert backups["status"] == shown["backup-purge-window"] == "failing"
    assert "backups have stopped" in backups["evidence"]
    assert (
        backups["last_passed_at"] is not None and backups["last_passed_at"] < backups["checked_at"]
    )
    assert "backups have stopped" in html

    sr.worker.run_once(scheduled=True)  # the worker takes a backup and rotates the root key
    report, _, _ = trust(served)
    assert report["all_holding"] is True, [
        p for p in report["promises"] if p["status"] != "holding"
    ]


def test_an_overdue_purge_fails_its_promise(served: LiveServer, clock: FixedClock) -> None:
    sr = served.sr
    ws = sr.workspaces.create("Acme", "owner@acme.example")
    project = sr.projects.create(ws.id, "Hiring")
    record = sr.records.put(ws.id, project.id, "notes", {"text": "x"})
    sr.records.delete(ws.id, project.id, record.id)
    doomed = sr.workspaces.create("Doomed", "owner@doomed.example")
    sr.plans.delete_workspace(doomed.id, "Doomed")
    clock.advance(timedelta(days=31))  # the trash purge and the deletion are now late
    sr.promises.check_all()
    report, shown, _ = trust(served)
    assert shown["trash-window"] == shown["workspace-deletion"] == "failing"
    assert "overdue" in promise(report, "trash-window")["evidence"]
    deletion = promise(report, "workspace-deletion")["evidence"]
    assert "workspace_deleted" in deletion and doomed.id not in deletion  # public: no ids

    sr.worker.run_once(scheduled=True)  # the purges run; the checks are due again
    _, shown, _ = trust(served)
    assert shown["trash-window"] == shown["workspace-deletion"] == "holding"


def test_a_broken_audit_chain_fails_its_promise(served: LiveServer) -> None:
    sr = served.sr
    with sr.ctx.store.write() as uow:
        uow.conn.execute(
            update(t.audit_events).where(t.audit_events.c.seq == 1).values(actor="someone else")
        )
        uow.commit()
    sr.promises.check_all()
    report, shown, _ = trust(served)
    assert shown["audit-chain"] == "failing"
    assert "does not verify" in promise(report, "audit-chain")["evidence"]


def test_a_backup_part_in_clear_fails_encryption_at_rest(served: LiveServer) -> None:
    sr = served.sr
    newest = sr.backups.folder.manifests(DATA, sr.ctx.keyring)[-1]
    path = sr.backups.folder.part_path(newest, newest.parts[0])
    path.write_bytes(b"plain text " + path.read_bytes()[11:])
    sr.promises.check_all()
    report, shown, _ = trust(served)
    assert shown["encryption-at-rest"] == "failing"
    assert newest.id in promise(report, "encryption-at-rest")["evidence"]


class _SilentKms:
    """The root key's backend, but it stops answering unwraps (an HSM gone away)."""

    def __init__(self, kms: Any) -> None:
        self._kms = kms

    def __getattr__(self, name: str) -> Any:
        return getattr(self._kms, name)

    def unwrap(self, *args: Any) -> Any:
        raise KeyUnavailable("the HSM did not answer")


def test_a_kms_that_does_not_answer_fails_key_custody(served: LiveServer) -> None:
    keyring = served.sr.ctx.keyring
    real = keyring.kms
    keyring.kms = _SilentKms(real)
    try:
        served.sr.promises.check_all()
    finally:
        keyring.kms = real
    report, shown, _ = trust(served)
    assert shown["key-custody"] == "failing"
    assert "did not answer" in promise(report, "key-custody")["evidence"]


def test_the_page_follows_the_settings_at_restart(tmp_path: Path, clock: FixedClock) -> None:
    home = tmp_path / "home"
    with trust_server(home, clock) as server:
        report, _, html = trust(server)
        assert "the trash for 30 days" in promise(report, "trash-window")["claim"]
        assert "the trash for 30 days" in html
    with (home / "strongroom.toml").open("a") as f:
        f.write("trash_days = 14\n")
    with serve_home(home, clock) as server:
        report, shown, html = trust(server)
        claim = promise(report, "trash-window")["claim"]
        assert "the trash for 14 days" in claim and claim in html
        assert "the trash for 30 days" not in html
        assert set(shown.values()) == {"stale"}  # never checked: not shown as holding


def test_an_operator_can_run_the_checks_over_the_api(served: LiveServer) -> None:
    sr = served.sr
    operator = sr.access.create_operator_token(1, actor="test")
    owner_ws = sr.workspaces.create("Acme", "owner@acme.example")
    owner = sr.access.create_token(owner_ws.id, "owner", 1, actor="test")
    with served.client(owner.token) as client:
        assert client.post("/v1/promises/check").status_code == 403
    with served.client() as client:
        assert client.post("/v1/promises/check").status_code == 401
    with served.client(operator.token) as client:
        answer = client.post("/v1/promises/check")
    assert answer.status_code == 200
    assert [p["id"] for p in answer.json()["promises"]] == STANDARD
