"""The ``aws-kms`` root key beyond the shared contract, against moto's KMS in server mode.

moto is not AWS: it checks no signature or IAM policy and decrypts with disabled keys
(tests/aws_kms_support.py). These tests check what Strongroom asks of KMS (a key per
version, the alias mapping, disable then a 7-day deletion, ReEncrypt inside KMS) and
how it reads KMS's answers and failures; that AWS then refuses a disabled key is AWS's
documented behaviour, not something moto can show.
"""

from __future__ import annotations

import json
import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from strongroom.crypto.kms.aws import PENDING_WINDOW_DAYS, AwsKms, AwsKmsConnection
from strongroom.crypto.kms.base import RootKeyVersion, rewrap
from strongroom.crypto.secret import SecretKey
from strongroom.errors import (
    ConfigurationError,
    IntegrityFailure,
    KeyUnavailable,
    KmsAuthenticationFailed,
    KmsFailure,
)
from tests.aws_kms_support import SECRET_KEY, MotoKms, running_moto

pytestmark = pytest.mark.aws_kms

CONTEXT = b"strongroom/v1/root-wrap|workspace|ws_01\x00\x00\x00\x01"


def _aliases(moto: MotoKms, alias: str) -> dict[str, str]:
    pages = moto.client().get_paginator("list_aliases").paginate()
    return {
        a["AliasName"]: a.get("TargetKeyId", "")
        for page in pages
        for a in page["Aliases"]
        if a["AliasName"].startswith(alias + "/")
    }


def test_each_root_version_is_a_kms_key_of_its_own_behind_an_alias(aws_kms: MotoKms) -> None:
    alias = aws_kms.new_alias()
    kms = aws_kms.create(alias)
    kms.rotate()

    aliases = _aliases(aws_kms, alias)
    assert set(aliases) == {f"{alias}/v000001", f"{alias}/v000002", f"{alias}/current"}
    assert aliases[f"{alias}/v000001"] != aliases[f"{alias}/v000002"]
    assert aliases[f"{alias}/current"] == aliases[f"{alias}/v000002"]
    meta = aws_kms.client().describe_key(KeyId=aliases[f"{alias}/v000002"])["KeyMetadata"]
    assert (meta["KeySpec"], meta["KeyUsage"], meta["Origin"]) == (
        "SYMMETRIC_DEFAULT",
        "ENCRYPT_DECRYPT",
        "AWS_KMS",
    )
    # Another process sees the same versions: the mapping lives in KMS, not in memory.
    other = AwsKms.open(aws_kms.connection(alias))
    assert other.versions() == [RootKeyVersion(1, "enabled"), RootKeyVersion(2, "active")]
    other.close()
    kms.close()


def test_destroying_a_version_disables_its_key_and_schedules_deletion_in_7_days(
    aws_kms: MotoKms,
) -> None:
    alias = aws_kms.new_alias()
    kms = aws_kms.create(alias)
    old_key = _aliases(aws_kms, alias)[f"{alias}/v000001"]
    kms.rotate()
    before = datetime.now(UTC)

    kms.destroy_version(1)

    meta = aws_kms.client().describe_key(KeyId=old_key)["KeyMetadata"]
    assert meta["KeyState"] == "PendingDeletion" and meta["Enabled"] is False
    due = meta["DeletionDate"]
    assert PENDING_WINDOW_DAYS == 7
    assert before + timedelta(days=7) - timedelta(minutes=5) <= due
    assert due <= datetime.now(UTC) + timedelta(days=7, minutes=5)
    assert f"{alias}/v000001" not in _aliases(aws_kms, alias)
    with pytest.raises(KeyUnavailable):
        kms.destroy_version(2)  # the current one
    with pytest.raises(KeyUnavailable):
        kms.destroy_version(9)  # never made
    kms.close()


def test_rewrap_moves_a_wrap_to_the_current_version_inside_kms(aws_kms: MotoKms) -> None:
    kms = aws_kms.create()
    key = SecretKey.generate("ws_01/v1")
    old_version, old_blob = kms.wrap(key, CONTEXT)
    kms.rotate()

    version, blob = rewrap(kms, old_version, old_blob, CONTEXT, "ws_01/v1")

    assert (old_version, version) == (1, 2)
    assert kms.unwrap(version, blob, CONTEXT, "ws_01/v1") == key
    with pytest.raises(IntegrityFailure):
        kms.rewrap(old_version, old_blob, CONTEXT + b"x", "ws_01/v1")
    with pytest.raises(IntegrityFailure):
        kms.rewrap(old_version, blob, CONTEXT, "ws_01/v1")  # made under version 2, not 1
    kms.destroy_version(old_version)
    with pytest.raises(KeyUnavailable):
        kms.rewrap(old_version, old_blob, CONTEXT, "ws_01/v1")
    kms.close()


