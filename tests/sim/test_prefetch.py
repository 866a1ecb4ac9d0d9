"""The prefetch design transform and the engine's off-peak pushes, on a small topology.

The topology: clients a1, a2 (AS64601) and b1 (AS64602) in the region, a Tokyo router t1, the
video origin o1 behind t1, and a 50 MB cache c1 beside a1 serving both ASes. A push to c1 flows
o1 -> t1 -> a1 -> c1; t1 -> a1 is the only backbone link on that path.
"""

from __future__ import annotations

import textwrap

import numpy as np
import polars as pl
import pytest

from netsim import InputError
from netsim.scenario import load_scenario
from netsim.sim.run import run
from netsim.topology import load_topology, save_topology
from netsim.topology.designs import PrefetchSettings, apply_design, prefetch
from netsim.traffic.schema import SCHEMA

TOPO = """\
name: small
metros:
  u1: {lat: 36.55, lon: 139.88, region: tochigi}
  u2: {lat: 36.31, lon: 139.80, region: tochigi}
  tk: {lat: 35.69, lon: 139.77, region: tokyo, core: true}
nodes:
  - {id: a1, kind: pop, asn: 64601, metro: u1, subscribers: 1000}
  - {id: a2, kind: pop, asn: 64601, metro: u2, subscribers: 1000}
  - {id: b1, kind: pop, asn: 64602, metro: u1, subscribers: 1000}
  - {id: t1, kind: pop, asn: 64500, metro: tk}
  - {id: o1, kind: origin, asn: 64700, metro: tk, provider: video}
  - {id: c1, kind: cache, asn: 64601, metro: u1, capacity_bytes: 50000000, serves: [64601, 64602], policy: POLICY}
links:
  - {src: a1, dst: a2, capacity_gbps: 10}
  - {src: a1, dst: t1, capacity_gbps: 10, rel: c2p, tags: [backbone, upstream]}
  - {src: b1, dst: t1, capacity_gbps: 10, rel: c2p, tags: [backbone, upstream]}
  - {src: o1, dst: t1, capacity_gbps: 100, rel: c2p}
  - {src: c1, dst: a1, capacity_gbps: 10}
  - {src: b1, dst: a1, capacity_gbps: 10, rel: p2p}
"""

MB = 1_000_000
#: yesterday's requests: object -> (size, requests). With 0.8 x 50 MB = 40 MB the greedy fill by
#: popularity takes 1 (30 MB, 10 left), skips 2 (20 MB), takes 3 (8 MB, 2 left) and 4 (1 MB).
HISTORY = {1: (30 * MB, 10), 2: (20 * MB, 8), 3: (8 * MB, 6), 4: (1 * MB, 1)}
PUSHED = {1, 3, 4}
BIN_S = 300


def history_frame() -> pl.DataFrame:
    rows = []
    k = 0
    for obj, (size, n) in HISTORY.items():
        for _ in range(n):
            rows.append((1000.0 + 600.0 * k, "a1" if k % 2 else "b1", None, "video", obj, size, "video"))
            k += 1
    rows.sort(key=lambda r: r[0])
    return pl.DataFrame(rows, schema=SCHEMA, orient="row")


def run_trace() -> pl.DataFrame:
    """Quiet until the 'peak' (bins 8-11): objects 1 and 3 requested a few times each, plus flows."""
    rows = []
    for b in range(8, 12):
        t = b * BIN_S
        rows += [(t + 10.0, "a1", None, "video", 1, 30 * MB, "video"), (t + 20.0, "b1", None, "video", 3, 8 * MB, "video"),
                 (t + 30.0, "a2", "b1", None, None, 2 * MB, "game")]
    return pl.DataFrame(rows, schema=SCHEMA, orient="row")


