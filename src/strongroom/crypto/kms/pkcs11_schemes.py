"""How a PKCS#11 root key wraps workspace keys: three schemes, chosen from what the token
offers, each binding the wrapped key to its ``context``.

Tried in this order (the first the token offers *and* passes a trial with wins):

1. ``aes-gcm``: AES-256-GCM computed by the token (``CKM_AES_GCM``, encrypt/decrypt), a
   random 96-bit IV drawn by Strongroom, ``context`` as associated data. Blob:
   ``iv(12) + ciphertext(32) + tag(16)``. Root versions made before schemes existed are
   this scheme.
2. ``aes-kwp``: AES key wrap with padding, RFC 5649 (``CKM_AES_KEY_WRAP_PAD``,
   wrap/unwrap). The token wraps ``salt(16) + SHA-256(context)(32) + key(32)``, imported
   as a short-lived session object; RFC 5649 authenticates the whole input, so a blob
   moved to another context unwraps to the wrong digest and is refused. Blob: 88 bytes.
3. ``hmac-sha256-kdf``: HMAC-SHA256 in the token (``CKM_SHA256_HMAC``, sign) over
   ``salt(16) + context`` gives a wrapping key for this one wrap; AES-256-GCM in
   software under it, ``context`` again as associated data. Blob:
   ``salt(16) + iv(12) + ciphertext(32) + tag(16)``.

The scheme of a root version is read from its token object, never guessed from a blob:
an AES key allowed to encrypt (and not to wrap) is ``aes-gcm``, an AES key allowed to
wrap (and not to encrypt) is ``aes-kwp``, a generic secret allowed to sign is
``hmac-sha256-kdf``. So each root key serves exactly one scheme, and a later token or
library update never strands old wraps. These functions run under pkcs11.py's lock.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pkcs11 import Attribute, KeyType, Mechanism, MechanismFlag, ObjectClass
from pkcs11.exceptions import PKCS11Error
from pkcs11.mechanisms import GCMParams

from strongroom.crypto.policy import KEY_BYTES, NONCE_BYTES, SALT_BYTES, TAG_BYTES

AES_GCM = "aes-gcm"
AES_KWP = "aes-kwp"
HMAC_KDF = "hmac-sha256-kdf"
#: The documented order of preference.
SCHEMES = (AES_GCM, AES_KWP, HMAC_KDF)
#: What a setting may ask for.
CHOICES = ("auto", *SCHEMES)

_DIGEST_BYTES = 32
_KWP_PREFIX = b"strongroom/aes-kwp/context\x00"
_KDF_PREFIX = b"strongroom/hmac-sha256-kdf/wrap-key\x00"


class Refused(Exception):
    """The token cannot serve a scheme; the message names what is missing."""


class Unauthentic(Exception):
    """A blob failed authentication under its scheme (wrong context, tampered, cut)."""


@dataclass(frozen=True)
class Needs:
    """What a scheme asks of the token."""

    key_type: KeyType
    generate: Mechanism
    use: Mechanism
    capabilities: MechanismFlag
    blob_bytes: int
    description: str


NEEDS: dict[str, Needs] = {
    AES_GCM: Needs(
        KeyType.AES,
        Mechanism.AES_KEY_GEN,
        Mechanism.AES_GCM,
        MechanismFlag.ENCRYPT | MechanismFlag.DECRYPT,
        NONCE_BYTES + KEY_BYTES + TAG_BYTES,
        "AES-256-GCM in the token",
    ),
    AES_KWP: Needs(
        KeyType.AES,
        Mechanism.AES_KEY_GEN,
        Mechanism.AES_KEY_WRAP_PAD,
        MechanismFlag.WRAP | MechanismFlag.UNWRAP,
        SALT_BYTES + _DIGEST_BYTES + KEY_BYTES + 8,
        "AES key wrap with padding (RFC 5649) in the token, context digest inside the wrap",
    ),
    HMAC_KDF: Needs(
        KeyType.GENERIC_SECRET,
        Mechanism.GENERIC_SECRET_KEY_GEN,
        Mechanism.SHA256_HMAC,
        MechanismFlag.SIGN,
        SALT_BYTES + NONCE_BYTES + KEY_BYTES + TAG_BYTES,
        "HMAC-SHA256 in the token derives a key per wrap; AES-256-GCM in software",
    ),
}

#: The attributes every root key is generated with (besides its capabilities).
KEY_TEMPLATE: dict[Attribute, Any] = {
    Attribute.PRIVATE: True,
    Attribute.SENSITIVE: True,
    Attribute.EXTRACTABLE: False,
}


def ck(mechanism: Mechanism) -> str:
    return f"CKM_{mechanism.name}"


def scheme_of(obj: Any) -> str | None:
    """The scheme a root key object serves, from its own attributes (None: no one scheme)."""
    key_type = obj[Attribute.KEY_TYPE]
    if key_type == KeyType.GENERIC_SECRET:
        return HMAC_KDF if obj[Attribute.SIGN] is True else None
    if key_type != KeyType.AES:
        return None
    encrypts = obj[Attribute.ENCRYPT] is True
    wraps = obj[Attribute.WRAP] is True
    if encrypts and not wraps:
        return AES_GCM
    if wraps and not encrypts:
        return AES_KWP
    return None


def generate(session: Any, scheme: str, *, store: bool, ident: str | None = None) -> Any:
    """A new root key for ``scheme`` (a token object when ``store``; else a trial key)."""
    needs = NEEDS[scheme]
    extra: dict[str, Any] = {}
    if ident is not None:
        extra = {"id": ident.encode(), "label": ident}
    return session.generate_key(
        needs.key_type,
        KEY_BYTES * 8,
        store=store,
        capabilities=needs.capabilities,
        mechanism=needs.generate,
        template={**KEY_TEMPLATE, **({Attribute.MODIFIABLE: False} if store else {})},
        **extra,
    )


def probe(session: Any, offered: set[Mechanism], scheme: str) -> None:
    """Raise :class:`Refused` unless the token offers ``scheme``'s mechanisms and a trial
    wrap and unwrap with a throwaway session key of the same attributes works."""
    needs = NEEDS[scheme]
    missing = [ck(m) for m in (needs.generate, needs.use) if m not in offered]
    if missing:
        raise Refused(f"{scheme}: the token does not offer {' or '.join(missing)}")
    try:
        key = generate(session, scheme, store=False)
    except PKCS11Error as exc:
        raise Refused(
            f"{scheme}: the token refused to generate a 256-bit key with CKA_SENSITIVE=TRUE, "
            f"CKA_EXTRACTABLE=FALSE, CKA_PRIVATE=TRUE ({type(exc).__name__})"
        ) from None
    try:
        trial = os.urandom(KEY_BYTES)
        blob = wrap(session, scheme, key, trial, b"strongroom/probe")
        if unwrap(session, scheme, key, blob, b"strongroom/probe") != trial:
            raise Refused(f"{scheme}: a trial with {ck(needs.use)} did not round-trip")
    except (PKCS11Error, Unauthentic) as exc:
        raise Refused(
            f"{scheme}: a trial with {ck(needs.use)} failed ({type(exc).__name__})"
        ) from None
    finally:
        with contextlib.suppress(PKCS11Error):
            key.destroy()


def _context_digest(context: bytes) -> bytes:
    return hashlib.sha256(_KWP_PREFIX + context).digest()


def _derived(root: Any, salt: bytes, context: bytes) -> bytes:
    return bytes(root.sign(_KDF_PREFIX + salt + context, mechanism=Mechanism.SHA256_HMAC))


def wrap(session: Any, scheme: str, root: Any, key: bytes, context: bytes) -> bytes:
    """``key`` wrapped under ``root`` by ``scheme``, bound to ``context``."""
    if scheme == AES_GCM:
        iv = os.urandom(NONCE_BYTES)
        sealed = root.encrypt(
            key,
            mechanism=Mechanism.AES_GCM,
            mechanism_param=GCMParams(iv, context, TAG_BYTES * 8),
        )
        return iv + bytes(sealed)
    if scheme == AES_KWP:
        payload = os.urandom(SALT_BYTES) + _context_digest(context) + key
        plain = session.create_object(
            {
                Attribute.CLASS: ObjectClass.SECRET_KEY,
                Attribute.KEY_TYPE: KeyType.GENERIC_SECRET,
                Attribute.VALUE: payload,
                Attribute.TOKEN: False,
                Attribute.PRIVATE: True,
                Attribute.SENSITIVE: False,
                Attribute.EXTRACTABLE: True,
            }
        )
        try:
            return bytes(root.wrap_key(plain, mechanism=Mechanism.AES_KEY_WRAP_PAD))
        finally:
            plain.destroy()
    salt = os.urandom(SALT_BYTES)
    iv = os.urandom(NONCE_BYTES)
    return salt + iv + AESGCM(_derived(root, salt, context)).encrypt(iv, key, context)


def unwrap(session: Any, scheme: str, root: Any, blob: bytes, context: bytes) -> bytes:
    """The key in ``blob``; :class:`Unauthentic` if it was not wrapped for ``context``.
    PKCS#11 errors other than an authentication failure pass through."""
    if len(blob) != NEEDS[scheme].blob_bytes:
        raise Unauthentic("wrong length")
    if scheme == AES_GCM:
        return bytes(
            root.decrypt(
                blob[NONCE_BYTES:],
                mechanism=Mechanism.AES_GCM,
                mechanism_param=GCMParams(blob[:NONCE_BYTES], context, TAG_BYTES * 8),
            )
        )
    if scheme == AES_KWP:
        plain = root.unwrap_key(
            ObjectClass.SECRET_KEY,
            KeyType.GENERIC_SECRET,
            blob,
            mechanism=Mechanism.AES_KEY_WRAP_PAD,
            store=False,
            capabilities=MechanismFlag(0),
            template={
                Attribute.PRIVATE: True,
                Attribute.SENSITIVE: False,
                Attribute.EXTRACTABLE: True,
            },
        )
        try:
            payload = bytes(plain[Attribute.VALUE])
        finally:
            plain.destroy()
        digest = payload[SALT_BYTES : SALT_BYTES + _DIGEST_BYTES]
        if len(payload) != SALT_BYTES + _DIGEST_BYTES + KEY_BYTES or not hmac.compare_digest(
            digest, _context_digest(context)
        ):
            raise Unauthentic("context mismatch")
        return payload[SALT_BYTES + _DIGEST_BYTES :]
    salt, iv = blob[:SALT_BYTES], blob[SALT_BYTES : SALT_BYTES + NONCE_BYTES]
    try:
        return AESGCM(_derived(root, salt, context)).decrypt(
            iv, blob[SALT_BYTES + NONCE_BYTES :], context
        )
    except InvalidTag:
        raise Unauthentic("tag mismatch") from None