def test_init_adopts_an_administrators_version_1_and_refuses_another_homes_aliases(
    aws_kms: MotoKms,
) -> None:
    client = aws_kms.client()
    alias = aws_kms.new_alias()
    made = client.create_key(KeySpec="SYMMETRIC_DEFAULT", KeyUsage="ENCRYPT_DECRYPT")
    client.create_alias(AliasName=f"{alias}/v000001", TargetKeyId=made["KeyMetadata"]["KeyId"])

    adopted = aws_kms.create(alias)
    assert adopted.versions() == [RootKeyVersion(1, "active")]
    adopted.rotate()
    adopted.close()

    with pytest.raises(ConfigurationError) as refused:
        aws_kms.create(alias)
    assert "another home" in str(refused.value)


def test_a_key_that_cannot_hold_the_root_key_is_refused(aws_kms: MotoKms) -> None:
    client = aws_kms.client()
    alias = aws_kms.new_alias()
    signing = client.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")
    client.create_alias(AliasName=f"{alias}/v000001", TargetKeyId=signing["KeyMetadata"]["KeyId"])

    with pytest.raises(ConfigurationError) as refused:
        aws_kms.create(alias)

    assert "SYMMETRIC_DEFAULT" in str(refused.value)


def test_open_without_a_root_key_says_to_run_init(aws_kms: MotoKms) -> None:
    with pytest.raises(KeyUnavailable) as missing:
        AwsKms.open(aws_kms.connection())

    assert "init --kms aws-kms" in str(missing.value)


def test_a_key_policy_that_denies_strongroom_is_an_authentication_failure(
    aws_kms: MotoKms,
) -> None:
    alias = aws_kms.new_alias()
    aws_kms.create(alias).close()
    key = _aliases(aws_kms, alias)[f"{alias}/current"]
    deny = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Deny", "Principal": "*", "Action": "kms:DescribeKey", "Resource": "*"}
        ],
    }
    aws_kms.client().put_key_policy(KeyId=key, PolicyName="default", Policy=json.dumps(deny))

    with pytest.raises(KmsAuthenticationFailed) as denied:
        AwsKms.open(aws_kms.connection(alias))

    assert "denied permission" in str(denied.value) and SECRET_KEY not in str(denied.value)


def test_without_credentials_kms_is_not_called(
    aws_kms: MotoKms, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")

    with pytest.raises(KmsAuthenticationFailed) as refused:
        AwsKms.open(aws_kms.connection())

    assert "no AWS credentials" in str(refused.value)


def test_an_unreachable_endpoint_fails_fast(aws_kms: MotoKms) -> None:
    connection = AwsKmsConnection(
        alias="alias/strongroom", region="us-east-1", endpoint_url="http://127.0.0.1:9"
    )
    started = time.monotonic()

    with pytest.raises(KmsFailure) as down:
        AwsKms.open(connection)

    assert time.monotonic() - started < 15
    assert "cannot be reached" in str(down.value) and SECRET_KEY not in str(down.value)


def test_kms_stopped_mid_use_is_a_kms_failure_not_a_lost_key(
    tmp_path: Path, aws_kms: MotoKms
) -> None:
    with running_moto(tmp_path / "moto") as own:
        kms = own.create()
        key = SecretKey.generate("ws_01/v1")
        version, blob = kms.wrap(key, CONTEXT)
        own.stop()
        started = time.monotonic()

        for call in (
            lambda: kms.unwrap(version, blob, CONTEXT, "ws_01/v1"),
            lambda: kms.wrap(key, CONTEXT),
            kms.rotate,
        ):
            with pytest.raises(KmsFailure) as down:
                call()
            assert not isinstance(down.value, KmsAuthenticationFailed)
            assert "cannot be reached" in str(down.value)
        assert time.monotonic() - started < 30
        kms.close()


def test_kms_that_stops_answering_times_out_then_works_again_without_a_restart(
    tmp_path: Path, aws_kms: MotoKms
) -> None:
    with running_moto(tmp_path / "moto") as own:
        kms = own.create(timeout_seconds=1)
        key = SecretKey.generate("ws_01/v1")
        version, blob = kms.wrap(key, CONTEXT)
        own.process.send_signal(signal.SIGSTOP)  # accepts connections, never answers
        try:
            started = time.monotonic()
            with pytest.raises(KmsFailure) as slow:
                kms.unwrap(version, blob, CONTEXT, "ws_01/v1")
            assert time.monotonic() - started < 20  # two tries of a 1-second timeout
            assert "did not answer in time" in str(slow.value)
        finally:
            own.process.send_signal(signal.SIGCONT)

        assert kms.unwrap(version, blob, CONTEXT, "ws_01/v1") == key
        kms.close()
