"""The promises Strongroom keeps itself, in the order the trust page lists them."""

from __future__ import annotations

from strongroom.promises import custody, retention, transport
from strongroom.promises.registry import Promise

STANDARD: tuple[Promise, ...] = (
    custody.ENCRYPTION_AT_REST,
    custody.KEY_CUSTODY,
    custody.ROOT_KEY_ROTATION,
    transport.TLS,
    transport.CERTIFICATE,
    retention.TRASH,
    retention.BACKUPS,
    retention.WORKSPACE_DELETION,
    retention.CANCELLATION,
    retention.TRIAL,
    retention.PRIVACY_REQUESTS,
    custody.AUDIT_CHAIN,
)
