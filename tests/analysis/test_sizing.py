"""Link sizing for the busy hour (netsim.analysis.sizing) and the shipped networks it sized."""

from __future__ import annotations

import networkx as nx
import polars as pl
import pytest

from netsim.analysis.sizing import FAILURE_UTIL, TARGET_UTIL, busy_hour_loads, line_size, size_links
from netsim.errors import InputError
from netsim.topology import load_topology
from netsim.traffic.generators import access_pops, expected_demand
from netsim.traffic.timeshape import BUSY_HOUR_FACTOR, shape

SHIPPED_TRAFFIC = {"provider_weights": {"overseas-video": 0.18}}


def test_busy_hour_factor_is_the_largest_hourly_mean_of_the_curve():
    # independent: average the curve minute by minute over a week
    import numpy as np

    t = np.arange(0, 7 * 86400, 60.0)
    per_hour = shape(t).reshape(-1, 60).mean(axis=1)
    assert abs(per_hour.mean() - 1.0) < 1e-3
    assert BUSY_HOUR_FACTOR == pytest.approx(per_hour.max(), rel=2e-3)
    assert 1.4 < BUSY_HOUR_FACTOR < 1.7


def test_expected_demand_sums_to_the_calibrated_download():
    g = load_topology("tochigi")
    d = expected_demand(g, **SHIPPED_TRAFFIC)
    subs = sum(g.nodes[n]["subscribers"] for n in access_pops(g))
    assert d["bytes_per_s"].sum() * 8 == pytest.approx(subs * 38.9e12 / 43.8e6, rel=1e-9)
    flows = d.filter(pl.col("provider").is_null())
    assert flows["bytes_per_s"].sum() == pytest.approx(0.1 * d["bytes_per_s"].sum(), rel=1e-9)
    # content per PoP is in proportion to its subscribers
    per_pop = d.filter(pl.col("provider").is_not_null()).group_by("src").agg(pl.col("bytes_per_s").sum())
    for r in per_pop.iter_rows(named=True):
        assert r["bytes_per_s"] * 8 == pytest.approx(0.9 * g.nodes[r["src"]]["subscribers"] * 38.9e12 / 43.8e6, rel=1e-9)


def _valley_free(g, path) -> bool:
    """Uphill (c2p, internal), at most one peering (p2p, across an IX or direct), then downhill (p2c, internal)."""
    down = False
    for u, v in zip(path, path[1:]):
        rel = g.edges[u, v]["rel"]
        if rel == "internal" or (rel == "p2p" and g.nodes[u].get("kind") == "ix"):
            continue  # an IX fabric is one peering: member -> IX -> member
        if down and rel != "p2c":
            return False
        if rel in ("p2p", "p2c"):
            down = True
    return True


def test_normal_loads_agree_with_networkx_shortest_paths_on_tochigi():
    """Independent reference: content from the provider's nearest origin by latency, every demand on the
    shortest valley-free latency path networkx finds (Tochigi has no ties between those), summed per link."""
    g = load_topology("tochigi")
    d = expected_demand(g, **SHIPPED_TRAFFIC)
    got = busy_hour_loads(g, d, cuts=())
    dist = dict(nx.all_pairs_dijkstra_path_length(g, weight="latency_ms"))
    origins: dict[str, list[str]] = {}
    for n, a in g.nodes(data=True):
        if a.get("kind") == "origin":
            origins.setdefault(a["provider"], []).append(n)
    want: dict[tuple[str, str], float] = {}
    for r in d.iter_rows(named=True):
        if r["provider"] is None:
            s, t = r["src"], r["dst"]
        else:
            s, t = min(origins[r["provider"]], key=lambda o: (dist[o][r["src"]], o)), r["src"]
        path = next(p for p in nx.shortest_simple_paths(g, s, t, weight="latency_ms") if _valley_free(g, p))
        for e in zip(path, path[1:]):
            want[e] = want.get(e, 0.0) + r["bytes_per_s"] * 8e-9 * BUSY_HOUR_FACTOR
    for r in got.iter_rows(named=True):
        assert r["normal_gbps"] == pytest.approx(want.get((r["src"], r["dst"]), 0.0), rel=1e-9, abs=1e-9), r
    assert (got["failure_gbps"] == got["normal_gbps"]).all()  # no cuts: nothing else


def test_a_cut_moves_the_load_to_the_parallel_line():
    g = load_topology("tochigi")
    d = expected_demand(g, **SHIPPED_TRAFFIC)
    main, spare = ("isp-a-tokyo-otemachi", "isp-a-utsunomiya"), ("isp-a-tokyo-otemachi", "isp-a-moka")
    t = busy_hour_loads(g, d, cuts=[main])
    row = {(r["src"], r["dst"]): r for r in t.iter_rows(named=True)}
    # with the main line cut, the spare line carries what both carried (isp-a's traffic from Tokyo)
    assert row[spare]["failure_gbps"] == pytest.approx(row[main]["normal_gbps"] + row[spare]["normal_gbps"], rel=1e-6)
    assert row[spare]["failure"] == "isp-a-tokyo-otemachi|isp-a-utsunomiya"
    with pytest.raises(InputError, match="no such link"):
        busy_hour_loads(g, d, cuts=[("isp-a-moka", "isp-d-sano")])


def test_size_links_takes_the_larger_need_and_direction():
    t = pl.DataFrame({"src": ["a", "b", "c"], "dst": ["b", "a", "d"], "capacity_gbps": [5.0, 5.0, 1000.0],
                      "normal_gbps": [61.0, 5.0, 900.0], "failure_gbps": [61.0, 80.0, 900.0]})
    caps = size_links(t, floors={("c", "d"): 400}, fixed=[("c", "d")])
    # 61 / 0.6 = 101.7 (-> 200) beats 80 / 0.9 = 88.9; both directions get it; a fixed link keeps its capacity
    assert caps == {("a", "b"): 200, ("b", "a"): 200, ("c", "d"): 1000}
    assert line_size(100.0) == 100 and line_size(100.0001) == 200 and line_size(0.5) == 10
    with pytest.raises(ValueError):
        line_size(float("nan"))


@pytest.mark.parametrize("name", ["tochigi", "japan"])
def test_shipped_networks_are_sized_by_the_rule(name):
    """Every link the build script sized has its normal busy hour at <= TARGET_UTIL; the committed file is
    what the rule gives (the build script's own byte-for-byte test covers the N-1 part)."""
    g = load_topology(name)
    t = busy_hour_loads(g, expected_demand(g, **SHIPPED_TRAFFIC), cuts=())
    util = t["normal_gbps"] / t["capacity_gbps"]
    assert util.max() <= TARGET_UTIL + 1e-9
    # and is not wildly oversized where it matters: the busiest link runs above half the target
    assert util.max() > 0.5 * TARGET_UTIL
    assert FAILURE_UTIL > TARGET_UTIL
