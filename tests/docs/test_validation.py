"""docs/validation.md is what scripts/validation.py writes now, and its tables show the agreement the tests assert."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "validation.md"


def _script():
    spec = importlib.util.spec_from_file_location("netsim_validation_script", ROOT / "scripts" / "validation.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _table_rows(text: str, title: str) -> list[list[str]]:
    body = text.split(f"## {title}", 1)[1].split("\n## ", 1)[0]
    rows = [ln.strip().strip("|").split("|") for ln in body.splitlines() if ln.startswith("| ")]
    return [[c.strip() for c in r] for r in rows[1:]]  # without the header


def test_page_is_what_the_script_writes():
    """About 10 s: every section is regenerated (fixed seeds, no timings, so the text is exact)."""
    assert PAGE.read_text() == _script().render(), "docs/validation.md is stale: python scripts/validation.py"


def test_page_shows_exact_agreement_where_the_tests_require_it():
    text = PAGE.read_text()
    v = _script()
    for row in _table_rows(text, v.SECTIONS["libcachesim"][0]):
        assert row[-1] == "0" and row[-2] == row[-3], row  # identical hits, request for request
    for row in _table_rows(text, v.SECTIONS["routing-reference"][0]):
        done, total = row[4].split(" ")[0].split("/")
        assert done == total, row
    for row in _table_rows(text, v.SECTIONS["che"][0]):
        assert abs(float(row[4])) < 2 and abs(float(row[7])) < 2, row  # within 2 points, as tests/cache/test_che.py
    for row in _table_rows(text, v.SECTIONS["routing-networkx"][0]):
        same, pairs = row[-1].split("/")
        assert same == pairs, row
