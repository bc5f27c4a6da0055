"""An upload body read by a worker thread: the async request stream as a blocking
file-like ``read``, so a file streams into encryption without being held in memory."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio.from_thread

from strongroom.errors import TooLarge


class ThreadBodyReader:
    """``read(n)`` for a worker thread, pulling chunks from the event loop on demand."""

    def __init__(self, stream: AsyncIterator[bytes], limit: int) -> None:
        self._stream = stream
        self._limit = limit
        self._buffer = bytearray()
        self._done = False
        self.received = 0

    async def _next_chunk(self) -> bytes:
        try:
            return await self._stream.__anext__()
        except StopAsyncIteration:
            return b""

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
