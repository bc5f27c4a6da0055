"""The root-key contract, held against every backend: memory, local, pkcs11, transit
(a real ``bao server -dev``) and aws-kms (moto's KMS in server mode: not AWS, see
tests/aws_kms_support.py). pkcs11 runs on SoftHSM2 once with the scheme it picks
itself (aes-gcm) and once forced into each other wrapping scheme, and on opencryptoki's
software token (which picks hmac-sha256-kdf: it has no AES-GCM and no AES key wrap).

A fake that passes these tests behaves like the real HSM wherever Strongroom relies
on it. Tests for one backend alone (file modes of ``local``) live at the end.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from strongroom.crypto.kms.base import RootKeyVersion, RootKms
from strongroom.crypto.kms.local import LocalKms
from strongroom.crypto.kms.memory import MemoryKms
from strongroom.crypto.kms.pkcs11 import Pkcs11Kms
from strongroom.crypto.secret import SecretKey
from strongroom.errors import ConfigurationError, IntegrityFailure, KeyUnavailable
from tests.aws_kms_support import SECRET_KEY, MotoKms
from tests.opencryptoki_support import opencryptoki_token
from tests.pkcs11_support import new_softhsm_token
from tests.transit_support import BaoServer

CONTEXT = b"strongroom/workspace/ws_01/key-v1"


@dataclass
class Backend:
    kms: RootKms
    #: Strings that must appear in no repr or message (for pkcs11: the PIN).
    secrets: list[str] = field(default_factory=list)

    def root_key_bytes(self) -> list[bytes]:
        """Root key material this process holds (none for an HSM)."""
        if isinstance(self.kms, LocalKms | MemoryKms):
            return [k.reveal() for k in self.kms._keys.values()]
        return []


@pytest.fixture(
    params=[
        pytest.param("memory", id="memory"),
        pytest.param("local", id="local"),
        pytest.param("pkcs11", id="pkcs11", marks=pytest.mark.pkcs11),
        pytest.param("pkcs11:aes-kwp", id="pkcs11-aes-kwp", marks=pytest.mark.pkcs11),
        pytest.param(
            "pkcs11:hmac-sha256-kdf", id="pkcs11-hmac-sha256-kdf", marks=pytest.mark.pkcs11
        ),
        pytest.param("opencryptoki", id="opencryptoki", marks=pytest.mark.pkcs11),
        pytest.param("transit", id="transit", marks=pytest.mark.transit),
        pytest.param("aws-kms", id="aws-kms", marks=pytest.mark.aws_kms),
    ]
)
def kms_backend(
    request: pytest.FixtureRequest, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Backend]:
    if request.param == "memory":
        made = Backend(MemoryKms())
    elif request.param == "local":
        made = Backend(LocalKms.create(tmp_path / "kms"))
    elif request.param == "transit":
        bao: BaoServer = request.getfixturevalue("transit")
        made = Backend(bao.create(), [bao.root_token])
    elif request.param == "opencryptoki":
        ock = opencryptoki_token()
        made = Backend(Pkcs11Kms.create(ock.module_path, ock.token_label, ock.pin), [ock.pin])
    elif request.param == "aws-kms":
        moto: MotoKms = request.getfixturevalue("aws_kms")
        made = Backend(moto.create(), [SECRET_KEY])
    else:
        scheme = request.param.partition(":")[2] or "auto"
        token = new_softhsm_token(tmp_path_factory)
        made = Backend(
            Pkcs11Kms.create(token.module_path, token.token_label, token.pin, scheme),
            [token.pin],
        )
    yield made
    made.kms.close()


def _flip(blob: bytes, index: int) -> bytes:
    return blob[:index] + bytes([blob[index] ^ 0x01]) + blob[index + 1 :]


def test_wrap_unwrap_round_trip(kms_backend: Backend) -> None:
    kms = kms_backend.kms
    key = SecretKey.generate("ws_01/v1")

    version, blob = kms.wrap(key, CONTEXT)
    again = kms.wrap(key, CONTEXT)[1]

    assert version == kms.current_version() == 1
    assert key.reveal() not in blob
    assert blob != again, "each wrap must draw a fresh IV"
    for wrapped in (blob, again):
        unwrapped = kms.unwrap(version, wrapped, CONTEXT, "ws_01/v1")
        assert unwrapped == key
        assert unwrapped.label == "ws_01/v1"


def test_unwrap_with_another_context_fails(kms_backend: Backend) -> None:
    version, blob = kms_backend.kms.wrap(SecretKey.generate("ws_01/v1"), CONTEXT)

    with pytest.raises(IntegrityFailure) as failure:
        kms_backend.kms.unwrap(version, blob, b"strongroom/workspace/ws_02/key-v1", "ws_02/v1")

    assert "ws_02/v1" in str(failure.value)
    assert "\n" not in str(failure.value)


@pytest.mark.parametrize("where", ["iv", "ciphertext", "tag"])
def test_unwrap_of_a_tampered_blob_fails(kms_backend: Backend, where: str) -> None:
    version, blob = kms_backend.kms.wrap(SecretKey.generate("ws_01/v1"), CONTEXT)
    index = {"iv": 0, "ciphertext": 12 + 5, "tag": len(blob) - 1}[where]

    with pytest.raises(IntegrityFailure):
        kms_backend.kms.unwrap(version, _flip(blob, index), CONTEXT, "ws_01/v1")


def test_unwrap_of_a_truncated_blob_fails(kms_backend: Backend) -> None:
    version, blob = kms_backend.kms.wrap(SecretKey.generate("ws_01/v1"), CONTEXT)

    with pytest.raises(IntegrityFailure):
        kms_backend.kms.unwrap(version, blob[:-1], CONTEXT, "ws_01/v1")


def test_unwrap_under_an_unknown_version_fails(kms_backend: Backend) -> None:
    version, blob = kms_backend.kms.wrap(SecretKey.generate("ws_01/v1"), CONTEXT)

    with pytest.raises(KeyUnavailable):
        kms_backend.kms.unwrap(version + 41, blob, CONTEXT, "ws_01/v1")


def test_rotate_makes_a_new_current_version_and_old_wraps_still_unwrap(
    kms_backend: Backend,
) -> None:
    kms = kms_backend.kms
    old_key = SecretKey.generate("ws_01/v1")
    old_version, old_blob = kms.wrap(old_key, CONTEXT)

    new_version = kms.rotate()

    assert new_version == old_version + 1
    assert kms.current_version() == new_version
    assert kms.versions() == [
        RootKeyVersion(old_version, "enabled"),
        RootKeyVersion(new_version, "active"),
    ]
    new_key = SecretKey.generate("ws_01/v2")
    version, blob = kms.wrap(new_key, CONTEXT)
    assert version == new_version
    assert kms.unwrap(version, blob, CONTEXT, "ws_01/v2") == new_key
    assert kms.unwrap(old_version, old_blob, CONTEXT, "ws_01/v1") == old_key


def test_destroying_an_old_version_shreds_its_wraps_only(kms_backend: Backend) -> None:
    kms = kms_backend.kms
    old_version, old_blob = kms.wrap(SecretKey.generate("ws_01/v1"), CONTEXT)
    new_version = kms.rotate()
    key = SecretKey.generate("ws_01/v2")
    _, blob = kms.wrap(key, CONTEXT)

    kms.destroy_version(old_version)

    with pytest.raises(KeyUnavailable):
        kms.unwrap(old_version, old_blob, CONTEXT, "ws_01/v1")
    assert kms.unwrap(new_version, blob, CONTEXT, "ws_01/v2") == key
    assert kms.unwrap(*kms.wrap(key, CONTEXT), CONTEXT, "ws_01/v2") == key
    assert kms.versions() == [RootKeyVersion(new_version, "active")]
    kms.destroy_version(old_version)  # a rerun of a shred is not an error


def test_destroying_the_current_version_is_refused(kms_backend: Backend) -> None:
    kms = kms_backend.kms
    key = SecretKey.generate("ws_01/v1")
    version, blob = kms.wrap(key, CONTEXT)

    with pytest.raises(KeyUnavailable):
        kms.destroy_version(version)

    assert kms.current_version() == version
    assert kms.unwrap(version, blob, CONTEXT, "ws_01/v1") == key


def test_no_repr_shows_key_material_or_credentials(kms_backend: Backend) -> None:
    kms = kms_backend.kms
    key = SecretKey.generate("ws_01/v1")
    version, blob = kms.wrap(key, CONTEXT)
    kms.rotate()
    unwrapped = kms.unwrap(version, blob, CONTEXT, "ws_01/v1")
    shown = [repr(key), str(key), repr(unwrapped), str(unwrapped), repr(kms), str(kms)]
    shown.append(repr(kms.versions()))
    try:
        kms.unwrap(version, blob, b"other", "ws_01/v1")
    except IntegrityFailure as failure:
        shown += [str(failure), repr(failure)]

    material = [key.reveal(), *kms_backend.root_key_bytes()]
    assert len(material) == (1 if kms.backend in ("pkcs11", "transit", "aws-kms") else 3)
    for text in shown:
        for raw in material:
            assert raw.hex() not in text.lower()
            assert raw.decode("latin-1") not in text
        for secret in kms_backend.secrets:
            assert secret not in text


# -- local backend only ---------------------------------------------------------------


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_local_key_files_are_created_private(tmp_path: Path) -> None:
    folder = tmp_path / "kms"
    kms = LocalKms.create(folder)
    kms.rotate()

    assert _mode(folder) == 0o700
    files = sorted(folder.iterdir())
    assert [p.name for p in files] == ["root-000001.key", "root-000002.key"]
    assert all(_mode(p) == 0o600 for p in files)


def test_local_open_refuses_a_key_file_others_can_read(tmp_path: Path) -> None:
    folder = tmp_path / "kms"
    LocalKms.create(folder)
    key_file = folder / "root-000001.key"
    os.chmod(key_file, 0o644)

    with pytest.raises(ConfigurationError) as refused:
        LocalKms.open(folder)

    assert str(key_file) in str(refused.value)


def test_local_open_refuses_a_folder_others_can_enter(tmp_path: Path) -> None:
    folder = tmp_path / "kms"
    LocalKms.create(folder)
    os.chmod(folder, 0o755)  # noqa: S103 - the unsafe mode under test

    with pytest.raises(ConfigurationError) as refused:
        LocalKms.open(folder)

    assert str(folder) in str(refused.value)
