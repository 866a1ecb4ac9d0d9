"""Cost and quality on a shipped topology (examples/two_as), with the routing core's paths when it is there."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from netsim.analysis.cost import Prices, design_cost
from netsim.analysis.quality import QualityMethod, measure_quality, measurement_server
from netsim.topology.io import load_topology


def paths_fn(g):
    import netsim.routing as routing

    return routing.compile(g).route().paths


def diurnal_links(g, *, peak_util: float, n_bins: int = 288, bin_s: float = 300.0, design: str = "baseline"):
    """Every link loaded with an evening-peaking utilisation (peak at 22:00 = peak_util)."""
    t = np.arange(n_bins) * bin_s
    hour = (t % 86400) / 3600
    shape = 0.3 + 0.7 * np.exp(-0.5 * (((hour - 22 + 12) % 24 - 12) / 2.0) ** 2)
    parts = []
    for u, v, d in sorted(g.edges(data=True), key=lambda e: (e[0], e[1])):
        util = peak_util * shape
        parts.append(pl.DataFrame({"design": design, "bin": np.arange(n_bins), "ts_s": t, "src": u, "dst": v,
                                   "bps": util * d["capacity_gbps"] * 1e9, "utilisation": util}))
    return pl.concat(parts)


def test_cost_of_two_as():
    g = load_topology("examples/two_as")
    links = diurnal_links(g, peak_util=0.6)
    c = design_cost(g, links, prices=Prices(), bin_s=300)
    assert c.by_member["asn"].to_list() == [65001]  # the carrier 65002 sells; it is not a member
    transit = c.items.filter(pl.col("item") == "transit").sort("element")
    assert transit["element"].to_list() == ["a1->t1", "a3->t2"]
    # 10 G links at 0.6 x shape, every day alike: the month's billed rate is the day's 95th percentile, here from
    # numpy's inverted-CDF percentile (the smallest sample with at least 95 % of the samples at or below it: what
    # is left after discarding the top 5 %), at the default $1 per Mbps
    day = links.filter((pl.col("src") == "a1") & (pl.col("dst") == "t1"))["bps"].to_numpy()
    want = float(np.percentile(day, 95, method="inverted_cdf")) / 1e6 * 1.0
    assert 0.9 * 6000 < want < 6000   # the evening peak lasts > 5 % of a day: near the 6 Gbps peak, below it
    assert transit["cost"].to_list() == pytest.approx([want, want], rel=1e-12)
    lines = c.items.filter(pl.col("item") == "line")
    assert sorted(lines["element"].to_list()) == ["a1<->a2", "a1<->a3", "a1<->t1", "a2<->a3", "a3<->t2"]
    assert c.total == pytest.approx(float(c.items["cost"].sum()))


def test_quality_of_two_as_peak_vs_offpeak():
    g = load_topology("examples/two_as")
    assert measurement_server(g, "a1", "regional") == "t1"  # the hub PoP in the client's region
    paths = paths_fn(g)
    quiet = diurnal_links(g, peak_util=0.5, design="quiet")
    busy = diurnal_links(g, peak_util=0.995, design="busy")
    q = measure_quality(g, pl.concat([quiet, busy]), paths, bin_s=300, method=QualityMethod(placement="regional"))
    s = {r["design"]: r for r in q.summary.iter_rows(named=True)}
    assert set(s) == {"quiet", "busy"}
    assert s["quiet"]["peak_throughput_p50_mbps"] == pytest.approx(1000.0)
    assert s["busy"]["peak_throughput_p50_mbps"] < 0.2 * s["busy"]["offpeak_throughput_p50_mbps"]
    assert s["busy"]["peak_rtt_p50_ms"] > s["quiet"]["peak_rtt_p50_ms"]
    assert q.hourly.filter(pl.col("design") == "busy").height == 24
