"""Quality: congestion lowers the measured median, RTT grows with utilisation, access speed caps, peak vs off-peak."""

from __future__ import annotations

import networkx as nx
import numpy as np
import polars as pl
import pytest

from netsim.analysis.quality import QualityMethod, measure_quality, measurement_server, measurement_servers, path_quality
from netsim.errors import InputError


def net():
    """Region 'tochigi': hub PoP agg (the regional measurement server), regional IX rix, access PoPs p1, p2 of
    AS 1 behind agg and q1 of AS 2 behind rix; Tokyo: jpix and a core PoP t-core (the Tokyo server)."""
    g = nx.DiGraph(metros={"utsunomiya": {"region": "tochigi"}, "oyama": {"region": "tochigi"},
                           "tokyo-otemachi": {"region": "tokyo", "core": True}},
                   as_names={1: "ISP A", 2: "ISP B"})
    g.add_node("rix", kind="ix", asn=9, metro="utsunomiya", region="tochigi")
    g.add_node("jpix", kind="ix", asn=8, metro="tokyo-otemachi", region="tokyo")
    g.add_node("t-core", kind="pop", asn=8, metro="tokyo-otemachi", region="tokyo", subscribers=0)
    g.add_node("agg", kind="pop", asn=1, metro="utsunomiya", region="tochigi", subscribers=0)
    g.add_node("p1", kind="pop", asn=1, metro="utsunomiya", region="tochigi", subscribers=3000)
    g.add_node("p2", kind="pop", asn=1, metro="oyama", region="tochigi", subscribers=1000, access_gbps=0.1)
    g.add_node("q1", kind="pop", asn=2, metro="oyama", region="tochigi", subscribers=500, access_gbps=10.0)

    def duplex(u, v, cap, lat):
        g.add_edge(u, v, capacity_gbps=cap, latency_ms=lat)
        g.add_edge(v, u, capacity_gbps=cap, latency_ms=lat)

    duplex("t-core", "jpix", 100.0, 0.01)
    duplex("jpix", "rix", 100.0, 0.75)
    duplex("rix", "agg", 10.0, 0.05)
    duplex("agg", "p1", 10.0, 0.05)
    duplex("agg", "p2", 10.0, 0.2)
    duplex("rix", "q1", 40.0, 0.2)
    return g


def sp_paths(g):
    return lambda s, d: [(nx.shortest_path(g, s, d, weight="latency_ms"), 1.0)]


def links_table(g, util: dict, *, n_bins=24, design="d", default=0.1):
    rows = []
    for u, v in sorted(g.edges):
        for b in range(n_bins):
            x = util.get((u, v), default)
            rows.append((design, b, b * 3600.0, u, v, x(b) if callable(x) else x))
    return pl.DataFrame(rows, schema={"design": pl.Utf8, "bin": pl.Int64, "ts_s": pl.Float64, "src": pl.Utf8,
                                      "dst": pl.Utf8, "utilisation": pl.Float64}, orient="row")


def test_median_falls_when_the_bottleneck_is_congested():
    g = net()
    light = links_table(g, {("agg", "p1"): 0.3, ("agg", "p2"): 0.3}, design="light")
    heavy = links_table(g, {("agg", "p1"): 0.99, ("agg", "p2"): 0.99}, design="heavy")
    q = measure_quality(g, pl.concat([light, heavy]), sp_paths(g), bin_s=3600)
    s = {(r["design"], r["asn"]): r for r in q.summary.iter_rows(named=True)}
    # ISP A's PoPs sit behind agg: 1 Gbps access (p1) at 30 % load, TCP-bound at 99 %
    assert s[("light", 1)]["offpeak_throughput_p50_mbps"] == pytest.approx(1000.0)
    assert s[("heavy", 1)]["offpeak_throughput_p50_mbps"] < 50.0
    assert s[("heavy", 1)]["offpeak_rtt_p50_ms"] > s[("light", 1)]["offpeak_rtt_p50_ms"] + 20
    # ISP B does not cross that link: unchanged
    assert s[("heavy", 2)]["offpeak_throughput_p50_mbps"] == s[("light", 2)]["offpeak_throughput_p50_mbps"]


