"""The engine end to end on small topologies: invariants every bin, failures, congestion, caches, determinism."""

from __future__ import annotations

import hashlib
import json
import textwrap

import numpy as np
import polars as pl
import pytest

from netsim import InputError
from netsim.scenario import Scenario, load_scenario
from netsim.sim.run import run

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
  - {id: c1, kind: cache, asn: 64601, metro: u1, capacity_bytes: 50000000, serves: [64601, 64602]}
links:
  - {src: a1, dst: a2, capacity_gbps: 10}
  - {src: a1, dst: t1, capacity_gbps: LINKCAP, rel: c2p, tags: [backbone, upstream]}
  - {src: b1, dst: t1, capacity_gbps: 10, rel: c2p, tags: [backbone, upstream]}
  - {src: o1, dst: t1, capacity_gbps: 100, rel: c2p}
  - {src: c1, dst: a1, capacity_gbps: 10}
  - {src: b1, dst: a1, capacity_gbps: 10, rel: p2p}
"""


def make_trace(n_bins=6, bin_s=300, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for b in range(n_bins):
        for _ in range(40):
            ts = b * bin_s + rng.uniform(0, bin_s)
            if rng.random() < 0.5:
                s, d = rng.choice(["a1", "a2", "b1"], 2, replace=False)
                rows.append((ts, s, d, None, None, int(rng.integers(1_000_000, 50_000_000)), "game"))
            else:
                rows.append((ts, str(rng.choice(["a1", "a2", "b1"])), None, "video", int(rng.zipf(1.5) % 50),
                             5_000_000, "video"))
    rows.sort(key=lambda r: r[0])
    return pl.DataFrame(rows, schema={"ts": pl.Float64, "src": pl.Utf8, "dst": pl.Utf8, "provider": pl.Utf8,
                                      "obj": pl.UInt64, "bytes": pl.Int64, "service": pl.Utf8}, orient="row")


def scenario(tmp_path, *, linkcap=10, failures="", extra="", scale=1.0):
    (tmp_path / "topo.yaml").write_text(TOPO.replace("LINKCAP", str(linkcap)))
    make_trace().write_parquet(tmp_path / "trace.parquet")
    text = textwrap.dedent(f"""\
        name: small
        topology: topo.yaml
        traffic: {{trace: trace.parquet, scale: {scale}}}
        bin_s: 300
        duration: 30m
        seed: 3
        """) + failures + extra
    (tmp_path / "sc.yaml").write_text(text)
    return load_scenario(tmp_path / "sc.yaml")


def check_invariants(res):
    b = res.bins
    lhs = b["offered_bytes"].to_numpy()
    rhs = (b["delivered_bytes"] + b["dropped_bytes"] + b["unreachable_bytes"]).to_numpy()
    np.testing.assert_allclose(lhs, rhs, rtol=1e-9, atol=1e-3)
    assert (b["dropped_bytes"] >= -1e-6).all() and (b["unreachable_bytes"] >= 0).all()
    assert (res.links["utilisation"] <= 1 + 1e-9).all()
    if res.caches.height:
        assert (res.caches["hits"] <= res.caches["requests"]).all()


def test_baseline_run_invariants_and_outputs(tmp_path):
    sc = scenario(tmp_path)
    res = run(sc, tmp_path / "out")
    check_invariants(res)
    assert res.bins.height == 6
    assert res.bins["offered_bytes"].sum() == pytest.approx(float(make_trace()["bytes"].sum()))
    for t in ("bins", "links", "caches", "pairs", "services"):
        assert (tmp_path / "out" / f"{t}.parquet").is_file()
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["designs"][0]["design"] == "baseline"
    assert summary["designs"][0]["availability"] == pytest.approx(1.0)
    # the shared cache serves repeated objects: hits happen, and requests = hits + misses
    assert res.summary[0]["cache_hits"] > 0
    assert res.caches["requests"].sum() == res.bins["cache_requests"].sum()


def test_congestion_cuts_to_capacity(tmp_path):
    sc = scenario(tmp_path, linkcap=0.0005, scale=100.0)
    res = run(sc)
    check_invariants(res)
    assert res.bins["dropped_bytes"].sum() > 0
    up = res.links.filter((pl.col("src") == "t1") & (pl.col("dst") == "a1"))  # origin -> cache fills
    assert up["utilisation"].max() == pytest.approx(1.0, rel=1e-6)


def test_scheduled_failure_makes_traffic_unreachable_then_recovers(tmp_path):
    fail = "failures:\n  schedule:\n    - {at: '00:10', duration: 10m, node: t1}\n"
    res = run(scenario(tmp_path, failures=fail))
    check_invariants(res)
    b = res.bins.sort("bin")
    active = b["failures_active"].to_list()
    assert active == [0, 0, 1, 1, 0, 0]
    assert b["unreachable_bytes"][2] > 0 and b["unreachable_bytes"][0] == 0 and b["unreachable_bytes"][5] == 0
    s = res.summary[0]
    assert s["availability_during_failures"] < 1.0 and s["failure_bins"] == 2


def test_metro_failure_and_bad_target(tmp_path):
    fail = "failures:\n  schedule:\n    - {at: 0, duration: 1h, metro: nowhere}\n"
    with pytest.raises(InputError, match=r"failures.schedule\[0\].metro: no node has metro 'nowhere'"):
        run(scenario(tmp_path, failures=fail))


def test_same_seed_same_files(tmp_path):
    fail = "failures:\n  random:\n    link: {mtbf_h: 0.3, mttr_h: 0.1}\n"
    digests = []
    for k in range(2):
        sc = scenario(tmp_path, failures=fail)
        out = tmp_path / f"out{k}"
        res = run(sc, out)
        check_invariants(res)
        digests.append({str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.rglob("*")) if p.is_file()})
    assert digests[0] == digests[1]
    assert res.bins["failures_active"].max() > 0


def test_scenario_errors_are_located(tmp_path):
    sc = tmp_path / "bad.yaml"
    sc.write_text("name: x\ntopology: t.yaml\ntraffic: {trace: t.parquet}\nbin_s: -5\n")
    with pytest.raises(InputError, match=r"bad.yaml: bin_s \(line 4\): input should be greater than 0"):
        load_scenario(sc)
    sc.write_text("name: x\ntopology: t.yaml\ntraffic: {trace: t.parquet}\nfailures: {schedule: [{at: '25:00', duration: 1h, node: a}]}\n")
    with pytest.raises(InputError, match=r"failures.schedule\[0\].at"):
        load_scenario(sc)
    sc.write_text("name: x\ntopology: t.yaml\ntraffic: {trace: t.parquet}\ndesigns: [baseline, baseline]\n")
    with pytest.raises(InputError, match="design names must be unique"):
        load_scenario(sc)


@pytest.mark.parametrize("design, expect", [
    ("[{name: x, transforms: [{nosuch: {}}]}]", r"designs\[0\].transforms\[0\]: unknown design transform 'nosuch'; known: aggregated_isp, baseline, regional_ix, shared_cache"),
    ("[{name: x, transforms: [{regional_ix: {ix: tochigi-ix, members: [64601], colour: red}}]}]",
     r"designs\[0\].transforms\[0\].regional_ix.colour: unknown parameter 'colour' of regional_ix; expected one of: ix, members, port_gbps, metro, asn"),
    ("[{name: x, transforms: [{regional_ix: {ix: a1, members: [64601]}}]}]",
     r"designs\[0\].transforms\[0\].regional_ix.ix: node 'a1' is a pop; expected an ix node"),
    ("[{name: x, transforms: [{shared_cache: {host: a1, capacity_tb: 1, serves: [99]}}]}]",
     r"designs\[0\].transforms\[0\].shared_cache.serves\[0\]: AS99 has no node in the topology"),
    ("[nosuchdesign]", r"designs\[0\]: design 'nosuchdesign' has no transforms and is not a known transform"),
])
def test_unknown_design_or_parameter_is_a_located_error(tmp_path, design, expect):
    sc = scenario(tmp_path, extra=f"designs: {design}\n")
    with pytest.raises(InputError, match=expect) as ei:
        run(sc)
    assert "\n" not in str(ei.value) and str(tmp_path / "sc.yaml") in str(ei.value)
