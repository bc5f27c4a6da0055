"""Wrapping schemes of the PKCS#11 backend: probed from the token, recorded per root
version, refused early by a token that cannot serve them. On SoftHSM2 (which offers all
three) and on opencryptoki's software token (HMAC-SHA256, no AES-GCM, no AES key wrap).
The contract itself, per scheme, is in test_kms_contract.py."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pkcs11
import pytest
from pkcs11 import Attribute, KeyType, ObjectClass
from pkcs11.exceptions import AttributeSensitive

from strongroom.config import PKCS11_SCHEMES, Settings
from strongroom.crypto.kms import pkcs11_schemes
from strongroom.crypto.kms.pkcs11 import Pkcs11Kms
from strongroom.crypto.secret import SecretKey
from strongroom.errors import ConfigurationError, IntegrityFailure, KeyUnavailable
from tests.opencryptoki_support import OpencryptokiToken, opencryptoki_token
from tests.pkcs11_support import SoftHsmToken, new_softhsm_token

pytestmark = pytest.mark.pkcs11

CONTEXT = b"strongroom/workspace/ws_01/key-v1"


@pytest.fixture
def token(tmp_path_factory: pytest.TempPathFactory) -> SoftHsmToken:
    return new_softhsm_token(tmp_path_factory)


@pytest.fixture
def ock() -> OpencryptokiToken:
    return opencryptoki_token()


@pytest.fixture
def opened() -> Iterator[list[Pkcs11Kms]]:
    instances: list[Pkcs11Kms] = []
    yield instances
    for kms in instances:
        kms.close()


def _root_objects(module_path: str, label: str, pin: str) -> dict[bytes, dict[str, object]]:
    """The root key objects' attributes, read with a session of our own."""
    lib = pkcs11.lib(os.path.realpath(module_path))
    found: dict[bytes, dict[str, object]] = {}
    with lib.get_token(token_label=label).open(user_pin=pin) as session:
        for key in session.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY}):
            ident = bytes(key[Attribute.ID])
            if not ident.startswith(b"strongroom-root-v"):
                continue
            with pytest.raises(AttributeSensitive):
                key[Attribute.VALUE]
            found[ident] = {
                a.name: key[a]
                for a in (
                    Attribute.KEY_TYPE,
                    Attribute.VALUE_LEN,
                    Attribute.TOKEN,
                    Attribute.PRIVATE,
                    Attribute.SENSITIVE,
                    Attribute.EXTRACTABLE,
                    Attribute.NEVER_EXTRACTABLE,
                    Attribute.LOCAL,
                    Attribute.ENCRYPT,
                    Attribute.WRAP,
                    Attribute.SIGN,
                )
            }
    return found


_KEPT_INSIDE = {
    "VALUE_LEN": 32,
    "TOKEN": True,
    "PRIVATE": True,
    "SENSITIVE": True,
    "EXTRACTABLE": False,
    "NEVER_EXTRACTABLE": True,
    "LOCAL": True,
}


def test_softhsm_gets_aes_gcm_the_first_scheme(
    token: SoftHsmToken, opened: list[Pkcs11Kms]
) -> None:
    opened.append(Pkcs11Kms.create(token.module_path, token.token_label, token.pin))

    assert opened[0].scheme == "aes-gcm"
    assert opened[0].schemes() == {1: "aes-gcm"}


