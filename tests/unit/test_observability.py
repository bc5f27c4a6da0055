"""Metrics and logs without a server: redaction, the log formats, request ids, route
templates, the metered root key, the readings' arithmetic and the settings' refusals."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from strongroom.api.request_telemetry import RECORD_TEMPLATE, UNMATCHED, request_id, route_template
from strongroom.config import load_settings
from strongroom.crypto.kms.base import Rewrapping
from strongroom.crypto.kms.memory import MemoryKms
from strongroom.crypto.secret import SecretKey
from strongroom.errors import ConfigurationError, IntegrityFailure
from strongroom.ids import new_id
from strongroom.observability.instruments import INSTRUMENTS, status_class
from strongroom.observability.logs import (
    REQUEST_ID,
    TOKEN_PREFIX,
    JsonFormatter,
    TextFormatter,
    redact,
)
from strongroom.observability.metered import MeteredKms
from strongroom.observability.readings import Readings
from strongroom.services.access import TOKEN_PREFIX as ACCESS_TOKEN_PREFIX
from strongroom.storage.repositories.deadlines import Backlog

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_redaction_removes_emails_tokens_and_credentials() -> None:
    line = (
        "user ada.l+x@example.co.uk sent srt_AbC-12_xyz and "
        "Authorization: Bearer abc.def and basic dXNlcjpwYXNz; kept ws_abc"
    )
    assert redact(line) == (
        "user [email] sent srt_[redacted] and "
        "Authorization: Bearer [redacted] and basic [redacted]; kept ws_abc"
    )
    assert TOKEN_PREFIX == ACCESS_TOKEN_PREFIX


def _record(message: str, *args: object, exc: bool = False) -> logging.LogRecord:
    info = None
    if exc:
        try:
            raise ValueError("bad value from eve@example.org\nsecond line")
        except ValueError:
            info = sys.exc_info()
    return logging.LogRecord("strongroom.api", logging.ERROR, __file__, 1, message, args, info)


def test_a_json_line_is_one_line_with_the_request_id_and_nothing_personal() -> None:
    token = REQUEST_ID.set("req-1")
    try:
        text = JsonFormatter().format(
            _record("failed for %s\ninjected", "bob@example.com", exc=True)
        )
    finally:
        REQUEST_ID.reset(token)
    assert "\n" not in text
    line = json.loads(text)
    assert line["request_id"] == "req-1" and line["level"] == "error"
    assert line["message"] == "failed for [email]\ninjected"
    assert "ValueError: bad value from [email]" in line["exception"]
    assert line["time"].endswith("Z")
    outside = json.loads(JsonFormatter().format(_record("no request")))
    assert "request_id" not in outside


def test_a_text_line_names_the_request_or_a_dash() -> None:
    assert TextFormatter().format(_record("plain")).endswith(" ERROR strongroom.api -: plain")
    token = REQUEST_ID.set("r-2")
    try:
        assert TextFormatter().format(_record("x")).endswith(" strongroom.api r-2: x")
    finally:
        REQUEST_ID.reset(token)


@pytest.mark.parametrize(
    ("headers", "kept"),
    [
        ([(b"x-request-id", b"abc-123:4.5_6")], True),
        ([(b"x-request-id", b"a" * 128)], True),
        ([(b"x-request-id", b"a" * 129)], False),
        ([(b"x-request-id", b"a@b.example")], False),
        ([(b"x-request-id", b"line\r\nbreak")], False),
        ([(b"x-request-id", b"")], False),
        ([(b"x-request-id", b"\xc3\xa9")], False),
        ([(b"x-request-id", b"one"), (b"x-request-id", b"two")], False),
        ([], False),
    ],
)
def test_a_request_id_is_the_clients_only_if_plain(
    headers: list[tuple[bytes, bytes]], kept: bool
) -> None:
    rid = request_id(headers)
    if kept:
        assert rid.encode() == headers[0][1]
    else:
        assert len(rid) == 32 and int(rid, 16) >= 0


def test_routes_are_named_by_template_never_by_path() -> None:
    record = (
        f"/v1/workspaces/{new_id('workspace')}/projects/{new_id('project')}"
        f"/records/{new_id('record')}"
    )
    assert route_template({"path": record}) == RECORD_TEMPLATE
    assert route_template({"path": "/v1/workspaces/ada@example.com"}) == UNMATCHED
    assert [status_class(s) for s in (200, 302, 404, 503, 42)] == [
        "2xx",
        "3xx",
        "4xx",
        "5xx",
        "other",
    ]


def _count(name: str, **labels: str) -> float:
    return INSTRUMENTS.get_sample_value(name, labels) or 0.0


def test_the_metered_root_key_times_calls_and_counts_failures() -> None:
    kms = MeteredKms(MemoryKms())
    labels = {"operation": "unwrap", "backend": "memory"}
    calls = _count("strongroom_kms_call_duration_seconds_count", **labels)
    failures = _count("strongroom_kms_call_errors_total", error="IntegrityFailure", **labels)
    version, wrapped = kms.wrap(SecretKey.generate("k"), b"ctx")
    assert kms.unwrap(version, wrapped, b"ctx", "k").label == "k"
    with pytest.raises(IntegrityFailure):
        kms.unwrap(version, wrapped, b"other", "k")
    assert _count("strongroom_kms_call_duration_seconds_count", **labels) == calls + 2
    after = _count("strongroom_kms_call_errors_total", error="IntegrityFailure", **labels)
    assert after == failures + 1
    # Rewrapping inside the KMS stays the backend's choice; the key stays out of reprs.
    assert not isinstance(kms, Rewrapping)
    assert kms.backend == "memory" and kms.for_development
    assert "MemoryKms" in repr(kms)


def test_readings_compute_lag_and_ages_from_now() -> None:
    backlog = (
        Backlog("export.run", 2, 0, NOW - timedelta(minutes=1)),
        Backlog("purge.trash", 3, 1, NOW - timedelta(hours=3)),
        Backlog("purge.workspace", 1, 0, NOW - timedelta(minutes=10)),
    )
    readings = Readings(NOW, backlog, NOW - timedelta(hours=25), NOW + timedelta(days=2), ())
    assert readings.purge_lag_seconds() == 3 * 3600
    assert readings.backup_age_seconds() == 25 * 3600
    assert readings.certificate_days_left() == 2
    empty = Readings(NOW, (), None, None, ())
    assert empty.purge_lag_seconds() == 0
    assert empty.backup_age_seconds() == float("inf")
    assert empty.certificate_days_left() is None


@pytest.mark.parametrize(("name", "value"), [("metrics", "yes"), ("log_format", "xml")])
def test_settings_refuse_unknown_metrics_and_log_formats(
    tmp_path: Path, name: str, value: str
) -> None:
    with pytest.raises(ConfigurationError, match=name):
        load_settings(tmp_path, env={}, overrides={name: value})
    settings = load_settings(tmp_path, env={})
    assert (settings.metrics, settings.log_format) == ("on", "json")
