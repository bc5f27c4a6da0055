"""What every service needs, built once by bootstrap."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from strongroom.blobs.base import BlobStore
from strongroom.clock import Clock
from strongroom.config import Settings
from strongroom.crypto import envelope
from strongroom.crypto.envelope import Binding, KeyLookup
from strongroom.crypto.keyring import DATA_KEY_VERSION, Keyring
from strongroom.crypto.secret import SecretKey
from strongroom.domain.lifecycle import Retention
from strongroom.errors import IntegrityFailure
from strongroom.services import audit
from strongroom.services.ledger import Ledger
from strongroom.services.shredder import Shredder
from strongroom.storage.unit_of_work import DataStore


@dataclass
class Context:
    store: DataStore
    keyring: Keyring
    #: The deletion ledger (in the keystore's database, outside the keyring's keys).
    ledger: Ledger
    blobs: BlobStore
    clock: Clock
    settings: Settings
    #: Tells the lifecycle worker (if one runs in this process) that work became due.
    wake_worker: Callable[[], None] = field(default=lambda: None)

    @cached_property
    def shredder(self) -> Shredder:
        """What every permanent deletion runs (purges, the ledger replay of a restore)."""
        return Shredder(self.store, self.keyring, self.blobs)

    @cached_property
    def retention(self) -> Retention:
        s = self.settings
        return Retention.days(s.trash_days, s.trial_retention_days, s.cancellation_window_days)

    def expect_key(self, key_id: str) -> KeyLookup:
        """A key lookup that accepts only headers naming ``key_id``."""

        def lookup(header_key_id: str, version: int) -> SecretKey:
            if header_key_id != key_id:
                raise IntegrityFailure(
                    f"ciphertext names key {header_key_id[:40]!r}, expected {key_id}"
                )
            return self.keyring.lookup(key_id, version)

        return lookup

    def seal(self, key_id: str, binding: Binding, data: bytes) -> bytes:
        key = self.keyring.lookup(key_id, DATA_KEY_VERSION)
        return envelope.seal(key, key_id, DATA_KEY_VERSION, binding, data)

    def open(self, key_id: str, binding: Binding, sealed: bytes, actor: str) -> bytes:
        """Decrypt; a failure is audited (without plaintext) and raised."""
        try:
            return envelope.open_sealed(
                sealed,
                binding,
                self.keyring.lookup,
                expected_key_id=key_id,
                derived=self.keyring.derived,
            )
        except IntegrityFailure:
            self.audit_failure(actor, binding)
            raise

    def audit_failure(self, actor: str, binding: Binding) -> None:
        audit.record(
            self.store,
            self.clock.now(),
            actor,
            "decrypt.failed",
            binding.workspace_id or None,
            purpose=binding.purpose,
            project_id=binding.project_id or None,
            object_id=binding.object_id,
        )
