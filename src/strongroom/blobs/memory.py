"""Blobs in a dict: the same contract as the folder store, for tests and embedding."""

from __future__ import annotations

import contextlib
import io
import threading
from collections.abc import Iterator
from typing import BinaryIO

from strongroom.blobs.base import BlobWriter, check_key
from strongroom.errors import NotFound


class MemoryBlobStore:
    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def writer(self, key: str) -> Iterator[BlobWriter]:
        check_key(key)
        buffer = io.BytesIO()
        yield buffer
        with self._lock:
            self.blobs[key] = buffer.getvalue()

    @contextlib.contextmanager
    def open(self, key: str) -> Iterator[BinaryIO]:
        with self._lock:
            data = self.blobs.get(check_key(key))
        if data is None:
            raise NotFound(f"blob {key} is missing", blob=key)
        yield io.BytesIO(data)

    def delete(self, key: str) -> None:
        with self._lock:
            self.blobs.pop(check_key(key), None)

    def exists(self, key: str) -> bool:
        return check_key(key) in self.blobs