def scenario(tmp_path, *, designs: str, policy: str = "lru", failures: str = "", duration: str = "1h"):
    (tmp_path / "topo.yaml").write_text(TOPO.replace("POLICY", policy))
    run_trace().write_parquet(tmp_path / "trace.parquet")
    history_frame().write_parquet(tmp_path / "prev.parquet")
    text = textwrap.dedent(f"""\
        name: pf
        topology: topo.yaml
        traffic: {{trace: trace.parquet, scale: 1.0}}
        bin_s: {BIN_S}
        duration: {duration}
        seed: 3
        """) + failures + "designs:\n" + textwrap.indent(textwrap.dedent(designs), "  ")
    (tmp_path / "sc.yaml").write_text(text)
    return load_scenario(tmp_path / "sc.yaml")


WITH = """\
- name: plain
  transforms: [{baseline: {}}]
- name: prefetch
  transforms:
    - prefetch: {at: "00:00", window: 30m, history: prev.parquet}
"""


def check_invariants(res):
    b = res.bins
    np.testing.assert_allclose(b["offered_bytes"].to_numpy(),
                               (b["delivered_bytes"] + b["dropped_bytes"] + b["unreachable_bytes"]).to_numpy(),
                               rtol=1e-9, atol=1e-3)
    np.testing.assert_allclose(b["prefetch_bytes"].to_numpy(),
                               (b["prefetch_delivered_bytes"] + b["prefetch_dropped_bytes"]
                                + b["prefetch_unreachable_bytes"]).to_numpy(), rtol=1e-9, atol=1e-3)
    assert (res.links["utilisation"] <= 1 + 1e-9).all()
    assert (res.caches["hits"] <= res.caches["requests"]).all()


# ------------------------------------------------------------------------------------ the transform
@pytest.mark.parametrize("params, where, what", [
    ({"share": 0}, "share", "expected a fraction in (0, 1]"),
    ({"share": True}, "share", "expected a number, found True (true, false, yes, no are booleans)"),
    ({"at": "25:00"}, "at", "expected a clock time HH:MM"),
    ({"at": "1 03:00"}, "at", "expected a time of day"),
    ({"window": "0s"}, "window", "expected a window > 0"),
    ({"window": "2 fortnights"}, "window", "expected a duration"),
    ({"half_life": 0}, "half_life", "expected a half-life > 0"),
    ({"caches": ["nope"]}, "caches[0]", "node 'nope' is not in the topology"),
    ({"caches": ["a1"]}, "caches[0]", "node 'a1' is a pop; expected a cache node"),
    ({"caches": []}, "caches", "expected a non-empty list"),
    ({"history": 3}, "history", "3: no such file, and not a shipped trace"),      # (a name, as YAML wrote it)
    ({"history": ["a"]}, "history", "input should be a valid string, found ['a']"),
])
def test_transform_rejects_bad_parameters_naming_the_place(tmp_path, params, where, what):
    sc = scenario(tmp_path, designs=f"- name: x\n  transforms: [{{prefetch: {params!r}}}]\n".replace("'", '"'))
    with pytest.raises(InputError) as ei:
        run(sc)
    msg = str(ei.value)
    assert f"designs[0].transforms[0].prefetch.{where}: " in msg and what in msg, msg
    assert str(tmp_path / "sc.yaml") in msg and "\n" not in msg


def test_transform_needs_a_cache_and_records_only_its_parameters():
    g = load_topology("examples/two_as")
    with pytest.raises(InputError, match="caches: the design has no cache to prefetch into"):
        prefetch(g.copy())
    g0 = load_topology("examples/ix_and_cache")
    g = apply_design(g0, "p", [{"prefetch": {"at": "04:30", "window": "90m", "share": 0.5, "half_life": "12h"}}])
    assert g.graph["prefetch"] == PrefetchSettings(at_s=16200.0, window_s=5400.0, share=0.5,
                                                   caches=("cache-shared-utsunomiya",), half_life_s=43200.0)
    assert sorted(g.edges(data=True)) == sorted(g0.edges(data=True))
    assert dict(g.nodes(data=True)) == dict(g0.nodes(data=True))


