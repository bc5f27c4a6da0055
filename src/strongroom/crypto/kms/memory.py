"""An in-process root key: same contract as the real backends, nothing on disk."""

from __future__ import annotations

from strongroom.crypto.kms.base import SoftwareRoot
from strongroom.crypto.secret import SecretKey


class MemoryKms(SoftwareRoot):
    backend = "memory"
    for_development = True

    def __init__(self) -> None:
        super().__init__({1: SecretKey.generate("root-v1")})