def test_rtt_and_loss_grow_with_utilisation_and_throughput_falls():
    us = np.array([0.0, 0.3, 0.6, 0.8, 0.9, 0.95, 0.99, 1.0])
    thr, rtt, loss = path_quality([10.0], [2.0], us[:, None], access_gbps=100.0)
    assert rtt[0] == pytest.approx(4.0)  # propagation only, round trip
    assert np.all(np.diff(rtt) >= 0) and rtt[-2] > rtt[1]
    assert rtt[-1] == pytest.approx(4.0 + 50.0)  # queueing capped at a buffer
    assert np.all(np.diff(thr) <= 0)
    assert np.all(loss[us <= 0.9] == 0) and np.all(np.diff(loss) >= 0) and loss[-1] == pytest.approx(0.01)
    # by hand, with the documented defaults (docs/quality.md):
    # 30 %: the idle 7 Gbps; RTT 4 ms + an M/M/1 wait of 1000 packets x 1500 B x 8 / 10 Gbps = 1.2 ms x 0.3 / 0.7
    assert thr[1] == pytest.approx(7000.0) and rtt[1] == pytest.approx(4.0 + 1.2 * 0.3 / 0.7)
    # 95 %: loss 0.01 x ((0.95 - 0.9) / 0.1)^2 = 0.0025
    assert loss[5] == pytest.approx(0.0025)
    # full: Mathis et al. (1997), MSS / RTT x sqrt(3/2) / sqrt(p) = 1460 x 8 bit / 54 ms x 1.2247 / 0.1 = 2.649 Mbps,
    # below the fair share 10,000 / 401 = 24.9 Mbps
    assert thr[-1] == pytest.approx(2.649, abs=1e-3)
    # a full link without loss-based bound: the test flow gets its fair share c / (n + 1) ~ flow rate
    thr_full, _, _ = path_quality([10.0], [2.0], [[1.0]], access_gbps=100.0,
                                  method=QualityMethod(loss_at_full=0.0))
    assert thr_full[0] == pytest.approx(1e4 / (1e4 / 25 + 1))


def test_access_speed_caps_throughput():
    g = net()
    q = measure_quality(g, links_table(g, {}, default=0.0), sp_paths(g), bin_s=3600)
    by_pop = q.samples.group_by("pop").agg(pl.col("throughput_mbps").max()).sort("pop")
    got = dict(by_pop.iter_rows())
    assert got["p1"] == pytest.approx(1000.0)   # default 1 Gbps FTTH
    assert got["p2"] == pytest.approx(100.0)    # access_gbps 0.1
    assert got["q1"] == pytest.approx(10000.0)  # 10 G line over an idle 40 G path
    assert QualityMethod(access_gbps=2.0).access_gbps == 2.0
    q2 = measure_quality(g, links_table(g, {}, default=0.0), sp_paths(g), bin_s=3600,
                         method=QualityMethod(access_gbps=2.0))
    assert q2.samples.filter(pl.col("pop") == "p1")["throughput_mbps"].max() == pytest.approx(2000.0)


def test_peak_hours_against_off_peak_and_subscriber_weighting():
    g = net()
    evening = lambda b: 0.995 if b % 24 in (21, 22) else 0.2  # noqa: E731
    q = measure_quality(g, links_table(g, {("agg", "p1"): evening}, n_bins=48), sp_paths(g), bin_s=3600)
    s = q.summary.filter(pl.col("asn") == 1).row(0, named=True)
    assert s["peak_throughput_p50_mbps"] < 0.1 * s["offpeak_throughput_p50_mbps"]  # p1 has 3/4 of ISP A's subscribers
    assert s["peak_to_offpeak"] < 0.1
    assert s["peak_throughput_p10_mbps"] <= s["peak_throughput_p50_mbps"]
    hourly = q.hourly.filter(pl.col("asn") == 1).sort("hour")
    assert hourly.height == 24 and hourly["samples"].to_list() == [4] * 24  # 2 PoPs x 2 days
    thr = dict(hourly.select("hour", "throughput_p50_mbps").iter_rows())
    assert thr[21] < 50 and thr[20] == pytest.approx(1000.0)
    # with p2 (1/4 of subscribers, 100 Mbps line, unaffected) the 10th percentile at peak is p1's congested value
    assert hourly.filter(pl.col("hour") == 21)["throughput_p10_mbps"][0] == pytest.approx(thr[21])


def test_ecmp_paths_weigh_by_fraction():
    g = net()
    g.add_node("agg2", kind="pop", asn=1, metro="utsunomiya", region="tochigi", subscribers=0)
    for u, v in (("rix", "agg2"), ("agg2", "rix"), ("agg2", "p1"), ("p1", "agg2")):
        g.add_edge(u, v, capacity_gbps=10.0, latency_ms=0.05)
    paths = lambda s, d: ([(["rix", "agg", "p1"], 0.3), (["rix", "agg2", "p1"], 0.7)] if d == "p1"  # noqa: E731
                          else [(nx.shortest_path(g, s, d), 1.0)])
    q = measure_quality(g, links_table(g, {("rix", "agg"): 0.99}, n_bins=1), paths, bin_s=3600,
                        servers={"p1": "rix"})
    p1 = q.samples.filter(pl.col("pop") == "p1").sort("weight")
    assert p1["weight"].to_list() == pytest.approx([900.0, 2100.0])
    assert p1["throughput_mbps"][0] < 50 and p1["throughput_mbps"][1] == pytest.approx(1000.0)


