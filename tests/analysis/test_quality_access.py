"""The access network in the quality method: tiers loaded by their sharers, PPPoE vs IPoE, what limits a test,
profiles in topology files and the `access` design transform."""

from __future__ import annotations

import networkx as nx
import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsim.analysis.quality import AccessProfile, access_profile, measure_quality, path_quality
from netsim.errors import InputError
from netsim.topology import load_topology, save_topology
from netsim.topology.designs import apply_design


# ------------------------------------------------------------------------------------------ the throughput law
@settings(max_examples=60, deadline=None)
@given(cap=st.floats(0.1, 100.0), link_util=st.floats(0.0, 1.0), cpe=st.one_of(st.none(), st.floats(10.0, 5000.0)))
def test_raising_a_tier_s_load_never_raises_throughput_and_throughput_is_continuous(cap, link_util, cpe):
    """Sweep one access tier's load from idle to 3x its capacity in fine steps, behind a network link at a fixed
    load: throughput never rises, and no step of 1e-4 in load moves it by more than what the law's slope
    allows (no jump such as the old step at 90 %)."""
    rho = np.linspace(0.0, 3.0, 30001)
    util = np.column_stack([np.full(len(rho), link_util), rho])
    thr, rtt, loss = path_quality([100.0, cap], [1.0, 0.0], util, access_gbps=10.0, cpe_mbps=cpe)
    assert (np.diff(thr) <= 1e-9 * thr[:-1] + 1e-12).all()
    assert (np.diff(rtt) >= -1e-9).all() and (np.diff(loss) >= -1e-12).all()
    # the fair share's slope is at most cap * (1 + cap/flow) per unit of load; the TCP bound's is finite away from
    # the knee and it only takes over below the share: a bound on each step that a jump would break
    step = np.abs(np.diff(thr))
    assert step.max() <= 1e-4 * cap * 1e3 * (1 + cap * 1e3 / 25.0) + 1.0, step.max()


def test_a_tier_at_a_known_load_gives_the_processor_sharing_rate():
    # a 1 Gbps tier at 80 %: 200 Mbps; at 30 %: 700 Mbps, under a 1 Gbps line and no home limit
    thr, _, _, lim = path_quality([1.0], [0.0], [[0.8], [0.3]], access_gbps=1.0, detail=True)
    np.testing.assert_allclose(thr, [200.0, 700.0])
    assert lim.tolist() == [0, 0]
    # idle: the line is the limit, then the home router when it is slower
    thr, _, _, lim = path_quality([1.0], [0.0], [[0.0]], access_gbps=1.0, cpe_mbps=600.0, detail=True)
    assert thr.tolist() == [600.0] and lim.tolist() == [2]


# ------------------------------------------------------------------------------------------ a small network
def _net(**access):
    g = nx.DiGraph(metros={"m": {"core": True}}, as_access={1: access})
    g.add_node("s", kind="ix", asn=9, region="r", metro="m")
    g.add_node("c", kind="pop", asn=1, region="r", metro="m", subscribers=1000)
    g.add_edge("s", "c", capacity_gbps=100.0, latency_ms=1.0)
    return g


def _measure(g, per_sub_mbps):
    lt = pl.DataFrame({"design": "d", "bin": list(range(len(per_sub_mbps))), "src": "s", "dst": "c",
                       "utilisation": 0.0})
    load = {"c": np.asarray(per_sub_mbps, dtype=float) * 1e6 * g.nodes["c"]["subscribers"]}
    return measure_quality(g, lt, lambda s, d: [(["s", "c"], 1.0)], bin_s=3600, access_load=load)


def test_pppoe_and_ipoe_subscribers_are_measured_apart_by_hand():
    """600 of 1,000 subscribers on PPPoE behind a 1 Gbps device shared by 500: at 1.6 Mbps each the device runs at
    80 % and a test gets 200 Mbps; the IPoE 400 reach their 500 Mbps home limit. The median is PPPoE's (60 %)."""
    g = _net(line_gbps=1.0, cpe_mbps=500.0, latency_ms=1.0, pppoe_share=0.6,
             tiers=[{"name": "pppoe-nte", "gbps": 1.0, "shared_by": 500, "path": "pppoe"}])
    q = _measure(g, [1.6, 0.2])
    s = q.samples.sort("bin", "path")
    assert s.select("bin", "path", "weight", "limit").rows() == [
        (0, "ipoe", 400.0, "home (cpe)"), (0, "pppoe", 600.0, "pppoe-nte"),
        (1, "ipoe", 400.0, "home (cpe)"), (1, "pppoe", 600.0, "home (cpe)")]
    np.testing.assert_allclose(s["throughput_mbps"].to_numpy(), [500.0, 200.0, 500.0, 500.0])
    h = q.hourly.sort("hour")
    np.testing.assert_allclose(h["throughput_p50_mbps"].to_numpy(), [200.0, 500.0])
    assert h["limit"].to_list() == ["pppoe-nte", "home (cpe)"] and h["limit_share"][0] == pytest.approx(0.6)
    # the access round trip is in the RTT (2 x 1 ms of the link + 1 ms of access, + queueing at the device)
    assert s.filter(pl.col("bin") == 1)["rtt_ms"].min() == pytest.approx(3.0, abs=0.01)


