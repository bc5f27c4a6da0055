"""Settings (config.py): defaults, overrides and the refusals that protect the promises."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from strongroom.config import (
    CONFIG_FILE,
    SETTING_NAMES,
    Settings,
    load_settings,
    write_settings,
)
from strongroom.crypto import policy
from strongroom.errors import ConfigurationError

NO_ENV: dict[str, str] = {}


def write_toml(home: Path, text: str) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / CONFIG_FILE).write_text(text, "utf-8")


# defaults ---------------------------------------------------------------------------------


def test_defaults_for_a_home_folder(tmp_path: Path) -> None:
    home = tmp_path.resolve()
    s = load_settings(home, NO_ENV)
    assert s.home == home
    assert s.environment == "development"
    assert s.kms == "local"
    assert s.database_url == f"sqlite:///{home / 'data.db'}"
    assert s.keystore_url == f"sqlite:///{home / 'keystore.db'}"
    assert s.blob_dir == str(home / "blobs")
    assert s.kms_dir == home / "kms"
    assert s.record_max_bytes == 1024 * 1024
    assert s.key_cache_entries == policy.KEY_CACHE_MAX_ENTRIES
    assert s.key_cache_ttl_seconds == policy.KEY_CACHE_TTL_SECONDS


def test_a_relative_home_is_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    s = load_settings("sub/home", NO_ENV)
    assert s.home == (tmp_path / "sub" / "home").resolve()
    assert s.home.is_absolute()
    assert s.database_url == f"sqlite:///{s.home / 'data.db'}"


def test_the_toml_file_sets_values(tmp_path: Path) -> None:
    write_toml(
        tmp_path,
        'blob_dir = "/srv/blobs"\nrecord_max_bytes = 2048\nkey_cache_entries = 10\n'
        'database_url = "postgresql://app@db.internal/strongroom"\n',
    )
    s = load_settings(tmp_path, NO_ENV)
    assert s.blob_dir == "/srv/blobs"
    assert s.record_max_bytes == 2048
    assert s.key_cache_entries == 10
    assert s.database_url == "postgresql://app@db.internal/strongroom"
    assert s.keystore_url == f"sqlite:///{tmp_path.resolve() / 'keystore.db'}"


def test_environment_variables_override_the_file(tmp_path: Path) -> None:
    write_toml(tmp_path, 'record_max_bytes = 2048\nblob_dir = "/from/file"\n')
    env = {
        "STRONGROOM_RECORD_MAX_BYTES": "4096",
        "STRONGROOM_KEY_CACHE_TTL_SECONDS": "60",
        "STRONGROOM_DATABASE_URL": "postgresql://app@db/data",
        "STRONGROOM_KEYSTORE_URL": "postgresql://keys@db/keys",
        "STRONGROOM_ENVIRONMENT": "production",
        "STRONGROOM_SECURITY_CONTACT": "mailto:security@acme.example",
        "STRONGROOM_KMS": "pkcs11",
        "STRONGROOM_PKCS11_TOKEN_LABEL": "prod-token",
        "UNRELATED": "ignored",
        "STRONGROOM_NOT_A_SETTING": "ignored",
    }
    s = load_settings(tmp_path, env)
    assert s.record_max_bytes == 4096 and isinstance(s.record_max_bytes, int)
    assert s.key_cache_ttl_seconds == 60
    assert s.database_url == "postgresql://app@db/data"
    assert s.keystore_url == "postgresql://keys@db/keys"
    assert (s.environment, s.kms) == ("production", "pkcs11")
    assert s.pkcs11_token_label == "prod-token"
    assert s.blob_dir == "/from/file"


def test_the_process_environment_is_read_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STRONGROOM_RECORD_MAX_BYTES", "5000")
    assert load_settings(tmp_path).record_max_bytes == 5000


def test_the_pkcs11_pin_comes_from_the_named_variable_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = load_settings(tmp_path, {"STRONGROOM_PKCS11_PIN_ENV": "MY_PIN"})
    monkeypatch.delenv("MY_PIN", raising=False)
    with pytest.raises(ConfigurationError, match="MY_PIN"):
        s.pkcs11_pin()
    monkeypatch.setenv("MY_PIN", "1234")
    assert s.pkcs11_pin() == "1234"
    assert "1234" not in str(s.public())


# refusals ---------------------------------------------------------------------------------


def test_production_refuses_the_local_root_key_and_says_what_to_change(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as error:
        load_settings(tmp_path, {"STRONGROOM_ENVIRONMENT": "production"})
    message = str(error.value)
    assert 'kms = "pkcs11"' in message
    assert "strongroom.toml" in message
    assert "\n" not in message
    write_toml(tmp_path, 'environment = "production"\nkms = "local"\n')
    with pytest.raises(ConfigurationError, match="pkcs11"):
        load_settings(tmp_path, NO_ENV)


def test_production_with_an_hsm_is_accepted(tmp_path: Path) -> None:
    write_toml(
        tmp_path,
        'environment = "production"\nkms = "pkcs11"\n'
        'security_contact = "https://acme.example/security"\n',
    )
    s = load_settings(tmp_path, NO_ENV)
    assert (s.environment, s.kms) == ("production", "pkcs11")


@pytest.mark.parametrize("kms", ["aws", "LOCAL", "", "memory"])
def test_unknown_kms_is_refused(tmp_path: Path, kms: str) -> None:
    with pytest.raises(ConfigurationError, match="kms must be one of local, pkcs11"):
        load_settings(tmp_path, {"STRONGROOM_KMS": kms})


@pytest.mark.parametrize("environment", ["prod", "staging", "Production"])
def test_unknown_environment_is_refused(tmp_path: Path, environment: str) -> None:
    with pytest.raises(ConfigurationError, match="environment"):
        load_settings(tmp_path, {"STRONGROOM_ENVIRONMENT": environment})


def _same_sqlite_spellings(home: Path) -> list[str]:
    data = home.resolve() / "data.db"
    (home / "sub").mkdir(exist_ok=True)
    link = home / "link"
    if not link.exists():
        link.symlink_to(home.resolve(), target_is_directory=True)
    return [
        f"sqlite:///{data}",
        f"sqlite+pysqlite:///{data}",
        f"sqlite:///{home.resolve()}/./data.db",
        f"sqlite:///{home.resolve()}/sub/../data.db",
        f"sqlite:///{home.resolve()}//data.db",
        f"sqlite:///{link}/data.db",
    ]


def test_the_keystore_must_not_be_the_data_store(tmp_path: Path) -> None:
    spellings = _same_sqlite_spellings(tmp_path)
    for spelling in spellings:
        # against the default data store
        with pytest.raises(ConfigurationError, match="keystore") as error:
            load_settings(tmp_path, {"STRONGROOM_KEYSTORE_URL": spelling})
        assert "keystore_url" in str(error.value)
        # and against every other spelling of the same file
        for other in spellings:
            with pytest.raises(ConfigurationError, match="keystore"):
                load_settings(
                    tmp_path,
                    {"STRONGROOM_DATABASE_URL": other, "STRONGROOM_KEYSTORE_URL": spelling},
                )


def test_the_keystore_must_not_be_the_data_store_with_a_relative_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigurationError, match="keystore"):
        load_settings(
            tmp_path,
            {
                "STRONGROOM_DATABASE_URL": "sqlite:///same.db",
                "STRONGROOM_KEYSTORE_URL": f"sqlite:///{tmp_path}/same.db",
            },
        )


def test_a_keystore_in_another_file_of_the_same_folder_is_fine(tmp_path: Path) -> None:
    s = load_settings(tmp_path, {"STRONGROOM_KEYSTORE_URL": f"sqlite:///{tmp_path}/keys2.db"})
    assert s.keystore_url.endswith("keys2.db")


@pytest.mark.parametrize(
    "data,keys",
    [
        ("postgresql://app@db/strongroom", "postgresql://app@db/strongroom"),
        ("postgresql+psycopg://app@db/strongroom", "postgresql://app@db/strongroom"),
    ],
)
def test_the_keystore_must_not_be_the_postgres_data_store(
    tmp_path: Path, data: str, keys: str
) -> None:
    with pytest.raises(ConfigurationError, match="keystore"):
        load_settings(tmp_path, {"STRONGROOM_DATABASE_URL": data, "STRONGROOM_KEYSTORE_URL": keys})


@pytest.mark.parametrize(
    "data,keys",
    [
        ("postgresql://app:pw1@db/strongroom", "postgresql://keys:pw2@db/strongroom"),
        ("postgresql://app@db/strongroom", "postgresql://app@db:5432/strongroom"),
    ],
    ids=["other-credentials", "explicit-default-port"],
)
def test_the_same_postgres_database_spelled_differently_is_refused(
    tmp_path: Path, data: str, keys: str
) -> None:
    """Another user name or an explicit default port still names the same database: the
    wrapped keys would sit (and be backed up) with the data they protect."""
    with pytest.raises(ConfigurationError, match="keystore"):
        load_settings(tmp_path, {"STRONGROOM_DATABASE_URL": data, "STRONGROOM_KEYSTORE_URL": keys})


def test_postgres_databases_of_their_own_are_fine(tmp_path: Path) -> None:
    s = load_settings(
        tmp_path,
        {
            "STRONGROOM_DATABASE_URL": "postgresql://app@db/data",
            "STRONGROOM_KEYSTORE_URL": "postgresql://app@db/keys",
        },
    )
    assert s.keystore_url == "postgresql://app@db/keys"


def test_unknown_keys_in_the_file_are_refused_by_name(tmp_path: Path) -> None:
    write_toml(tmp_path, 'kms = "local"\nrecord_max_byte = 2048\ncolour = "blue"\n')
    with pytest.raises(ConfigurationError) as error:
        load_settings(tmp_path, NO_ENV)
    message = str(error.value)
    assert "colour" in message and "record_max_byte" in message
    assert "kms" not in message.split(":")[-1]


@pytest.mark.parametrize("text", ["[section]\nkey = 1\n", 'home = "/elsewhere"\n', "extra = 1\n"])
def test_tables_and_internal_fields_are_not_settings(tmp_path: Path, text: str) -> None:
    write_toml(tmp_path, text)
    with pytest.raises(ConfigurationError, match="unknown settings"):
        load_settings(tmp_path, NO_ENV)


@pytest.mark.parametrize(
    "text",
    [
        "kms = local\n",
        "record_max_bytes = \n",
        "[unclosed\n",
        'a = "x\n',
        "= 1\n",
        'kms = "local"\nkms = "pkcs11"\n',
    ],
)
def test_invalid_toml_is_a_configuration_error_naming_the_file(tmp_path: Path, text: str) -> None:
    write_toml(tmp_path, text)
    with pytest.raises(ConfigurationError) as error:
        load_settings(tmp_path, NO_ENV)
    assert CONFIG_FILE in str(error.value)
    assert "not valid TOML" in str(error.value)


@pytest.mark.parametrize("value", ["1023", "0", "-1", str(64 * 1024 * 1024 + 1)])
def test_record_max_bytes_out_of_range_is_refused(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigurationError, match="record_max_bytes"):
        load_settings(tmp_path, {"STRONGROOM_RECORD_MAX_BYTES": value})


@pytest.mark.parametrize("value", [1024, 64 * 1024 * 1024])
def test_record_max_bytes_at_the_bounds_is_accepted(tmp_path: Path, value: int) -> None:
    write_toml(tmp_path, f"record_max_bytes = {value}\n")
    assert load_settings(tmp_path, NO_ENV).record_max_bytes == value


@pytest.mark.parametrize("value", ["lots", "1.5e3", "", "0x400"])
def test_non_integer_numbers_are_refused(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigurationError, match="whole number"):
        load_settings(tmp_path, {"STRONGROOM_RECORD_MAX_BYTES": value})


@pytest.mark.parametrize(
    "name,value",
    [
        ("key_cache_entries", "0"),
        ("key_cache_entries", "1000001"),
        ("key_cache_ttl_seconds", "0"),
        ("key_cache_ttl_seconds", "86401"),
    ],
)
def test_key_cache_bounds_are_enforced(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=name):
        load_settings(tmp_path, {f"STRONGROOM_{name.upper()}": value})


@pytest.mark.parametrize("line", ["database_url = 5", "keystore_url = true"])
def test_a_wrongly_typed_url_in_the_file_is_a_configuration_error(
    tmp_path: Path, line: str
) -> None:
    """Every error a user can cause is a StrongroomError (errors.py): a number where a URL
    belongs must not escape as sqlalchemy's ArgumentError."""
    write_toml(tmp_path, line + "\n")
    with pytest.raises(ConfigurationError):
        load_settings(tmp_path, NO_ENV)


