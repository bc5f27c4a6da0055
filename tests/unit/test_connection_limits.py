"""The server's own bounds on connections: the count per address, the open-files limit,
and the log line asyncio writes for every accept that fails when files run out."""

from __future__ import annotations

import logging
import resource
from pathlib import Path

import pytest

from strongroom.api.connections import (
    ACCEPT_FAILED,
    ConnectionLimits,
    OncePerMinute,
    raise_file_limit,
)
from strongroom.config import load_settings
from strongroom.errors import ConfigurationError


def _record(message: str) -> logging.LogRecord:
    return logging.LogRecord("asyncio", logging.ERROR, __file__, 1, message, None, None)


def test_accept_failures_are_logged_once_per_minute() -> None:
    once = OncePerMinute(ACCEPT_FAILED)
    passed = [once.filter(_record(ACCEPT_FAILED + "\nprotocol: ...")) for _ in range(1000)]
    assert passed.count(True) == 1
    assert once.filter(_record("Task exception was never retrieved"))  # others untouched


def test_accept_failures_filter_is_installed_on_asyncio_by_serve() -> None:
    from strongroom.api.connections import quiet_accept_failures

    quiet_accept_failures()
    quiet_accept_failures()
    filters = [f for f in logging.getLogger("asyncio").filters if isinstance(f, OncePerMinute)]
    assert len(filters) == 1


def test_a_file_limit_too_low_for_max_connections_refuses_to_start() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        pytest.skip("no hard limit on open files here")
    with pytest.raises(ConfigurationError, match="max_connections"):
        raise_file_limit(hard)  # hard + 256 files needed: more than may ever be open
    assert raise_file_limit(1) == resource.getrlimit(resource.RLIMIT_NOFILE)[0] == hard


def test_connections_are_counted_per_address_and_in_all() -> None:
    limits = ConnectionLimits(total=3, per_address=2)
    assert limits.take("192.0.2.1") and limits.take("::ffff:192.0.2.1")
    assert not limits.take("192.0.2.1")  # the mapped address is the same client
    assert limits.take("2001:db8::1")
    assert not limits.take("2001:db8::2")  # over the total
    limits.give_back("192.0.2.1")
    assert limits.take("2001:db8::2")
    wide = ConnectionLimits(total=100, per_address=2)
    assert wide.take("2001:db8::1") and wide.take("2001:db8::ffff:1")
    assert not wide.take("2001:db8::2")  # one /64 is one client
    assert wide.take("2001:db8:0:1::1")  # the next /64 is another


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("body_timeout_seconds", "0"),
        ("body_timeout_seconds", "3601"),
        ("max_connections", "0"),
        ("max_connections_per_address", "0"),
    ],
)
def test_out_of_range_connection_settings_stop_the_start(
    tmp_path: Path, name: str, value: str
) -> None:
    with pytest.raises(ConfigurationError, match=name):
        load_settings(tmp_path, env={}, overrides={name: value})


def test_more_per_address_than_in_all_stops_the_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="max_connections_per_address"):
        load_settings(
            tmp_path,
            env={},
            overrides={"max_connections": 10, "max_connections_per_address": 11},
        )


def test_connection_defaults(tmp_path: Path) -> None:
    s = load_settings(tmp_path, env={})
    assert (s.body_timeout_seconds, s.max_connections, s.max_connections_per_address) == (
        30,
        1000,
        64,
    )
    assert s.uploads_per_workspace == 8
