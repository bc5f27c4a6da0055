"""The privacy benchmarks (bench/privacy.py) on a tiny store: `make bench` runs them only
now and then, so this keeps them working against today's API, with both sides of each
finding exactly the subject's data."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench import privacy
from bench.__main__ import parse_args


def test_locate_and_the_decrypting_scan_find_exactly_the_planted_records(tmp_path: Path) -> None:
    result = privacy.measure_locate(tmp_path, privacy.LocateSizes(200, locates=2))
    # measure_locate raises unless both sides found the 20 planted records and nothing else
    assert result.name == "dsr_locate_ms"
    assert "20 of them the subject's" in result.notes
    assert result.value > 0 and result.baseline > 0


def test_the_subject_package_holds_her_records_and_files(tmp_path: Path) -> None:
    sizes = privacy.ExportSizes(records=40, files=3, file_bytes=4096)
    # measure_export raises unless the package holds 40 records and 3 files and verifies
    result = privacy.measure_export(tmp_path, sizes, reps=1)
    assert result.name == "dsr_export_ratio"
    assert result.value > 0 and result.baseline > 0


def test_the_erasure_leaves_nothing_of_the_subject(tmp_path: Path) -> None:
    sizes = privacy.EraseSizes(subject_records=20, others_per_project=10, projects=2, reps=2)
    # measure_erase raises unless locate found every planted record before, and no locate,
    # find or read finds her after
    result = privacy.measure_erase(tmp_path, sizes)
    assert result.name == "dsr_erase_ms" and result.target is None
    assert "a subject in 20 records" in result.notes
    assert result.value > 0 and result.baseline > 0


def test_only_picks_the_benchmarks_a_prefix_names() -> None:
    assert parse_args(["--only", "dsr"]).wanted == {
        "dsr_locate_ms",
        "dsr_export_ratio",
        "dsr_erase_ms",
    }
    assert parse_args(["--only", "dsr_locate_ms"]).wanted == {"dsr_locate_ms"}
    with pytest.raises(SystemExit):
        parse_args(["--only", "ds"])  # a prefix ends at an underscore
