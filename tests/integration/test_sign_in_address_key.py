"""Failed sign-ins count per client, not per exact address, on SQLite and PostgreSQL: an
IPv6 client's whole /64 is one, an IPv4 client seen through a dual-stack listener
(IPv4-mapped) is its IPv4 address."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from strongroom import init_home, open_strongroom
from strongroom.bootstrap import Strongroom
from strongroom.errors import RateLimited, Unauthenticated

ALLOWED = 3


@pytest.fixture
def limited(tmp_path: Path, backend: dict[str, str]) -> Iterator[Strongroom]:
    settings = init_home(tmp_path / "home", sign_in_failures_per_address=str(ALLOWED), **backend)
    with open_strongroom(settings=settings) as instance:
        yield instance


def _fail(sr: Strongroom, i: int, address: str) -> None:
    with pytest.raises(Unauthenticated):
        sr.access.login(f"spray{i}@example.com", "wrong password", address=address)


def test_one_64_is_one_address(limited: Strongroom) -> None:
    for i in range(ALLOWED):
        _fail(limited, i, f"2001:db8:7:7::{i + 1:x}")
    with pytest.raises(RateLimited, match="address"):
        limited.access.login("new@example.com", "wrong password", address="2001:db8:7:7::abcd")
    _fail(limited, 99, "2001:db8:7:8::1")  # the next /64 is another client


def test_an_ipv4_mapped_address_is_its_ipv4_address(limited: Strongroom) -> None:
    for i in range(ALLOWED):
        _fail(limited, i, "::ffff:198.51.100.9" if i % 2 else "198.51.100.9")
    with pytest.raises(RateLimited, match="address"):
        limited.access.login("new@example.com", "wrong password", address="198.51.100.9")
