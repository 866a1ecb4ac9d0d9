"""Cost: 95th-percentile billing, a tiny topology costed by hand, joint procurement properties."""

from __future__ import annotations

import networkx as nx
import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from pydantic import ValidationError

from netsim.analysis.cost import (
    Prices, design_cost, joint_procurement, member_upstream_series, to_five_minute_samples, transit_bill,
    union_bound_p95,
)
from netsim.errors import InputError
from netsim.stats import percentile_95


# ------------------------------------------------------------------------------------------ 95th percentile
def test_95th_percentile_bill_discards_exactly_432_spikes():
    base, spike = 3e9, 20e9
    x = np.full(8640, base)
    rng = np.random.default_rng(1)
    where = rng.choice(8640, size=432, replace=False)
    x[where] = spike
    mbps, cost = transit_bill(x, price_per_mbps_month=2.0)
    assert mbps == 3000.0 and cost == 6000.0
    # one spike more and the bill jumps to the spike level
    x[np.setdiff1d(np.arange(8640), where)[0]] = spike
    assert transit_bill(x, price_per_mbps_month=2.0) == (20000.0, 40000.0)


def test_one_day_run_scaled_to_a_month():
    rng = np.random.default_rng(2)
    day = rng.uniform(1e9, 5e9, 288)
    month = to_five_minute_samples(day, bin_s=300)
    assert len(month) == 8640 and np.array_equal(month[:288], day) and np.array_equal(month[-288:], day)
    # each day alike: the month's 95th percentile is the day's own
    assert percentile_95(month) == percentile_95(day)
    # 60 s bins are averaged to 5 minutes; hourly bins repeated
    assert to_five_minute_samples(np.arange(10.0), bin_s=60, month=False).tolist() == [2.0, 7.0]
    assert len(to_five_minute_samples(np.ones(24), bin_s=3600)) == 8640
    with pytest.raises(ValueError, match="must divide 300"):
        to_five_minute_samples(np.ones(3), bin_s=420)


def test_prices_forbid_unknown_keys_and_pick_port_tiers():
    with pytest.raises(ValidationError, match="transit_per_mbps"):
        Prices(transit_per_mbps=1.0)
    p = Prices(ix_port_per_month={100: 9000, 10: 3000})
    assert list(p.ix_port_per_month) == [10.0, 100.0]
    assert p.ix_port(1) == (3000.0, "1 x 10G")
    assert p.ix_port(10.0) == (3000.0, "1 x 10G")
    assert p.ix_port(10.5) == (9000.0, "1 x 100G")
    assert p.ix_port(200) == (18000.0, "2 x 100G")


def test_one_currency_per_run():
    usd = Prices()
    # every amount given in yen: no rate needed, nothing converted
    yen = Prices(currency="JPY", transit_per_mbps_month=150, ix_port_per_month={10: 600_000},
                 line_per_gbps_km_month=15, cache_site_per_month=300_000)
    assert (yen.transit_per_mbps_month, yen.cache_site_per_month) == (150.0, 300_000.0)
    # the amounts left out are converted from the USD defaults at usd_rate; lengths are not money
    half = Prices(currency="gbp", usd_rate=0.5, transit_per_mbps_month=0.8)
    assert half.currency == "GBP" and half.transit_per_mbps_month == 0.8
    assert half.line_per_gbps_km_month == usd.line_per_gbps_km_month * 0.5
    assert half.ix_port_per_month == {k: v * 0.5 for k, v in usd.ix_port_per_month.items()}
    assert half.cache_site_per_month == 1000.0 and half.line_min_km == usd.line_min_km
    with pytest.raises(ValidationError, match="cache_site_per_month are in USD"):
        Prices(currency="JPY", transit_per_mbps_month=150, ix_port_per_month={10: 600_000}, line_per_gbps_km_month=15)
    with pytest.raises(ValidationError, match="pattern"):
        Prices(currency="dollars")      # ISO 4217 codes are three letters
    with pytest.raises(ValidationError, match="usd_rate"):
        Prices(usd_rate=0)


