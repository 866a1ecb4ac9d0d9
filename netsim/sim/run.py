"""Run a scenario: every design on the same traffic, tables written as each design completes."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import polars as pl

from netsim.scenario import Scenario, load_scenario
from netsim.sim.engine import RunResult, run_design
from netsim.sim.sources import traffic_source

__all__ = ["Results", "run", "TABLES"]

TABLES = ("bins", "links", "caches", "pairs", "services", "cost", "quality")


@dataclass
class Results:
    """All designs of a run: polars frames with a ``design`` column, and one summary record per design."""

    scenario: str
    bins: pl.DataFrame
    links: pl.DataFrame
    caches: pl.DataFrame
    pairs: pl.DataFrame
    services: pl.DataFrame
    cost: pl.DataFrame
    quality: pl.DataFrame
    summary: list[dict] = field(default_factory=list)
    graphs: dict = field(default_factory=dict)  # design name -> the design's topology (networkx.DiGraph)

    @classmethod
    def combine(cls, scenario: str, runs: list[RunResult], graphs: dict | None = None) -> "Results":
        return cls(scenario=scenario, summary=[r.summary for r in runs], graphs=dict(graphs or {}),
                   **{t: pl.concat([getattr(r, t) for r in runs], how="vertical") for t in TABLES})

    def write(self, out_dir: str | Path, *, scenario: Scenario | None = None) -> None:
        """Write ``<table>.parquet`` for each table, ``topologies/<design>.yaml`` (each design's topology, for
        the report's map), the resolved ``scenario.yaml`` and ``summary.json``; each file goes to a temp
        name first, then is renamed."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        for t in TABLES:
            tmp = out / f".{t}.parquet.tmp"
            getattr(self, t).write_parquet(tmp, statistics=False)
            tmp.replace(out / f"{t}.parquet")
        from netsim.topology import save_topology

        (out / "topologies").mkdir(exist_ok=True)
        for name, g in self.graphs.items():
            save_topology(g, out / "topologies" / f".{name}.tmp.yaml")
            (out / "topologies" / f".{name}.tmp.yaml").replace(out / "topologies" / f"{name}.yaml")
        if scenario is not None:
            from netsim.yamlio import dump_yaml

            doc = scenario.model_dump(mode="json", exclude={"base_dir", "source"}, exclude_none=True)
            tmp = out / ".scenario.yaml.tmp"
            dump_yaml(doc, tmp, header=f"The scenario as run (durations in seconds, designs expanded); from {scenario.source}")
            tmp.replace(out / "scenario.yaml")
        tmp = out / ".summary.json.tmp"
        tmp.write_text(json.dumps({"scenario": self.scenario, "designs": self.summary}, indent=2, sort_keys=True) + "\n")
        tmp.replace(out / "summary.json")


def _servers(baseline_g) -> dict | None:
    """Measurement servers, fixed on the first design's topology for every design: in a core metro
    (Tokyo) where the topology has one, else in the client's region; None if neither exists."""
    from netsim.analysis.quality import measurement_servers
    from netsim.errors import InputError

    for placement in ("tokyo", "regional"):
        try:
            return measurement_servers(baseline_g, placement)
        except InputError:
            continue
    return None


def _analyse(res: RunResult, g, sc: Scenario, *, servers: dict) -> None:
    """Monthly cost (netsim.analysis.cost) and the broadband quality method (netsim.analysis.quality)
    of one design run: tables ``cost`` (per member) and ``quality`` (per ISP, peak vs off-peak hours),
    and headline figures in its summary."""
    import numpy as np

    from netsim.analysis.cost import design_cost
    from netsim.analysis.quality import measure_quality
    from netsim.sim.metrics import weighted_quantile

    cost = design_cost(g, res.links, bin_s=sc.bin_s, design=res.design, aggregators=g.graph.get("aggregators"))
    res.cost = cost.by_member.with_columns(pl.lit(res.design).alias("design")).select(["design", *cost.by_member.columns])
    s = res.summary
    s["cost_per_month"] = cost.total
    s["cost_currency"] = cost.currency
    if servers is None:
        from netsim.analysis.quality import empty_summary

        res.quality = empty_summary()
        s["quality_peak_p50_mbps"] = s["quality_peak_p10_mbps"] = s["quality_peak_rtt_p50_ms"] = None
        return
    q = measure_quality(g, res.links, res.paths_for_bin(0), design=res.design, bin_s=sc.bin_s, servers=servers,
                        paths_for_bin=res.paths_for_bin)
    res.quality = q.summary
    # as a measurement campaign reports it: the evening peak (21-23h) in normal operation; what the
    # failure windows do to reachability is in availability, not here
    calm = res.bins.filter(pl.col("failures_active") == 0)["bin"]
    peak = q.samples.filter(pl.col("hour").is_in([21, 22]) & pl.col("bin").is_in(calm.implode()))
    if peak.height:
        thr, w = peak["throughput_mbps"].to_numpy(), peak["weight"].to_numpy()
        s["quality_peak_p50_mbps"] = weighted_quantile(thr, w, 0.5)
        s["quality_peak_p10_mbps"] = weighted_quantile(thr, w, 0.1)
        rtt = peak["rtt_ms"].to_numpy()
        ok = np.isfinite(rtt)
        s["quality_peak_rtt_p50_ms"] = weighted_quantile(rtt[ok], w[ok], 0.5) if ok.any() else None
    else:
        s["quality_peak_p50_mbps"] = s["quality_peak_p10_mbps"] = s["quality_peak_rtt_p50_ms"] = None


def run(scenario: Scenario | str | Path, out_dir: str | Path | None = None, *, seed: int | None = None,
        on_bin: Callable[[str, int, int], None] | None = None, base_topology=None) -> Results:
    """Simulate every design of a scenario (a Scenario, a file, or a shipped name) on the same traffic.

    With ``out_dir``, tables and summary.json are (re)written after each design completes, so an
    interrupted run keeps the designs already done; on Ctrl-C the design in progress keeps the bins
    it finished (its summary says ``interrupted``), the files are written, and KeyboardInterrupt
    is raised again. ``base_topology`` is the scenario's topology already parsed (callers that run
    many variants of one scenario, e.g. sweeps, parse it once; it is not modified).

    Examples
    --------
    >>> res = run("tochigi")                                   # doctest: +SKIP
    >>> res.bins.group_by("design").agg(pl.col("backbone_bps").max())  # doctest: +SKIP
    """
    from netsim.topology import load_topology
    from netsim.topology.designs import apply_design
    from netsim.data import resolve_path
    from netsim.errors import InputError

    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    if seed is not None:
        sc = sc.model_copy(update={"seed": int(seed)})
    if base_topology is None:
        base = Path(sc.base_dir) if sc.base_dir else None
        try:
            topo_path = resolve_path("topologies", sc.topology, base=base)
        except FileNotFoundError as e:
            raise InputError(str(e), source=sc.source, where="topology") from None
        base_topology = load_topology(topo_path)
    g0 = base_topology
    done: list[RunResult] = []
    graphs: dict = {}
    for i, design in enumerate(sc.designs):
        g = apply_design(g0, design.name, design.transforms, source=sc.source, where=f"designs[{i}]")
        graphs[design.name] = g
        traffic = traffic_source(sc, g)
        cb = None if on_bin is None else (lambda b, n, _d=design.name: on_bin(_d, b, n))
        done.append(run_design(sc, design, g, traffic, on_bin=cb))
        _analyse(done[-1], g, sc, servers=_servers(graphs[sc.designs[0].name]))
        if out_dir is not None:
            Results.combine(sc.name, done, graphs).write(out_dir, scenario=sc)
        if done[-1].summary.get("interrupted"):
            raise KeyboardInterrupt
    return Results.combine(sc.name, done, graphs)
