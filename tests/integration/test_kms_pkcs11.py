"""The PKCS#11 backend against a real SoftHSM2 token: login, key attributes, reopening,
sharing one token between instances, threads.

(That no key bytes reach the token folder in clear is not checked here: SoftHSM2
encrypts its object files under a key derived from the PIN.)
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pkcs11
import pytest
from pkcs11 import Attribute, KeyType, ObjectClass
from pkcs11.exceptions import AttributeSensitive

from strongroom.crypto.kms.base import RootKeyVersion
from strongroom.crypto.kms.pkcs11 import Pkcs11Kms
from strongroom.crypto.secret import SecretKey
from strongroom.errors import (
    ConfigurationError,
    IntegrityFailure,
    KeyUnavailable,
    KmsAuthenticationFailed,
    KmsFailure,
)
from tests.pkcs11_support import SoftHsmToken, new_softhsm_token

pytestmark = pytest.mark.pkcs11

CONTEXT = b"strongroom/workspace/ws_01/key-v1"
WRONG_PIN = "9999-not-the-pin"

Opener = Callable[..., Pkcs11Kms]


@pytest.fixture
def token(tmp_path_factory: pytest.TempPathFactory) -> SoftHsmToken:
    return new_softhsm_token(tmp_path_factory)


@pytest.fixture
def opened() -> Iterator[list[Pkcs11Kms]]:
    """Instances to close at the end of the test, whatever happened."""
    instances: list[Pkcs11Kms] = []
    yield instances
    for kms in instances:
        kms.close()


@pytest.fixture
def create(token: SoftHsmToken, opened: list[Pkcs11Kms]) -> Opener:
    def _create(pin: str = token.pin) -> Pkcs11Kms:
        opened.append(Pkcs11Kms.create(token.module_path, token.token_label, pin))
        return opened[-1]

    return _create


@pytest.fixture
def reopen(token: SoftHsmToken, opened: list[Pkcs11Kms]) -> Opener:
    def _open(pin: str = token.pin) -> Pkcs11Kms:
        opened.append(Pkcs11Kms.open(token.module_path, token.token_label, pin))
        return opened[-1]

    return _open


def test_pkcs11_is_a_production_backend(create: Opener) -> None:
    kms = create()
    assert (kms.backend, kms.for_development) == ("pkcs11", False)
    assert kms.versions() == [RootKeyVersion(1, "active")]


def test_pkcs11_wrong_pin_is_refused_without_showing_it(
    token: SoftHsmToken, create: Opener, reopen: Opener
) -> None:
    create().close()

    with pytest.raises(KmsAuthenticationFailed) as refused:
        reopen(WRONG_PIN)

    message = str(refused.value)
    assert message == f"PKCS#11 login to token '{token.token_label}' failed: wrong PIN"
    assert WRONG_PIN not in message + repr(refused.value)
    assert token.pin not in message


def test_pkcs11_wrong_pin_is_refused_while_another_instance_is_logged_in(
    token: SoftHsmToken, create: Opener, reopen: Opener
) -> None:
    kms = create()

    with pytest.raises(KmsAuthenticationFailed) as refused:
        reopen(WRONG_PIN)

    assert WRONG_PIN not in str(refused.value)
    assert kms.current_version() == 1  # the logged-in instance is unharmed


def test_pkcs11_root_key_is_sensitive_and_never_extractable(
    token: SoftHsmToken, create: Opener
) -> None:
    kms = create()
    kms.rotate()
    kms.close()  # login is per application: inspect with our own session

    lib = pkcs11.lib(os.path.realpath(token.module_path))
    with lib.get_token(token_label=token.token_label).open(user_pin=token.pin) as session:
        keys = list(session.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY}))
        assert sorted(bytes(k[Attribute.ID]) for k in keys) == [
            b"strongroom-root-v000001",
            b"strongroom-root-v000002",
        ]
        for key in keys:
            assert key[Attribute.LABEL] == bytes(key[Attribute.ID]).decode()
            assert key[Attribute.KEY_TYPE] == KeyType.AES
            assert key[Attribute.VALUE_LEN] == 32
            assert key[Attribute.TOKEN] is True
            assert key[Attribute.PRIVATE] is True
            assert key[Attribute.SENSITIVE] is True
            assert key[Attribute.ALWAYS_SENSITIVE] is True
            assert key[Attribute.EXTRACTABLE] is False
            assert key[Attribute.NEVER_EXTRACTABLE] is True
            assert key[Attribute.WRAP] is False
            with pytest.raises(AttributeSensitive):
                key[Attribute.VALUE]
    with lib.get_token(token_label=token.token_label).open() as anonymous:
        assert list(anonymous.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY})) == []


def test_pkcs11_reopening_unwraps_what_was_wrapped_before(create: Opener, reopen: Opener) -> None:
    first = create()
    key = SecretKey.generate("ws_01/v1")
    version, blob = first.wrap(key, CONTEXT)
    first.rotate()
    first.close()

    again = reopen()

    assert again.current_version() == 2
    assert again.unwrap(version, blob, CONTEXT, "ws_01/v1") == key


def test_pkcs11_create_refuses_a_token_that_has_a_root_key(
    token: SoftHsmToken, create: Opener
) -> None:
    create()

    with pytest.raises(ConfigurationError) as refused:
        create()

    assert token.token_label in str(refused.value)


def test_pkcs11_open_of_a_token_without_root_key_fails(token: SoftHsmToken, reopen: Opener) -> None:
    with pytest.raises(KeyUnavailable) as missing:
        reopen()

    assert token.token_label in str(missing.value)


def test_pkcs11_unknown_token_label_is_a_clear_error(token: SoftHsmToken) -> None:
    with pytest.raises(ConfigurationError) as refused:
        Pkcs11Kms.open(token.module_path, "no-such-token", token.pin)

    message = str(refused.value)
    assert "no PKCS#11 token labelled 'no-such-token'" in message
    assert token.module_path in message
    assert token.pin not in message
    assert "\n" not in message


def test_pkcs11_missing_module_is_a_clear_error(tmp_path: Path) -> None:
    module = str(tmp_path / "libnothing.so")

    with pytest.raises(ConfigurationError) as refused:
        Pkcs11Kms.open(module, "any", "1234")

    assert str(refused.value) == f"PKCS#11 module {module} does not exist"


def test_pkcs11_two_instances_share_the_token(create: Opener, reopen: Opener) -> None:
    first = create()
    second = reopen()
    key = SecretKey.generate("ws_01/v1")
    v1, blob1 = first.wrap(key, CONTEXT)

    v2 = second.rotate()
    v, blob2 = second.wrap(key, CONTEXT)
    assert v == v2 == 2
    assert first.unwrap(v2, blob2, CONTEXT, "ws_01/v1") == key
    assert first.versions() == second.versions()

    second.close()  # must not log the first instance out
    assert first.unwrap(v1, blob1, CONTEXT, "ws_01/v1") == key
    first.destroy_version(v1)
    assert first.unwrap(v2, blob2, CONTEXT, "ws_01/v1") == key


def test_pkcs11_destroy_in_one_instance_shreds_for_the_other(
    create: Opener, reopen: Opener
) -> None:
    first = create()
    second = reopen()
    version, blob = first.wrap(SecretKey.generate("ws_01/v1"), CONTEXT)
    assert second.unwrap(version, blob, CONTEXT, "ws_01/v1")
    second.rotate()

    second.destroy_version(version)

    with pytest.raises(KeyUnavailable):
        first.unwrap(version, blob, CONTEXT, "ws_01/v1")


def test_pkcs11_a_version_destroyed_by_another_program_is_unavailable(
    token: SoftHsmToken, create: Opener
) -> None:
    kms = create()
    version, blob = kms.wrap(SecretKey.generate("ws_01/v1"), CONTEXT)
    kms.rotate()
    lib = pkcs11.lib(os.path.realpath(token.module_path))
    # The login of ``kms`` covers this session too: login belongs to the application.
    with lib.get_token(token_label=token.token_label).open(rw=True) as other:
        other.get_key(id=b"strongroom-root-v000001").destroy()

    with pytest.raises(KeyUnavailable):
        kms.unwrap(version, blob, CONTEXT, "ws_01/v1")
    assert kms.versions() == [RootKeyVersion(2, "active")]


def test_pkcs11_tolerates_many_threads(create: Opener) -> None:
    # Without the lock, SoftHSM2 crashes this process within a few hundred calls.
    kms = create()
    failures: list[BaseException] = []

    def work(worker: int) -> None:
        key = SecretKey.generate(f"ws_{worker:02d}")
        try:
            for n in range(100):
                version, blob = kms.wrap(key, CONTEXT)
                assert kms.unwrap(version, blob, CONTEXT, key.label) == key
                with pytest.raises(IntegrityFailure):
                    kms.unwrap(version, blob, b"other", key.label)
                if worker % 2 and n % 10 == 0:
                    assert kms.versions()
                if worker == 0 and n % 20 == 0:
                    kms.rotate()
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(worker,)) for worker in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert kms.current_version() == 6


def test_pkcs11_a_closed_instance_refuses_work(create: Opener) -> None:
    kms = create()
    kms.close()
    kms.close()  # closing twice is harmless

    with pytest.raises(KmsFailure):
        kms.wrap(SecretKey.generate("ws_01/v1"), CONTEXT)
    assert "closed" in repr(kms)


def test_pkcs11_tokens_of_one_process_share_one_softhsm_folder(
    token: SoftHsmToken, tmp_path_factory: pytest.TempPathFactory, opened: list[Pkcs11Kms]
) -> None:
    other = new_softhsm_token(tmp_path_factory)  # before any session is open

    assert other.conf_path == token.conf_path
    assert os.environ["SOFTHSM2_CONF"] == str(token.conf_path)
    assert other.token_label != token.token_label
    for t in (token, other):
        opened.append(Pkcs11Kms.create(t.module_path, t.token_label, t.pin))
    assert [k.current_version() for k in opened] == [1, 1]


def test_pkcs11_pin_is_not_in_repr(token: SoftHsmToken, create: Opener) -> None:
    kms = create()
    assert token.pin not in repr(kms) + str(kms)
    assert token.pin not in repr(token)


def test_pkcs11_an_imported_key_under_a_root_key_id_is_refused(
    token: SoftHsmToken, create: Opener, reopen: Opener
) -> None:
    """Someone with the PIN imports a key whose bytes they know, under the next root id:
    Strongroom must refuse it rather than wrap workspace keys under it."""
    create().close()
    lib = pkcs11.lib(os.path.realpath(token.module_path))
    with lib.get_token(token_label=token.token_label).open(rw=True, user_pin=token.pin) as s:
        s.create_object(
            {
                Attribute.CLASS: ObjectClass.SECRET_KEY,
                Attribute.KEY_TYPE: KeyType.AES,
                Attribute.VALUE: b"\x42" * 32,
                Attribute.ID: b"strongroom-root-v000002",
                Attribute.LABEL: "strongroom-root-v000002",
                Attribute.TOKEN: True,
                Attribute.PRIVATE: True,
                Attribute.SENSITIVE: True,
                Attribute.EXTRACTABLE: False,
                Attribute.ENCRYPT: True,
                Attribute.DECRYPT: True,
            }
        )
    with pytest.raises(KmsFailure) as refused:
        reopen()
    assert "version 2" in str(refused.value) and "LOCAL" in str(refused.value)
