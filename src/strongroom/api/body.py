"""An upload body read by a worker thread: the async request stream as a blocking
file-like ``read``, so a file streams into encryption without being held in memory.

Each chunk is awaited in the event loop under a deadline: a client that stops sending
for ``idle_timeout`` seconds fails the read with RequestTimeout (408), which unwinds the
upload and removes its partial blob. So a stalled body holds its lane's thread for at
most that long (api/admission.py keeps those threads apart from every other route's)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import anyio.from_thread

from strongroom.errors import RequestTimeout, TooLarge


class ThreadBodyReader:
    """``read(n)`` for a worker thread, pulling chunks from the event loop on demand."""

    def __init__(self, stream: AsyncIterator[bytes], limit: int, idle_timeout: float) -> None:
        self._stream = stream
        self._limit = limit
        self._idle_timeout = idle_timeout
        self._buffer = bytearray()
        self._done = False
        self.received = 0

    async def _next_chunk(self) -> bytes:
        try:
            with anyio.fail_after(self._idle_timeout):
                return await self._stream.__anext__()
        except StopAsyncIteration:
            return b""
        except TimeoutError:
            raise RequestTimeout(
                f"the upload sent nothing for {self._idle_timeout:g} seconds "
                f"after {self.received} bytes; nothing was kept"
            ) from None

    def read(self, n: int = -1) -> bytes:
        while not self._done and (n < 0 or len(self._buffer) < n):
            chunk = anyio.from_thread.run(self._next_chunk)
            if not chunk:
                self._done = True
                break
            self.received += len(chunk)
            if self.received > self._limit:
                raise TooLarge(f"the upload is over the limit of {self._limit} bytes")
            self._buffer += chunk
        if n < 0:
            n = len(self._buffer)
        out = bytes(self._buffer[:n])
        del self._buffer[:n]
        return out
