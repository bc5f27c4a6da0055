"""The JSON Lines of one collection, kept deflated in memory up to a fixed bound, so the
CSV pass can read them back instead of reading and decrypting every record again.

Reading a record through the Records service (query, row mapping, AES-GCM, JSON) costs
several times what parsing its JSON line again does; JSON records deflate to about a fifth.
Past the bound the buffer is dropped and the CSV pass reads the records again: memory stays
bounded whatever the collection's size. Nothing here touches the disk.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

from strongroom.export.rows import CsvRecord, csv_record_of_line

#: Most deflated bytes kept (about 80 MiB of JSON Lines).
MAX_BYTES = 16 * 1024 * 1024
LEVEL = 1


class Replay:
    def __init__(self, max_bytes: int | None = None) -> None:
        self._max = MAX_BYTES if max_bytes is None else max_bytes
        self._pages: list[bytes] = []
        self._size = 0
        self.complete = True  # False once the bound was passed

    def add(self, jsonl: bytes) -> None:
        if not self.complete:
            return
        packed = zlib.compress(jsonl, LEVEL)
        self._size += len(packed)
        if self._size > self._max:
            self._pages.clear()
            self.complete = False
            return
        self._pages.append(packed)

    def pages(self) -> Iterator[list[CsvRecord]]:
        """The kept pages, each as CSV records, releasing each page once read."""
        while self._pages:
            text = zlib.decompress(self._pages.pop(0))
            yield [csv_record_of_line(line) for line in text.split(b"\n") if line]
