"""Defences at the connection level, beneath the app: what a client that connects and then
withholds, trickles or floods can hold, and for how long.

* :class:`ConnectionLimits`: connections open at once, in all and per client address
  (IPv6 per /64: domain/client_address.py);
* :func:`header_deadline_protocol`: uvicorn's HTTP/1.1 protocol with a deadline on each
  request's line and headers (uvicorn has none), and the bound above applied as each
  connection is made;
* :func:`raise_file_limit`: the open-files limit that the bound needs;
* :func:`quiet_accept_failures`: asyncio's failed accepts logged once a minute, not once each.

api/server.py puts them together; a request body's deadline is api/limits.py's, an upload's
api/body.py's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import threading
import time
from collections import Counter

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from strongroom.domain.client_address import address_key
from strongroom.errors import ConfigurationError


class ConnectionLimits:
    """The connections open at once, in all and per client address (the protocol below
    counts them; everything runs in the event loop, so no lock)."""

    def __init__(self, total: int, per_address: int) -> None:
        self.total = total
        self.per_address = per_address
        self.open = 0
        self._by_address: Counter[str] = Counter()

    def take(self, address: str | None) -> bool:
        """Count one more connection from ``address``; False (nothing counted) if it is
        one too many."""
        key = address_key(address) if address else ""
        if self.open >= self.total or self._by_address[key] >= self.per_address:
            return False
        self.open += 1
        self._by_address[key] += 1
        return True

    def give_back(self, address: str | None) -> None:
        key = address_key(address) if address else ""
        self.open -= 1
        self._by_address[key] -= 1
        if not self._by_address[key]:
            del self._by_address[key]


def header_deadline_protocol(
    header_timeout: float, limits: ConnectionLimits | None = None
) -> type[H11Protocol]:
    """uvicorn's HTTP/1.1 protocol with a deadline on each request's line and headers, and
    a bound on the connections open at once (``limits``)."""

    class HeaderDeadline(H11Protocol):
        """Armed when the connection is made (after the TLS handshake), after each
        response, and whenever h11 waits for a new request (after the rest of a body an
        early response left unread); disarmed once h11 has a whole request head. When it
        fires while no request is being answered, the connection is aborted (also one
        already closing, whose client has not finished the TLS close): a client trickling
        or withholding its headers (or the leftover of a body, or its close_notify) holds
        no connection (and no uvicorn slot) for longer than that.

        A connection over ``limits`` is closed as soon as it is made, before it is read."""

        _deadline: asyncio.TimerHandle | None = None
        _counted: bool = False
        _address: str | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            if limits is not None:
                peer = transport.get_extra_info("peername")
                self._address = str(peer[0]) if isinstance(peer, tuple) and peer else None
                if not limits.take(self._address):
                    # abort, not close: a TLS close waits (up to 30 s) for the client's
                    # close_notify, holding the file descriptor the bound is there to spare
                    transport.abort()
                    return
                self._counted = True
            self._arm()

        def data_received(self, data: bytes) -> None:
            if limits is not None and not self._counted:
                return  # over the bound and closing: nothing it sent is read
            super().data_received(data)

        def handle_events(self) -> None:
            super().handle_events()
            if self.transport.is_closing():
                return
            if self.conn.their_state is h11.IDLE:
                if self._deadline is None:  # waiting for a new request's head
                    self._arm()
            elif self._answering():  # the request head is in
                self._disarm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            # The next request on this connection gets its own deadline, and so does the
            # rest of a body an early response left unread. Closed after the answer
            # (Connection: close, a 408) or later (uvicorn's keep-alive timeout), a TLS
            # close waits up to 30 s for the client's close_notify: a client that never
            # sends it holds the descriptor no longer than this deadline either.
            self._arm()

        def shutdown(self) -> None:
            if self.transport.is_closing():
                # Already closing (after its answer): a second close() of a TLS transport
                # drops its link to the TLS layer, which makes abort() a no-op, so the
                # deadline could no longer cut a client that never finishes the close and
                # the graceful stop would wait asyncio's 30 s for it.
                return
            super().shutdown()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            if self._counted and limits is not None:
                self._counted = False
                limits.give_back(self._address)
            super().connection_lost(exc)

        def _answering(self) -> bool:
            return self.cycle is not None and not self.cycle.response_complete

        def _arm(self) -> None:
            self._disarm()
            self._deadline = self.loop.call_later(header_timeout, self._expire)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _expire(self) -> None:
            self._deadline = None
            if not self._answering():
                self.transport.abort()  # as in connection_made: free the descriptor now

    return HeaderDeadline


class OncePerMinute(logging.Filter):
    """Lets one record per minute through whose message starts with ``prefix``: asyncio
    logs "socket.accept() out of system resource" (with a traceback) for every accept that
    fails while file descriptors run out, which is thousands a second under a flood."""

    def __init__(self, prefix: str, interval: float = 60.0) -> None:
        super().__init__()
        self.prefix = prefix
        self.interval = interval
        self._last: float | None = None
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        if not str(record.msg).startswith(self.prefix):
            return True
        now = time.monotonic()
        with self._lock:
            if self._last is not None and now - self._last < self.interval:
                return False
            self._last = now
        return True


#: What asyncio logs when accept() fails for want of file descriptors.
ACCEPT_FAILED = "socket.accept() out of system resource"


def quiet_accept_failures() -> None:
    """Install :class:`OncePerMinute` on asyncio's logger (once per process)."""
    asyncio_logger = logging.getLogger("asyncio")
    if not any(isinstance(f, OncePerMinute) for f in asyncio_logger.filters):
        asyncio_logger.addFilter(OncePerMinute(ACCEPT_FAILED))


#: File descriptors a server needs besides its connections: listeners, data stores,
#: blobs being written, log files, the keystore.
SPARE_FILES = 256


def raise_file_limit(max_connections: int) -> int:
    """Raise this process's soft limit on open files to its hard limit; ConfigurationError
    if that is too low for ``max_connections``. Returns the limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        target = hard
        if hard == resource.RLIM_INFINITY:
            target = max(soft, max_connections + SPARE_FILES)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < max_connections + SPARE_FILES:
        raise ConfigurationError(
            f"the limit on open files ({soft}) is too low for max_connections "
            f"({max_connections}): raise it (ulimit -n, LimitNOFILE=) to at least "
            f"{max_connections + SPARE_FILES}, or lower max_connections"
        )
    return int(soft)