def test_server_placement():
    g = net()
    assert measurement_server(g, "p1", "regional") == "agg"   # a hub PoP, not the IX: present in every design
    assert measurement_server(g, "q1", "regional") == "agg"   # one server for the whole region
    assert measurement_server(g, "p1", "tokyo") == "t-core"
    g2 = net()
    g2.remove_nodes_from(["agg", "p1", "p2"])
    g2.nodes["rix"]["region"] = "elsewhere"
    assert measurement_server(g2, "q1", "regional") == "t-core"  # the client alone in its region: Tokyo
    q_reg = measure_quality(g, links_table(g, {}, n_bins=1, default=0.0), sp_paths(g), bin_s=3600)
    q_tok = measure_quality(g, links_table(g, {}, n_bins=1, default=0.0), sp_paths(g), bin_s=3600,
                            method=QualityMethod(placement="tokyo"))
    r = q_reg.summary.filter(pl.col("asn") == 1)["offpeak_rtt_p50_ms"][0]
    t = q_tok.summary.filter(pl.col("asn") == 1)["offpeak_rtt_p50_ms"][0]
    assert t == pytest.approx(r + 2 * (0.01 + 0.75 + 0.05), abs=0.05)  # t-core -> jpix -> rix -> agg, each way
    assert set(q_tok.samples["server"].unique()) == {"t-core"}
    g.graph["metros"]["tokyo-otemachi"]["core"] = False
    with pytest.raises(InputError, match="core metro"):
        measurement_server(g, "p1", "tokyo")


def test_bad_inputs():
    g = net()
    with pytest.raises(InputError, match="no column 'utilisation'"):
        measure_quality(g, links_table(g, {}).drop("utilisation"), sp_paths(g))
    with pytest.raises(InputError, match="not a link"):
        measure_quality(g, links_table(g, {}), lambda s, d: [([s, d], 1.0)])
    with pytest.raises(InputError, match="design 'x' is not"):
        measure_quality(g, links_table(g, {}), sp_paths(g), design="x")


def test_servers_fixed_on_the_baseline_are_reused_by_a_design_that_adds_a_hub():
    base = net()
    fixed = measurement_servers(base, "regional")
    assert fixed == {"p1": "agg", "p2": "agg", "q1": "agg"}
    design = net()
    design.add_node("aaa-hub", kind="pop", asn=7, metro="utsunomiya", region="tochigi", subscribers=0)
    for u, v in (("aaa-hub", "rix"), ("rix", "aaa-hub")):
        design.add_edge(u, v, capacity_gbps=100.0, latency_ms=0.01)
    assert measurement_server(design, "p1", "regional") == "aaa-hub"  # the rule alone would move the server
    lt = links_table(design, {}, n_bins=1)
    q = measure_quality(design, lt, sp_paths(design), bin_s=3600, servers=fixed)
    assert set(q.samples["server"]) == {"agg"}
    # a design that removes the fixed server: the rule chooses again
    design.remove_node("agg")
    for u, v in (("rix", "p1"), ("p1", "rix"), ("rix", "p2"), ("p2", "rix")):
        design.add_edge(u, v, capacity_gbps=10.0, latency_ms=0.05)
    q = measure_quality(design, links_table(design, {}, n_bins=1), sp_paths(design), bin_s=3600, servers=fixed)
    assert set(q.samples["server"]) == {"aaa-hub"}


def test_failed_tests_count_as_zero_and_unreachable():
    g = net()
    normal = sp_paths(g)
    cut = g.copy()
    cut.remove_edge("agg", "p1")  # p1 cut off from the server during the failure

    def cut_paths(s, d):
        try:
            return [(nx.shortest_path(cut, s, d, weight="latency_ms"), 1.0)]
        except nx.NetworkXNoPath:
            return []

    def paths_for_bin(b):
        return cut_paths if b % 24 in (21, 22) else normal

    q = measure_quality(g, links_table(g, {}, default=0.2), normal, bin_s=3600, paths_for_bin=paths_for_bin)
    s = q.summary.filter(pl.col("asn") == 1).row(0, named=True)
    assert s["peak_unreachable_share"] == pytest.approx(0.75)  # p1: 3000 of ISP A's 4000 subscribers
    assert s["offpeak_unreachable_share"] == 0.0
    assert s["peak_throughput_p50_mbps"] == 0.0 and s["offpeak_throughput_p50_mbps"] == pytest.approx(1000.0)
    p2_peak = q.samples.filter((pl.col("pop") == "p2") & pl.col("hour").is_in([21, 22]))["rtt_ms"]
    assert s["peak_rtt_p50_ms"] == pytest.approx(p2_peak[0])  # the RTT of the tests that ran (p2's)
    failed = q.samples.filter(~pl.col("reachable"))
    assert set(failed["pop"]) == {"p1"} and sorted(set(failed["hour"])) == [21, 22]
    assert failed["throughput_mbps"].sum() == 0 and failed["rtt_ms"].is_nan().all()
    # ISP B is not affected
    assert q.summary.filter(pl.col("asn") == 2)["peak_unreachable_share"][0] == 0.0