def test_public_settings_hide_database_passwords(tmp_path: Path) -> None:
    s = load_settings(tmp_path, {"STRONGROOM_DATABASE_URL": "postgresql://app:s3cr3t@db/data"})
    public = s.public()
    assert "s3cr3t" not in str(public)
    assert public["home"] == str(tmp_path.resolve())


# write_settings -----------------------------------------------------------------------------


def test_write_then_load_round_trips(tmp_path: Path) -> None:
    original = Settings(
        home=tmp_path,
        environment="production",
        security_contact="mailto:security@acme.example",
        kms="pkcs11",
        database_url="postgresql+psycopg://app:p%40ss@db.internal:5433/strongroom",
        keystore_url="postgresql+psycopg://keys@keys.internal/keystore",
        blob_dir=str(tmp_path / 'odd "blob" dir\\with backslash'),
        pkcs11_module="/opt/hsm/lib/libcloudhsm.so",
        pkcs11_token_label="Zoë's token",
        pkcs11_pin_env="HSM_PIN",
        record_max_bytes=4096,
        key_cache_entries=10,
        key_cache_ttl_seconds=30,
    ).validate()
    path = write_settings(original, SETTING_NAMES)
    assert path == tmp_path.resolve() / CONFIG_FILE
    loaded = load_settings(tmp_path, NO_ENV)
    assert loaded == original


