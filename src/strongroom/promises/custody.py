"""Promises about keys and ciphertext: encryption at rest (backups included), the root
key's custody and rotation, and the audit chain."""

from __future__ import annotations

import base64
import secrets
from datetime import timedelta

from strongroom.backup.manifest import DATA, KEYSTORE
from strongroom.config import Settings
from strongroom.crypto import policy
from strongroom.crypto.envelope import MAGIC
from strongroom.crypto.kms.base import WrapSchemes
from strongroom.crypto.secret import SecretKey
from strongroom.domain.promises import Verdict
from strongroom.errors import NotFound, StrongroomError
from strongroom.promises.registry import GRACE, Deployment, Promise, days

#: Stored values sampled per kind (records, names) and files read per check.
SAMPLE = 50
#: What every sealed value starts with: "SR" and the format version.
HEADER = MAGIC + bytes([policy.FORMAT_VERSION])
#: Events that mark a new root key version (or the first one).
#: A finished shred epoch (lifecycle/shred_epoch.py EVENT), or the home's making.
ROOT_EVENTS = ("key.shred_epoch", "home.init")
_CHECK_CONTEXT = b"strongroom/v1/promise-check|kms-round-trip"


# encryption at rest -------------------------------------------------------------------
def _at_rest_claim(settings: Settings) -> str:
    return (
        f"Every record, file, name and backup is stored encrypted with {policy.CIPHER} "
        f"({policy.KEY_BYTES * 8}-bit keys, a key derived per write with {policy.KDF}); "
        "nothing a customer typed is stored in clear."
    )


def _backup_parts(d: Deployment) -> tuple[int, list[str]]:
    """How many parts of the newest data and keystore backups were read, and which of
    them do not start with the ciphertext header."""
    folder, read, bad = d.backups.folder, 0, []
    for kind in (DATA, KEYSTORE):
        manifests = folder.manifests(kind, d.ctx.keyring)
        if not manifests:
            continue
        newest = manifests[-1]
        for part in newest.parts[:SAMPLE]:
            read += 1
            with folder.open(folder.part_name(newest, part)) as f:
                if f.read(len(HEADER)) != HEADER:
                    bad.append(f"{kind} backup {newest.id} part {part.name}")
    return read, bad


def check_at_rest(d: Deployment) -> Verdict:
    if policy.CIPHER != "AES-256-GCM" or policy.KEY_BYTES != 32:
        return Verdict.failed(f"the crypto policy names {policy.CIPHER}, not AES-256-GCM")
    with d.ctx.store.read() as uow:
        start = base64.b32encode(secrets.token_bytes(16)).decode().rstrip("=").lower()
        values = uow.promise_evidence.sealed_samples(SAMPLE, start)
        blob_keys = uow.promise_evidence.file_blob_keys(SAMPLE)
    bad = [what for what, value in values if not value.startswith(HEADER)]
    for key in blob_keys:
        try:
            with d.ctx.blobs.open(key) as f:
                if f.read(len(HEADER)) != HEADER:
                    bad.append("a file blob")
        except NotFound:
            continue  # purged since it was listed: nothing left to be in clear
    parts, bad_parts = _backup_parts(d)
    bad += bad_parts
    found = (
        f"{len(values)} stored values, {len(blob_keys)} files and {parts} parts of the "
        "newest backups sampled"
    )
    if bad:
        return Verdict.failed(f"{found}: {len(bad)} without the ciphertext header ({bad[0]})")
    return Verdict.passed(f"{found}: every one starts with the {policy.CIPHER} header")


ENCRYPTION_AT_REST = Promise(
    "encryption-at-rest", "Encryption at rest, backups included", _at_rest_claim, check_at_rest
)


