"""The listening socket says it is TCP, so asyncio turns Nagle off on every connection
(otherwise each response waits ~40 ms for a delayed ACK)."""

from __future__ import annotations

import socket

from strongroom.api.server import bind_socket


def test_the_listening_socket_is_tcp_so_connections_get_nodelay() -> None:
    sock = bind_socket("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
    finally:
        sock.close()
