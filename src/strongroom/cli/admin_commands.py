"""Commands that administer a home: init, keys, audit, demo."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape

from strongroom import demo
from strongroom.bootstrap import init_home
from strongroom.cli.common import ACTOR, DEFAULT_HOME, Home, Json, open_home
from strongroom.cli.output import EXIT_FINDING, console, emit, listing, plural, say, table
from strongroom.config import CONFIG_FILE

keys_app = typer.Typer(help="The key hierarchy: status, rotation, policy.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("demo")(demo_command)
    app.add_typer(keys_app, name="keys")
    app.add_typer(audit_app, name="audit")


def init(
    kms: Annotated[str, typer.Option(help="Root-key backend: local or pkcs11.")] = "local",
    environment: Annotated[str, typer.Option(help="development or production.")] = "development",
    pkcs11_module: Annotated[str | None, typer.Option(help="PKCS#11 module path.")] = None,
    pkcs11_token_label: Annotated[str | None, typer.Option(help="PKCS#11 token label.")] = None,
    pkcs11_pin_env: Annotated[
        str | None,
        typer.Option(help="Environment variable holding the PIN (default STRONGROOM_PKCS11_PIN)."),
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


# keys ---------------------------------------------------------------------------------
@keys_app.command("status")
def keys_status(home: Home = DEFAULT_HOME, json: Json = False) -> None:
    """Root key versions, keystore counts and the key cache."""
    with open_home(home) as sr:
        status = sr.keys.status()
    emit(json, status)


@keys_app.command("rotate")
def keys_rotate(
    workspace: Annotated[
        str | None,
        typer.Option(help="Rotate this workspace's key; without it, rotate the root key."),
    ] = None,
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Rotate the root key, or one workspace key, by rewrapping (no data is re-encrypted)."""
    with open_home(home) as sr:
        if workspace:
            result = sr.keys.rotate_workspace(workspace, actor=ACTOR)
        else:
            result = sr.keys.rotate_root(actor=ACTOR)
    emit(json, result)


@keys_app.command("policy")
def keys_policy(home: Home = DEFAULT_HOME, json: Json = False) -> None:
    """The cryptography policy the code enforces."""
    with open_home(home) as sr:
        policy = sr.keys.policy()
    emit(json, policy)


# audit --------------------------------------------------------------------------------
@audit_app.command("verify")
def audit_verify(home: Home = DEFAULT_HOME, json: Json = False) -> None:
    """Check the audit hash chain; exit 1 naming the first bad position."""
    with open_home(home) as sr:
        count = sr.audit.verify()
    emit(json, {"ok": True, "events": count}, f"audit chain verified: {plural(count, 'event')}")


@audit_app.command("events")
def audit_events(
    workspace: Annotated[str | None, typer.Option(help="Only this workspace.")] = None,
    after: Annotated[int, typer.Option(help="Events after this sequence number.")] = 0,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """List audit events, oldest first."""
    with open_home(home) as sr:
        events = sr.audit.events(workspace, after, limit)
    rows = [e.as_json() for e in events]
    next_after = events[-1].seq if len(events) == limit else None

    def human() -> None:
        listing(
            [
                {
                    "seq": r["seq"],
                    "at": r["at"],
                    "actor": r["actor"],
                    "action": r["action"],
                    "workspace": r["workspace_id"],
                }
                for r in rows
            ],
            "event",
        )
        if next_after is not None:
            say(f"more: add --after {next_after}")

    emit(json, {"events": rows, "next_after": next_after}, human)


# demo ---------------------------------------------------------------------------------
def demo_command(home: Home = DEFAULT_HOME, json: Json = False) -> None:
    """Load a referral-hiring sample workspace and prove none of it is stored in clear."""
    home = home.expanduser()
    if not (home / CONFIG_FILE).exists():
        init_home(home)
    with open_home(home) as sr:
        loaded = demo.load_sample(sr)
        shown = {
            collection: [
                sr.records.get(loaded.workspace_id, loaded.project_id, r).document for r in ids
            ]
            for collection, ids in loaded.record_ids.items()
        }
        files = [sr.files.info(loaded.workspace_id, loaded.project_id, f) for f in loaded.file_ids]
        chain = sr.audit.verify()
    needles = demo.plaintexts()
    hits = demo.scan_home(home, needles)
    data = {
        "home": str(home),
        "workspace_id": loaded.workspace_id,
        "project_id": loaded.project_id,
        "records": shown,
        "files": [{"id": f.id, "name": f.name, "size": f.size} for f in files],
        "audit_events": chain,
        "plaintexts_checked": len(needles),
        "plaintext_found": hits,
    }

    def human() -> None:
        console.print(f"[bold]Sample workspace[/] {loaded.workspace_id} in {escape(str(home))}")
        for collection, docs in shown.items():
            say(f"{collection} (read back, decrypted):")
            table(docs, sorted({k for d in docs for k in d}))
        for f in files:
            say(f"file {f.id}: {f.name} ({plural(f.size, 'byte')})")
        say(f"audit chain: {plural(chain, 'event')}, verified")
        if hits:
            console.print(f"[bold red]FOUND IN CLEAR:[/] {escape(str(hits))}")
        else:
            console.print(
                f"[bold green]Scanned every byte under {escape(str(home))}: none of the "
                f"{plural(len(needles), 'sample plaintext')} is stored in clear.[/]",
                soft_wrap=True,
            )

    emit(json, data, human)
    if hits:
        raise typer.Exit(EXIT_FINDING)