def test_a_topology_without_profiles_measures_the_line():
    g = _net()
    g.graph["as_access"] = {}
    q = _measure(g, [5.0])
    assert q.samples["throughput_mbps"].to_list() == [1000.0] and q.samples["path"].to_list() == ["all"]


# ------------------------------------------------------------------------------------------ profiles and designs
def test_profiles_merge_as_then_node_and_round_trip_through_a_file(tmp_path):
    g = load_topology("tochigi")
    b = access_profile(g, "isp-b-oyama")
    assert (b.line_gbps, b.cpe_mbps, b.pppoe_share) == (1.0, 500.0, 0.6)
    assert [t["name"] for t in b.tiers] == ["pon", "olt-uplink", "pppoe-nte", "ipoe-vne"]
    assert [t["name"] for t in b.tiers_on("ipoe")] == ["pon", "olt-uplink", "ipoe-vne"]
    g.nodes["isp-b-oyama"]["access"] = {"line_gbps": 10.0}
    assert access_profile(g, "isp-b-oyama").line_gbps == 10.0 and access_profile(g, "isp-b-oyama").pppoe_share == 0.6
    save_topology(g, tmp_path / "t.yaml")
    g2 = load_topology(tmp_path / "t.yaml")
    assert access_profile(g2, "isp-b-oyama") == access_profile(g, "isp-b-oyama")
    assert access_profile(g2, "isp-d-sano") == access_profile(g, "isp-d-sano")
    assert access_profile(g, "isp-a-utsunomiya").paths() == [("all", 1.0)]


def test_the_access_transform_moves_members_to_ipoe_and_checks_its_input():
    g = load_topology("tochigi")
    g.nodes["isp-b-oyama"]["access"] = {"pppoe_share": 0.9, "line_gbps": 10.0}
    d = apply_design(g, "ipoe", [{"access": {"members": [65002], "set": {"pppoe_share": 0.1}}}])
    # the member's own PoP setting of the field is cleared, its other fields kept; the original is untouched
    assert access_profile(d, "isp-b-oyama").pppoe_share == 0.1 and access_profile(d, "isp-b-oyama").line_gbps == 10.0
    assert access_profile(d, "isp-b-sano").pppoe_share == 0.1 and access_profile(d, "isp-d-sano").pppoe_share == 0.4
    assert access_profile(g, "isp-b-oyama").pppoe_share == 0.9
    d = apply_design(g, "up", [{"access": {"pops": ["isp-d-sano"], "set": {"line_gbps": 10}}}])
    assert access_profile(d, "isp-d-sano").line_gbps == 10.0 and access_profile(d, "isp-d-tochigi").line_gbps == 1.0
    for params, where in [({"members": [65002], "set": {"pppoe_share": 2}}, "set.pppoe_share"),
                          ({"members": [65002], "set": {"colour": "red"}}, "set.colour"),
                          ({"pops": ["carrier-a-utsunomiya"], "set": {"line_gbps": 1}}, "pops[0]"),
                          ({"set": {"line_gbps": 1}}, "members"),
                          ({"members": [65002]}, "set")]:
        with pytest.raises(InputError) as e:
            apply_design(g, "x", [{"access": params}], where="designs[9]")
        assert f"designs[9].transforms[0].access.{where}" in str(e.value), str(e.value)


def test_access_only_on_pop_nodes(tmp_path):
    p = tmp_path / "t.yaml"
    p.write_text("name: t\nnodes:\n  - {id: a, kind: pop, asn: 1, metro: m, subscribers: 5}\n"
                 "  - {id: x, kind: ix, asn: 2, metro: m, access: {line_gbps: 1}}\n"
                 "links:\n  - {src: a, dst: x, capacity_gbps: 10, latency_ms: 1}\n")
    with pytest.raises(InputError, match=r"nodes\[1\]\.access"):
        load_topology(p)


def test_profile_defaults_without_anything():
    g = nx.DiGraph()
    g.add_node("a", asn=1, subscribers=5, access_gbps=2.0)
    assert access_profile(g, "a") == AccessProfile(line_gbps=2.0)
