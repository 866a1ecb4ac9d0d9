"""One sweep task on a worker: plain data in (the scenario as JSON and the task's parameters), plain data out.

The task simulates one design with its failure set down for the whole run and reduces the run to
what a sweep keeps: the summary's scalar metrics, each link's worst bin (highest demand
utilisation) and each region's availability. Nothing here touches the output directory; the
client writes each record as it arrives, so a lost worker loses nothing that was written.
"""

from __future__ import annotations

import functools
import os
import time
from pathlib import Path

import polars as pl

from netsim.scenario import DesignSpec, FailureEvent, FailureSpec, Scenario
from netsim.stats import finite_or_none

__all__ = ["run_task", "task_payload", "task_scenario", "WHOLE_RUN_S", "SUMMARY_FIELDS"]

#: the duration given to a sweep's failure events: longer than any run, so they are never repaired
WHOLE_RUN_S = 1e12

#: the scalar metrics of a design's summary a sweep keeps per task (results.parquet columns)
SUMMARY_FIELDS = ("offered_bytes", "delivered_bytes", "dropped_bytes", "unreachable_bytes", "availability",
                  "backbone_peak_bps", "backbone_p95_bps", "backbone_mean_bps", "local_turnaround",
                  "cache_hit_ratio", "cache_byte_hit_ratio", "rtt_p50_ms", "rtt_p95_ms", "peak_utilisation")

_GBPS_TO_BYTES_PER_S = 1e9 / 8


def task_scenario(sc: Scenario, *, design: DesignSpec, failure, growth: float, seed: int) -> Scenario:
    """The scenario one task runs: only ``design``, the failure set down from time 0 for the whole run (the
    scenario's own schedule and random failures are replaced), traffic growth multiplied by ``growth``;
    one replay (``planning.basis: as_run``) and no forecast, as a task reports neither.

    Examples
    --------
    >>> from netsim.scenario import load_scenario
    >>> sc = load_scenario("tochigi")
    >>> t = task_scenario(sc, design=sc.designs[0], failure=(("metro", "utsunomiya"),), growth=1.5, seed=7)
    >>> [(e.at, e.metro) for e in t.failures.schedule], t.traffic.growth, t.seed
    ([(0.0, 'utsunomiya')], 1.5, 7)
    """
    events = []
    for kind, value in failure:
        target = {kind: list(value) if kind == "link" else value}
        events.append(FailureEvent(at=0.0, duration=WHOLE_RUN_S, **target))
    # NOTE: a task reports availability, loads and worst links (SUMMARY_FIELDS), not the planning outputs: it
    # replays once (planning on the run as it is, no failure-free second replay) and fits no forecast
    return sc.model_copy(update={
        "designs": [design],
        "failures": FailureSpec(schedule=events),
        "seed": int(seed),
        "traffic": sc.traffic.model_copy(update={"growth": sc.traffic.growth * float(growth)}),
        "planning": sc.planning.model_copy(update={"basis": "as_run"}),
        "forecast": None,
    })


def task_payload(sc: Scenario, task) -> dict:
    """The plain-data description of a task sent to a worker (JSON-able; no live objects).

    Examples
    --------
    >>> import json
    >>> from netsim.scenario import load_scenario
    >>> from netsim.sweep.grid import expand_grid
    >>> sc = load_scenario("tochigi")
    >>> p = task_payload(sc, expand_grid(sc, failures="n-1-metro")[1])
    >>> p["failure"], p["params"]["failure"], json.loads(json.dumps(p)) == p
    ([['metro', 'ashikaga']], 'metro ashikaga', True)
    """
    return {
        "scenario": sc.model_dump(mode="json"),
        "base_dir": sc.base_dir,
        "source": sc.source,
        "params": task.params(),
        "design": task.design.model_dump(mode="json"),
        "failure": [[k, list(v) if k == "link" else v] for k, v in task.failure],
        "growth": task.growth,
        "seed": task.seed,
    }


