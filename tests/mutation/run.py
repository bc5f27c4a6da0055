"""`make mutate`: cosmic-ray over the security-critical modules, each with its own tests.

For every module in ``modules.toml`` (or those named on the command line) it copies ``src/``
and ``tests/`` to ``build/mutate/MODULE/tree`` (cosmic-ray edits the file it mutates in
place; the working tree is never touched), checks that the selected tests pass unmutated,
runs every mutant, and prints the survivors with their diffs. Each module's counts and
survivors go to ``build/mutate/MODULE/result.json``. Exit 1 when a mutant survives, 2 when a
baseline fails.

    python -m tests.mutation.run [MODULE ...]      # e.g. roles access
    python -m tests.mutation.run --survivors [MODULE ...]

``--survivors`` runs again only the mutants that survived the module's last run (with the
tests as they are now), after writing tests to kill them.
"""

from __future__ import annotations

import ast
import json
import os
import shlex
import shutil
import sqlite3
import subprocess
import sys
import tomllib
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / "build" / "mutate"
#: A mutant whose tests run longer than this is counted as killed (an endless loop). Each
#: selection passes in seconds; this leaves room for a loaded machine.
TIMEOUT_SECONDS = 120


def _modules(names: list[str]) -> list[dict[str, Any]]:
    listed = tomllib.loads((Path(__file__).parent / "modules.toml").read_text())["module"]
    unknown = set(names) - {m["name"] for m in listed}
    if unknown:
        known = ", ".join(m["name"] for m in listed)
        sys.exit(f"error: unknown module {', '.join(sorted(unknown))}; choose from {known}")
    return [m for m in listed if not names or m["name"] in names]


def _copy_tree(tree: Path) -> None:
    shutil.rmtree(tree, ignore_errors=True)
    tree.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", ".hypothesis")
    for name in ("src", "tests"):
        shutil.copytree(ROOT / name, tree / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):  # the roles specification reads the README
        shutil.copy2(ROOT / name, tree / name)


def _test_command(module: dict[str, Any]) -> list[str]:
    marker = ["-m", module["markers"]] if module.get("markers") else []
    marker += ["-k", module["keywords"]] if module.get("keywords") else []
    # Plugins are not autoloaded (schemathesis's alone doubles a run's start-up); the tests
    # here need only hypothesis's.
    pytest = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider"]
    pytest += ["-p", "_hypothesis_pytestplugin"]
    return [*pytest, *marker, *module["tests"]]


def _environment(tree: Path) -> dict[str, str]:
    # The copy's src/ comes before the editable install, so the mutant is what gets imported.
    env = dict(os.environ, PYTHONPATH=str(tree / "src"), PYTHONDONTWRITEBYTECODE="1")
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    env.setdefault("CI", "true")
    return env


def _cosmic_ray(tree: Path, *args: str) -> None:
    subprocess.run(
        [str(Path(sys.executable).with_name("cosmic-ray")), *args],
        cwd=tree,
        env=_environment(tree),
        check=True,
    )


def _run(module: dict[str, Any], survivors_only: bool = False) -> dict[str, Any]:
    name = module["name"]
    tree = WORK / name / "tree"
    _copy_tree(tree)
    config = WORK / name / "cosmic-ray.toml"
    session = WORK / name / "session.sqlite"
    if survivors_only:
        with sqlite3.connect(session) as db:  # cosmic-ray runs what has no result yet
            db.execute("DELETE FROM work_results WHERE test_outcome = 'SURVIVED'")
    else:
        session.unlink(missing_ok=True)
    config.write_text(
        "[cosmic-ray]\n"
        f'module-path = "{module["path"]}"\n'
        f"timeout = {TIMEOUT_SECONDS}.0\n"
        "excluded-modules = []\n"
        f"test-command = {json.dumps(shlex.join(_test_command(module)))}\n"
        '[cosmic-ray.distributor]\nname = "local"\n'
    )
    print(f"== {name}: {module['path']}\n   tests: {shlex.join(_test_command(module))}", flush=True)
    baseline = subprocess.run(_test_command(module), cwd=tree, env=_environment(tree), check=False)
    if baseline.returncode != 0:
        print(f"error: the tests of {name} fail without a mutant", file=sys.stderr)
        sys.exit(2)
    if not survivors_only:
        _cosmic_ray(tree, "init", str(config), str(session))
        _skip_annotations(tree / module["path"], session)
    _cosmic_ray(tree, "exec", str(config), str(session))
    result = _summary(name, session)
    (WORK / name / "result.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


def _annotation_spans(path: Path) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Where the type annotations of ``path`` are. Under ``from __future__ import
    annotations`` they are never evaluated, so a mutant inside one cannot change behaviour."""
    spans = []
    for node in ast.walk(ast.parse(path.read_text())):
        found: list[ast.expr | None] = []
        if isinstance(node, ast.arg | ast.AnnAssign):
            found.append(node.annotation)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found.append(node.returns)
        for annotation in found:
            if annotation is not None and annotation.end_lineno is not None:
                spans.append(
                    (
                        (annotation.lineno, annotation.col_offset),
                        (annotation.end_lineno, annotation.end_col_offset or 0),
                    )
                )
    return spans


def _skip_annotations(path: Path, session: Path) -> None:
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    if "from __future__ import annotations" not in path.read_text():
        return
    spans = _annotation_spans(path)
    skipped = WorkResult(worker_outcome=WorkerOutcome.SKIPPED)
    with use_db(str(session), WorkDB.Mode.open) as db:
        for item in db.pending_work_items:
            start = tuple(item.mutations[0].start_pos)
            if any(low <= start < high for low, high in spans):
                db.set_result(item.job_id, skipped)


def _summary(name: str, session: Path) -> dict[str, Any]:
    from cosmic_ray.work_db import WorkDB, use_db

    with use_db(str(session), WorkDB.Mode.open) as db:
        done = db.completed_work_items
        pending = db.num_work_items - db.num_results
    counts: Counter[str] = Counter()
    survivors = []
    for item, result in done:
        outcome = (result.test_outcome or result.worker_outcome).value
        counts[outcome] += 1
        if outcome == "survived":
            mutation = item.mutations[0]
            survivors.append(
                {
                    "line": mutation.start_pos[0],
                    "operator": mutation.operator_name,
                    "occurrence": mutation.occurrence,
                    "diff": result.diff,
                }
            )
    survivors.sort(key=lambda s: (s["line"], s["operator"], s["occurrence"]))
    return {"module": name, "mutants": len(done) + pending, **counts, "survivors": survivors}


def main(args: list[str]) -> int:
    survivors_only = "--survivors" in args
    modules = _modules([a for a in args if a != "--survivors"])
    results = [_run(m, survivors_only) for m in modules]
    print("\nmodule        mutants  killed  survived  incompetent  skipped (annotations)")
    for r in results:
        print(
            f"{r['module']:<13} {r['mutants']:>7} {r.get('killed', 0):>7} "
            f"{r.get('survived', 0):>9} {r.get('incompetent', 0):>12} {r.get('skipped', 0):>8}"
        )
    for r in results:
        for s in r["survivors"]:
            print(f"\nSURVIVED {r['module']} line {s['line']} ({s['operator']}):\n{s['diff']}")
    return 1 if any(r["survivors"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
