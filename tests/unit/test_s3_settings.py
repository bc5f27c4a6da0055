"""The blob store settings (config.py, issue 15 item 1): folder by default, S3 on request,
credentials never from the settings file; bootstrap picks the store from them."""

from __future__ import annotations

from pathlib import Path

import pytest

from strongroom.blobs.folder import FolderBlobStore
from strongroom.blobs.s3 import MAX_PARTS, PART_SIZE, S3BlobStore, part_size
from strongroom.bootstrap import open_blobs
from strongroom.config import CONFIG_FILE, Settings, load_settings
from strongroom.errors import ConfigurationError

NO_ENV: dict[str, str] = {}
PRODUCTION = 'environment = "production"\nkms = "pkcs11"\nsecurity_contact = "mailto:s@a.example"\n'
S3 = 'blob_store = "s3"\ns3_bucket = "acme-blobs"\n'


def load(home: Path, text: str, env: dict[str, str] | None = None) -> object:
    home.mkdir(parents=True, exist_ok=True)
    (home / CONFIG_FILE).write_text(text, "utf-8")
    return load_settings(home, NO_ENV if env is None else env)


def test_blobs_are_in_the_home_folder_by_default(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, NO_ENV)
    assert settings.blob_store == "folder"
    store = open_blobs(settings)
    assert isinstance(store, FolderBlobStore) and store.root == tmp_path.resolve() / "blobs"


def test_s3_settings_choose_the_s3_store(tmp_path: Path) -> None:
    settings = load_settings(
        tmp_path,
        {
            "STRONGROOM_BLOB_STORE": "s3",
            "STRONGROOM_S3_BUCKET": "acme-blobs",
            "STRONGROOM_S3_ENDPOINT_URL": "https://s3.internal.example:8333",
            "STRONGROOM_S3_REGION": "eu-west-1",
            "STRONGROOM_S3_PREFIX": "prod/",
        },
    )
    store = open_blobs(settings)
    assert isinstance(store, S3BlobStore)
    assert (store.bucket, store.prefix) == ("acme-blobs", "prod/")
    assert store.client.meta.endpoint_url == "https://s3.internal.example:8333"
    assert store.client.meta.region_name == "eu-west-1"
    assert store.name("fil_abc123") == "prod/fil_abc123"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('blob_store = "disk"\n', "blob_store must be one of folder, s3"),
        ('blob_store = "s3"\n', "needs s3_bucket"),
        (S3.replace("acme-blobs", "sr"), "bucket name"),
        (S3.replace("acme-blobs", "Acme_Blobs"), "bucket name"),
        (S3 + 's3_endpoint_url = "ftp://s3.example"\n', "https://"),
        (S3 + 's3_endpoint_url = "https://AKIAX:wJalr@s3.example"\n', "AWS chain"),
        (S3 + 's3_endpoint_url = "https://s3.example/?X-Amz-Credential=a"\n', "AWS chain"),
        (S3 + 's3_prefix = "/abs"\n', "s3_prefix"),
        (S3 + 's3_prefix = "a\\nb/"\n', "s3_prefix"),
        (S3 + 's3_prefix = "prod"\n', "ending with /"),
        (S3 + 's3_region = "eu west"\n', "s3_region"),
        (
            S3 + PRODUCTION + 's3_endpoint_url = "http://s3.example"\n',
            "https:// in production",
        ),
        (
            S3 + PRODUCTION + 's3_endpoint_url = "http://127.0.0.1.example:8333"\n',
            "loopback",
        ),
    ],
)
def test_unusable_s3_settings_are_refused_with_what_to_change(
    tmp_path: Path, text: str, says: str
) -> None:
    with pytest.raises(ConfigurationError, match=says) as refused:
        load(tmp_path, text)
    assert "wJalr" not in str(refused.value)


def test_a_gateway_on_this_machine_may_speak_plain_http_in_production(tmp_path: Path) -> None:
    for host in ("127.0.0.1", "localhost", "[::1]"):
        text = S3 + PRODUCTION + f's3_endpoint_url = "http://{host}:8333"\n'
        assert load(tmp_path / host.strip("[]:"), text).s3_endpoint_url.startswith("http://")


@pytest.mark.parametrize(
    "line",
    [
        'aws_secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"',
        'aws_access_key_id = "AKIAIOSFODNN7EXAMPLE"',
        's3_secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"',
        's3_password = "hunter2-hunter2"',
        'aws_session_token = "FwoGZXIvYXdzEXAMPLE"',
    ],
)
def test_a_credential_in_the_settings_file_is_refused_without_echoing_it(
    tmp_path: Path, line: str
) -> None:
    with pytest.raises(ConfigurationError, match="AWS_SECRET_ACCESS_KEY") as refused:
        load(tmp_path, S3 + line + "\n")
    name, value = line.split(" = ")
    assert name in str(refused.value)
    assert value.strip('"') not in str(refused.value)


def test_part_sizes_grow_so_the_largest_file_fits_the_part_limit() -> None:
    assert part_size(1) == part_size(1000) == PART_SIZE
    assert part_size(1001) == 2 * PART_SIZE
    assert sum(part_size(n) for n in range(1, MAX_PARTS + 1)) > 400 * 1024**3
    assert part_size(MAX_PARTS) == 10 * PART_SIZE  # the most one writer ever holds


@pytest.mark.parametrize(
    "url",
    [
        "https://acme-backups/b",
        "s3://Acme_Backups/b",
        "s3://acme-backups/b?versionId=1",
        "s3://acme-backups//b",
        "s3://acme-backups/b c",
    ],
)
def test_a_backup_url_that_is_not_an_s3_place_is_refused(tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigurationError, match="s3://BUCKET/PREFIX"):
        load(tmp_path, f'backup_url = "{url}"\n')


def test_backups_beside_the_blobs_in_one_bucket_but_never_overlapping(tmp_path: Path) -> None:
    beside = load(tmp_path / "a", S3 + 's3_prefix = "blobs/"\nbackup_url = "s3://acme-blobs/bk"\n')
    assert isinstance(beside, Settings) and beside.backup_url == "s3://acme-blobs/bk"
    for prefix, url in (("", "s3://acme-blobs/bk"), ("blobs/", "s3://acme-blobs/blobs/old")):
        with pytest.raises(ConfigurationError, match="overlaps"):
            load(tmp_path / "b", S3 + f's3_prefix = "{prefix}"\nbackup_url = "{url}"\n')