def test_writing_defaults_still_names_kms_and_environment(tmp_path: Path) -> None:
    path = write_settings(Settings(home=tmp_path), [])
    text = path.read_text("utf-8")
    assert 'kms = "local"' in text and 'environment = "development"' in text
    assert "database_url" not in text  # defaults follow the home if it moves
    assert load_settings(tmp_path, NO_ENV) == Settings(home=tmp_path)


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(label=st.text(min_size=1, max_size=30))
def test_any_written_string_setting_loads_back(tmp_path: Path, label: str) -> None:
    """Control characters, quotes and backslashes in a written string load back intact."""
    original = Settings(home=tmp_path, pkcs11_token_label=label).validate()
    write_settings(original, ["pkcs11_token_label"])
    assert load_settings(tmp_path, NO_ENV).pkcs11_token_label == label


def test_write_settings_does_not_store_the_pin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STRONGROOM_PKCS11_PIN", "98765")
    path = write_settings(Settings(home=tmp_path, kms="pkcs11"), SETTING_NAMES)
    assert "98765" not in path.read_text("utf-8")
    assert path.stat().st_mode & 0o077 == 0  # owner-only: it may hold a database URL
    assert os.environ["STRONGROOM_PKCS11_PIN"] == "98765"


def test_init_takes_environment_variables_but_persists_only_explicit_options(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from strongroom import init_home

    monkeypatch.setenv("STRONGROOM_RECORD_MAX_BYTES", "4096")
    settings = init_home(tmp_path / "home", key_cache_entries=7)
    assert settings.record_max_bytes == 4096 and settings.key_cache_entries == 7
    text = (tmp_path / "home" / CONFIG_FILE).read_text("utf-8")
    assert "key_cache_entries = 7" in text and "record_max_bytes" not in text


def test_production_needs_a_real_security_contact(tmp_path: Path) -> None:
    write_toml(tmp_path, 'environment = "production"\nkms = "pkcs11"\n')
    with pytest.raises(ConfigurationError, match="security_contact"):
        load_settings(tmp_path, NO_ENV)
    with pytest.raises(ConfigurationError, match="mailto"):
        load_settings(tmp_path, {"STRONGROOM_SECURITY_CONTACT": "security@acme.example"})


# retention: the trust page's numbers ------------------------------------------------------


def test_retention_defaults_are_the_trust_pages(tmp_path: Path) -> None:
    s = load_settings(tmp_path, NO_ENV)
    assert (s.trash_days, s.trial_retention_days, s.cancellation_window_days) == (30, 30, 30)
    assert s.backup_purge_window_days == 60


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("trash_days", 31, "permanently deleted 30 days"),
        ("trash_days", 0, "between 1 and 30"),
        ("trial_retention_days", 45, "deleted 30 days after the trial"),
        ("cancellation_window_days", 29, "at least 30 days after cancellation"),
        ("backup_purge_window_days", 61, "gone from backups within 60 days"),
        ("backup_purge_window_days", 10, r"between trash_days \(30\)"),
    ],
)
def test_retention_that_breaks_a_promise_is_refused_with_the_reason(
    tmp_path: Path, name: str, value: int, reason: str
) -> None:
    with pytest.raises(ConfigurationError, match=reason):
        load_settings(tmp_path, {f"STRONGROOM_{name.upper()}": str(value)})


