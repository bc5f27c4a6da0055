"""The per-address sign-in limit in the data store, on SQLite and PostgreSQL: parallel
attempts from one address cannot pass it (the count is locked per address, as the
per-email count is per email), it is shared by every process, and it ends with its
window."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest

from strongroom import init_home, open_strongroom
from strongroom.bootstrap import Strongroom
from strongroom.clock import FixedClock
from strongroom.domain.access import LOGIN_WINDOW
from strongroom.errors import RateLimited, Unauthenticated

ALLOWED = 5
ADDRESS = "203.0.113.7"


@pytest.fixture
def limited(tmp_path: Path, backend: dict[str, str], clock: FixedClock) -> Iterator[Strongroom]:
    settings = init_home(tmp_path / "home", sign_in_failures_per_address=str(ALLOWED), **backend)
    with open_strongroom(settings=settings, clock=clock) as instance:
        yield instance


def _attempt(sr: Strongroom, i: int, address: str = ADDRESS) -> str:
    try:
        sr.access.login(f"spray{i}@example.com", "wrong password", address=address)
    except Unauthenticated:
        return "401"
    except RateLimited:
        return "429"
    return "201"


def test_parallel_attempts_from_one_address_cannot_pass_the_limit(limited: Strongroom) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda i: _attempt(limited, i), range(24)))
    assert answers.count("401") == ALLOWED
    assert answers.count("429") == 24 - ALLOWED


def test_the_limit_is_per_address_and_ends_with_its_window(
    limited: Strongroom, clock: FixedClock
) -> None:
    for i in range(ALLOWED):
        assert _attempt(limited, i) == "401"
    assert _attempt(limited, 100) == "429"
    assert _attempt(limited, 101, address="198.51.100.1") == "401"
    # another process (here: another instance on the same stores) sees the same count
    with open_strongroom(settings=limited.settings, clock=clock) as other:
        assert _attempt(other, 102) == "429"
    clock.advance(LOGIN_WINDOW + timedelta(seconds=1))
    assert _attempt(limited, 103) == "401"


def test_a_caller_without_an_address_is_not_counted(limited: Strongroom) -> None:
    for i in range(ALLOWED + 2):
        with pytest.raises(Unauthenticated):
            limited.access.login(f"nobody{i}@example.com", "wrong password")
