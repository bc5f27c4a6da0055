"""Strongroom: custody of SaaS customer data under a KMS-held key hierarchy.

The public, embeddable API::

    from strongroom import init_home, open_strongroom

    init_home("./home")
    with open_strongroom("./home") as sr:
        ws = sr.workspaces.create("Acme", "owner@acme.example")
        project = sr.projects.create(ws.id, "Hiring 2027")
        record = sr.records.put(ws.id, project.id, "contacts", {"name": "Ada"})
"""

from strongroom.bootstrap import Strongroom, init_home, open_strongroom
from strongroom.config import Settings, load_settings
from strongroom.errors import (
    AuditChainBroken,
    ConfigurationError,
    Conflict,
    IntegrityFailure,
    InvalidInput,
    KeyUnavailable,
    KmsAuthenticationFailed,
    KmsFailure,
    MalformedDocument,
    NotFound,
    StorageUnavailable,
    StrongroomError,
    TooLarge,
)
from strongroom.version import __version__

__all__ = [
    "AuditChainBroken",
    "ConfigurationError",
    "Conflict",
    "IntegrityFailure",
    "InvalidInput",
    "KeyUnavailable",
    "KmsAuthenticationFailed",
    "KmsFailure",
    "MalformedDocument",
    "NotFound",
    "Settings",
    "StorageUnavailable",
    "Strongroom",
    "StrongroomError",
    "TooLarge",
    "__version__",
    "init_home",
    "load_settings",
    "open_strongroom",
]
