"""``strongroom demo``: a sample workspace, and proof that none of it is stored in clear."""

from __future__ import annotations

import typer
from rich.markup import escape

from strongroom import demo
from strongroom.bootstrap import init_home
from strongroom.cli.exit_codes import EXIT_FINDING
from strongroom.cli.options import DEFAULT_HOME, Home, Json, open_home
from strongroom.cli.output import console, emit, plural, say, table
from strongroom.config import CONFIG_FILE


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
