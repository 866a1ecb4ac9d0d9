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

TABLES = ("bins", "links", "caches", "pairs", "services")


@dataclass
class Results:
    """All designs of a run: polars frames with a ``design`` column, and one summary record per design."""

    scenario: str
    bins: pl.DataFrame
    links: pl.DataFrame
    caches: pl.DataFrame
    pairs: pl.DataFrame
    services: pl.DataFrame
    summary: list[dict] = field(default_factory=list)
    graphs: dict = field(default_factory=dict)  # design name -> the design's topology (networkx.DiGraph)

    @classmethod
    def combine(cls, scenario: str, runs: list[RunResult], graphs: dict | None = None) -> "Results":
        return cls(scenario=scenario, summary=[r.summary for r in runs], graphs=dict(graphs or {}),
                   **{t: pl.concat([getattr(r, t) for r in runs], how="vertical") for t in TABLES})

    def write(self, out_dir: str | Path) -> None:
        """Write ``<table>.parquet`` for each table, ``topologies/<design>.yaml`` (each design's topology, for
        the report's map) and ``summary.json``; each file goes to a temp name first, then is renamed."""
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
        tmp = out / ".summary.json.tmp"
        tmp.write_text(json.dumps({"scenario": self.scenario, "designs": self.summary}, indent=2, sort_keys=True) + "\n")
        tmp.replace(out / "summary.json")


def run(scenario: Scenario | str | Path, out_dir: str | Path | None = None, *,
        on_bin: Callable[[str, int, int], None] | None = None) -> Results:
    """Simulate every design of a scenario (a Scenario, a file, or a shipped name) on the same traffic.

    With ``out_dir``, tables and summary.json are (re)written after each design completes, so an
    interrupted run keeps the designs already done.
    """
    from netsim.topology import load_topology
    from netsim.topology.designs import apply_design
    from netsim.data import resolve_path
    from netsim.errors import InputError

    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    base = Path(sc.base_dir) if sc.base_dir else None
    try:
        topo_path = resolve_path("topologies", sc.topology, base=base)
    except FileNotFoundError as e:
        raise InputError(str(e), source=sc.source, where="topology") from None
    g0 = load_topology(topo_path)
    done: list[RunResult] = []
    graphs: dict = {}
    for i, design in enumerate(sc.designs):
        g = apply_design(g0, design.name, design.transforms, source=sc.source, where=f"designs[{i}]")
        graphs[design.name] = g
        traffic = traffic_source(sc, g)
        cb = None if on_bin is None else (lambda b, n, _d=design.name: on_bin(_d, b, n))
        done.append(run_design(sc, design, g, traffic, on_bin=cb))
        if out_dir is not None:
            Results.combine(sc.name, done, graphs).write(out_dir)
    return Results.combine(sc.name, done, graphs)
