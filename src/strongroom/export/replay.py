"""The JSON Lines of one collection, kept in memory up to a fixed bound, so the CSV pass
can read them back instead of reading and decrypting every record again.

Reading a record through the Records service (query, row mapping, AES-GCM, JSON) costs
several times what parsing its JSON line again does. Past the bound the buffer is dropped
and the CSV pass reads the records again: memory stays bounded whatever the collection's
size. Nothing here touches the disk. (Keeping the lines deflated at level 1 held five times
as many in the same memory but cost about a tenth of the export's time on the benchmark.)
"""

from __future__ import annotations

from collections.abc import Iterator

from strongroom.export.rows import CsvRecord, csv_record_of_line

#: Most bytes of JSON Lines kept.
MAX_BYTES = 48 * 1024 * 1024


class Replay:
    def __init__(self, max_bytes: int | None = None) -> None:
        self._max = MAX_BYTES if max_bytes is None else max_bytes
        self._pages: list[bytes] = []
        self._size = 0
        self.complete = True  # False once the bound was passed

    def add(self, jsonl: bytes) -> None:
        if not self.complete:
            return
        self._size += len(jsonl)
        if self._size > self._max:
            self._pages.clear()
            self.complete = False
            return
        self._pages.append(jsonl)

    def pages(self) -> Iterator[list[CsvRecord]]:
        """The kept pages, each as CSV records, releasing each page once read."""
        self._pages.reverse()  # pop from the end: each page is released once read
        while self._pages:
            text = self._pages.pop()
            yield [csv_record_of_line(line) for line in text.split(b"\n") if line]
