"""The Transit root key against a real OpenBao, beyond the shared contract: what Vault
itself holds after a destroy, the token policy the docs print, AppRole, refused keys and
credentials, and outages (sealed, frozen, gone) with recovery in the same process."""

from __future__ import annotations

import base64
import logging
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import hvac
import pytest

from strongroom.crypto.kms.transit import TransitKms
from strongroom.crypto.secret import SecretKey
from strongroom.errors import (
    ConfigurationError,
    IntegrityFailure,
    KeyUnavailable,
    KmsAuthenticationFailed,
    KmsFailure,
)
from tests.transit_support import BaoServer, persistent_bao, running_bao

pytestmark = pytest.mark.transit

CONTEXT = b"strongroom/v1/root-wrap|workspace|ws_01\x00\x00\x00\x01"
DOCS = Path(__file__).parents[2] / "docs" / "operations.md"


@pytest.fixture
def opened() -> Iterator[list[TransitKms]]:
    made: list[TransitKms] = []
    yield made
    for kms in made:
        kms.close()


def _docs_policy(key: str) -> str:
    text = DOCS.read_text()
    policy = re.search(r"```hcl\n# strongroom-transit.hcl\n(.*?)```", text, re.S)
    assert policy, "docs/operations.md prints the Transit policy"
    return policy.group(1).replace("/strongroom", f"/{key}")


def _token_with(bao: BaoServer, policy: str, **options: object) -> str:
    name = "p-" + bao.new_key()
    root = bao.client()
    root.sys.create_or_update_policy(name, policy)
    token: str = root.auth.token.create(policies=[name], **options)["auth"]["client_token"]
    return token


def test_destroy_trims_the_versions_out_of_vault(
    transit: BaoServer, opened: list[TransitKms]
) -> None:
    kms = transit.create()
    opened.append(kms)
    key = SecretKey.generate("ws_01/v1")
    v1, blob1 = kms.wrap(key, CONTEXT)
    v2 = kms.rotate()
    _, blob2 = kms.wrap(key, CONTEXT)
    v3 = kms.rotate()

    kms.destroy_version(v2)  # v1 goes with it: Transit cuts from the oldest up

    meta = transit.client().secrets.transit.read_key(kms._connection.key)["data"]
    assert set(meta["keys"]) == {str(v3)}
    assert meta["min_available_version"] == meta["min_decryption_version"] == v3
    for version, blob in ((v1, blob1), (v2, blob2)):
        with pytest.raises(KeyUnavailable):
            kms.unwrap(version, blob, CONTEXT, "ws_01/v1")
    # Not a policy that an administrator could lower again: the versions are gone.
    with pytest.raises(hvac.exceptions.InvalidRequest):
        transit.client().secrets.transit.update_key_configuration(
            kms._connection.key, min_decryption_version=1
        )
    with pytest.raises(KeyUnavailable):
        kms.unwrap(v2, blob2, CONTEXT, "ws_01/v1")
    assert kms.unwrap(*kms.wrap(key, CONTEXT), CONTEXT, "ws_01/v1") == key
    with pytest.raises(KeyUnavailable):
        kms.destroy_version(v3)


def test_rewrap_moves_a_wrap_to_the_current_version_and_keeps_the_binding(
    transit: BaoServer, opened: list[TransitKms]
) -> None:
    kms = transit.create()
    opened.append(kms)
    key = SecretKey.generate("ws_01/v1")
    v1, blob = kms.wrap(key, CONTEXT)
    v2 = kms.rotate()

    version, moved = kms.rewrap(v1, blob, CONTEXT, "ws_01/v1")

    assert version == v2 and moved != blob
    assert kms.unwrap(version, moved, CONTEXT, "ws_01/v1") == key
    with pytest.raises(IntegrityFailure):
        kms.rewrap(v1, blob, b"strongroom/another-row", "ws_02/v1")
    kms.destroy_version(v1)
    assert kms.unwrap(version, moved, CONTEXT, "ws_01/v1") == key


def test_a_version_zero_row_is_not_read_as_the_newest(
    transit: BaoServer, opened: list[TransitKms]
) -> None:
    """Transit decrypts ``vault:v0:`` under some version; Strongroom never asks it to."""
    kms = transit.create()
    opened.append(kms)
    _, blob = kms.wrap(SecretKey.generate("ws_01/v1"), CONTEXT)

    with pytest.raises(KeyUnavailable):
        kms.unwrap(0, blob, CONTEXT, "ws_01/v1")


def test_the_policy_in_the_docs_is_enough_and_cannot_make_keys_by_mistake(
    transit: BaoServer, opened: list[TransitKms], monkeypatch: pytest.MonkeyPatch
) -> None:
    key = transit.new_key()
    monkeypatch.setenv("VAULT_TOKEN", _token_with(transit, _docs_policy(key)))
    kms = TransitKms.create(transit.connection(key))
    opened.append(kms)
    secret = SecretKey.generate("ws_01/v1")
    v1, blob = kms.wrap(secret, CONTEXT)
    v2 = kms.rotate()
    version, moved = kms.rewrap(v1, blob, CONTEXT, "ws_01/v1")
    kms.destroy_version(v1)
    assert version == v2 and kms.unwrap(v2, moved, CONTEXT, "ws_01/v1") == secret
    assert [v.version for v in kms.versions()] == [v2]

    # The same token on a mistyped key name: refused, and no key appears in Vault.
    with pytest.raises(KmsAuthenticationFailed) as denied:
        TransitKms.open(transit.connection(key + "x"))
    assert "denied permission" in str(denied.value)
    listed = transit.client().secrets.transit.list_keys()["data"]["keys"]
    assert key + "x" not in listed