def test_a_shorter_backup_window_is_a_deployment_choice(tmp_path: Path) -> None:
    s = load_settings(tmp_path, NO_ENV, {"trash_days": 7, "backup_purge_window_days": 14})
    assert (s.trash_days, s.backup_purge_window_days) == (7, 14)


# backups: retention by absolute date inside the promised window ---------------------------


def test_backup_retention_defaults_follow_the_window(tmp_path: Path) -> None:
    s = load_settings(tmp_path, NO_ENV)
    assert s.backup_dir == str(tmp_path.resolve() / "backups")
    # keystore backups are kept as long as data backups: each stays restorable until it expires
    assert (s.backup_retention_days, s.keystore_backup_retention_days) == (60, 60)
    short = load_settings(tmp_path, NO_ENV, {"trash_days": 7, "backup_purge_window_days": 14})
    assert (short.backup_retention_days, short.keystore_backup_retention_days) == (14, 14)
    shorter = load_settings(tmp_path, NO_ENV, {"backup_retention_days": 20})
    assert shorter.keystore_backup_retention_days == 20


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({"backup_retention_days": 61}, r"backup_retention_days must be between 1 and .*\(60\)"),
        ({"backup_retention_days": 15, "trash_days": 7, "backup_purge_window_days": 14}, "14"),
        (
            {"keystore_backup_retention_days": 30},
            r"keystore_backup_retention_days \(30\) is shorter than backup_retention_days "
            r"\(60\).* set keystore_backup_retention_days to at least 60",
        ),
        ({"keystore_backup_retention_days": 61}, r"at most backup_purge_window_days \(60\)"),
    ],
)
def test_backup_retention_that_breaks_the_promise_is_refused(
    tmp_path: Path, values: dict[str, int], reason: str
) -> None:
    with pytest.raises(ConfigurationError, match=reason):
        load_settings(tmp_path, NO_ENV, values)