def test_each_root_version_keeps_the_scheme_it_was_made_with(
    token: SoftHsmToken, opened: list[Pkcs11Kms]
) -> None:
    args = (token.module_path, token.token_label, token.pin)
    first = Pkcs11Kms.create(*args, "aes-kwp")
    opened.append(first)
    key1 = SecretKey.generate("ws_01/v1")
    v1, blob1 = first.wrap(key1, CONTEXT)
    first.close()
    second = Pkcs11Kms.open(*args, "hmac-sha256-kdf")  # e.g. a later library or setting
    opened.append(second)
    v2 = second.rotate()
    key2 = SecretKey.generate("ws_01/v2")
    _, blob2 = second.wrap(key2, CONTEXT)
    second.close()
    third = Pkcs11Kms.open(*args)
    opened.append(third)
    v3 = third.rotate()

    assert third.schemes() == {v1: "aes-kwp", v2: "hmac-sha256-kdf", v3: "aes-gcm"}
    assert len(blob1) == 88 and len(blob2) == 76
    assert third.unwrap(v1, blob1, CONTEXT, "ws_01/v1") == key1
    assert third.unwrap(v2, blob2, CONTEXT, "ws_01/v2") == key2
    with pytest.raises(IntegrityFailure):  # a blob of one version named as another's
        third.unwrap(v2, blob1, CONTEXT, "ws_01/v1")
    third.close()
    found = _root_objects(*args)
    kinds = {
        ident: (o["KEY_TYPE"], o["ENCRYPT"], o["WRAP"], o["SIGN"]) for ident, o in found.items()
    }
    assert kinds == {
        b"strongroom-root-v000001": (KeyType.AES, False, True, False),
        b"strongroom-root-v000002": (KeyType.GENERIC_SECRET, False, False, True),
        b"strongroom-root-v000003": (KeyType.AES, True, False, False),
    }
    for attributes in found.values():
        assert {k: attributes[k] for k in _KEPT_INSIDE} == _KEPT_INSIDE


def test_opencryptoki_gets_hmac_sha256_kdf_and_keeps_the_key_inside(
    ock: OpencryptokiToken, opened: list[Pkcs11Kms]
) -> None:
    kms = Pkcs11Kms.create(ock.module_path, ock.token_label, ock.pin)
    opened.append(kms)
    key = SecretKey.generate("ws_01/v1")
    version, blob = kms.wrap(key, CONTEXT)
    kms.rotate()

    assert kms.schemes() == {1: "hmac-sha256-kdf", 2: "hmac-sha256-kdf"}
    assert kms.unwrap(version, blob, CONTEXT, "ws_01/v1") == key
    kms.close()
    found = _root_objects(ock.module_path, ock.token_label, ock.pin)
    assert sorted(found) == [b"strongroom-root-v000001", b"strongroom-root-v000002"]
    for attributes in found.values():
        assert attributes["KEY_TYPE"] == KeyType.GENERIC_SECRET
        assert (attributes["SIGN"], attributes["ENCRYPT"]) == (True, False)
        assert {k: attributes[k] for k in _KEPT_INSIDE} == _KEPT_INSIDE


@pytest.mark.parametrize(
    ("scheme", "mechanism"),
    [("aes-gcm", "CKM_AES_GCM"), ("aes-kwp", "CKM_AES_KEY_WRAP_PAD")],
)
def test_a_scheme_the_token_lacks_is_refused_at_once_naming_the_mechanism(
    ock: OpencryptokiToken, scheme: str, mechanism: str
) -> None:
    with pytest.raises(ConfigurationError) as refused:
        Pkcs11Kms.create(ock.module_path, ock.token_label, ock.pin, scheme)

    message = str(refused.value)
    assert mechanism in message and scheme in message and ock.token_label in message
    assert "\n" not in message and ock.pin not in message
    with pytest.raises(KeyUnavailable):  # nothing was left in the token
        Pkcs11Kms.open(ock.module_path, ock.token_label, ock.pin)


def test_an_unknown_scheme_is_refused(token: SoftHsmToken, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as refused:
        Pkcs11Kms.create(token.module_path, token.token_label, token.pin, "rot13")
    assert "aes-kwp" in str(refused.value)

    with pytest.raises(ConfigurationError) as bad_setting:
        Settings(home=tmp_path, pkcs11_scheme="rot13").validate()
    assert "pkcs11_scheme" in str(bad_setting.value)
    assert pkcs11_schemes.CHOICES == PKCS11_SCHEMES  # the setting names what the code has
