"""The shape of the package, as docs/architecture.md draws it: which top-level package may
import which (an acyclic graph), SQLAlchemy and Alembic only under ``storage/``, no raw
database connection outside it, and no import inside a function but the listed ones."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import strongroom

SRC = Path(strongroom.__file__).parent

#: What each top-level package (or module) may import of the others. Lower layers first;
#: a package absent from a set may not be imported by it.
BASE = {"errors", "ids", "clock", "version", "durable_file", "atomic_file"}
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "version": set(),
    "clock": set(),
    "ids": {"errors"},
    "durable_file": set(),
    "atomic_file": {"durable_file"},
    "domain": {"errors"},
    "storage": {"domain", "errors"},
    "crypto": {"storage", "domain"} | BASE,
    "config": {"crypto", "storage"} | BASE,
    "blobs": BASE,
    "tls": {"crypto"} | BASE,
    # outgoing mail (SMTP): notices and replies that services send.
    "mail": {"config", "domain"} | BASE,
    "services": {"storage", "crypto", "config", "blobs", "domain", "mail"} | BASE,
    "backup": {"services", "storage", "crypto", "config", "blobs", "domain"} | BASE,
    "lifecycle": {"backup", "services", "storage", "crypto", "config", "blobs", "domain", "mail"}
    | BASE,
    # the trust page's promises: claims from settings, checks over the services and backups
    "promises": {"backup", "services", "storage", "crypto", "config", "domain"} | BASE,
    "export": {"lifecycle", "services", "storage", "crypto", "config", "blobs", "domain"} | BASE,
    # metrics and logs (issue 15 item 6): the meters around the root key and key cache, and
    # the deployment's readings (deadlines, backups, certificate, promise results)
    "observability": {
        "promises",
        "backup",
        "services",
        "storage",
        "crypto",
        "config",
        "tls",
        "domain",
    }
    | BASE,
    "bootstrap": {
        "observability",
        "promises",
        "mail",
        "export",
        "lifecycle",
        "backup",
        "services",
        "storage",
        "crypto",
        "config",
        "blobs",
        "tls",
        "domain",
    }
    | BASE,
    "__init__": {"bootstrap", "config"} | BASE,
    "demo": {"bootstrap", "services", "domain", "config"} | BASE,
    # api/app.py reads the version from the package root (``from strongroom import``).
    "api": {"__init__", "bootstrap", "export", "services", "tls", "config", "domain"}
    | {"observability"}  # request ids and times, GET /metrics (issue 15 item 6)
    | BASE,
    # the web console: pages over the same services, mounted in the API app it builds.
    "console": {"api", "bootstrap", "services", "config", "domain"} | BASE,
    "cli": {
        "observability",
        "api",
        "console",
        "demo",
        "bootstrap",
        "export",
        "lifecycle",
        "backup",
        "services",
        "tls",
        "config",
        "domain",
    }
    | BASE,
}

#: Imports inside a function, each for start-up speed (a library one command needs is not
#: paid for by every command), keyed by the importing module.
LAZY_IMPORTS: dict[str, set[str]] = {
    # the services not every command uses are built on first use (Strongroom's docstring)
    "bootstrap": {
        "strongroom.crypto.kms.pkcs11",
        "strongroom.tls.certificates",
        "strongroom.services.access",
        "strongroom.services.plans",
        "strongroom.services.certificates",
        "strongroom.services.privacy",
        "strongroom.export.subject",
        "strongroom.export.service",
        "strongroom.export.jobs",
        "strongroom.backup.service",
        "strongroom.lifecycle.worker",
        "strongroom.lifecycle.purge",
        "strongroom.lifecycle.erasure",
        # the request inbox and its mailer: built when the inbox is first used
        "strongroom.services.inbox",
        "strongroom.mail",
        "strongroom.lifecycle.scheduled",
        "strongroom.promises.registry",
        "strongroom.promises.service",
        "strongroom.promises.standard",
        "strongroom.promises.offered",
        # agreements (issue 14): the DPA and SCC versions and their acceptances
        "strongroom.services.agreements",
        # boto3 (the S3 blob store): loaded only by deployments whose blobs are on S3
        "strongroom.blobs.s3",
        # the Transit root key (hvac, requests): loaded only by homes with kms = "transit"
        "strongroom.crypto.kms.transit",
        # subprocessors (issue 14): the list, its notices' mail, built on first use
        "strongroom.services.subprocessors",
        "strongroom.services.subprocessor_mail",
        # the AWS KMS root key (boto3): loaded only by homes with kms = "aws-kms"
        "strongroom.crypto.kms.aws",
        # prometheus_client: loaded by the processes that report metrics (serve, worker)
        "strongroom.observability.metered",
        "strongroom.observability.readings",
        # shred epochs (issue 15): built when the worker or `keys rotate --root` needs them
        "strongroom.lifecycle.shred_epoch",
        # staff and break-glass grants (issue 17): built when first used
        "strongroom.services.operators",
        "strongroom.services.grants",
    },
    # the package root: its public names from these on first use
    "__init__": {"strongroom.bootstrap", "strongroom.config"},
    # the facade: importing the marker module must not import the whole package
    "backup": {"strongroom.backup.service"},
    # boto3: loaded only by deployments whose backups are on S3 (backup_url = "s3://...")
    "backup.places": {"strongroom.backup.s3_place"},
    "export.verify": {"jsonschema"},
    "storage.migrations": {"alembic", "alembic.config"},
    "cli.commands.serve": {
        "strongroom.console.app",
        "strongroom.api.server",
        "strongroom.api.processes",
    },
    # phonenumbers: for comparing phone numbers and checking phone_region only
    "config": {"phonenumbers"},
    "domain.personal": {"phonenumbers"},
    # Rich: for people's output only, never with --json
    "cli.output": {
        "rich.console",
        "rich.markup",
        "rich.progress",
        "rich.table",
        "rich.text",
    },
}

#: Attributes that hold a database connection or engine.
RAW_DATABASE = {"conn", "engine", "connection", "lookup_engine", "raw_connection"}
#: Files outside storage/ whose ``.conn`` is not a database's: api/connections.py's
#: ``self.conn`` is an h11 connection (HTTP/1.1 state machine).
NOT_A_DATABASE = {"api/connections.py"}


def _modules() -> Iterator[tuple[str, str, ast.Module]]:
    """(top-level package, dotted module name, syntax tree) of every source file."""
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC)
        parts = relative.with_suffix("").parts
        package = parts[0]
        dotted = ".".join(p for p in parts if p != "__init__") or "__init__"
        yield package, dotted, ast.parse(path.read_text("utf-8"))


def _imported(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module == "strongroom":
        # ``from strongroom import ids`` imports a module; ``import __version__`` the root
        return [f"strongroom.{a.name}" if _is_module(a.name) else "strongroom" for a in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        return [node.module]
    return []


def _is_module(name: str) -> bool:
    return (SRC / f"{name}.py").is_file() or (SRC / name / "__init__.py").is_file()


def _target(module: str) -> str | None:
    """The top-level package of Strongroom that ``module`` names, if any."""
    if module == "strongroom":
        return "__init__"
    if module.startswith("strongroom."):
        return module.split(".")[1]
    return None


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for package, _dotted, tree in _modules():
        for node in ast.walk(tree):
            for name in _imported(node):
                target = _target(name)
                if target is not None and target != package:
                    graph.setdefault(package, set()).add(target)
    return graph


def test_every_package_imports_only_what_it_may() -> None:
    graph = _graph()
    assert set(graph) <= set(ALLOWED), "a new top-level package: add it to ALLOWED"
    wrong = {p: sorted(t - ALLOWED[p]) for p, t in graph.items() if t - ALLOWED[p]}
    assert wrong == {}


def test_the_allowed_graph_has_no_cycle() -> None:
    done: set[str] = set()

    def visit(package: str, path: tuple[str, ...]) -> None:
        assert package not in path, " → ".join((*path, package))
        if package in done:
            return
        for target in ALLOWED.get(package, set()):
            visit(target, (*path, package))
        done.add(package)

    for package in ALLOWED:
        visit(package, ())


def test_sqlalchemy_and_alembic_are_imported_only_under_storage() -> None:
    found = [
        (dotted, name)
        for package, dotted, tree in _modules()
        if package != "storage"
        for node in ast.walk(tree)
        for name in _imported(node)
        if name.split(".")[0] in ("sqlalchemy", "alembic")
    ]
    assert found == []


def test_no_raw_database_connection_outside_storage() -> None:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC).as_posix()
        if relative.startswith("storage/") or relative in NOT_A_DATABASE:
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in RAW_DATABASE:
                found.append(f"{relative}:{node.lineno} .{node.attr}")
    assert found == []


def test_imports_inside_functions_are_only_the_listed_ones() -> None:
    found: dict[str, set[str]] = {}
    for _package, dotted, tree in _modules():
        for function in ast.walk(tree):
            if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                for node in ast.walk(function):
                    for name in _imported(node):
                        found.setdefault(dotted, set()).add(name)
    assert found == LAZY_IMPORTS
