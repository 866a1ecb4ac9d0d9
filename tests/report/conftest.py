"""A small two-design run (engine on a 7-node topology, 30 min, one link failure) shared by the report tests.

One PoP is named ``<script>alert(1)</script>`` in a metro named ``<b>metro</b>``, and one metro
``$x$``, so the tests can check that names from files are escaped in the HTML and drawn literally
in the SVG figures.
"""

from __future__ import annotations

import shutil
import textwrap

import numpy as np
import polars as pl
import pytest

from netsim.traffic.schema import SCHEMA

EVIL = "<script>alert(1)</script>"

TOPO = """\
name: small
metros:
  u1: {lat: 36.55, lon: 139.88, region: tochigi}
  u2: {lat: 36.31, lon: 139.80, region: tochigi}
  "<b>metro</b>": {lat: 36.40, lon: 139.60, region: tochigi}
  "$x$": {lat: 36.70, lon: 139.70, region: tochigi}
  tk: {lat: 35.69, lon: 139.77, region: tokyo, core: true}
nodes:
  - {id: a1, kind: pop, asn: 64601, metro: u1, subscribers: 1000}
  - {id: a2, kind: pop, asn: 64601, metro: u2, subscribers: 1000}
  - {id: "<script>alert(1)</script>", kind: pop, asn: 64602, metro: "<b>metro</b>", subscribers: 1000}
  - {id: b2, kind: pop, asn: 64602, metro: "$x$", subscribers: 500}
  - {id: t1, kind: pop, asn: 64500, metro: tk}
  - {id: o1, kind: origin, asn: 64700, metro: tk, provider: video}
  - {id: c1, kind: cache, asn: 64601, metro: u1, capacity_bytes: 50000000, serves: [64601, 64602]}
links:
  - {src: a1, dst: a2, capacity_gbps: 10}
  - {src: a1, dst: t1, capacity_gbps: 1, rel: c2p, tags: [backbone, upstream]}
  - {src: "<script>alert(1)</script>", dst: t1, capacity_gbps: 1, rel: c2p, tags: [backbone, upstream]}
  - {src: b2, dst: "<script>alert(1)</script>", capacity_gbps: 10}
  - {src: o1, dst: t1, capacity_gbps: 100, rel: c2p}
  - {src: c1, dst: a1, capacity_gbps: 10}
  - {src: "<script>alert(1)</script>", dst: a1, capacity_gbps: 10, rel: p2p}
"""

POPS = ["a1", "a2", EVIL, "b2"]


def make_trace(n_bins=6, bin_s=300, seed=0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for b in range(n_bins):
        for _ in range(60):
            ts = b * bin_s + rng.uniform(0, bin_s)
            if rng.random() < 0.5:
                s, d = rng.choice(POPS, 2, replace=False)
                rows.append((ts, str(s), str(d), None, None, int(rng.integers(1_000_000, 50_000_000)), "game"))
            else:
                rows.append((ts, str(rng.choice(POPS)), None, "video", int(rng.zipf(1.5) % 50), 5_000_000, "video"))
    rows.sort(key=lambda r: r[0])
    return pl.DataFrame(rows, schema=SCHEMA, orient="row")


def write_scenario(d) -> str:
    (d / "topo.yaml").write_text(TOPO)
    make_trace().write_parquet(d / "trace.parquet")
    (d / "sc.yaml").write_text(textwrap.dedent("""\
        name: small
        topology: topo.yaml
        traffic: {trace: trace.parquet, scale: 1000.0}
        bin_s: 300
        duration: 30m
        seed: 3
        failures:
          schedule:
            - {at: 10m, duration: 10m, link: [a1, t1]}
        designs: [baseline, {name: other, transforms: [{baseline: {}}]}]
        """))
    return str(d / "sc.yaml")


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory):
    """A finished two-design run (tables, summary.json, topologies/), made once per session; copy it to modify."""
    from netsim.sim.run import run

    d = tmp_path_factory.mktemp("report-run")
    run(write_scenario(d), d / "out")
    return d / "out"


@pytest.fixture
def make_scenario():
    """``make_scenario(dir) -> path``: write the small scenario (topology, trace, sc.yaml) into ``dir``."""
    return write_scenario


@pytest.fixture
def fresh_run(run_dir, tmp_path):
    """A private copy of the run directory (tests may render into it or damage it)."""
    out = tmp_path / "run"
    shutil.copytree(run_dir, out)
    return out
