"""The cryptography policy, as data the code reads (promise P2).

The constants below are what the code uses (tls/context.py reads MIN_TLS_VERSION), except
the rotation periods: the scheduled root rotation is not built yet. :func:`policy_document`
renders them for people (``strongroom keys policy``) and, later, for the trust page. A value marked
STORED is written into ciphertext headers or derivations: changing it makes data
already stored unreadable unless a new format version is introduced alongside.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

#: AES-256-GCM everywhere. STORED (implied by FORMAT_VERSION).
CIPHER = "AES-256-GCM"
KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
#: HKDF-SHA256 salt length for per-object key derivation. STORED (header layout).
SALT_BYTES = 16
KDF = "HKDF-SHA256"

#: Ciphertext header format version. STORED: bump it and keep the old reader.
FORMAT_VERSION = 1

#: One derived key seals at most this many objects (one write operation's batch);
#: each object gets its own random 96-bit nonce. Far below the 2^32 random-nonce
#: limit of AES-GCM.
MAX_OBJECTS_PER_DERIVED_KEY = 4096

#: File segment size in bytes (plaintext). Written into each file's header, so a
#: change applies to new files only.
FILE_SEGMENT_BYTES = 64 * 1024
#: Largest segment size a header may claim (guards memory on read).
MAX_FILE_SEGMENT_BYTES = 4 * 1024 * 1024

#: Blind index: HMAC-SHA256, truncated to this many bytes. STORED.
BLIND_INDEX = "HMAC-SHA256"
BLIND_INDEX_BYTES = 16

#: Key-wrapping: data keys under the workspace key, workspace keys under the root key.
WRAP = "AES-256-GCM with associated data naming the key"

#: Rotation periods (days). The root key rotates on a schedule; the workspace key on demand
#: or on this period.
ROOT_KEY_ROTATION_DAYS = 1
WORKSPACE_KEY_ROTATION_DAYS = 90

#: Days between a shred epoch's destroy of a root version and the moment the KMS has
#: really deleted it, per backend (0 where the destroy is immediate). AWS KMS only
#: schedules a key's deletion, 7 days at the shortest (ScheduleKeyDeletion's
#: PendingWindowInDays): until then the key can be brought back.
ROOT_DESTROY_DELAY_DAYS = {"aws-kms": 7}


def root_destroy_delay(kms_backend: str) -> timedelta:
    """How long after its destroy a root version of ``kms_backend`` is really gone."""
    return timedelta(days=ROOT_DESTROY_DELAY_DAYS.get(kms_backend, 0))


#: Unwrapped keys are cached in memory, bounded in count and time.
KEY_CACHE_MAX_ENTRIES = 1024
KEY_CACHE_TTL_SECONDS = 300

MIN_TLS_VERSION = "TLSv1.2"


def policy_document() -> dict[str, Any]:
    """The policy as one JSON-able object."""
    return {
        "cipher": CIPHER,
        "key_bits": KEY_BYTES * 8,
        "nonce_bits": NONCE_BYTES * 8,
        "tag_bits": TAG_BYTES * 8,
        "kdf": KDF,
        "kdf_salt_bits": SALT_BYTES * 8,
        "format_version": FORMAT_VERSION,
        "max_objects_per_derived_key": MAX_OBJECTS_PER_DERIVED_KEY,
        "file_segment_bytes": FILE_SEGMENT_BYTES,
        "blind_index": {"mac": BLIND_INDEX, "bits": BLIND_INDEX_BYTES * 8},
        "key_wrap": WRAP,
        "key_hierarchy": ["root (KMS/HSM)", "workspace key", "data key", "per-write derived key"],
        "rotation_days": {"root": ROOT_KEY_ROTATION_DAYS, "workspace": WORKSPACE_KEY_ROTATION_DAYS},
        "root_destroy_delay_days": ROOT_DESTROY_DELAY_DAYS,
        "key_cache": {"max_entries": KEY_CACHE_MAX_ENTRIES, "ttl_seconds": KEY_CACHE_TTL_SECONDS},
        "min_tls_version": MIN_TLS_VERSION,
    }