# ------------------------------------------------------------------------------------------ a tiny design
def tiny():
    """ISP A (65001: a1, a2, cache), ISP B (65002: b1), an IX (65009), transit carrier T (65003: t1)."""
    g = nx.DiGraph(name="tiny", as_names={65001: "ISP A", 65002: "ISP B", 65003: "Carrier T", 65009: "IX"})
    g.add_node("a1", kind="pop", asn=65001, subscribers=1000)
    g.add_node("a2", kind="pop", asn=65001, subscribers=500)
    g.add_node("b1", kind="pop", asn=65002, subscribers=800)
    g.add_node("t1", kind="pop", asn=65003, subscribers=0)
    g.add_node("ix", kind="ix", asn=65009)
    g.add_node("cache-a", kind="cache", asn=65001, cost=750.0)
    g.add_node("cache-ix", kind="cache", asn=65009)

    def duplex(u, v, cap, lat, rel, back_rel, **kw):
        g.add_edge(u, v, capacity_gbps=cap, latency_ms=lat, rel=rel, tags=(), **kw)
        g.add_edge(v, u, capacity_gbps=cap, latency_ms=lat, rel=back_rel, tags=(), **kw)

    duplex("a1", "a2", 100.0, 0.01, "internal", "internal")          # 2 km -> floor 5 km
    duplex("a1", "ix", 10.0, 0.05, "p2p", "p2p")                     # 10 km, port 10G
    duplex("b1", "ix", 1.0, 1.0, "p2p", "p2p")                       # 200 km, port 1G
    duplex("a1", "t1", 10.0, 0.5, "c2p", "p2c")                      # 100 km, transit
    duplex("b1", "a2", 10.0, 0.2, "p2p", "p2p", cost=1000.0)         # direct peering, fixed cost
    duplex("a1", "cache-a", 100.0, 0.01, "internal", "internal")
    duplex("ix", "cache-ix", 100.0, 0.01, "internal", "internal")
    return g