def test_the_record_of_privacy_requests_is_kept_at_least_24_months(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="at least 24 months"):
        load_settings(tmp_path, {"STRONGROOM_PRIVACY_RECORD_MONTHS": "23"})
    assert (
        load_settings(tmp_path, {"STRONGROOM_PRIVACY_RECORD_MONTHS": "36"}).privacy_record_months
        == 36
    )
    assert load_settings(tmp_path, NO_ENV).privacy_record_months == 24


# break-glass grants (issue 17) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "refusal"),
    [
        ({"grant_max_hours": "25"}, "between 1 and 24"),
        ({"grant_max_hours": "0"}, "between 1 and 24"),
        ({"grant_self_approval": "yes"}, '"on" or "off"'),
        ({"grant_self_approval": "on"}, "needs smtp_host"),
        ({"staff_agreement_version": "v 2"}, "staff_agreement_version"),
    ],
)
def test_grant_settings_that_break_the_promise_are_refused(
    tmp_path: Path, settings: dict[str, str], refusal: str
) -> None:
    with pytest.raises(ConfigurationError, match=refusal):
        load_settings(tmp_path, NO_ENV, settings)


def test_grant_settings_defaults_and_a_self_approval_with_mail(tmp_path: Path) -> None:
    s = load_settings(tmp_path, NO_ENV)
    assert (s.grant_max_hours, s.grant_self_approval, s.staff_agreement_version) == (24, "off", "")
    on = {"grant_self_approval": "on", "smtp_host": "mail.example", "grant_max_hours": "4"}
    assert load_settings(tmp_path, NO_ENV, on).grant_max_hours == 4
