"""The root key and the key cache, timed and counted (``open_strongroom(metered=True)``).

:class:`MeteredKms` stands in front of any backend (local, PKCS#11, Transit …): each call
is timed into ``strongroom_kms_call_duration_seconds`` and, when it raises, counted into
``strongroom_kms_call_errors_total`` with the error's class; the error itself goes on
unchanged. ``rewrap`` exists exactly when the backend has it, so the keyring's choice
between rewrapping inside the KMS and unwrapping here (crypto/kms/base.rewrap) is the
backend's, as without the meter. Any other attribute is the backend's own.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from time import perf_counter
from typing import Any, TypeVar

from strongroom.crypto.cache import KeyCache
from strongroom.crypto.kms.base import RootKeyVersion, RootKms
from strongroom.crypto.secret import SecretKey
from strongroom.errors import StrongroomError
from strongroom.observability.instruments import (
    KEY_CACHE_HITS,
    KEY_CACHE_MISSES,
    KMS_ERRORS,
    KMS_SECONDS,
)

T = TypeVar("T")


def error_name(error: BaseException) -> str:
    """The ``error`` label: a class of errors.py's tree (bounded), else "unexpected"."""
    return type(error).__name__ if isinstance(error, StrongroomError) else "unexpected"


class MeteredKms:
    """``kms``, its calls timed and its failures counted by operation."""

    def __init__(self, kms: RootKms) -> None:
        self.inner = kms
        self.backend = kms.backend
        self.for_development = kms.for_development

    def __repr__(self) -> str:
        return f"MeteredKms({self.inner!r})"

    def _call(self, operation: str, call: Callable[..., T], *args: Any) -> T:
        started = perf_counter()
        try:
            return call(*args)
        except BaseException as error:
            KMS_ERRORS.labels(operation, self.backend, error_name(error)).inc()
            raise
        finally:
            KMS_SECONDS.labels(operation, self.backend).observe(perf_counter() - started)

    def current_version(self) -> int:
        return self._call("current_version", self.inner.current_version)

    def wrap(self, key: SecretKey, context: bytes) -> tuple[int, bytes]:
        return self._call("wrap", self.inner.wrap, key, context)

    def unwrap(self, version: int, wrapped: bytes, context: bytes, label: str) -> SecretKey:
        return self._call("unwrap", self.inner.unwrap, version, wrapped, context, label)

    def rotate(self) -> int:
        return self._call("rotate", self.inner.rotate)

    def destroy_version(self, version: int) -> None:
        self._call("destroy_version", self.inner.destroy_version, version)

    def versions(self) -> list[RootKeyVersion]:
        return self._call("versions", self.inner.versions)

    def close(self) -> None:
        self.inner.close()

    def __getattr__(self, name: str) -> Any:
        """The backend's other attributes; its ``rewrap`` (if any) metered."""
        if name in ("inner", "backend", "for_development"):  # not set yet: no recursion
            raise AttributeError(name)
        found = getattr(self.inner, name)
        if name != "rewrap":
            return found

        def rewrap(version: int, wrapped: bytes, context: bytes, label: str) -> tuple[int, bytes]:
            result: tuple[int, bytes] = self._call(
                "rewrap", found, version, wrapped, context, label
            )
            return result

        return rewrap


class MeteredKeyCache(KeyCache[T]):
    """The key cache, its hits and misses counted for Prometheus too."""

    def get(self, name: Hashable) -> T | None:
        found = super().get(name)
        (KEY_CACHE_MISSES if found is None else KEY_CACHE_HITS).inc()
        return found