def test_tiny_topology_cost_by_hand():
    g = tiny()
    prices = Prices(transit_per_mbps_month=0.5, line_per_gbps_km_month=0.2, line_min_km=5.0,
                    ix_port_per_month={1: 400.0, 10: 2500.0}, cache_site_per_month=1200.0)
    n = 288  # one day of 5-minute bins
    down = np.full(n, 2e9)
    down[:14] = 9e9                     # 14 samples/day -> 420 a month <= 432: discarded
    up = np.full(n, 0.5e9)
    rows = {"bin": np.r_[np.arange(n), np.arange(n)], "src": ["t1"] * n + ["a1"] * n, "dst": ["a1"] * n + ["t1"] * n,
            "bps": np.r_[down, up]}
    links = pl.DataFrame({"design": "base", "ts_s": rows["bin"] * 300.0, **rows})
    c = design_cost(g, links, prices=prices, bin_s=300)
    by = {r["asn"]: r for r in c.by_member.iter_rows(named=True)}
    assert sorted(by) == [65001, 65002]  # members default to the ASes with subscribers
    # ISP A, by hand:
    #  lines: a1-a2 100 G x 5 km x 0.2 = 100; a1-ix 10 G x 10 km x 0.2 = 20; a1-t1 10 G x 100 km x 0.2 = 200;
    #         a1-cache 100 G x 5 km x 0.2 = 100; b1-a2 fixed 1000, half = 500          -> 920
    #  ix port 10G 2500; cache site (own cost) 750; transit p95 2000 Mbps x 0.5 = 1000
    a = by[65001]
    assert a["line"] == pytest.approx(920.0)
    assert a["ix_port"] == pytest.approx(2500.0)
    assert a["cache_site"] == pytest.approx(750.0)
    assert a["transit"] == pytest.approx(1000.0)
    assert a["total"] == pytest.approx(5170.0)
    # ISP B: b1-ix 1 G x 200 km x 0.2 = 40, half of b1-a2 = 500; port 1G 400; nothing else
    b = by[65002]
    assert (b["line"], b["ix_port"], b["cache_site"], b["transit"]) == pytest.approx((540.0, 400.0, 0.0, 0.0))
    assert c.total == pytest.approx(5170.0 + 940.0)
    # an IX node's own cost attribute is its port fee
    g2 = tiny()
    g2.nodes["ix"]["cost"] = 300.0
    c3 = design_cost(g2, links, prices=prices, bin_s=300)
    assert c3.by_member["ix_port"].to_list() == [300.0, 300.0]
    # the IX operator pays its own cache site when counted
    c2 = design_cost(g, links, prices=prices, members=[65009])
    assert c2.by_member.row(0, named=True)["cache_site"] == pytest.approx(1200.0)
    assert c2.by_member.row(0, named=True)["line"] == pytest.approx(100 * 5 * 0.2)
    # storage priced per TB: the IX operator's cache (no cost attribute) pays its site plus its TB; a cache with
    # its own cost attribute (ISP A's) keeps it
    g4 = tiny()
    g4.nodes["cache-ix"]["capacity_bytes"] = 20 * 10**12
    priced = prices.model_copy(update={"cache_per_tb_month": 30.0})
    c4 = design_cost(g4, links, prices=priced, members=[65009, 65001])
    site = {r["asn"]: r["cache_site"] for r in c4.by_member.iter_rows(named=True)}
    assert site == pytest.approx({65009: 1200.0 + 30.0 * 20, 65001: 750.0})   # 20 TB x 30 on top of the site
    # the transit item says what was billed
    item = c.items.filter(pl.col("item") == "transit").row(0, named=True)
    assert item["element"] == "a1->t1" and "2,000.0 Mbps" in item["detail"]


def test_transit_bills_the_larger_direction_and_needs_a_design():
    g = tiny()
    n = 288
    links = pl.DataFrame({"design": ["x"] * 2 * n, "bin": np.r_[np.arange(n), np.arange(n)],
                          "ts_s": np.r_[np.arange(n), np.arange(n)] * 300.0,
                          "src": ["t1"] * n + ["a1"] * n, "dst": ["a1"] * n + ["t1"] * n,
                          "bps": np.r_[np.full(n, 1e9), np.full(n, 4e9)]})
    c = design_cost(g, links, prices=Prices(transit_per_mbps_month=1.0))
    assert c.by_member.filter(pl.col("asn") == 65001)["transit"][0] == pytest.approx(4000.0)
    both = pl.concat([links, links.with_columns(pl.lit("y").alias("design"))])
    with pytest.raises(InputError, match="say which"):
        design_cost(g, both)
    assert design_cost(g, both, design="y").total == pytest.approx(c.total)
    assert design_cost(g, None).by_member["transit"].sum() == 0.0