def _link_peaks(res, g) -> list[dict]:
    """Each link's bin of highest demand utilisation (ties: the earliest bin), with the traffic then."""
    links = res.links
    if links.height == 0:
        return []
    bin_s = float(res.summary[0]["bin_s"])
    cap = pl.DataFrame(
        [(str(u), str(v), float(d["capacity_gbps"])) for u, v, d in g.edges(data=True)],
        schema={"src": pl.Utf8, "dst": pl.Utf8, "capacity_gbps": pl.Float64}, orient="row")
    offered = res.bins.select("bin", pl.col("offered_bps").alias("network_offered_bps"))
    f = (links.join(cap, on=["src", "dst"], how="left")
         .join(offered, on="bin", how="left")
         .with_columns(demand_bytes=pl.col("load_bytes") + pl.col("dropped_bytes"))
         .with_columns(demand_utilisation=pl.col("demand_bytes") / (pl.col("capacity_gbps") * _GBPS_TO_BYTES_PER_S * bin_s),
                       demand_bps=pl.col("demand_bytes") * 8 / bin_s)
         .sort(["src", "dst", "demand_utilisation", "bin"], descending=[False, False, True, False])
         .unique(subset=["src", "dst"], keep="first", maintain_order=True)
         .select("src", "dst", "backbone", "capacity_gbps", "bin", "ts_s", "demand_utilisation", "utilisation",
                 "demand_bps", "bps", "dropped_bytes", "network_offered_bps"))
    return f.to_dicts()


def _regions(res) -> list[dict]:
    from netsim.stats import group_sums

    # availability: over the region's survivors (subscribers whose own PoP is up; a region that is all dark has
    # none: null, not a violation); availability_all: over all its subscribers (docs/metrics.md)
    if res.services.height == 0:
        return []
    cols = ["offered_bytes", "delivered_bytes", "unreachable_bytes", "survivor_offered_bytes", "survivor_delivered_bytes"]
    agg = group_sums(res.services, ["region"], cols)
    share = lambda d, o: float(d) / float(o) if o else None  # noqa: E731
    return [{"region": r, "offered_bytes": o, "delivered_bytes": d, "unreachable_bytes": u,
             "survivor_offered_bytes": so, "survivor_delivered_bytes": sd,
             "availability": share(sd, so), "availability_all": share(d, o)}
            for r, o, d, u, so, sd in agg.select("region", *cols).rows()]


@functools.lru_cache(maxsize=4)
def _base_topology(path: str, mtime_ns: int, size: int):
    """The scenario's topology, parsed once per worker process (parsing the Japan YAML is ~40% of a task);
    keyed by the file's mtime and size so an edited file is read again. Callers must not modify it."""
    from netsim.topology import load_topology

    return load_topology(path)


def _simulate(sc: Scenario):
    """:func:`netsim.sim.run.run` of a one-design scenario, with the topology parsed once per process."""
    from netsim.sim.run import run

    topo_path = sc.resolve("topologies", sc.topology, where="topology")
    st = os.stat(topo_path)
    # the sweep is the thorough N-1 (each failure replayed): no fast N-1 pass inside each of its tasks
    sc = sc.model_copy(update={"resilience": sc.resilience.model_copy(update={"n1": False})})
    return run(sc, base_topology=_base_topology(str(Path(topo_path).resolve()), st.st_mtime_ns, st.st_size))


def run_task(payload: dict) -> dict:
    """Run one task (what a Dask worker executes): a pure function of its payload (see :func:`task_payload`).

    Returns ``{"params", "summary", "links", "regions", "meta"}``: the task's parameters, the scalar
    summary metrics, one row per link that carried traffic (its worst bin), one row per region,
    and ``meta`` (worker pid, elapsed seconds; not part of the results).

    Examples
    --------
    >>> from netsim.scenario import load_scenario
    >>> from netsim.sweep.grid import expand_grid
    >>> sc = load_scenario("tochigi").model_copy(update={"duration": 600.0})  # two 5-minute bins
    >>> t = [t for t in expand_grid(sc, failures="n-1-metro") if t.label == "metro tokyo-otemachi"][0]
    >>> rec = run_task(task_payload(sc, t))
    >>> rec["params"]["failure"], rec["summary"]["availability"] < 0.2
    ('metro tokyo-otemachi', True)
    """
    t0 = time.perf_counter()
    sc = Scenario.model_validate(payload["scenario"])
    sc.base_dir, sc.source = payload["base_dir"], payload["source"]
    failure = tuple((k, tuple(v) if k == "link" else v) for k, v in payload["failure"])
    tsc = task_scenario(sc, design=DesignSpec.model_validate(payload["design"]), failure=failure,
                        growth=payload["growth"], seed=payload["seed"])
    res = _simulate(tsc)
    s = res.summary[0]
    g = res.graphs[s["design"]]
    return {
        "params": payload["params"],
        "summary": {k: finite_or_none(s.get(k)) for k in SUMMARY_FIELDS},
        "links": [{k: finite_or_none(v) for k, v in row.items()} for row in _link_peaks(res, g)],
        "regions": [{k: finite_or_none(v) for k, v in row.items()} for row in _regions(res)],
        "meta": {"pid": os.getpid(), "elapsed_s": time.perf_counter() - t0},
    }
