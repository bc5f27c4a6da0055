"""Strongroom: custody of SaaS customer data under a KMS-held key hierarchy.

The public, embeddable API::

    from strongroom import init_home, open_strongroom

    init_home("./home")
    with open_strongroom("./home") as sr:
        ws = sr.workspaces.create("Acme", "owner@acme.example")
        project = sr.projects.create(ws.id, "Hiring 2027")
        record = sr.records.put(ws.id, project.id, "contacts", {"name": "Ada"})

The errors and the version are imported with the package; the rest (the composition root
and the settings, which import SQLAlchemy and the crypto) on first use, so that a process
importing one small module of the package (the ``strongroom`` command before it knows
which command runs) does not pay for all of it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from strongroom.bootstrap import Strongroom, init_home, open_strongroom
    from strongroom.config import Settings, load_settings

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


def __getattr__(name: str) -> Any:
    """The public names not imported with the package, imported on first use."""
    if name in ("Strongroom", "init_home", "open_strongroom"):
        from strongroom import bootstrap

        return getattr(bootstrap, name)
    if name in ("Settings", "load_settings"):
        from strongroom import config

        return getattr(config, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
