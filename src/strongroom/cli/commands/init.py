"""``strongroom init``: make a new home."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from strongroom.bootstrap import init_home
from strongroom.cli.options import DEFAULT_HOME, Home, Json
from strongroom.cli.output import emit
from strongroom.config import CONFIG_FILE


def init(
    kms: Annotated[
        str, typer.Option(help="Root-key backend: local, pkcs11, transit or aws-kms.")
    ] = "local",
    environment: Annotated[str, typer.Option(help="development or production.")] = "development",
    pkcs11_module: Annotated[str | None, typer.Option(help="PKCS#11 module path.")] = None,
    pkcs11_token_label: Annotated[str | None, typer.Option(help="PKCS#11 token label.")] = None,
    pkcs11_pin_env: Annotated[
        str | None,
        typer.Option(help="Environment variable holding the PIN (default STRONGROOM_PKCS11_PIN)."),
    ] = None,
    pkcs11_scheme: Annotated[
        str | None,
        typer.Option(help="PKCS#11 wrapping scheme: auto, aes-gcm, aes-kwp or hmac-sha256-kdf."),
    ] = None,
    transit_url: Annotated[str | None, typer.Option(help="Vault/OpenBao address.")] = None,
    transit_key: Annotated[str | None, typer.Option(help="Transit key name.")] = None,
    transit_mount: Annotated[str | None, typer.Option(help="Transit mount path.")] = None,
    transit_token_env: Annotated[
        str | None,
        typer.Option(help="Environment variable holding the Vault token (default VAULT_TOKEN)."),
    ] = None,
    aws_kms_key: Annotated[
        str | None, typer.Option(help="AWS KMS alias name of the root key (alias/strongroom).")
    ] = None,
    aws_kms_region: Annotated[str | None, typer.Option(help="AWS KMS region.")] = None,
    aws_kms_endpoint_url: Annotated[
        str | None, typer.Option(help="AWS KMS endpoint; empty: AWS's for the region.")
    ] = None,
    database_url: Annotated[str | None, typer.Option(help="Data store URL.")] = None,
    keystore_url: Annotated[str | None, typer.Option(help="Keystore URL.")] = None,
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Make a new home: settings, root key, data store and keystore."""
    options: dict[str, Any] = {"kms": kms, "environment": environment}
    for name, value in (
        ("pkcs11_module", pkcs11_module),
        ("pkcs11_token_label", pkcs11_token_label),
        ("pkcs11_pin_env", pkcs11_pin_env),
        ("pkcs11_scheme", pkcs11_scheme),
        ("transit_url", transit_url),
        ("transit_key", transit_key),
        ("transit_mount", transit_mount),
        ("transit_token_env", transit_token_env),
        ("aws_kms_key", aws_kms_key),
        ("aws_kms_region", aws_kms_region),
        ("aws_kms_endpoint_url", aws_kms_endpoint_url),
        ("database_url", database_url),
        ("keystore_url", keystore_url),
    ):
        if value is not None:
            options[name] = value
    settings = init_home(home, **options)
    emit(
        json,
        {
            "home": str(settings.home),
            "kms": settings.kms,
            "settings": str(settings.home / CONFIG_FILE),
        },
        f"initialised {settings.home} (root key: {settings.kms})",
    )
