"""Acceptance receipts: which owner accepted which agreement text (by its SHA-256) for
which workspace, when, and from which client; signed with the deployment's Ed25519 key,
the same key and the same canonical JSON as deletion certificates (crypto/certificates.py).

The signature covers every field but ``signature``. A receipt's SHA-256 (of its
canonical JSON, signature included) is what the acceptance row and the audit chain record.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from strongroom.crypto.certificates import ALGORITHM, canonical, key_fingerprint
from strongroom.domain.agreements import MAX_RECEIPT_BYTES
from strongroom.domain.rules import load_json
from strongroom.errors import IntegrityFailure, InvalidInput

FORMAT = "strongroom.agreement-receipt.v1"


def digest(document: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(document)).hexdigest()


def _time(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def issue(facts: dict[str, Any], key: Ed25519PrivateKey, issued_at: datetime) -> dict[str, Any]:
    """A signed receipt of ``facts`` (receipt_id, workspace_id, accepted_by, agreement,
    incorporates, client: plain JSON values)."""
    public = key.public_key().public_bytes_raw()
    body: dict[str, Any] = {
        "format": FORMAT,
        **facts,
        "accepted_at": _time(issued_at),
        "signing_key": {
            "algorithm": ALGORITHM,
            "public_key": base64.b64encode(public).decode(),
            "fingerprint": key_fingerprint(public),
        },
    }
    body["signature"] = base64.b64encode(key.sign(canonical(body))).decode()
    return body


def parse(text: str | bytes) -> dict[str, Any]:
    """A receipt's JSON; a key named twice is refused (load_json), as for certificates."""
    if len(text) > MAX_RECEIPT_BYTES:
        raise InvalidInput(f"not an acceptance receipt: larger than {MAX_RECEIPT_BYTES} bytes")
    try:
        document = load_json(text)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise InvalidInput("not an acceptance receipt: the file is not JSON") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise InvalidInput(f"not an acceptance receipt (format {FORMAT} expected)")
    return document


def check_signature(document: dict[str, Any], trusted: list[bytes]) -> bytes:
    """The public key that signed the receipt, one of ``trusted``; IntegrityFailure if the
    key is another's or the signature does not match the content."""
    body = {k: v for k, v in document.items() if k != "signature"}
    try:
        public = base64.b64decode(body["signing_key"]["public_key"], validate=True)
        signature = base64.b64decode(document["signature"], validate=True)
    except (KeyError, TypeError, ValueError):
        raise IntegrityFailure("the receipt's key or signature is missing or garbled") from None
    if public not in trusted:
        raise IntegrityFailure(
            f"the receipt was signed by key {key_fingerprint(public)}, which is not this "
            "deployment's"
        )
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, canonical(body))
    except (InvalidSignature, ValueError):
        raise IntegrityFailure("the receipt's signature does not match its content") from None
    return public
