"""Deletion certificates: what was purged, why, when, how much, which keys were destroyed
and which backups still hold ciphertext; signed with the deployment's Ed25519 key.

The signature covers the canonical JSON (sorted keys, no spaces, UTF-8) of every field
but ``signature``. A certificate's SHA-256 (of its canonical JSON, signature included) is
what the deletion ledger and the audit chain record.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from strongroom.domain.rules import load_json
from strongroom.errors import IntegrityFailure, InvalidInput

FORMAT = "strongroom.deletion-certificate.v1"
ALGORITHM = "Ed25519"


def canonical(document: dict[str, Any]) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def digest(document: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(document)).hexdigest()


def key_fingerprint(public_key: bytes) -> str:
    return "sha256:" + hashlib.sha256(public_key).hexdigest()[:32]


def _time(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Facts:
    """What a purge establishes, before it is signed."""

    certificate_id: str
    kind: str  # project | record | file | workspace
    subject_id: str
    workspace_id: str
    project_id: str | None
    reason: str
    deleted_at: datetime
    purged_at: datetime
    counts: dict[str, int]
    destroyed_keys: list[str]
    backups: list[dict[str, str]]
    #: Keys that still exist and can decrypt copies of the ciphertext made before the
    #: purge (a record's or file's project key); empty when the purge destroyed the key.
    retained_keys: list[str] = field(default_factory=list)
    #: A privacy erasure's own facts: the request, what went per collection, the records
    #: erased and redacted by id, those left pending under a legal hold, and the subject's
    #: blind-index digests (keyed by the workspace's key; a restore's replay locates the
    #: subject again by them). None for every other purge.
    erasure: dict[str, Any] | None = None
    #: When the destroyed key became unrecoverable everywhere: the shred epoch after the
    #: purge, which destroys the root versions wrapping every lingering copy of it
    #: (lifecycle/shred_epoch.py). None when no key was destroyed, and in certificates
    #: issued before shred epochs (absent from their JSON: they still verify).
    key_unrecoverable_by: datetime | None = None


def issue(facts: Facts, key: Ed25519PrivateKey, issued_at: datetime) -> dict[str, Any]:
    public = key.public_key().public_bytes_raw()
    body: dict[str, Any] = {
        "format": FORMAT,
        "certificate_id": facts.certificate_id,
        "issued_at": _time(issued_at),
        "subject": {
            "kind": facts.kind,
            "id": facts.subject_id,
            "workspace_id": facts.workspace_id,
            "project_id": facts.project_id,
        },
        "reason": facts.reason,
        "deleted_at": _time(facts.deleted_at),
        "purged_at": _time(facts.purged_at),
        "counts": dict(sorted(facts.counts.items())),
        "destroyed_keys": sorted(facts.destroyed_keys),
        "retained_keys": sorted(facts.retained_keys),
        "backups_holding_ciphertext": facts.backups,
        **({} if facts.erasure is None else {"erasure": facts.erasure}),
        **(
            {}
            if facts.key_unrecoverable_by is None
            else {"key_unrecoverable_everywhere_by": _time(facts.key_unrecoverable_by)}
        ),
        "signing_key": {
            "algorithm": ALGORITHM,
            "public_key": base64.b64encode(public).decode(),
            "fingerprint": key_fingerprint(public),
        },
    }
    body["signature"] = base64.b64encode(key.sign(canonical(body))).decode()
    return body


def parse(text: str | bytes) -> dict[str, Any]:
    """A certificate's JSON; one naming a key twice is refused, since the signature would be
    checked over the value read last while another reader may show the first."""
    try:
        document = load_json(text)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("not a deletion certificate: the file is not JSON") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise InvalidInput(f"not a deletion certificate (format {FORMAT} expected)")
    return document


def check_signature(document: dict[str, Any], trusted: list[bytes]) -> bytes:
    """Check the signature with the certificate's key, which must be one of ``trusted``
    (the deployment's public keys). Returns the public key used; IntegrityFailure if the
    key is not trusted or the signature does not match."""
    body = {k: v for k, v in document.items() if k != "signature"}
    try:
        public = base64.b64decode(body["signing_key"]["public_key"], validate=True)
        signature = base64.b64decode(document["signature"], validate=True)
    except (KeyError, TypeError, ValueError):
        raise IntegrityFailure("the certificate's key or signature is missing or garbled") from None
    if public not in trusted:
        raise IntegrityFailure(
            f"the certificate was signed by key {key_fingerprint(public)}, which is not this "
            "deployment's"
        )
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, canonical(body))
    except (InvalidSignature, ValueError):
        raise IntegrityFailure("the certificate's signature does not match its content") from None
    return public
