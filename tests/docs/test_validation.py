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


def test_page_shows_routing_agreeing_with_topohub_and_bgp():
    text = PAGE.read_text()
    v = _script()
    rows = _table_rows(text, v.SECTIONS["routing-topohub"][0])
    assert len(rows) == len(v.TOPOHUB_NETWORKS)
    for row in rows:
        for cell in row[2:]:
            if cell != "—":
                assert float(cell.split(", ")[1]) <= 0.0051, row  # within the published values' rounding
    for row in _table_rows(text, v.SECTIONS["routing-bgp"][0]):
        same, pairs = row[-1].split("/")
        assert same == pairs, row


def test_path_vector_prefers_customer_routes_and_does_not_export_peer_routes_up():
    """The reference itself on examples/valley_free: a known answer, so the page's agreement means something."""
    import netsim

    v = _script()
    g = netsim.load_topology("examples/valley_free")
    rel = v._as_relationships(g)
    best = v.bgp_path_vector(rel)
    for (x, d), path in best.items():
        rels = [rel[(a, b)] for a, b in zip(path, path[1:])]
        # valley-free: up (c2p)* then at most one p2p then down (p2c)*
        order = [{"c2p": 0, "p2p": 1, "p2c": 2}[r] for r in rels]
        assert order == sorted(order) and order.count(1) <= 1, (x, d, path, rels)
    # the textbook answers: S reaches C2 over its provider C1's peering; P1 reaches C3 over its peer P2, not
    # through the stub S (a valley); C2 prefers its peer C1's customer route to S over its provider P1
    assert best[(100, 12)] == (100, 11, 12)
    assert best[(1, 13)] == (1, 2, 13)
    assert best[(12, 100)] == (12, 11, 100)
