"""The Transit settings: what a deployment may set, and what it is refused with."""

from __future__ import annotations

from pathlib import Path

import pytest

from strongroom.config import Settings, load_settings
from strongroom.errors import ConfigurationError

NO_ENV: dict[str, str] = {}
PRODUCTION = {"environment": "production", "security_contact": "mailto:sec@example.com"}


def _transit(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {"kms": "transit", "transit_url": "https://vault.internal:8200"}
    values.update(overrides)
    return load_settings(tmp_path, NO_ENV, values)


def test_defaults_and_production_accepts_transit(tmp_path: Path) -> None:
    s = load_settings(
        tmp_path,
        NO_ENV,
        {**PRODUCTION, "kms": "transit", "transit_url": "https://vault.internal:8200"},
    )
    assert (s.kms, s.transit_key, s.transit_mount, s.transit_token_env) == (
        "transit",
        "strongroom",
        "transit",
        "VAULT_TOKEN",
    )
    assert (s.transit_connect_timeout_seconds, s.transit_timeout_seconds) == (2, 5)
    assert s.public()["transit_token_env"] == "VAULT_TOKEN"  # a name; no token anywhere


def test_the_environment_sets_transit_fields(tmp_path: Path) -> None:
    env = {
        "STRONGROOM_KMS": "transit",
        "STRONGROOM_TRANSIT_URL": "http://127.0.0.1:8100",
        "STRONGROOM_TRANSIT_TIMEOUT_SECONDS": "9",
        "STRONGROOM_TRANSIT_MOUNT": "kms/transit",
    }
    s = load_settings(tmp_path, env)
    assert (s.transit_url, s.transit_timeout_seconds, s.transit_mount) == (
        "http://127.0.0.1:8100",
        9,
        "kms/transit",
    )


def test_production_still_refuses_local_and_names_transit(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as refused:
        load_settings(tmp_path, NO_ENV, PRODUCTION)
    assert '"transit"' in str(refused.value)


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        ({"transit_url": ""}, "https:// address"),
        ({"transit_url": "http://vault.internal:8200"}, "must use https"),
        ({"transit_url": "http://10.0.0.5:8200"}, "must use https"),
        ({"transit_url": "https://user:pw@vault.internal"}, "only scheme, host and port"),
        ({"transit_url": "https://vault.internal/v1/"}, "only scheme, host and port"),
        ({"transit_url": "https://vault.internal/?x=1"}, "only scheme, host and port"),
        ({"transit_key": "root/../other"}, "transit_key"),
        ({"transit_key": ""}, "transit_key"),
        ({"transit_key": "k" * 129}, "transit_key"),
        ({"transit_mount": "../sys"}, "transit_mount"),
        ({"transit_mount": "/transit"}, "transit_mount"),
        ({"transit_token_env": "VAULT TOKEN"}, "transit_token_env"),
        ({"transit_token_env": "hvs.CAESIJ-actual-token"}, "transit_token_env"),
        ({"transit_approle_role_id_env": "ROLE_ID"}, "both"),
        ({"transit_approle_secret_id_env": "SECRET_ID"}, "both"),
        ({"transit_approle_mount": "a b"}, "transit_approle_mount"),
        ({"transit_ca_file": "/no/such/ca.pem"}, "does not exist"),
        ({"transit_timeout_seconds": 0}, "transit_timeout_seconds"),
        ({"transit_timeout_seconds": 301}, "transit_timeout_seconds"),
        ({"transit_connect_timeout_seconds": 61}, "transit_connect_timeout_seconds"),
    ],
)
def test_unsafe_or_malformed_transit_settings_are_refused(
    tmp_path: Path, overrides: dict[str, object], says: str
) -> None:
    with pytest.raises(ConfigurationError) as refused:
        _transit(tmp_path, **overrides)
    assert says in str(refused.value)
    assert "\n" not in str(refused.value)


def test_a_pasted_token_is_never_echoed_back(tmp_path: Path) -> None:
    token = "hvs.CAESIJ-actual-token"
    with pytest.raises(ConfigurationError) as refused:
        _transit(tmp_path, transit_token_env=token)
    assert token not in str(refused.value)


def test_approle_with_both_variables_and_a_ca_file(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    s = _transit(
        tmp_path,
        transit_approle_role_id_env="SR_ROLE_ID",
        transit_approle_secret_id_env="SR_SECRET_ID",
        transit_ca_file=str(ca),
        transit_url="https://[::1]:8200",
    )
    assert s.transit_approle_role_id_env == "SR_ROLE_ID"
