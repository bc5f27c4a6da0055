"""The blob store port. A blob is written once, in full, and becomes visible only when
its writer finishes without error."""

from __future__ import annotations

import re
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import BinaryIO, Protocol, runtime_checkable

from strongroom.errors import InvalidInput

_KEY = re.compile(r"^[a-z0-9_]{4,128}")


def check_key(key: str) -> str:
    if not _KEY.fullmatch(key):
        raise InvalidInput(f"not a blob key: {key[:64]!r}")
    return key


class BlobWriter(Protocol):
    def write(self, data: bytes) -> object: ...


class BlobStore(Protocol):
    def writer(self, key: str) -> AbstractContextManager[BlobWriter]:
        """Write a new blob; it appears on clean exit and is discarded on an exception."""
        ...

    def open(self, key: str) -> AbstractContextManager[BinaryIO]: ...

    def delete(self, key: str) -> None:
        """Remove a blob; removing a missing blob is not an error."""
        ...

    def exists(self, key: str) -> bool: ...


@runtime_checkable
class SweepsAbandoned(Protocol):
    """A store where a writer killed mid-write leaves something behind (a partial file, an
    unfinished multipart upload), never visible as a blob."""

    def sweep_abandoned(self, max_age: timedelta, now: float | None = None) -> int:
        """Remove what writers left that were begun more than ``max_age`` ago; how many."""
        ...
