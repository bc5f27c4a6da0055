"""The console benchmark (bench/console.py) on a small store: both sides must answer the
same first page, through the served app, signed in as a user would be."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench import console
from bench.runner import Config


def test_the_console_page_and_the_api_list_show_the_same_first_page(tmp_path: Path) -> None:
    results = console.run(
        Config.make(quick=True, work=tmp_path), frozenset(("console_page_ms", "console_page_ratio"))
    )
    # console.run raises unless the page links PAGE records and the API lists PAGE
    by_name = {r.name: r for r in results}
    assert set(by_name) == {"console_page_ms", "console_page_ratio"}
    page = by_name["console_page_ms"]
    assert page.value > 0 and page.baseline > 0
    assert by_name["console_page_ratio"].ratio == pytest.approx(page.baseline / page.value)
