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


# --------------------------------------------------------------------------------------------- the optional files
# Tables the lead's run.py writes (or will write) for the cost, quality, procurement, forecast, capacity plan and
# prefetch sections, in the shapes of the issue; made here from fixed numbers so tests can recompute what the
# report must show.

NAMES = {64601: "ISP A & co", 64602: EVIL}
COMPONENTS = ("line", "ix_port", "cache_site", "transit", "shared")


def _cost_table() -> pl.DataFrame:
    rows = []
    for d, k in (("baseline", 1.0), ("other", 0.5)):
        for asn, parts in ((64601, (100.0, 0.0, 2000.0, 1000.0, 0.0)), (64602, (80.0, 5000.0, 0.0, 400.0, 0.0))):
            vals = [p * (k if c == "transit" else 1.0) for p, c in zip(parts, COMPONENTS)]
            if d == "other" and asn == 64602:
                vals[4] = 250.0  # a shared (aggregated ISP) component
            rows.append({"design": d, "asn": asn, "name": NAMES[asn], **dict(zip(COMPONENTS, vals)), "total": sum(vals)})
    return pl.DataFrame(rows)


def _quality_tables() -> tuple[pl.DataFrame, pl.DataFrame]:
    rows, hourly = [], []
    for i, d in enumerate(("baseline", "other")):
        for j, asn in enumerate((64601, 64602)):
            base = 900.0 - 100 * i - 50 * j
            rows.append({"design": d, "asn": asn, "name": NAMES[asn],
                         "peak_throughput_p50_mbps": base / 2, "peak_throughput_p10_mbps": base / 4,
                         "peak_rtt_p50_ms": 12.5 + i + j, "peak_unreachable_share": 0.0,
                         "offpeak_throughput_p50_mbps": base, "offpeak_throughput_p10_mbps": base * 0.75,
                         "offpeak_rtt_p50_ms": 4.25 + i + j, "offpeak_unreachable_share": 0.0,
                         "peak_limit": "pppoe-nte" if i else "home (cpe)", "peak_limit_share": 0.75,
                         "peak_to_offpeak": 0.5,
                         "failure_throughput_p50_mbps": 7.0 + i, "failure_throughput_p10_mbps": 0.0,
                         "failure_rtt_p50_ms": 40.0, "failure_unreachable_share": 0.375 - 0.125 * i})
            for h in range(24):
                hourly.append({"design": d, "asn": asn, "name": NAMES[asn], "hour": h,
                               "throughput_p50_mbps": base - 10 * h, "throughput_p10_mbps": base / 2 - 5 * h,
                               "rtt_p50_ms": 5.0 + h / 10, "unreachable_share": 0.0, "samples": 12})
    return pl.DataFrame(rows), pl.DataFrame(hourly)


PROCUREMENT = pl.DataFrame({
    "design": ["other", "other"], "member": ["ISP A & co", EVIL],
    "peak_bps": [6e9, 3e9], "p95_bps": [5e9, 2e9], "line_gbps": [10.0, 10.0], "line_cost": [900.0, 600.0],
    "transit_cost": [5000.0, 2000.0], "separate_cost": [5900.0, 2600.0], "share": [0.7, 0.3],
    "joint_cost": [5250.0, 2750.0], "saving": [650.0, -150.0]})
PROCUREMENT_SUMMARY = {"procurement_separate_per_month": 8500.0, "procurement_joint_per_month": 8000.0,
                       "procurement_saving_per_month": 500.0, "procurement_reference": "baseline",
                       "procurement_split": "p95", "procurement_separate_line_gbps": 20.0,
                       "procurement_joint_line_gbps": 10.0}
FORECAST_SERIES = ("baseline/a1->t1", "other/" + EVIL + "->t1", "baseline/backbone")
FORECAST_CAPS = {"baseline/a1->t1": 1.0, "other/" + EVIL + "->t1": 4.0}

CAPACITY_PLAN = pl.DataFrame({
    "design": ["baseline"] * 3 + ["other"] * 2,
    "src": ["a1", EVIL, "a2", "a1", "b2"], "dst": ["t1", "t1", "a1", "t1", EVIL],
    "capacity_gbps": [1.0, 1.0, 10.0, 1.0, 10.0], "peak_utilisation": [0.6, 0.85, 0.05, 0.3, 0.0],
    "growth_per_year": [0.4, 0.4, 0.4, 0.2, 0.0], "growth_series": ["baseline/backbone"] * 3 + ["other/backbone"] * 2,
    "months_to_threshold": [10.258, 0.0, 60.0, 64.55, float("inf")], "threshold": [0.8] * 5})
