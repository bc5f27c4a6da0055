"""``python -m bench [--quick] [--only NAME ...]``: run the benchmarks, print the table,
write bench/results.json and bench/machine.json."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench import (
    aead,
    api,
    api_scale,
    backup,
    cli_files,
    console,
    export,
    files,
    privacy,
    purge,
    records,
    s3files,
)
from bench.runner import (
    MACHINE_FILE,
    RESULTS_FILE,
    WORK_DIR,
    Benchmark,
    Config,
    Result,
    machine_info,
    make_console,
    print_machine,
    print_table,
    write_json,
)

BENCHMARKS = (
    Benchmark(("record_write_ratio", "record_read_ratio"), records.run),
    Benchmark(("record_write_ratio_pg", "record_read_ratio_pg"), records.run_pg),
    Benchmark(("kms_calls_per_1000_reads",), records.run_kms_calls),
    Benchmark(("file_put_ratio", "file_get_ratio"), files.run_throughput),
    Benchmark(("s3_file_put_ratio", "s3_file_get_ratio"), s3files.run),
    Benchmark(("file_peak_rss_mb",), files.run_peak_rss),
    Benchmark(("cli_file_put_ratio", "cli_file_get_ratio"), cli_files.run),
    Benchmark(("aead_vs_openssl",), aead.run),
    Benchmark(("purge_shred_ms", "purge_rate"), purge.run),
    Benchmark(("backup_vs_restic", "restore_vs_restic", "backup_incremental_ratio"), backup.run),
    Benchmark(("api_read_ratio", "api_read_p50_ms", "api_read_p99_ms", "api_write_ratio"), api.run),
    Benchmark(("api_scale_ratio",), api_scale.run),
    Benchmark(("export_ratio", "export_peak_rss_mb"), export.run),
    Benchmark(("dsr_locate_ms",), privacy.run_locate),
    Benchmark(("dsr_export_ratio",), privacy.run_export),
    Benchmark(("dsr_erase_ms",), privacy.run_erase),
    Benchmark(("console_page_ms", "console_page_ratio"), console.run),
)
NAMES = tuple(name for b in BENCHMARKS for name in b.names)


def selected(item: str) -> tuple[str, ...]:
    """The names ``item`` picks: itself, or those it starts up to an underscore."""
    return tuple(n for n in NAMES if n == item or n.startswith(item.rstrip("_") + "_"))


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, one repetition")
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help=(
            "run only these (repeat or comma-separate); a prefix up to an underscore picks "
            f"every name it starts (dsr, export): {', '.join(NAMES)}"
        ),
    )
    parser.add_argument("--out", type=Path, default=RESULTS_FILE, help="results JSON file")
    parser.add_argument(
        "--machine-out",
        type=Path,
        default=None,
        help="machine description JSON file (default: bench/machine.json, or beside --out)",
    )
    parser.add_argument("--work", type=Path, default=WORK_DIR, help="folder for work files")
    parser.add_argument(
        "--strict", action="store_true", help="exit with status 1 if a target is missed"
    )
    parser.add_argument("--list", action="store_true", help="list the benchmark names")
    args = parser.parse_args(argv)
    given = {n.strip() for item in args.only or [] for n in item.split(",") if n.strip()}
    picked = {item: selected(item) for item in given}
    unknown = sorted(item for item, names in picked.items() if not names)
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; known: {', '.join(NAMES)}")
    args.wanted = frozenset(n for names in picked.values() for n in names) or frozenset(NAMES)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    console = make_console()
    if args.list:
        console.print("\n".join(NAMES))
        return 0
    config = Config.make(args.quick, args.work)
    machine = machine_info()
    print_machine(console, machine, args.quick)
    if args.machine_out is None:  # a partial run (--out elsewhere) never overwrites the table's
        args.machine_out = (
            MACHINE_FILE if args.out == RESULTS_FILE else args.out.with_name("machine.json")
        )
    write_json(args.machine_out, {**machine, "quick": args.quick})

    results: list[Result] = []
    for benchmark in BENCHMARKS:
        wanted = args.wanted & frozenset(benchmark.names)
        if not wanted:
            continue
        with console.status(f"running {', '.join(n for n in benchmark.names if n in wanted)}"):
            results += benchmark.run(config, wanted)
    results.sort(key=lambda r: NAMES.index(r.name))

    print_table(console, results)
    write_json(args.out, [r.as_json() for r in results])
    console.print(f"wrote {args.out} and {args.machine_out}")
    missed = [r.name for r in results if r.verdict == "FAIL"]
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