def test_design_graph_with_prefetch_still_saves(tmp_path):
    g = apply_design(load_topology("examples/ix_and_cache"), "p", [{"prefetch": {}}])
    for ext in ("yaml", "graphml", "json"):
        save_topology(g, tmp_path / f"t.{ext}")
        back = load_topology(tmp_path / f"t.{ext}")
        assert sorted(back.edges()) == sorted(g.edges())
    # and through a run (run.py writes topologies/<design>.yaml)
    res = run(scenario(tmp_path, designs=WITH), tmp_path / "out")
    assert (tmp_path / "out" / "topologies" / "prefetch.yaml").is_file()
    assert res.summary[1]["prefetch_objects"] == len(PUSHED)


# ------------------------------------------------------------------------------------ the cache API
def _one_cache(policy: str, capacity: int):
    import networkx as nx

    from netsim.cache import CacheSystem

    g = nx.DiGraph()
    g.add_node("c", kind="cache", asn=1, capacity_bytes=capacity, policy=policy, serves=(1,), providers=None, parent=None)
    return CacheSystem(g)


def test_cache_prefetch_refreshes_residents_without_counting_requests():
    cs = _one_cache("lru", 100)
    cs.caches["c"].process(np.array([1, 2, 3], dtype=np.uint64), np.array([30, 30, 30]))  # LRU order 1, 2, 3
    before = cs.stats().row(0, named=True)
    # push 1 (resident: refreshed) and 9 (new): the LRU victim is then 2, not 1
    assert cs.prefetch("c", [1, 9], [30, 30]).tolist() == [False, True]
    c = cs.caches["c"]
    assert [c.contains(k) for k in (1, 2, 3, 9)] == [True, False, True, True]
    after = cs.stats().row(0, named=True)
    assert {k: after[k] for k in ("requests", "hits", "bytes_requested", "bytes_hit")} == \
        {k: before[k] for k in ("requests", "hits", "bytes_requested", "bytes_hit")}


def test_cache_prefetch_into_a_warm_s3fifo_reaches_main():
    # the small FIFO is 100 bytes: eight pushed 50-byte objects would leave through it for the ghost
    # before any request; credited as popular they move to main instead
    cs = _one_cache("s3fifo", 1000)
    warm = np.arange(100, 140, dtype=np.uint64)
    cs.caches["c"].process(warm, np.full(40, 50))
    keys = np.arange(1, 9, dtype=np.uint64)
    assert cs.prefetch("c", keys, np.full(8, 50)).all()
    assert all(cs.caches["c"].contains(int(k)) for k in keys)
    assert cs.stats()["requests"][0] == 40


def test_static_cache_prefetch_replaces_what_no_longer_ranks():
    cs = _one_cache("static", 100)
    assert cs.prefetch("c", [1, 2], [40, 40]).tolist() == [True, True]
    # the new list (3 then 1) comes first; 2 is kept only while it fits
    assert cs.prefetch("c", [3, 1], [50, 40]).tolist() == [True, False]
    c = cs.caches["c"]
    assert [c.contains(k) for k in (1, 2, 3)] == [True, False, True]