PREFETCH_SUMMARY = {"prefetch_objects": 1234, "prefetch_of": "baseline", "prefetch_peak_backbone_saved_bps": 2.5e8,
                    "prefetch_p95_backbone_saved_bps": -1.5e8}
PREFETCH_BYTES = {0: 4e9, 1: 6e9}
QUALITY_SUMMARY = {d: {"quality_peak_p50_mbps": p50, "quality_peak_p10_mbps": p50 / 2, "quality_peak_rtt_p50_ms": 13.0}
                   for d, p50 in (("baseline", 437.5), ("other", 387.5))}  # bins of "other" in the push window


def forecast_input() -> pl.DataFrame:
    """Three hourly series over 21 days: daily cycle, growth, noise (fixed seed)."""
    from datetime import datetime, timedelta

    rng = np.random.default_rng(7)
    ts = [datetime(2024, 1, 1) + timedelta(hours=h) for h in range(24 * 21)]
    h = np.arange(len(ts))
    parts = []
    for k, s in enumerate(FORECAST_SERIES):
        bps = (0.3 + 0.1 * k) * 1e9 * (1.2 + np.sin(2 * np.pi * h / 24)) * np.exp(0.5 * h / (24 * 365)) \
            * rng.lognormal(0.0, 0.05, len(h))
        parts.append(pl.DataFrame({"timestamp": ts, "series": s, "bps": bps}))
    return pl.concat(parts)


def add_optional_files(out) -> None:
    """Write into run directory ``out`` every optional file the report reads (see the module comment)."""
    import json

    from netsim.analysis.forecast import forecast

    _cost_table().write_parquet(out / "cost.parquet")
    q, qh = _quality_tables()
    q.write_parquet(out / "quality.parquet")
    qh.write_parquet(out / "quality_hourly.parquet")
    PROCUREMENT.write_parquet(out / "procurement.parquet")
    CAPACITY_PLAN.write_parquet(out / "capacity_plan.parquet")
    r = forecast(forecast_input(), holdout="7d", horizon="365d", threshold=0.8, capacities_gbps=FORECAST_CAPS)
    r.write(out / "forecast", plot=False)
    r.history.write_parquet(out / "forecast" / "history.parquet")
    r.holdout.write_parquet(out / "forecast" / "holdout.parquet")
    bins = pl.read_parquet(out / "bins.parquet")
    bins = bins.with_columns(
        pl.when(pl.col("design") == "other")
        .then(pl.col("bin").replace_strict(PREFETCH_BYTES, default=0.0, return_dtype=pl.Float64))
        .otherwise(0.0).alias("prefetch_bytes"))
    bins.write_parquet(out / "bins.parquet")
    doc = json.loads((out / "summary.json").read_text())
    for rec in doc["designs"]:
        rec["cost_currency"] = "JPY"
        rec["cost_per_month"] = float(_cost_table().filter(pl.col("design") == rec["design"])["total"].sum())
        rec["quality_placement"] = "tokyo"
        rec.update(QUALITY_SUMMARY[rec["design"]])
        rec["prefetch_bytes"] = 0.0
        rec["prefetch_objects"] = 0
        rec["prefetch_of"] = None
        if rec["design"] == "other":
            rec.update(PROCUREMENT_SUMMARY, prefetch_bytes=sum(PREFETCH_BYTES.values()), **PREFETCH_SUMMARY)
    (out / "summary.json").write_text(json.dumps(doc))
    # the files added stand for one complete run: list them in its manifest as `netsim run` would
    from netsim.sim.manifest import write_manifest
    from netsim.sim.run import TABLES

    write_manifest(out, complete=True, tables=TABLES)


@pytest.fixture(scope="session")
def full_run_dir(run_dir, tmp_path_factory):
    """The small run with every optional file added (made once per session; copy it to modify)."""
    out = tmp_path_factory.mktemp("full-run") / "run"
    shutil.copytree(run_dir, out)
    add_optional_files(out)
    return out


@pytest.fixture
def full_run(full_run_dir, tmp_path):
    """A private copy of :func:`full_run_dir`."""
    out = tmp_path / "full"
    shutil.copytree(full_run_dir, out)
    return out