# key custody ---------------------------------------------------------------------------
def _custody_claim(settings: Settings) -> str:
    if settings.kms == "local":
        return (
            "The root key is kept in a local key file on this machine (development only: "
            "production refuses it)."
        )
    if settings.kms == "transit":
        return (
            f"The root key is a Vault/OpenBao Transit key ({settings.transit_key!r} at "
            f"{settings.transit_url}): not exportable, it never leaves that service; "
            "Strongroom only asks it to wrap and unwrap keys, with a context naming each key."
        )
    if settings.kms == "aws-kms":
        return (
            f"The root key is held in AWS KMS ({settings.aws_kms_key!r}, a key per root "
            "version) and never leaves it; Strongroom only asks it to wrap and unwrap keys, "
            "with an encryption context naming each key."
        )
    if settings.kms == "pkcs11":
        return (
            f"The root key is held in a hardware security module (PKCS#11 token "
            f"{settings.pkcs11_token_label!r}) and never leaves it; Strongroom only asks it "
            "to wrap and unwrap keys."
        )
    return f"The root key is held by the {settings.kms!r} backend."


def check_custody(d: Deployment) -> Verdict:
    kms = d.ctx.keyring.kms
    production = d.settings.environment == "production"
    if production and (d.settings.kms == "local" or kms.for_development):
        return Verdict.failed(f"production runs on the development root key ({kms.backend})")
    probe = SecretKey.generate("promise-check")
    try:
        version, wrapped = kms.wrap(probe, _CHECK_CONTEXT)
        back = kms.unwrap(version, wrapped, _CHECK_CONTEXT, "promise-check")
    except StrongroomError as e:
        return Verdict.failed(f"the {kms.backend} root key did not answer: {e}")
    if not secrets.compare_digest(back.reveal(), probe.reveal()):
        return Verdict.failed(f"the {kms.backend} root key returned another key than it wrapped")
    scheme = ""
    if isinstance(kms, WrapSchemes):
        scheme = f", wrapping scheme {kms.schemes().get(version, 'unknown')}"
    return Verdict.passed(
        f"the {d.settings.kms} root key (version {version}{scheme}) wrapped and unwrapped a "
        f"test key; environment {d.settings.environment}"
    )


KEY_CUSTODY = Promise("key-custody", "Root key custody", _custody_claim, check_custody)


# root key rotation ---------------------------------------------------------------------
def _rotation_claim(settings: Settings) -> str:
    return (
        f"A new root key version is made every {days(policy.ROOT_KEY_ROTATION_DAYS)}, "
        "rewraps every workspace key, and every older version is then destroyed in the KMS, "
        "so no old copy of a deleted key can be unwrapped."
    )


def check_rotation(d: Deployment) -> Verdict:
    with d.ctx.store.read() as uow:
        newest = uow.promise_evidence.newest_event(ROOT_EVENTS)
    if newest is None:
        return Verdict.failed("no shred epoch is recorded in the audit log")
    age = d.now - newest[0]
    period = timedelta(days=policy.ROOT_KEY_ROTATION_DAYS)
    kms = d.ctx.keyring.kms
    version = kms.current_version()
    older = [v.version for v in kms.versions() if v.version < version]
    found = f"the newest shred epoch (root key version {version}) ran {_hours(age)} ago"
    if older:
        return Verdict.failed(
            f"{found}, yet older root versions {older} still exist in the {kms.backend} KMS"
        )
    if age > period + GRACE:
        return Verdict.failed(f"{found}; the policy rotates it every {days(period.days)}")
    return Verdict.passed(
        f"{found}, no older version exists; the policy rotates it every {days(period.days)}"
    )


def _hours(age: timedelta) -> str:
    hours = age.total_seconds() / 3600
    return f"{hours:.1f} hours" if hours < 48 else f"{hours / 24:.1f} days"


ROOT_KEY_ROTATION = Promise(
    "root-key-rotation", "Root key rotation", _rotation_claim, check_rotation
)


# the audit chain -----------------------------------------------------------------------
def _audit_claim(settings: Settings) -> str:
    return (
        "Every change is recorded in a hash-chained audit log; each event's hash covers the "
        "one before it, so an edited or removed event breaks the chain."
    )


def check_audit(d: Deployment) -> Verdict:
    try:
        count = d.audit.verify()
    except StrongroomError as e:
        return Verdict.failed(f"the audit chain does not verify: {' '.join(str(e).split())}")
    return Verdict.passed(f"the audit chain verified end to end: {count} events")


AUDIT_CHAIN = Promise("audit-chain", "Tamper-evident audit log", _audit_claim, check_audit)
