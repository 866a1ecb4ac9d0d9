"""docs/metrics.md defines every output column and summary key of a run, and nothing a run does not write.

A small Tochigi run (the shipped scenario on the 0.001 traces of tests/lib) writes every table, the
forecast and the aggregated ISP's procurement keys; a two-hour tochigi-prefetch run adds the keys only
a prefetch design has. The page's "Every output, column by column" section is parsed: each ``###``
heading names a file (or the summary), each bullet starts with the names it defines.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
import pytest

from netsim.scenario import load_scenario
from netsim.sim.run import run
from netsim_testing import small

PAGE = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"
SECTION = "## Every output, column by column"
RUN_KEYS = "summary.json: the run"
DESIGN_KEYS = "summary.json: each design"


def defined_names(text: str) -> dict[str, set[str]]:
    """``{file or summary part: names}`` from the page's section (a bullet's names come before its ' — ')."""
    assert SECTION in text, f"{PAGE} has no {SECTION!r} section"
    body = text.split(SECTION, 1)[1]
    out: dict[str, set[str]] = {}
    for block in re.split(r"^### ", body, flags=re.M)[1:]:
        heading, *lines = block.splitlines()
        title = heading.replace("`", "").strip()
        # join each bullet with its indented continuation lines
        bullets, cur = [], None
        for line in lines:
            if line.startswith("- "):
                cur = [line[2:]]
                bullets.append(cur)
            elif cur is not None and line.startswith("  "):
                cur.append(line.strip())
            else:
                cur = None
        for b in bullets:
            head = " ".join(b).split(" — ", 1)[0]
            names = re.findall(r"`([^`]+)`", head)
            assert names, f"{title}: a bullet defines nothing: {' '.join(b)[:80]}"
            if "/" in names[0]:  # `forecast/x.parquet`: `col`, ... — a file of the forecast directory
                out.setdefault(names[0], set()).update(names[1:])
            else:
                out.setdefault(title.split(" ")[0] if title.endswith(".parquet") else title, set()).update(names)
    return out


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """The output directories of the two runs: (tochigi, tochigi-prefetch)."""
    base = tmp_path_factory.mktemp("metrics")
    run(small(load_scenario("tochigi")), base / "tochigi")
    pf = small(load_scenario("tochigi-prefetch"))
    run(pf.model_copy(update={"duration": 7200.0}), base / "prefetch")
    return base / "tochigi", base / "prefetch"


def test_page_parses_into_every_table():
    names = defined_names(PAGE.read_text())
    assert "bins.parquet" in names and "offered_bytes" in names["bins.parquet"]
    assert DESIGN_KEYS in {k.split(" (")[0] for k in names}


def test_every_column_is_defined_and_every_defined_column_exists(written):
    out, _ = written
    names = defined_names(PAGE.read_text())
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.parquet")) + ["forecast/evaluation.csv"]
    assert "bins.parquet" in files and "forecast/forecast.parquet" in files
    actual = {f: set((pl.read_csv(out / f) if f.endswith(".csv") else pl.read_parquet(out / f)).columns) for f in files}
    undefined = {f: sorted(cols - names.get(f, set())) for f, cols in actual.items() if cols - names.get(f, set())}
    assert not undefined, f"columns written but not defined in {PAGE.name}: {undefined}"
    tables = {k for k in names if k.endswith(".parquet") or k.endswith(".csv")}
    assert tables == set(actual), f"files defined but not written: {sorted(tables - set(actual))}"
    phantom = {f: sorted(names[f] - actual[f]) for f in tables if names[f] - actual[f]}
    assert not phantom, f"columns defined in {PAGE.name} that no run writes: {phantom}"


def test_every_summary_key_is_defined_and_every_defined_key_exists(written):
    names = defined_names(PAGE.read_text())
    design_defined = next(v for k, v in names.items() if k.startswith(DESIGN_KEYS))
    run_defined = names[RUN_KEYS]
    docs = [json.loads((d / "summary.json").read_text()) for d in written]
    run_keys = set().union(*(d.keys() for d in docs))
    design_keys = set().union(*(r.keys() for d in docs for r in d["designs"]))
    assert "procurement_saving_per_month" in design_keys and "prefetch_of" in design_keys  # both kinds of design ran
    assert run_keys == run_defined, (sorted(run_keys - run_defined), sorted(run_defined - run_keys))
    assert not design_keys - design_defined, f"summary keys not defined in {PAGE.name}: {sorted(design_keys - design_defined)}"
    assert not design_defined - design_keys, f"keys defined in {PAGE.name} that no run writes: {sorted(design_defined - design_keys)}"