# ------------------------------------------------------------------------------------------ joint procurement
def test_joint_procurement_by_hand():
    n = 8640
    a = np.full(n, 4e9)
    a[:300] = 8e9            # A peaks 8 G (discarded in its p95: 300 < 432)
    b = np.full(n, 2e9)
    b[4000:4300] = 6e9       # B peaks 6 G at another time
    prices = Prices(transit_per_mbps_month=1.0, line_per_gbps_km_month=0.1)
    jp = joint_procurement({"a": a, "b": b}, headroom=1.25, prices=prices, line_km=100.0, line_step_gbps=10.0)
    # the sum is 6 G, and 10 G during either burst: its peak is 10 G
    # separate lines: ceil(8 x 1.25 / 10) -> 10 G; ceil(6 x 1.25 / 10) -> 10 G; joint ceil(10 x 1.25 / 10) -> 20 G
    assert jp.separate["line_gbps"] == 20.0 and jp.joint["line_gbps"] == 20.0
    # without circuits: 10 + 7.5 = 17.5 G vs 10 x 1.25 = 12.5 G
    jp2 = joint_procurement({"a": a, "b": b}, prices=prices, line_km=100.0, line_step_gbps=None)
    assert jp2.separate["line_gbps"] == pytest.approx(17.5) and jp2.joint["line_gbps"] == pytest.approx(12.5)
    assert jp2.joint["line_cost"] == pytest.approx(12.5 * 100 * 0.1)
    # transit: p95 4000 + 2000 Mbps separately; the sum is at 10 G in 600 > 432 samples -> its p95 is 10 G
    assert jp2.separate["transit_mbps"] == pytest.approx(6000.0)
    assert jp2.joint["transit_mbps"] == pytest.approx(10000.0)
    assert jp2.saving < 0  # non-coincident bursts: the joint 95th percentile bill is higher
    m = {r["member"]: r for r in jp2.members.iter_rows(named=True)}
    assert m["a"]["share"] == pytest.approx(4 / 6) and m["b"]["share"] == pytest.approx(2 / 6)
    assert jp2.members["joint_cost"].sum() == pytest.approx(jp2.joint["total"])
    eq = joint_procurement({"a": a, "b": b}, prices=prices, split="equal")
    assert eq.members["share"].to_list() == [0.5, 0.5]
    pk = joint_procurement({"a": a, "b": b}, prices=prices, split="peak")
    assert pk.members["share"].to_list() == pytest.approx([8 / 14, 6 / 14])
    with pytest.raises(InputError, match="same non-zero length"):
        joint_procurement({"a": a, "b": b[:10]})
    with pytest.raises(InputError, match="split must be"):
        joint_procurement({"a": a}, split="fair")


def test_common_evening_peak_saves_on_both_line_and_transit():
    t = np.arange(8640)
    rng = np.random.default_rng(5)
    series = {f"isp-{k}": 1e9 * (1.2 + np.sin(2 * np.pi * (t - 60 + 10 * k) / 288)) * rng.uniform(0.9, 1.1, 8640)
              for k in range(4)}
    jp = joint_procurement(series, line_step_gbps=None)
    assert jp.joint["line_gbps"] < jp.separate["line_gbps"]
    assert jp.joint["transit_mbps"] <= jp.separate["transit_mbps"]
    assert (jp.members["saving"] > 0).all()


def _members(draw_arrays):
    return {f"m{i}": a for i, a in enumerate(draw_arrays)}


member_sets = st.integers(min_value=1, max_value=4).flatmap(
    lambda k: st.integers(min_value=1, max_value=200).flatmap(
        lambda n: st.lists(arrays(np.float64, n, elements=st.floats(0, 1e10, allow_nan=False)), min_size=k, max_size=k)))


@settings(max_examples=150, deadline=None)
@given(arrs=member_sets, step=st.sampled_from([None, 1.0, 10.0]), split=st.sampled_from(["p95", "equal", "peak"]),
       headroom=st.floats(1.0, 2.0))
