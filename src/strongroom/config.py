"""Settings: one typed object, read from ``HOME/strongroom.toml`` and ``STRONGROOM_*``
environment variables (the environment wins), validated before anything starts.

Every field is documented in docs/configuration.md. Unsafe values stop the start with a
sentence that says what to change.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from strongroom.crypto import policy
from strongroom.errors import ConfigurationError
from strongroom.storage.database import redact_url, same_database

CONFIG_FILE = "strongroom.toml"
KMS_BACKENDS = ("local", "pkcs11", "transit", "aws-kms")
#: The PKCS#11 wrapping schemes a setting may name (crypto/kms/pkcs11_schemes.py CHOICES).
PKCS11_SCHEMES = ("auto", "aes-gcm", "aes-kwp", "hmac-sha256-kdf")
ENVIRONMENTS = ("development", "production")
SMTP_SECURITY = ("starttls", "tls", "none")
BLOB_STORES = ("folder", "s3")
METRICS = ("on", "off")
LOG_FORMATS = ("json", "text")
_S3_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_S3_REGION = re.compile(r"[a-z]{2}(-[a-z0-9]+){1,4}")
_S3_PREFIX = re.compile(r"((?!/)[A-Za-z0-9._/-]{0,199}/)?")
#: Setting names that would hold a credential: refused with a pointer to the AWS chain.
_CREDENTIAL_WORDS = ("secret", "access_key", "password", "session_token", "credential")
# The trust page's numbers: the bounds the retention settings may not cross.
MAX_TRASH_DAYS = 30
MAX_TRIAL_RETENTION_DAYS = 30
MIN_CANCELLATION_WINDOW_DAYS = 30
#: CCPA regulations §7101(a): records of consumer requests are kept for at least 24 months.
MIN_PRIVACY_RECORD_MONTHS = 24
MAX_BACKUP_PURGE_WINDOW_DAYS = 60
#: The trust page: contact is answered within 24 hours (the inbox's first-response clock).
MAX_RESPONSE_HOURS = 24


@dataclass(frozen=True)
class Settings:
    home: Path
    #: "development" or "production"; production refuses the local root key.
    environment: str = "development"
    #: Data store URL; default: SQLite ``HOME/data.db``.
    database_url: str = ""
    #: Keystore URL (wrapped keys); default: SQLite ``HOME/keystore.db``. Never the data store.
    keystore_url: str = ""
    #: Folder of file ciphertext; default ``HOME/blobs``.
    blob_dir: str = ""
    #: Root-key backend: "local", "pkcs11", "transit" or "aws-kms".
    kms: str = "local"
    pkcs11_module: str = "/usr/lib/softhsm/libsofthsm2.so"
    pkcs11_token_label: str = "strongroom"  # noqa: S105 - a label, not a secret
    #: Name of the environment variable holding the PKCS#11 user PIN (never the PIN itself).
    pkcs11_pin_env: str = "STRONGROOM_PKCS11_PIN"
    #: Largest record document, in bytes of canonical JSON.
    record_max_bytes: int = 1024 * 1024
    #: Largest file upload, in bytes (10 GiB).
    file_max_bytes: int = 10 * 1024**3
    #: TLS certificate and key (PEM). Default: the ones `init` issues under HOME/tls from a
    #: local CA (HOME/tls/ca.pem). Replacing the files reloads them without a restart.
    tls_cert: str = ""
    tls_key: str = ""
    #: RFC 9116 security contact for /.well-known/security.txt (mailto: or https: URI).
    security_contact: str = "mailto:security@localhost"
    security_policy_url: str = ""
    #: The address people and the deployment's own checks reach this deployment at (the
    #: trust center's links, security.txt's Canonical, the live TLS probe). No trailing /.
    public_url: str = "https://localhost:8443"
    key_cache_entries: int = policy.KEY_CACHE_MAX_ENTRIES
    key_cache_ttl_seconds: int = policy.KEY_CACHE_TTL_SECONDS
    #: Retention (days), with the trust page's numbers. How long a deleted project, record
    #: or file can be restored from the trash before it is purged.
    trash_days: int = 30
    #: How long an ended trial's data is kept (activation inside restores it), then purged.
    trial_retention_days: int = 30
    #: How long a cancelled workspace stays readable and exportable before it is purged.
    cancellation_window_days: int = 30
    #: The promised bound, from deletion, until no backup holds the data any more.
    backup_purge_window_days: int = 60
    #: Folder of backups (encrypted data and keystore backups); default ``HOME/backups``.
    backup_dir: str = ""
    #: Backups in an S3 bucket instead: "s3://bucket/prefix" (the endpoint and region of
    #: s3_endpoint_url and s3_region, credentials from the AWS chain). Empty: backup_dir.
    backup_url: str = ""
    #: Every data backup is deleted this many days after it was taken, whether or not newer
    #: backups exist. At most backup_purge_window_days; default (0): that window (60 days).
    backup_retention_days: int = 0
    #: Keystore backups (wrapped keys) are deleted this many days after they were taken, or
    #: sooner: one holding a key a purge destroyed goes by that deletion + the window.
    #: At least backup_retention_days (a data backup restores only with a keystore backup
    #: taken at or after it); default (0): backup_retention_days.
    keystore_backup_retention_days: int = 0
    #: How long the server keeps an export artifact (encrypted) for download.
    export_ttl_days: int = 7
    #: Seconds between two passes of the lifecycle worker.
    worker_interval_seconds: int = 30
    #: Hostile clients (api/admission.py, api/server.py). An upload whose body sends
    #: nothing for this many seconds is answered 408 and leaves nothing behind.
    upload_idle_timeout_seconds: int = 30
    #: Uploads in progress at once, per workspace (429 above: whatever tokens or sessions
    #: they use) and in all (503 above).
    uploads_per_workspace: int = 8
    uploads_max: int = 32
    #: Sign-ins waiting for a password check beyond the ones running (503 above).
    sign_in_queue: int = 32
    #: Failed sign-ins from one client address within the login window, then 429.
    sign_in_failures_per_address: int = 20
    #: Seconds a connection may take to send a request's line and headers, and its TLS
    #: handshake; then it is closed.
    header_timeout_seconds: int = 10
    tls_handshake_timeout_seconds: int = 10
    #: Seconds a request's whole body (but an upload's) may take to arrive after its
    #: headers; then 408 and the connection is closed.
    body_timeout_seconds: int = 30
    #: Connections open at once, in all and per client address (IPv6 per /64); one more
    #: is closed as soon as it is made.
    max_connections: int = 1000
    max_connections_per_address: int = 64
    #: Privacy requests: the IANA time zone their dates are counted in (received, due).
    privacy_time_zone: str = "UTC"
    #: Dates that are not business days for the CCPA's 10-day confirmation (YYYY-MM-DD,
    #: comma-separated); weekends never are.
    privacy_holidays: str = ""
    #: ISO 3166 region for phone numbers written without a country code ("GB", "US");
    #: empty: such numbers are compared by their digits as written.
    phone_region: str = ""
    #: Months a closed privacy request is kept in the record of requests (CCPA §7101: at
    #: least 24), then deleted by the worker; its subject is kept only as digests.
    privacy_record_months: int = MIN_PRIVACY_RECORD_MONTHS
    #: Outgoing mail (mail.py): subprocessor notices, replies from the request inbox.
    #: Empty smtp_host: nothing is sent (what would have been is recorded as not sent).
    smtp_host: str = ""
    smtp_port: int = 25
    #: "starttls" (upgrade after connecting), "tls" (TLS from the first byte, port 465)
    #: or "none" (plain: only for a relay on this machine or in tests).
    smtp_security: str = "starttls"
    smtp_from: str = "strongroom@localhost"
    #: SMTP user name; its password is read from the variable smtp_password_env names.
    smtp_username: str = ""
    smtp_password_env: str = "STRONGROOM_SMTP_PASSWORD"  # noqa: S105 - a variable's name
    smtp_timeout_seconds: int = 30
    # Promise checks and the trust center (issue 14: docs/trust-center.md).
    #: Minutes between two runs of every promise check by the worker (it also runs them at
    #: its first pass); their results are what /trust shows.
    promise_check_minutes: int = 15
    #: A promise whose newest check is older than this many minutes shows as stale, never
    #: as holding. At least promise_check_minutes.
    promise_stale_minutes: int = 60
    #: Days the results of promise checks are kept (each promise's newest result and newest
    #: pass are kept whatever their age).
    promise_history_days: int = 90
    #: Hours between two backups the worker takes (data and keystore). 0: backups are taken
    #: outside Strongroom's worker; the backup promise still needs a recent one.
    backup_every_hours: int = 24
    #: Days between two restore drills the worker runs on the newest backup (1 to 7: the
    #: promise wants a drill that passed within the last 7 days).
    backup_drill_every_days: int = 7
    #: The server certificate must stay valid at least this many more days for the
    #: certificate promise to hold.
    certificate_min_days: int = 14

    # Request inbox (issue 14 item 5: support, security and privacy requests; docs/inbox.md)
    #: Calendar hours from receipt within which a request gets its first reply (sent to the
    #: requester by SMTP). The trust page promises 24: more is refused.
    response_hours: int = 24
    #: The operators' address, warned an hour before a request's first reply is due;
    #: empty: the warning is recorded (and audited) only.
    inbox_notify: str = ""
    #: Requests one client address (IPv6 per /64) may send in an hour, by the form and the
    #: API together; then 429 with Retry-After.
    inbox_requests_per_address_hour: int = 5
    # -- the root key in Vault/OpenBao Transit (kms = "transit"; issue 15) --
    #: Address of Vault or OpenBao, e.g. ``https://vault.internal:8200`` (http only to loopback).
    transit_url: str = ""
    #: Name of the Transit key holding the root key versions (init creates it if missing).
    transit_key: str = "strongroom"
    #: Path where the Transit secrets engine is mounted.
    transit_mount: str = "transit"
    #: Name of the environment variable holding the Vault token (never the token itself).
    transit_token_env: str = "VAULT_TOKEN"  # noqa: S105 - a variable name, not a secret
    #: AppRole sign-in instead of a token: names of the variables holding the role id and the
    #: secret id (both or neither), and the AppRole mount path.
    transit_approle_role_id_env: str = ""
    transit_approle_secret_id_env: str = ""
    transit_approle_mount: str = "approle"
    #: CA certificates (PEM) that verify Vault's TLS certificate; empty: the system's.
    transit_ca_file: str = ""
    #: Seconds to wait for a connection to Vault, and for each answer.
    transit_connect_timeout_seconds: int = 2
    transit_timeout_seconds: int = 5

    # Blob store on S3 (issue 15 item 1: files and export artifacts; docs/deploy.md)
    #: Where file ciphertext is kept: "folder" (blob_dir) or "s3" (the bucket below).
    blob_store: str = "folder"
    #: The S3 API's address (SeaweedFS, MinIO, Ceph ...); empty: AWS S3 of s3_region.
    #: Credentials are never a setting: boto3's chain (AWS_ACCESS_KEY_ID and
    #: AWS_SECRET_ACCESS_KEY, AWS_PROFILE, an instance role) provides them.
    s3_endpoint_url: str = ""
    #: The bucket (3-63 characters), created beforehand; required when blob_store = "s3".
    s3_bucket: str = ""
    #: The bucket's region; empty: the chain's (AWS_REGION, the profile).
    s3_region: str = ""
    #: Prepended to every object name, to share a bucket: empty or ending with "/"
    #: ("strongroom/"). The sweep of abandoned uploads covers this prefix only.
    s3_prefix: str = ""

    # Subprocessors (issue 14, item 3: the public list, notices, subscribers, objections)
    #: Days between a change's notice and the date it takes effect: at least 30, the
    #: trust page's notice period.
    subprocessor_notice_days: int = 30
    #: Times the worker tries to mail one notice to one subscriber before giving up.
    subprocessor_delivery_attempts: int = 8
    #: Subscriptions one client address may ask for on the public page per hour, then 429.
    subprocessor_subscribes_per_address: int = 5
    # -- agreements: the first DPA acceptance (security review) ---------------------------
    #: Days a workspace that never accepted a DPA version has to accept one, counted from
    #: the later of its creation and the current version's effective date; then overdue.
    dpa_first_acceptance_days: int = 30

    # PKCS#11 wrapping schemes (issue 16: any HSM; crypto/kms/pkcs11_schemes.py)
    #: How new root key versions in the token wrap workspace keys: "auto" (the first the
    #: token supports of aes-gcm, aes-kwp, hmac-sha256-kdf) or one of those three. Existing
    #: versions keep the scheme they were made with.
    pkcs11_scheme: str = "auto"

    # -- the root key in AWS KMS (kms = "aws-kms"; issue 15; crypto/kms/aws.py) --
    #: Alias name under which the root versions live (``alias/strongroom``: keys
    #: ``alias/strongroom/v000001`` ..., and ``alias/strongroom/current``), or its alias ARN.
    aws_kms_key: str = "alias/strongroom"
    #: The keys' region; empty: the alias ARN's, else the chain's (AWS_REGION, the profile).
    aws_kms_region: str = ""
    #: The KMS API's address; empty: AWS's endpoint for the region (set for tests and VPC
    #: endpoints). Credentials are never a setting: the AWS chain provides them.
    aws_kms_endpoint_url: str = ""
    #: Seconds to wait for a connection to KMS, and for each answer.
    aws_kms_connect_timeout_seconds: int = 2
    aws_kms_timeout_seconds: int = 5

    # Metrics and logs (issue 15 item 6: GET /metrics, JSON logs; docs/operations.md)
    #: "on": GET /metrics answers operator tokens in Prometheus' text format, and serve and
    #: worker count their KMS calls and key cache; "off": no /metrics (404), nothing counted.
    metrics: str = "on"
    #: How serve and worker write their log on stderr: "json" (one object a line, with
    #: the request id) or "text" (one readable line an event).
    log_format: str = "json"

    # Staff and break-glass grants (issue 17: docs/break-glass.md)
    #: The longest a break-glass grant may last, in hours: 1 to 24 (never more).
    grant_max_hours: int = 24
    #: "on": an operator may approve their own grant in an emergency (the workspace's
    #: owners are mailed at once, so smtp_host is required); "off": only an owner approves.
    grant_self_approval: str = "off"
    #: The confidentiality agreement version staff must have signed (their latest agreement
    #: this version or a later one) to ask for access; empty: any signed agreement.
    staff_agreement_version: str = ""

    def __post_init__(self) -> None:
        home = Path(self.home).expanduser().resolve()
        object.__setattr__(self, "home", home)
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{home / 'data.db'}")
        if not self.keystore_url:
            object.__setattr__(self, "keystore_url", f"sqlite:///{home / 'keystore.db'}")
        if not self.blob_dir:
            object.__setattr__(self, "blob_dir", str(home / "blobs"))
        if not self.backup_dir:
            object.__setattr__(self, "backup_dir", str(home / "backups"))
        if not self.backup_retention_days:
            object.__setattr__(self, "backup_retention_days", self.backup_purge_window_days)
        if not self.keystore_backup_retention_days:
            object.__setattr__(self, "keystore_backup_retention_days", self.backup_retention_days)
        if not self.tls_cert:
            object.__setattr__(self, "tls_cert", str(home / "tls" / "server.pem"))
        if not self.tls_key:
            object.__setattr__(self, "tls_key", str(home / "tls" / "server-key.pem"))

    @property
    def kms_dir(self) -> Path:
        return self.home / "kms"

    def pkcs11_pin(self) -> str:
        pin = os.environ.get(self.pkcs11_pin_env)
        if not pin:
            raise ConfigurationError(
                f"the PKCS#11 PIN is read from the environment variable {self.pkcs11_pin_env}, "
                "which is not set"
            )
        return pin

    def validate(self) -> Settings:
        self._validate_privacy()
        if self.environment not in ENVIRONMENTS:
            raise ConfigurationError(
                f"environment must be one of {', '.join(ENVIRONMENTS)}, not {self.environment!r}"
            )
        if self.kms not in KMS_BACKENDS:
            raise ConfigurationError(
                f"kms must be one of {', '.join(KMS_BACKENDS)}, not {self.kms!r}"
            )
        if self.kms == "local" and self.environment == "production":
            raise ConfigurationError(
                "the local root key is for development and single machines; in production "
                'set kms = "pkcs11" (an HSM), "transit" (Vault/OpenBao) or "aws-kms" in '
                "strongroom.toml"
            )
        if same_database(self.database_url, self.keystore_url):
            raise ConfigurationError(
                "the keystore must be a database of its own: set keystore_url to a different "
                "database than database_url"
            )
        if not 1024 <= self.record_max_bytes <= 64 * 1024 * 1024:
            raise ConfigurationError("record_max_bytes must be between 1024 and 67108864")
        if not 1024 <= self.file_max_bytes <= 1024**4:
            raise ConfigurationError("file_max_bytes must be between 1024 and 1099511627776")
        if not self.security_contact.startswith(("mailto:", "https://")):
            raise ConfigurationError(
                "security_contact must be a mailto: or https:// URI (RFC 9116 Contact)"
            )
        if self.environment == "production" and self.security_contact.endswith("@localhost"):
            raise ConfigurationError(
                "set security_contact to your security team's address in production"
            )
        if not self.public_url.startswith("https://") or self.public_url.endswith("/"):
            raise ConfigurationError(
                "public_url must be the https:// address of this deployment, without a trailing /"
            )
        if not 1 <= self.key_cache_entries <= 1_000_000:
            raise ConfigurationError("key_cache_entries must be between 1 and 1000000")
        if not 1 <= self.key_cache_ttl_seconds <= 86400:
            raise ConfigurationError("key_cache_ttl_seconds must be between 1 and 86400")
        self._validate_retention()
        self._validate_hostile_clients()
        self._validate_mail()
        self._validate_inbox()
        self._validate_promises()
        self._validate_s3()
        self._validate_transit()
        self._validate_subprocessors()
        self._validate_pkcs11_scheme()
        self._validate_aws_kms()
        self._validate_agreements()
        self._validate_observability()
        self._validate_grants()
        return self

    def _validate_pkcs11_scheme(self) -> None:
        if self.pkcs11_scheme not in PKCS11_SCHEMES:
            raise ConfigurationError(
                f"pkcs11_scheme must be one of {', '.join(PKCS11_SCHEMES)}, "
                f"not {self.pkcs11_scheme!r}"
            )

    def _validate_s3(self) -> None:
        if self.blob_store not in BLOB_STORES:
            raise ConfigurationError(
                f"blob_store must be one of {', '.join(BLOB_STORES)}, not {self.blob_store!r}"
            )
        if self.s3_endpoint_url:
            url = urlsplit(self.s3_endpoint_url)
            if url.scheme not in ("https", "http") or not url.hostname:
                raise ConfigurationError(
                    "s3_endpoint_url must be an https:// (or http://) address, or empty for AWS"
                )
            if url.username or url.password or url.query or url.fragment:
                raise ConfigurationError(
                    "s3_endpoint_url must hold no user, password or query: S3 credentials "
                    "come from the AWS chain (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                    "a profile, an instance role), never from the settings"
                )
            if (
                url.scheme == "http"
                and self.environment == "production"
                and not _loopback(url.hostname or "")
            ):
                # Only ciphertext travels, but the names, sizes and timing of blobs would
                # cross a network in the clear; a gateway on this machine is the exception.
                raise ConfigurationError(
                    "s3_endpoint_url must be https:// in production, unless it is a loopback "
                    "address (a gateway on this machine)"
                )
        if self.s3_bucket and not _S3_BUCKET.fullmatch(self.s3_bucket):
            raise ConfigurationError(
                "s3_bucket must be an S3 bucket name: 3-63 lowercase letters, digits, dots "
                "and hyphens"
            )
        if self.blob_store == "s3" and not self.s3_bucket:
            raise ConfigurationError('blob_store = "s3" needs s3_bucket')
        if self.s3_region and not _S3_REGION.fullmatch(self.s3_region):
            raise ConfigurationError(f"s3_region is not a region name: {self.s3_region[:64]!r}")
        if not _S3_PREFIX.fullmatch(self.s3_prefix):
            raise ConfigurationError(
                "s3_prefix must be empty or a folder: at most 200 letters, digits and ._-/ "
                "characters, ending with / and not starting with one"
            )
        self._validate_backup_url()

    def _validate_backup_url(self) -> None:
        """``s3://bucket/prefix``, not overlapping the blobs' prefix in the same bucket (the
        blob store's sweep of abandoned uploads would abort a backup being written)."""
        if not self.backup_url:
            return
        url = urlsplit(self.backup_url)
        prefix = url.path.strip("/") + "/" if url.path.strip("/") else ""
        if (
            url.scheme != "s3"
            or not _S3_BUCKET.fullmatch(url.netloc)
            or url.query
            or url.fragment
            or not _S3_PREFIX.fullmatch(prefix)
            or "//" in url.path
        ):
            raise ConfigurationError(
                "backup_url must be s3://BUCKET/PREFIX (a bucket name, then a folder of "
                "letters, digits and ._-/), or empty for backup_dir; credentials come from "
                "the AWS chain, never from the settings"
            )
        same_bucket = self.blob_store == "s3" and url.netloc == self.s3_bucket
        if same_bucket and (prefix.startswith(self.s3_prefix) or self.s3_prefix.startswith(prefix)):
            raise ConfigurationError(
                f"backup_url {self.backup_url} overlaps the blobs' place (s3_bucket "
                f"{self.s3_bucket}, s3_prefix {self.s3_prefix!r}): give backups a prefix of "
                'their own, beside the blobs\' (e.g. s3_prefix = "blobs/" and backup_url '
                f'= "s3://{self.s3_bucket}/backups")'
            )

    def _validate_transit(self) -> None:
        if not 1 <= self.transit_connect_timeout_seconds <= 60:
            raise ConfigurationError("transit_connect_timeout_seconds must be between 1 and 60")
        if not 1 <= self.transit_timeout_seconds <= 300:
            raise ConfigurationError("transit_timeout_seconds must be between 1 and 300")
        for name in ("transit_key", "transit_approle_mount"):
            if not _TRANSIT_NAME.fullmatch(getattr(self, name)):
                raise ConfigurationError(
                    f"{name} must be 1-128 letters, digits, '-' or '_', not {getattr(self, name)!r}"
                )
        if not _TRANSIT_MOUNT.fullmatch(self.transit_mount) or ".." in self.transit_mount:
            raise ConfigurationError(
                f"transit_mount must be a mount path such as transit, not {self.transit_mount!r}"
            )
        for name in ("transit_token_env", "transit_approle_role_id_env"):
            if getattr(self, name) and not _ENV_NAME.fullmatch(getattr(self, name)):
                raise ConfigurationError(f"{name} must be the name of an environment variable")
        secret_env = self.transit_approle_secret_id_env
        if secret_env and not _ENV_NAME.fullmatch(secret_env):
            raise ConfigurationError(
                "transit_approle_secret_id_env must be the name of an environment variable"
            )
        if bool(self.transit_approle_role_id_env) != bool(secret_env):
            raise ConfigurationError(
                "set both transit_approle_role_id_env and transit_approle_secret_id_env "
                "(AppRole sign-in), or neither (token sign-in)"
            )
        if self.transit_ca_file and not Path(self.transit_ca_file).is_file():
            raise ConfigurationError(f"transit_ca_file {self.transit_ca_file} does not exist")
        if self.kms == "transit":
            _check_transit_url(self.transit_url)

    def _validate_aws_kms(self) -> None:
        if not 1 <= self.aws_kms_connect_timeout_seconds <= 60:
            raise ConfigurationError("aws_kms_connect_timeout_seconds must be between 1 and 60")
        if not 1 <= self.aws_kms_timeout_seconds <= 300:
            raise ConfigurationError("aws_kms_timeout_seconds must be between 1 and 300")
        _, arn_region = aws_kms_alias(self.aws_kms_key)
        if self.aws_kms_region and not _S3_REGION.fullmatch(self.aws_kms_region):
            raise ConfigurationError(
                f"aws_kms_region is not a region name: {self.aws_kms_region[:64]!r}"
            )
        if arn_region and self.aws_kms_region and arn_region != self.aws_kms_region:
            raise ConfigurationError(
                f"aws_kms_key is an alias in {arn_region} but aws_kms_region is "
                f"{self.aws_kms_region}: set one region"
            )
        if self.aws_kms_endpoint_url:
            url = urlsplit(self.aws_kms_endpoint_url)
            if url.scheme not in ("https", "http") or not url.hostname:
                raise ConfigurationError(
                    "aws_kms_endpoint_url must be an https:// address, or empty for AWS"
                )
            if url.username or url.password or url.query or url.fragment:
                raise ConfigurationError(
                    "aws_kms_endpoint_url must hold no user, password or query: credentials "
                    "come from the AWS chain, never from the settings"
                )
            if url.scheme == "http" and not _loopback(url.hostname or ""):
                raise ConfigurationError(
                    "aws_kms_endpoint_url must use https (http only to localhost): wrapped "
                    "keys and their plaintext travel in it"
                )

    def _validate_observability(self) -> None:
        if self.metrics not in METRICS:
            raise ConfigurationError(f'metrics must be "on" or "off", not {self.metrics!r}')
        if self.log_format not in LOG_FORMATS:
            raise ConfigurationError(
                f'log_format must be "json" or "text", not {self.log_format!r}'
            )

    def _validate_inbox(self) -> None:
        if not 1 <= self.response_hours <= MAX_RESPONSE_HOURS:
            raise ConfigurationError(
                f"response_hours must be between 1 and {MAX_RESPONSE_HOURS}: requests are "
                f"promised a first reply within {MAX_RESPONSE_HOURS} hours"
            )
        notify = self.inbox_notify
        if notify and ("@" not in notify or any(c in notify for c in "\r\n<>,; ")):
            raise ConfigurationError("inbox_notify must be empty or one plain email address")
        if not 1 <= self.inbox_requests_per_address_hour <= 1000:
            raise ConfigurationError("inbox_requests_per_address_hour must be between 1 and 1000")

    def _validate_promises(self) -> None:
        bounds = {
            "promise_check_minutes": (1, 1440),
            "promise_stale_minutes": (1, 10080),
            "promise_history_days": (1, 3650),
            "backup_every_hours": (0, 168),
            "backup_drill_every_days": (1, 7),
            "certificate_min_days": (1, 365),
        }
        for name, (low, high) in bounds.items():
            if not low <= getattr(self, name) <= high:
                raise ConfigurationError(f"{name} must be between {low} and {high}")
        if self.promise_stale_minutes < self.promise_check_minutes:
            raise ConfigurationError(
                f"promise_stale_minutes ({self.promise_stale_minutes}) must be at least "
                f"promise_check_minutes ({self.promise_check_minutes}): every promise would "
                "show as stale between two checks"
            )

    def _validate_subprocessors(self) -> None:
        if not 30 <= self.subprocessor_notice_days <= 365:
            raise ConfigurationError(
                "subprocessor_notice_days must be between 30 and 365: customers are promised "
                "at least 30 days' notice of a subprocessor change"
            )
        if not 1 <= self.subprocessor_delivery_attempts <= 100:
            raise ConfigurationError("subprocessor_delivery_attempts must be between 1 and 100")
        if not 1 <= self.subprocessor_subscribes_per_address <= 10000:
            raise ConfigurationError(
                "subprocessor_subscribes_per_address must be between 1 and 10000"
            )

    def _validate_grants(self) -> None:
        if not 1 <= self.grant_max_hours <= 24:
            raise ConfigurationError(
                "grant_max_hours must be between 1 and 24: staff access to customer data is "
                "promised to last a day at most"
            )
        if self.grant_self_approval not in ("on", "off"):
            raise ConfigurationError(
                f'grant_self_approval must be "on" or "off", not {self.grant_self_approval!r}'
            )
        if self.grant_self_approval == "on" and not self.smtp_host:
            raise ConfigurationError(
                'grant_self_approval = "on" needs smtp_host: the owners of a workspace are '
                "mailed at once when an operator approves their own grant"
            )
        version = self.staff_agreement_version
        if version and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", version):
            raise ConfigurationError(
                "staff_agreement_version is 1 to 64 letters, digits, dots, dashes or "
                "underscores, starting with a letter or digit (or empty)"
            )

    def _validate_agreements(self) -> None:
        if not 1 <= self.dpa_first_acceptance_days <= 365:
            raise ConfigurationError(
                "dpa_first_acceptance_days must be between 1 and 365: a workspace that never "
                "accepted the DPA must have to, within a year at most"
            )

    def _validate_mail(self) -> None:
        if self.smtp_security not in SMTP_SECURITY:
            raise ConfigurationError(
                f"smtp_security must be one of {', '.join(SMTP_SECURITY)}, "
                f"not {self.smtp_security!r}"
            )
        if self.smtp_security == "none" and self.smtp_host and not _loopback(self.smtp_host):
            raise ConfigurationError(
                'smtp_security = "none" (mail in clear) is only for a relay on this machine: '
                'use "starttls" or "tls" for another host'
            )
        if not 1 <= self.smtp_port <= 65535:
            raise ConfigurationError("smtp_port must be between 1 and 65535")
        if not 1 <= self.smtp_timeout_seconds <= 300:
            raise ConfigurationError("smtp_timeout_seconds must be between 1 and 300")
        if "@" not in self.smtp_from or any(c in self.smtp_from for c in "\r\n<>"):
            raise ConfigurationError("smtp_from must be one plain email address")

    def _validate_hostile_clients(self) -> None:
        bounds = {
            "upload_idle_timeout_seconds": (1, 3600),
            "uploads_per_workspace": (1, 1000),
            "uploads_max": (1, 1000),
            "sign_in_queue": (0, 10000),
            "sign_in_failures_per_address": (1, 100000),
            "header_timeout_seconds": (1, 300),
            "tls_handshake_timeout_seconds": (1, 300),
            "body_timeout_seconds": (1, 3600),
            "max_connections": (1, 1_000_000),
            "max_connections_per_address": (1, 1_000_000),
        }
        for name, (low, high) in bounds.items():
            if not low <= getattr(self, name) <= high:
                raise ConfigurationError(f"{name} must be between {low} and {high}")
        if self.uploads_per_workspace > self.uploads_max:
            raise ConfigurationError("uploads_per_workspace must not exceed uploads_max")
        if self.max_connections_per_address > self.max_connections:
            raise ConfigurationError("max_connections_per_address must not exceed max_connections")

    def _validate_retention(self) -> None:
        """Refuse numbers that would break a promise of the trust page (P6, P7, P9, P10)."""
        promised = MAX_BACKUP_PURGE_WINDOW_DAYS
        if not 1 <= self.trash_days <= MAX_TRASH_DAYS:
            raise ConfigurationError(
                f"trash_days must be between 1 and {MAX_TRASH_DAYS}: deleted data is promised "
                f"to be permanently deleted {MAX_TRASH_DAYS} days after deletion"
            )
        if not 1 <= self.trial_retention_days <= MAX_TRIAL_RETENTION_DAYS:
            raise ConfigurationError(
                f"trial_retention_days must be between 1 and {MAX_TRIAL_RETENTION_DAYS}: trial "
                f"data is promised to be deleted {MAX_TRIAL_RETENTION_DAYS} days after the trial"
            )
        if not MIN_CANCELLATION_WINDOW_DAYS <= self.cancellation_window_days <= 365:
            raise ConfigurationError(
                f"cancellation_window_days must be between {MIN_CANCELLATION_WINDOW_DAYS} and "
                f"365: customers are promised at least {MIN_CANCELLATION_WINDOW_DAYS} days after "
                "cancellation to download their data"
            )
        if not self.trash_days <= self.backup_purge_window_days <= promised:
            raise ConfigurationError(
                f"backup_purge_window_days must be between trash_days ({self.trash_days}) and "
                f"{promised}: deleted data is promised to be gone from backups within "
                f"{promised} days"
            )
        self._validate_backup_retention()
        self._validate_shred_reach()
        if not 1 <= self.export_ttl_days <= 30:
            raise ConfigurationError("export_ttl_days must be between 1 and 30")
        if not 1 <= self.worker_interval_seconds <= 3600:
            raise ConfigurationError("worker_interval_seconds must be between 1 and 3600")

    def _validate_backup_retention(self) -> None:
        """Backups expire by absolute date inside the promised window (P7, P14), and every
        data backup stays restorable until it expires: it restores only with a keystore
        backup taken at or after it, so keystore backups are kept at least as long. A key
        a purge destroys leaves the keystore backups by its own date (backup/retention.py),
        whatever their retention."""
        window = self.backup_purge_window_days
        if not 1 <= self.backup_retention_days <= window:
            raise ConfigurationError(
                f"backup_retention_days must be between 1 and backup_purge_window_days "
                f"({window}): deleted data is promised to be gone from backups within "
                f"{window} days"
            )
        if self.keystore_backup_retention_days < self.backup_retention_days:
            raise ConfigurationError(
                f"keystore_backup_retention_days ({self.keystore_backup_retention_days}) is "
                f"shorter than backup_retention_days ({self.backup_retention_days}): a data "
                "backup restores only with a keystore backup taken at or after it, so backups "
                "would be listed that can no longer be restored; set "
                f"keystore_backup_retention_days to at least {self.backup_retention_days} "
                "(or remove it: it follows backup_retention_days)"
            )
        if self.keystore_backup_retention_days > window:
            raise ConfigurationError(
                f"keystore_backup_retention_days must be at most backup_purge_window_days "
                f"({window}): deleted data is promised to be gone from backups within "
                f"{window} days"
            )

    def shredded_key_gone_days(self) -> int:
        """At the latest, days after a deletion by which its destroyed key is unrecoverable
        everywhere: the purge at the trash's end, the shred epoch at most one rotation
        period later, then the KMS's wait before the old root version is really deleted
        (AWS KMS: 7 days)."""
        delay = policy.root_destroy_delay(self.kms).days
        return self.trash_days + policy.ROOT_KEY_ROTATION_DAYS + delay

    def _validate_shred_reach(self) -> None:
        """A deletion certificate's ``key_unrecoverable_everywhere_by`` must fall inside the
        backup window: a KMS that only schedules the destroy needs that much room. (With
        an immediate destroy the worker brings the epoch forward to fit: trash_days up to
        the window itself stays allowed there.)"""
        latest = self.shredded_key_gone_days()
        delay = policy.root_destroy_delay(self.kms).days
        if delay and latest > self.backup_purge_window_days:
            raise ConfigurationError(
                f"backup_purge_window_days ({self.backup_purge_window_days}) is too short for "
                f"kms = {self.kms!r}: a key purged after the {self.trash_days}-day trash is "
                f"unrecoverable only after the next shred epoch ({policy.ROOT_KEY_ROTATION_DAYS} "
                f"day) and the KMS's {delay}-day deletion wait, {latest} days after its "
                f"deletion; set backup_purge_window_days to at least {latest} or trash_days to "
                f"at most {self.backup_purge_window_days - latest + self.trash_days}"
            )

    def _validate_privacy(self) -> None:
        if not MIN_PRIVACY_RECORD_MONTHS <= self.privacy_record_months <= 1200:
            raise ConfigurationError(
                f"privacy_record_months must be between {MIN_PRIVACY_RECORD_MONTHS} and 1200: "
                "the record of privacy requests is kept at least 24 months (CCPA §7101)"
            )
        try:
            ZoneInfo(self.privacy_time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigurationError(
                f"privacy_time_zone must be an IANA time zone such as Europe/Berlin, not "
                f"{self.privacy_time_zone!r}"
            ) from None
        for day in self.privacy_holidays.split(","):
            try:
                if day.strip():
                    date.fromisoformat(day.strip())
            except ValueError:
                raise ConfigurationError(
                    f"privacy_holidays holds dates as YYYY-MM-DD, comma-separated; {day!r} is not"
                ) from None
        if self.phone_region and not _is_region(self.phone_region):
            raise ConfigurationError(
                f"phone_region must be an ISO 3166 region code such as GB or US, not "
                f"{self.phone_region!r}"
            )

    def public(self) -> dict[str, Any]:
        """Settings as JSON, without secrets (there are none here: the PIN is in the env)."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["home"] = str(self.home)
        out["database_url"] = redact_url(self.database_url)
        out["keystore_url"] = redact_url(self.keystore_url)
        return out


#: The whole-number settings (read from TOML or the environment as such).
_INT_FIELDS = {f.name for f in fields(Settings) if f.type == "int"}
SETTING_NAMES = {f.name for f in fields(Settings)} - {"home"}


def load_settings(
    home: Path | str,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Settings of the home folder: defaults, then ``strongroom.toml``, then the env, then
    ``overrides`` (options given on the command line)."""
    env = os.environ if env is None else env
    home = Path(home).expanduser()
    values: dict[str, Any] = {}
    config = home / CONFIG_FILE
    if config.is_file():
        try:
            values.update(tomllib.loads(config.read_text("utf-8")))
        except tomllib.TOMLDecodeError as e:
            raise ConfigurationError(f"{config} is not valid TOML: {e}") from None
    for name in SETTING_NAMES:
        key = "STRONGROOM_" + name.upper()
        if key in env:
            values[name] = env[key]
    values.update(overrides or {})
    unknown = set(values) - SETTING_NAMES
    secrets = sorted(n for n in unknown if any(w in n.lower() for w in _CREDENTIAL_WORDS))
    if secrets:
        raise ConfigurationError(
            f"{config} holds {', '.join(secrets)}: credentials are never read from the "
            "settings; S3 takes them from the AWS chain (AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, AWS_PROFILE, an instance role). Remove the line"
        )
    if unknown:
        raise ConfigurationError(f"unknown settings in {config}: {', '.join(sorted(unknown))}")
    for name, value in values.items():
        if name in _INT_FIELDS:
            values[name] = _whole_number(name, value)
        elif not isinstance(value, str):
            raise ConfigurationError(f"{name} must be text, not {type(value).__name__}")
    return Settings(home=home, **values).validate()


def _whole_number(name: str, value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    raise ConfigurationError(f"{name} must be a whole number, not {value!r}")


def write_settings(settings: Settings, names: Iterable[str]) -> Path:
    """Write the named settings (and always kms and environment) to ``HOME/strongroom.toml``,
    readable by the owner only."""
    keep = {*names, "kms", "environment"}
    lines = ["# Strongroom settings; see docs/configuration.md", ""]
    for f in fields(settings):
        if f.name in keep and f.name in SETTING_NAMES:
            value = getattr(settings, f.name)
            rendered = str(value) if isinstance(value, int) else _toml_string(str(value))
            lines.append(f"{f.name} = {rendered}")
    path = settings.home / CONFIG_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
    return path


def _toml_string(value: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's, but for DEL, which JSON leaves."""
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


_TRANSIT_NAME = re.compile(r"[A-Za-z0-9_-]{1,128}")
_TRANSIT_MOUNT = re.compile(r"[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")


_AWS_ALIAS = re.compile(r"alias/[A-Za-z0-9/_-]{1,200}")
_AWS_ALIAS_ARN = re.compile(
    r"arn:aws[a-z-]*:kms:([a-z]{2}(?:-[a-z0-9]+){1,4}):[0-9]{12}:(alias/[A-Za-z0-9/_-]{1,200})"
)


def aws_kms_alias(value: str) -> tuple[str, str]:
    """``(alias name, region of an alias ARN or "")`` of the ``aws_kms_key`` setting."""
    arn = _AWS_ALIAS_ARN.fullmatch(value)
    alias = arn.group(2) if arn else value
    if not _AWS_ALIAS.fullmatch(alias) or alias.startswith("alias/aws/") or alias.endswith("/"):
        if value.startswith("arn:") and ":key/" in value:
            raise ConfigurationError(
                "aws_kms_key must name an alias (alias/strongroom), not a key ARN: each root "
                "version is a KMS key of its own, found through aliases under that name"
            )
        raise ConfigurationError(
            "aws_kms_key must be an alias name such as alias/strongroom (letters, digits, "
            f"/ _ -; not under alias/aws/), or its alias ARN, not {value[:80]!r}"
        )
    return alias, arn.group(1) if arn else ""


def _check_transit_url(url: str) -> None:
    """Vault's address: https, or http to this machine only (the token travels in it)."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigurationError(
            f"transit_url must be the https:// address of Vault or OpenBao, not {url!r}"
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ConfigurationError(
            "transit_url must be only scheme, host and port (e.g. https://vault.internal:8200)"
        )
    loopback = _loopback(parts.hostname or "")
    if parts.scheme == "http" and not loopback:
        raise ConfigurationError(
            "transit_url must use https: the Vault token would cross the network in clear"
        )


def _is_region(code: str) -> bool:
    # phonenumbers is imported here, where a region is set: every command loads the
    # settings, few compare phone numbers.
    import phonenumbers

    return code in phonenumbers.SUPPORTED_REGIONS


def _loopback(host: str) -> bool:
    """localhost, or an address in 127.0.0.0/8 or ::1."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
