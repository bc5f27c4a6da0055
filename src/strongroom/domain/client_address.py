"""A client's address as the unit that limits count: what one client can hardly vary.

An IPv6 client usually holds a whole /64 and picks addresses in it at will, so every
address of one /64 counts as one; an IPv4-mapped IPv6 address (``::ffff:192.0.2.1``, what
a dual-stack listener sees for an IPv4 client) counts as the IPv4 address it carries."""

from __future__ import annotations

import ipaddress

#: The prefix an IPv6 client is counted by.
IPV6_PREFIX = 64


def address_key(address: str) -> str:
    """``address`` normalised for counting: an IPv4 address as such, an IPv6 one as its
    /64 network; text that is not an IP address (a Unix socket's name, a test client's
    "testclient") is kept as it is."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # without an IPv6 zone
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, IPV6_PREFIX), strict=False))
    return str(ip)