def test_joint_procurement_properties(arrs, step, split, headroom):
    series = _members(arrs)
    jp = joint_procurement(series, headroom=headroom, line_step_gbps=step, split=split)
    total = np.sum(arrs, axis=0)
    # the joint line is sized at the peak of the sum x headroom, in whole circuits when there are any (the rule as
    # documented, worked out here with numpy); transit is billed on numpy's inverted-CDF 95th percentile of the sum
    need = total.max() * headroom / 1e9
    if step is None:
        assert jp.joint["line_gbps"] == pytest.approx(need, rel=1e-12, abs=1e-12)
        assert jp.separate["line_gbps"] == pytest.approx(sum(a.max() for a in arrs) * headroom / 1e9, rel=1e-9)
    else:
        # enough circuits, and one fewer would not be (need + step rounds to step for a need of 1e-54)
        assert need * (1 - 1e-9) <= jp.joint["line_gbps"] and jp.joint["line_gbps"] - step < need
        assert jp.joint["line_gbps"] / step == round(jp.joint["line_gbps"] / step)
    assert jp.joint["transit_mbps"] == pytest.approx(np.percentile(total, 95, method="inverted_cdf") / 1e6, rel=1e-12)
    # the peak of the sum is at most the sum of the peaks, so the joint line is never larger
    assert jp.joint["line_gbps"] <= jp.separate["line_gbps"] * (1 + 1e-12) + 1e-9
    assert jp.joint["line_cost"] <= jp.separate["line_cost"] * (1 + 1e-12) + 1e-9
    # the 95th percentile of the sum is bounded by the union bound (not by the sum of p95s)
    assert percentile_95(total) <= union_bound_p95(series) * (1 + 1e-12) + 1e-6
    # shares are >= 0, sum to 1, and the members' joint costs sum to the joint total
    assert (jp.members["share"] >= 0).all()
    assert jp.members["share"].sum() == pytest.approx(1.0)
    assert jp.members["joint_cost"].sum() == pytest.approx(jp.joint["total"], rel=1e-9, abs=1e-6)


@settings(max_examples=100, deadline=None)
@given(profile=arrays(np.float64, st.integers(1, 300), elements=st.floats(0, 1e10, allow_nan=False)),
       scales=st.lists(st.floats(0.0, 10.0), min_size=1, max_size=5), step=st.sampled_from([None, 10.0]),
       split=st.sampled_from(["p95", "equal", "peak"]))
def test_joint_procurement_never_costs_more_for_members_with_a_common_profile(profile, scales, step, split):
    """Members whose traffic rises and falls together (one daily profile, each scaled: the common evening
    peak of real subscriber traffic) never pay more jointly: the peak and the 95th percentile of the sum
    are the sums of theirs, and whole circuits round up less for one line than for several."""
    series = {f"m{i}": c * profile for i, c in enumerate(scales)}
    jp = joint_procurement(series, line_step_gbps=step, split=split)
    assert jp.joint["transit_mbps"] <= jp.separate["transit_mbps"] * (1 + 1e-9) + 1e-9
    assert jp.joint["total"] <= jp.separate["total"] * (1 + 1e-9) + 1e-6


def test_p95_of_sum_can_exceed_sum_of_p95():
    """Why the property test does not assert p95(sum) <= sum of p95s: it is false."""
    a = np.zeros(8640)
    a[:432] = 1e9
    b = np.zeros(8640)
    b[432:864] = 1e9
    assert percentile_95(a) == 0 and percentile_95(b) == 0
    assert percentile_95(a + b) == 1e9


def test_member_upstream_series_feeds_joint_procurement():
    g = tiny()
    g.add_node("b2", kind="pop", asn=65002, subscribers=100)
    for u, v, rel in (("b2", "t1", "c2p"), ("t1", "b2", "p2c")):
        g.add_edge(u, v, capacity_gbps=10.0, latency_ms=0.5, rel=rel, tags=())
    n = 288
    rows = []
    for b in range(n):
        rows += [("t1", "a1", b, 3e9 if b < 150 else 1e9), ("a1", "t1", b, 2e9),
                 ("t1", "b2", b, 1e9 if b < 150 else 4e9), ("b2", "t1", b, 0.5e9)]
    lt = pl.DataFrame(rows, schema={"src": pl.Utf8, "dst": pl.Utf8, "bin": pl.Int64, "bps": pl.Float64}, orient="row")
    s = member_upstream_series(g, lt, bin_s=300)
    assert sorted(s) == ["ISP A", "ISP B"] and all(len(v) == 8640 for v in s.values())
    assert s["ISP A"][:288].tolist() == [3e9] * 150 + [2e9] * 138   # max(in, out) per sample
    assert member_upstream_series(g, lt, direction="in")["ISP A"][200] == 1e9
    jp = joint_procurement(s, line_step_gbps=None)
    # A peaks early (3 G), B late (4 G): the sum peaks at 2 + 4 = 6 G, below the sum of peaks (7 G)
    assert jp.joint["line_gbps"] == pytest.approx(6 * 1.25) and jp.separate["line_gbps"] == pytest.approx(7 * 1.25)