def test_a_wrong_token_is_refused_and_never_shown(
    transit: BaoServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # hvac, requests and urllib3 included
    kms = transit.create()
    secret = SecretKey.generate("ws_01/v1")
    assert kms.unwrap(*kms.wrap(secret, CONTEXT), CONTEXT, "ws_01/v1") == secret
    kms.close()
    wrong = "hvs.not-the-token-" + "7" * 20
    monkeypatch.setenv("VAULT_TOKEN", wrong)

    with pytest.raises(KmsAuthenticationFailed) as refused:
        TransitKms.open(kms._connection)

    shown = str(refused.value) + repr(refused.value)
    assert "denied permission" in shown
    assert wrong not in shown and transit.root_token not in shown
    assert "/v1/transit/" in caplog.text  # the libraries did log the calls
    assert wrong not in caplog.text and transit.root_token not in caplog.text
    assert secret.reveal().hex() not in caplog.text
    assert base64.b64encode(secret.reveal()).decode() not in caplog.text


def test_a_token_without_encrypt_cannot_wrap(
    transit: BaoServer, opened: list[TransitKms], monkeypatch: pytest.MonkeyPatch
) -> None:
    key = transit.new_key()
    opened.append(transit.create(key))
    read_only = f'path "transit/keys/{key}" {{ capabilities = ["read"] }}'
    monkeypatch.setenv("VAULT_TOKEN", _token_with(transit, read_only))
    kms = TransitKms.open(transit.connection(key))
    opened.append(kms)

    with pytest.raises(KmsAuthenticationFailed):
        kms.wrap(SecretKey.generate("ws_01/v1"), CONTEXT)


def test_a_missing_token_variable_is_named(
    transit: BaoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VAULT_TOKEN")
    with pytest.raises(ConfigurationError) as refused:
        transit.create(token_env="STRONGROOM_TEST_NO_SUCH_TOKEN")
    assert "STRONGROOM_TEST_NO_SUCH_TOKEN" in str(refused.value)


def test_init_on_a_key_another_home_has_rotated_is_refused(
    transit: BaoServer, opened: list[TransitKms]
) -> None:
    """Two homes on one key: a shred epoch in one would trim the other's root versions."""
    first = transit.create()
    opened.append(first)
    again = transit.create(first._connection.key)  # fresh (version 1): an admin made it
    again.close()
    first.rotate()

    with pytest.raises(ConfigurationError) as refused:
        transit.create(first._connection.key)
    assert "a key of its own" in str(refused.value)


def test_opening_a_missing_key_says_to_run_init(transit: BaoServer) -> None:
    with pytest.raises(KeyUnavailable) as missing:
        TransitKms.open(transit.connection())
    assert "strongroom init" in str(missing.value)


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({"derived": False}, "not a derived key"),
        ({"derived": True, "exportable": True}, "exportable"),
        ({"derived": True, "key_type": "chacha20-poly1305"}, "aes256-gcm96"),
    ],
)
def test_a_key_that_would_not_bind_the_context_or_could_leave_vault_is_refused(
    transit: BaoServer, options: dict[str, object], reason: str
) -> None:
    key = transit.new_key()
    transit.client().secrets.transit.create_key(key, **options)

    for make in (TransitKms.create, TransitKms.open):
        with pytest.raises(ConfigurationError) as refused:
            make(transit.connection(key))
        assert reason in str(refused.value)


