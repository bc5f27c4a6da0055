"""GET /metrics over a live HTTPS server: operators only, and its values move as requests,
KMS calls, deletions, backups and promise checks happen (docs/operations.md "Metrics and
logs")."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from strongroom.clock import FixedClock
from strongroom.errors import IntegrityFailure
from strongroom.storage.repositories.promise_checks import PromiseCheckRow
from tests.e2e.metrics_support import metered_server

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
RECORD_ROUTE = "/v1/workspaces/{workspace_id}/projects/{project_id}/records/{record_id}"


def scrape(client: httpx.Client) -> tuple[Samples, str]:
    answer = client.get("/metrics")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    assert answer.headers["cache-control"] == "no-store"
    samples: Samples = {}
    for family in text_string_to_metric_families(answer.text):
        for s in family.samples:
            samples[(s.name, frozenset(s.labels.items()))] = s.value
    return samples, answer.text


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def requests_of(samples: Samples, method: str, route: str, status: str) -> float:
    return value(
        samples,
        "strongroom_http_request_duration_seconds_count",
        method=method,
        route=route,
        status=status,
    )


def test_only_an_operator_token_reads_the_metrics(tmp_path: Path) -> None:
    with metered_server(tmp_path / "home") as live:
        ws = live.sr.workspaces.create("Acme", "owner@acme.example")
        owner = live.sr.access.create_token(ws.id, "owner").token
        with live.client() as anonymous:
            refused = anonymous.get("/metrics")
            assert refused.status_code == 401
            assert refused.headers["content-type"] == "application/problem+json"
            assert "strongroom_" not in refused.text
        with live.client(owner) as client:
            assert client.get("/metrics").status_code == 403
        with live.client("srt_" + "x" * 40) as client:
            assert client.get("/metrics").status_code == 401
        with live.client(live.sr.access.create_operator_token().token) as operator:
            samples, _ = scrape(operator)
        assert value(samples, "strongroom_readings_up") == 1


def test_metrics_off_is_no_metrics_route(tmp_path: Path) -> None:
    with (
        metered_server(tmp_path / "home", metrics="off") as live,
        live.client(live.sr.access.create_operator_token().token) as operator,
    ):
        assert operator.get("/metrics").status_code == 404


def test_requests_and_kms_calls_move_their_metrics_by_route_template(tmp_path: Path) -> None:
    with metered_server(tmp_path / "home") as live:
        sr = live.sr
        operator_token = sr.access.create_operator_token().token
        with live.client(operator_token) as operator:
            before, _ = scrape(operator)
            made = operator.post("/v1/workspaces", json={"name": "Acme", "owner_email": "o@a.io"})
            assert made.status_code == 201
            ws = made.json()["id"]
            project = sr.projects.create(ws, "Hiring").id
            owner = sr.access.create_token(ws, "owner").token
            with live.client(owner) as client:
                base = f"/v1/workspaces/{ws}/projects/{project}/records"
                record = client.post(base, json={"collection": "people", "document": {"a": 1}})
                assert record.status_code == 201
                for _ in range(3):  # the fast read path (api/fast_reads.py)
                    assert client.get(f"{base}/{record.json()['id']}").status_code == 200
                assert client.get(f"/v1/workspaces/{ws}/nowhere/{project}").status_code == 404
                assert client.get(f"/console/w/{ws}/nowhere").status_code == 404
                console_page = client.get("/console/sign-in")
            with pytest.raises(IntegrityFailure):  # a KMS call that fails
                sr.ctx.keyring.kms.unwrap(1, b"\0" * 60, b"context", "a key")
            after, text = scrape(operator)

    def moved(read: Callable[[Samples], float]) -> float:
        return read(after) - read(before)

    assert moved(lambda s: requests_of(s, "POST", "/v1/workspaces", "2xx")) == 1
    records = "/v1/workspaces/{workspace_id}/projects/{project_id}/records"
    assert moved(lambda s: requests_of(s, "POST", records, "2xx")) == 1
    assert moved(lambda s: requests_of(s, "GET", RECORD_ROUTE, "2xx")) == 3
    assert moved(lambda s: requests_of(s, "GET", "unmatched", "4xx")) == 1
    assert moved(lambda s: requests_of(s, "GET", "/metrics", "2xx")) == 1  # the first scrape
    # The console's pages, under its mount (one label: the console routes a copy).
    page = f"{console_page.status_code // 100}xx"
    assert moved(lambda s: requests_of(s, "GET", "/console/{path}", page)) == 1
    assert moved(lambda s: requests_of(s, "GET", "/console/{path}", "4xx")) == 1
    # Routes are named by template: no id of a workspace, project or record in any label.
    for needle in (ws, project, record.json()["id"]):
        assert needle not in text
    # The new workspace's keys were wrapped by the root key; reads hit the key cache.
    kms = "strongroom_kms_call_duration_seconds_count"
    assert moved(lambda s: value(s, kms, operation="wrap", backend="local")) >= 1
    assert moved(lambda s: value(s, "strongroom_key_cache_hits_total")) >= 3
    errors = "strongroom_kms_call_errors_total"
    failed = {"operation": "unwrap", "backend": "local", "error": "IntegrityFailure"}
    assert moved(lambda s: value(s, errors, **failed)) == 1
    assert moved(lambda s: value(s, kms, operation="unwrap", backend="local")) >= 1


def test_deadlines_purge_lag_backup_age_certificate_and_promises(tmp_path: Path) -> None:
    clock = FixedClock()
    with metered_server(tmp_path / "home", clock) as live:
        sr = live.sr
        ws = sr.workspaces.create("Acme", "owner@acme.example")
        project = sr.projects.create(ws.id, "Hiring").id
        record = sr.records.put(ws.id, project, "people", {"name": "Ada"})
        sr.records.delete(ws.id, project, record.id)  # purged 30 days from now
        operator_token = sr.access.create_operator_token(expires_days=90).token
        with live.client(operator_token) as operator:
            fresh, _ = scrape(operator)
            assert value(fresh, "strongroom_deadlines_due", action="purge.trash") == 0
            assert value(fresh, "strongroom_purge_lag_seconds") == 0
            assert math.isinf(value(fresh, "strongroom_backup_age_seconds"))
            days = value(fresh, "strongroom_tls_certificate_days_left")
            assert days > 1  # the certificate init issued (real time; the clock is older)

            sr.backups.create()
            clock.advance(timedelta(days=30, hours=2))  # the purge is 2 hours late
            with sr.ctx.store.write() as uow:
                uow.promise_checks.add_many(
                    [
                        PromiseCheckRow("key-custody", clock.now(), True, "checked"),
                        PromiseCheckRow("trash-window", clock.now(), False, "late"),
                    ]
                )
                uow.commit()
            clock.advance(timedelta(minutes=5))
            late, _ = scrape(operator)

    assert value(late, "strongroom_deadlines_due", action="purge.trash") == 1
    assert value(late, "strongroom_deadlines_overdue", action="purge.trash") == 1
    lag = value(late, "strongroom_purge_lag_seconds")
    assert timedelta(hours=2) <= timedelta(seconds=lag) <= timedelta(hours=2, minutes=6)
    backup_age = timedelta(seconds=value(late, "strongroom_backup_age_seconds"))
    assert backup_age == timedelta(days=30, hours=2, minutes=5)
    assert value(late, "strongroom_promise_holds", promise="key-custody") == 1
    assert value(late, "strongroom_promise_holds", promise="trash-window") == 0
    assert value(late, "strongroom_promise_check_age_seconds", promise="key-custody") == 300
    # The same certificate, 30 days and some later by the deployment's clock.
    later = value(late, "strongroom_tls_certificate_days_left")
    assert later == pytest.approx(days - 30 - 2 / 24 - 5 / 1440, abs=1e-3)


def test_a_request_id_is_echoed_and_a_bad_one_replaced(tmp_path: Path) -> None:
    with metered_server(tmp_path / "home") as live, live.client() as client:
        given = client.get("/health", headers={"X-Request-Id": "trace-42:a.b_c"})
        assert given.headers["x-request-id"] == "trace-42:a.b_c"
        made = {client.get("/health").headers["x-request-id"] for _ in range(2)}
        assert len(made) == 2 and all(len(m) == 32 for m in made)
        for bad in (b"ada@example.com", b"a b", b"x" * 129, b"", "é".encode(), b"a\tb"):
            answer = client.get("/health", headers={"X-Request-Id": bad})
            assert answer.headers["x-request-id"].encode() != bad
            assert len(answer.headers["x-request-id"]) == 32
        two = client.get("/health", headers=[("X-Request-Id", "one"), ("X-Request-Id", "two")])
        assert two.headers["x-request-id"] not in ("one", "two")
        # Errors carry it too: a 401 problem, a 404 no route took.
        for path in ("/v1/workspaces", "/nowhere"):
            failed = client.get(path, headers={"X-Request-Id": "req-7"})
            assert failed.status_code in (401, 404)
            assert failed.headers["x-request-id"] == "req-7"