def test_aggregated_isp_costs_are_shared_and_only_transit_tagged_c2p_is_billed():
    """Two ISPs buy upstream through an aggregated ISP (AS 65200): its joint line and transit are split by p95."""
    g = nx.DiGraph(as_names={1: "A", 2: "B", 65200: "agg", 3: "carrier"})
    for n, a, subs in (("a", 1, 100), ("b", 2, 100), ("agg", 65200, 0), ("agg-tokyo", 65200, 0), ("t", 3, 0)):
        g.add_node(n, kind="pop", asn=a, subscribers=subs)

    def duplex(u, v, cap, lat, rel, back, tags):
        g.add_edge(u, v, capacity_gbps=cap, latency_ms=lat, rel=rel, tags=tags)
        g.add_edge(v, u, capacity_gbps=cap, latency_ms=lat, rel=back, tags=tags)

    duplex("a", "agg", 10.0, 0.05, "c2p", "p2c", ("aggregation",))   # 10 km
    duplex("b", "agg", 10.0, 0.05, "c2p", "p2c", ("aggregation",))
    duplex("agg", "agg-tokyo", 20.0, 0.5, "internal", "internal", ("upstream",))  # 100 km
    duplex("agg-tokyo", "t", 20.0, 0.025, "c2p", "p2c", ("transit",))            # 5 km
    n = 288
    rows = []
    for b in range(n):
        rows += [("agg", "a", b, 3e9), ("agg", "b", b, 1e9), ("t", "agg-tokyo", b, 4e9), ("agg-tokyo", "agg", b, 4e9)]
    lt = pl.DataFrame(rows, schema={"src": pl.Utf8, "dst": pl.Utf8, "bin": pl.Int64, "bps": pl.Float64}, orient="row")
    prices = Prices(transit_per_mbps_month=1.0, line_per_gbps_km_month=0.1, line_min_km=5.0)
    c = design_cost(g, lt, prices=prices, aggregators={65200: [1, 2]})
    # only agg-tokyo -> t is transit (the members' aggregation lines are c2p but not tagged transit)
    assert c.items.filter(pl.col("item") == "transit").height == 0   # items of members only
    by = {r["asn"]: r for r in c.by_member.iter_rows(named=True)}
    assert by[1]["transit"] == 0 and by[2]["transit"] == 0
    # the aggregator pays: line agg-agg-tokyo 20 x 100 x 0.1 = 200, line agg-tokyo-t 20 x 5 x 0.1 = 10, transit 4000
    agg_total = 200 + 10 + 4000
    assert by[1]["shared"] == pytest.approx(0.75 * agg_total) and by[2]["shared"] == pytest.approx(0.25 * agg_total)
    # each member also pays its own aggregation line: 10 G x 10 km x 0.1 = 10
    assert by[1]["line"] == pytest.approx(10.0) and by[2]["line"] == pytest.approx(10.0)
    assert c.total == pytest.approx(agg_total + 20.0)
    eq = design_cost(g, lt, prices=prices, aggregators={65200: [1, 2]}, split="equal")
    assert eq.by_member["shared"].to_list() == pytest.approx([agg_total / 2] * 2)
    # without the aggregator mapping its costs are nobody's member cost (and the total says so)
    assert design_cost(g, lt, prices=prices).total == pytest.approx(20.0)
    with pytest.raises(InputError, match="no link to the aggregated ISP"):
        design_cost(g, lt, prices=prices, aggregators={65200: [1, 99]})
