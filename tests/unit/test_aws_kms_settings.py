"""The aws-kms settings: what a deployment may set, and what it is refused with."""

from __future__ import annotations

from pathlib import Path

import pytest

from strongroom.config import Settings, aws_kms_alias, load_settings
from strongroom.errors import ConfigurationError

NO_ENV: dict[str, str] = {}
PRODUCTION = {"environment": "production", "security_contact": "mailto:sec@example.com"}
ALIAS_ARN = "arn:aws:kms:eu-west-1:111122223333:alias/strongroom-prod"


def _aws(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {"kms": "aws-kms"}
    values.update(overrides)
    return load_settings(tmp_path, NO_ENV, values)


def test_defaults_and_production_accepts_aws_kms(tmp_path: Path) -> None:
    s = load_settings(tmp_path, NO_ENV, {**PRODUCTION, "kms": "aws-kms"})

    assert (s.kms, s.aws_kms_key, s.aws_kms_region, s.aws_kms_endpoint_url) == (
        "aws-kms",
        "alias/strongroom",
        "",
        "",
    )
    assert (s.aws_kms_connect_timeout_seconds, s.aws_kms_timeout_seconds) == (2, 5)


def test_the_environment_sets_aws_kms_fields(tmp_path: Path) -> None:
    env = {
        "STRONGROOM_KMS": "aws-kms",
        "STRONGROOM_AWS_KMS_KEY": "alias/team/strongroom",
        "STRONGROOM_AWS_KMS_REGION": "eu-central-1",
        "STRONGROOM_AWS_KMS_TIMEOUT_SECONDS": "9",
    }
    s = load_settings(tmp_path, env)

    assert (s.aws_kms_key, s.aws_kms_region, s.aws_kms_timeout_seconds) == (
        "alias/team/strongroom",
        "eu-central-1",
        9,
    )


def test_an_alias_arn_gives_the_alias_and_its_region(tmp_path: Path) -> None:
    assert aws_kms_alias(ALIAS_ARN) == ("alias/strongroom-prod", "eu-west-1")
    assert aws_kms_alias("alias/strongroom") == ("alias/strongroom", "")
    _aws(tmp_path, aws_kms_key=ALIAS_ARN, aws_kms_region="eu-west-1")  # the same region


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        (
            {"aws_kms_key": "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab"},
            "not a key ARN",
        ),
        ({"aws_kms_key": "strongroom"}, "alias name"),
        ({"aws_kms_key": "alias/aws/ebs"}, "not under alias/aws/"),
        ({"aws_kms_key": "alias/strongroom/"}, "alias name"),
        ({"aws_kms_key": "alias/" + "x" * 201}, "alias name"),
        ({"aws_kms_key": "alias/strong room"}, "alias name"),
        ({"aws_kms_key": ALIAS_ARN, "aws_kms_region": "us-east-1"}, "set one region"),
        ({"aws_kms_region": "eu-west-1\nX"}, "not a region name"),
        ({"aws_kms_endpoint_url": "http://kms.example.com"}, "must use https"),
        ({"aws_kms_endpoint_url": "https://user:pw@kms.example.com"}, "no user, password"),
        ({"aws_kms_endpoint_url": "kms.example.com"}, "https:// address"),
        ({"aws_kms_connect_timeout_seconds": 0}, "between 1 and 60"),
        ({"aws_kms_timeout_seconds": 301}, "between 1 and 300"),
    ],
)
def test_unsafe_aws_kms_settings_are_refused(
    tmp_path: Path, overrides: dict[str, object], says: str
) -> None:
    with pytest.raises(ConfigurationError) as refused:
        _aws(tmp_path, **overrides)

    assert says in str(refused.value) and "\n" not in str(refused.value)
    assert "pw@" not in str(refused.value)


def test_a_credential_in_the_settings_is_refused(tmp_path: Path) -> None:
    (tmp_path / "strongroom.toml").write_text(
        'kms = "aws-kms"\naws_kms_secret_access_key = "wJalrXUtnFEMI"\n'
    )

    with pytest.raises(ConfigurationError) as refused:
        load_settings(tmp_path, NO_ENV)

    assert "AWS chain" in str(refused.value) and "wJalrXUtnFEMI" not in str(refused.value)


def test_a_window_too_short_for_the_7_day_deletion_wait_is_refused(tmp_path: Path) -> None:
    # trash 30 + the next epoch (1) + AWS's 7-day wait = 38 days after the deletion
    with pytest.raises(ConfigurationError, match="at least 38") as refused:
        _aws(tmp_path, backup_purge_window_days=37)
    assert "deletion wait" in str(refused.value)
    assert _aws(tmp_path, backup_purge_window_days=38).backup_purge_window_days == 38
    # the same window is fine where the destroy is immediate
    local = load_settings(tmp_path, NO_ENV, {"backup_purge_window_days": 30})
    assert local.backup_purge_window_days == 30
    # the 14-day promise's window fits with a short trash
    short = _aws(tmp_path, backup_purge_window_days=14, trash_days=6, backup_retention_days=14)
    assert short.shredded_key_gone_days() == 14