# ------------------------------------------------------------------------------------ the engine
def test_pushes_only_what_fits_on_the_path_from_origin_to_cache_in_the_window(tmp_path):
    res = run(scenario(tmp_path, designs=WITH))
    check_invariants(res)
    pushed = sum(HISTORY[o][0] for o in PUSHED)  # 39 MB, scale 1
    s = {r["design"]: r for r in res.summary}
    assert s["prefetch"]["prefetch_objects"] == len(PUSHED)
    assert s["prefetch"]["prefetch_bytes"] == pytest.approx(pushed)
    assert s["plain"]["prefetch_bytes"] == 0.0 and s["plain"]["prefetch_objects"] == 0
    b = res.bins.filter(pl.col("design") == "prefetch").sort("bin")
    # 00:00 + 30 m = bins 0..5, evenly
    assert b["prefetch_bytes"].to_list()[:6] == pytest.approx([pushed / 6] * 6)
    assert b["prefetch_bytes"].to_list()[6:] == [0.0] * (b.height - 6)
    assert b["prefetch_delivered_bytes"].sum() == pytest.approx(pushed)
    # not subscriber traffic: offered is the trace's bytes in both designs
    assert b["offered_bytes"].sum() == pytest.approx(float(run_trace()["bytes"].sum()))
    # in the window (no subscriber traffic yet) exactly the links o1 -> t1 -> a1 -> c1 carry the push
    w = res.links.filter((pl.col("design") == "prefetch") & (pl.col("bin") < 6))
    assert sorted(set(zip(w["src"], w["dst"]))) == [("a1", "c1"), ("o1", "t1"), ("t1", "a1")]
    assert w["load_bytes"].to_list() == pytest.approx([pushed / 6] * w.height)
    assert b["backbone_bps"].to_list()[:6] == pytest.approx([pushed / 6 * 8 / BIN_S] * 6)
    c = res.caches.filter(pl.col("design") == "prefetch").sort("bin")
    assert c["prefetch_bytes"].to_list() == b["prefetch_bytes"].to_list()
    # the pushed objects are in the cache before the peak: every request for 1 and 3 hits
    assert c["hits"].sum() == c["requests"].sum() == 8


@pytest.mark.parametrize("policy", ["lru", "static"])
def test_peak_hits_more_and_peak_backbone_is_lower_with_prefetch(tmp_path, policy):
    # a cold LRU/S3-FIFO cache misses the first request of each object in the peak; a static cache
    # is only ever filled by the push. With yesterday's history pushed at 00:00 they all hit.
    res = run(scenario(tmp_path, designs=WITH, policy=policy))
    check_invariants(res)
    peak = res.bins.filter(pl.col("bin").is_between(8, 11))
    hits = dict(peak.group_by("design").agg(pl.col("cache_hits").sum()).rows())
    assert hits["prefetch"] > hits["plain"]
    assert hits["prefetch"] == 8
    bb = dict(peak.group_by("design").agg(pl.col("backbone_bps").max()).rows())
    assert bb["prefetch"] < bb["plain"]
    s = {r["design"]: r for r in res.summary}
    # the whole-run peak too: the push (39 MB over 30 min) is lower than the peak's misses
    assert s["prefetch"]["backbone_peak_bps"] < s["plain"]["backbone_peak_bps"]


def test_a_cache_down_at_push_time_gets_nothing(tmp_path):
    fail = "failures:\n  schedule:\n    - {at: '00:00', duration: 10m, node: c1}\n"
    res = run(scenario(tmp_path, designs=WITH, failures=fail))
    check_invariants(res)
    s = {r["design"]: r for r in res.summary}
    assert s["prefetch"]["prefetch_objects"] == 0 and s["prefetch"]["prefetch_bytes"] == 0.0
    assert res.links.filter(pl.col("bin") < 6).height == 0
    # the same history pushed at 00:10, once the cache is back, does arrive
    late = WITH.replace('at: "00:00"', 'at: "00:10"')
    res = run(scenario(tmp_path, designs=late, failures=fail))
    assert {r["design"]: r for r in res.summary}["prefetch"]["prefetch_objects"] == len(PUSHED)


def test_push_window_past_the_run_end_is_cut_and_congestion_applies_to_pushes(tmp_path):
    # at 00:50 with a 30 m window in a 1 h run: only bins 10 and 11 of the six window bins are simulated
    late = WITH.replace('at: "00:00", window: 30m', 'at: "00:50", window: 30m')
    res = run(scenario(tmp_path, designs=late))
    check_invariants(res)
    b = res.bins.filter(pl.col("design") == "prefetch").sort("bin")
    assert b["prefetch_bytes"].to_list()[10:] == pytest.approx([b["prefetch_bytes"][10]] * 2)
    assert b["prefetch_bytes"].to_list()[:10] == [0.0] * 10
    assert b["prefetch_bytes"][10] > 0