def test_approle_signs_in_and_again_when_its_token_expired(
    transit: BaoServer, opened: list[TransitKms], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = transit.client()
    if "approle/" not in root.sys.list_auth_methods()["data"]:
        root.sys.enable_auth_method("approle")
    key = transit.new_key()
    root.sys.create_or_update_policy("approle-" + key, _docs_policy(key))
    role = "sr-" + key
    root.auth.approle.create_or_update_approle(
        role, token_policies=["approle-" + key], token_ttl="2s", token_max_ttl="2s"
    )
    role_id = root.auth.approle.read_role_id(role)["data"]["role_id"]
    secret_id = root.auth.approle.generate_secret_id(role)["data"]["secret_id"]
    monkeypatch.delenv("VAULT_TOKEN")
    monkeypatch.setenv("SR_TEST_ROLE_ID", role_id)
    monkeypatch.setenv("SR_TEST_SECRET_ID", secret_id)
    approle = {
        "approle_role_id_env": "SR_TEST_ROLE_ID",
        "approle_secret_id_env": "SR_TEST_SECRET_ID",
    }
    kms = transit.create(key, **approle)
    opened.append(kms)
    secret = SecretKey.generate("ws_01/v1")
    version, blob = kms.wrap(secret, CONTEXT)

    time.sleep(3)  # the AppRole token has expired

    assert kms.unwrap(version, blob, CONTEXT, "ws_01/v1") == secret
    assert secret_id not in repr(kms) and role_id not in repr(kms)
    monkeypatch.setenv("SR_TEST_SECRET_ID", "not-the-secret-id")
    with pytest.raises(KmsAuthenticationFailed) as refused:
        transit.create(key, **approle)
    assert "not-the-secret-id" not in str(refused.value)


def test_many_threads_share_one_instance(transit: BaoServer, opened: list[TransitKms]) -> None:
    kms = transit.create()
    opened.append(kms)
    failures: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(15):
                key = SecretKey.generate(f"k{n}/{i}")
                context = CONTEXT + bytes([n, i])
                assert kms.unwrap(*kms.wrap(key, context), context, f"k{n}/{i}") == key
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


# -- outages, each on a server of its own ----------------------------------------------


@pytest.fixture
def own_bao(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[BaoServer]:
    with running_bao(tmp_path / "bao") as server:
        monkeypatch.setenv("VAULT_TOKEN", server.root_token)
        yield server


def _fails_fast(call: object, within: float) -> KmsFailure:
    started = time.monotonic()
    with pytest.raises(KmsFailure) as failed:
        call()  # type: ignore[operator]
    assert time.monotonic() - started < within
    assert not isinstance(failed.value, KmsAuthenticationFailed)
    return failed.value


def test_a_sealed_vault_fails_fast_and_the_same_instance_recovers(own_bao: BaoServer) -> None:
    kms = own_bao.create()
    key = SecretKey.generate("ws_01/v1")
    version, blob = kms.wrap(key, CONTEXT)

    own_bao.seal()
    try:
        failure = _fails_fast(lambda: kms.unwrap(version, blob, CONTEXT, "ws_01/v1"), 1.0)
        assert "sealed" in str(failure)
        _fails_fast(lambda: kms.wrap(key, CONTEXT), 1.0)
        _fails_fast(kms.rotate, 1.0)
    finally:
        own_bao.unseal()

    assert kms.unwrap(version, blob, CONTEXT, "ws_01/v1") == key
    assert kms.current_version() == 1  # the failed rotation made no version
    kms.close()


def test_a_frozen_vault_fails_within_the_timeout_then_recovers(own_bao: BaoServer) -> None:
    kms = own_bao.create(connect_timeout_seconds=1, timeout_seconds=1)
    key = SecretKey.generate("ws_01/v1")
    version, blob = kms.wrap(key, CONTEXT)

    own_bao.freeze()  # accepts connections (the kernel does), never answers
    try:
        failure = _fails_fast(lambda: kms.unwrap(version, blob, CONTEXT, "ws_01/v1"), 3.0)
        assert "did not answer in time" in str(failure)
    finally:
        own_bao.thaw()

    assert kms.unwrap(version, blob, CONTEXT, "ws_01/v1") == key
    kms.close()


def test_https_to_vault_is_verified_against_transit_ca_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with running_bao(tmp_path / "bao", tls=True) as bao:
        monkeypatch.setenv("VAULT_TOKEN", bao.root_token)
        key = bao.new_key()
        kms = bao.create(key, ca_file=bao.ca_file)
        secret = SecretKey.generate("ws_01/v1")
        assert kms.unwrap(*kms.wrap(secret, CONTEXT), CONTEXT, "ws_01/v1") == secret
        kms.close()

        # The system's CAs (or any other bundle) do not vouch for this server.
        monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
        monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
        with pytest.raises(KmsFailure) as untrusted:
            TransitKms.open(bao.connection(key))
        assert "not trusted" in str(untrusted.value)
        assert bao.root_token not in str(untrusted.value)


def test_a_vault_that_is_gone_fails_fast(own_bao: BaoServer) -> None:
    kms = own_bao.create()
    own_bao.stop()

    failure = _fails_fast(lambda: kms.wrap(SecretKey.generate("ws_01/v1"), CONTEXT), 1.0)

    assert "cannot be reached" in str(failure)
    assert own_bao.root_token not in str(failure) + repr(kms)
    kms.close()
    with pytest.raises(KmsFailure):
        kms.current_version()


def test_a_vault_stopped_and_started_again_is_used_again_by_the_same_instance(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with persistent_bao(tmp_path / "bao") as bao:
        monkeypatch.setenv("VAULT_TOKEN", bao.root_token)
        kms = bao.create()
        key = SecretKey.generate("ws_01/v1")
        version, blob = kms.wrap(key, CONTEXT)

        bao.stop()
        failure = _fails_fast(lambda: kms.unwrap(version, blob, CONTEXT, "ws_01/v1"), 1.0)
        assert "cannot be reached" in str(failure)
        bao.start_again()  # same storage, same port, unsealed: as after a Vault restart

        assert kms.unwrap(version, blob, CONTEXT, "ws_01/v1") == key
        assert kms.current_version() == version
        kms.close()
