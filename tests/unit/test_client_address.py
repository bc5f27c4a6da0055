"""A client address as limits count it: IPv6 by its /64, IPv4-mapped as IPv4."""

from __future__ import annotations

import pytest

from strongroom.domain.client_address import address_key


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("::FFFF:cb00:7107", "203.0.113.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2::ffff", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2::1%eth0", "2001:db8:1:2::/64"),
        ("::1", "::/64"),
        ("testclient", "testclient"),
    ],
)
def test_address_key(address: str, key: str) -> None:
    assert address_key(address) == key


def test_neighbouring_64s_and_addresses_stay_apart() -> None:
    assert address_key("2001:db8:1:2::1") != address_key("2001:db8:1:3::1")
    assert address_key("203.0.113.7") != address_key("203.0.113.8")
    assert address_key("::203.0.113.7") != address_key("203.0.113.7")  # not mapped