def test_without_history_the_run_so_far_is_ranked(tmp_path):
    # pushed at 00:50 from the requests of bins 8 and 9: objects 1 and 3, both already cached (LRU)
    d = '- name: p\n  transforms: [{prefetch: {at: "00:50", window: 5m}}]\n'
    res = run(scenario(tmp_path, designs=d))
    assert res.summary[0]["prefetch_objects"] == 0
    res = run(scenario(tmp_path, designs=d, policy="static"))  # a static cache fills from them
    assert res.summary[0]["prefetch_objects"] == 2
    assert res.summary[0]["prefetch_bytes"] == pytest.approx(38 * MB)
    c = res.caches.sort("bin")
    # the objects land when the window (bin 10) ends: bin 10's requests still miss, bin 11's hit
    assert c["hits"].to_list()[10:] == [0, 2] and c["hits"].to_list()[:10] == [0] * 10


def test_a_push_cut_by_a_failure_lands_only_in_part(tmp_path):
    """The origin goes dark for the second half of the window: half the 38 MB arrive (19 MB), which covers
    object 3 (8 MB) but not object 1 (30 MB), so only object 3 is in the cache when the window ends."""
    d = '- name: p\n  transforms: [{prefetch: {at: "00:50", window: 10m}}]\n'
    full = run(scenario(tmp_path, designs=d, policy="static"))
    assert full.summary[0]["prefetch_objects"] == 2
    fail = "failures:\n  schedule:\n    - {at: '00:55', duration: 5m, node: o1}\n"
    cut = run(scenario(tmp_path, designs=d, policy="static", failures=fail))
    check_invariants(cut)
    b = cut.bins.sort("bin")
    assert b["prefetch_bytes"][10] > 0
    assert b["prefetch_delivered_bytes"][10] == pytest.approx(b["prefetch_bytes"][10])
    assert b["prefetch_unreachable_bytes"][11] == pytest.approx(b["prefetch_bytes"][11]) and b["prefetch_bytes"][11] > 0
    assert cut.summary[0]["prefetch_objects"] == 1


def test_same_scenario_same_tables(tmp_path):
    a = run(scenario(tmp_path, designs=WITH))
    b = run(scenario(tmp_path, designs=WITH))
    for t in ("bins", "links", "caches", "pairs", "services"):
        assert getattr(a, t).equals(getattr(b, t)), t
    assert a.summary == b.summary


def test_bad_history_is_a_located_error(tmp_path):
    from netsim.traffic import write_trace

    d = '- name: p\n  transforms: [{prefetch: {history: HIST}}]\n'
    with pytest.raises(InputError, match=r"designs\[0\].transforms\[0\].prefetch.history: nope.parquet: no such file") as ei:
        run(scenario(tmp_path, designs=d.replace("HIST", "nope.parquet")))
    assert str(tmp_path / "sc.yaml") in str(ei.value)
    # another sample rate is another object space
    write_trace(history_frame(), tmp_path / "sampled.parquet", meta={"scale": 1000.0, "sample_rate": 0.001})
    with pytest.raises(InputError, match=r"sampled at 0.001, the run's traffic at 1"):
        run(scenario(tmp_path, designs=d.replace("HIST", "sampled.parquet")))
    # requests from a node the design does not have
    write_trace(history_frame().with_columns(pl.lit("zz").alias("src")), tmp_path / "other.parquet", validate=False)
    with pytest.raises(InputError, match=r"prefetch.history: other.parquet: request source 'zz' is not a node"):
        run(scenario(tmp_path, designs=d.replace("HIST", "other.parquet")))
