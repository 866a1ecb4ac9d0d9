"""Run a scenario: every design on the same traffic, tables written as each design completes."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Callable

import warnings

import polars as pl

from netsim.scenario import FailureSpec, Scenario, load_scenario
from netsim.sim.check import ScenarioCheck, check_scenario
from netsim.sim.engine import RunResult, run_design
from netsim.sim.manifest import MANIFEST, write_manifest
from netsim.stats import finite_or_none
from netsim.sim.sources import traffic_source

__all__ = ["Results", "run", "TABLES"]

TABLES = ("bins", "links", "caches", "pairs", "services", "access", "cost", "quality", "quality_hourly", "procurement",
          "capacity_plan", "resilience")


@dataclass
class Results:
    """All designs of a run: polars frames with a ``design`` column, and one summary record per design."""

    scenario: str
    bins: pl.DataFrame
    links: pl.DataFrame
    caches: pl.DataFrame
    pairs: pl.DataFrame
    services: pl.DataFrame
    access: pl.DataFrame
    cost: pl.DataFrame
    quality: pl.DataFrame
    quality_hourly: pl.DataFrame
    procurement: pl.DataFrame
    capacity_plan: pl.DataFrame
    resilience: pl.DataFrame
    summary: list[dict] = field(default_factory=list)
    graphs: dict = field(default_factory=dict)  # design name -> the design's topology (networkx.DiGraph)
    forecast: object = None  # netsim.analysis.forecast.ForecastResult of the scenario's forecast.history, if any
    warnings: list = field(default_factory=list)  # netsim.sim.check's warnings about the scenario

    @classmethod
    def combine(cls, scenario: str, runs: list[DesignResult], graphs: dict | None = None, forecast=None,
                warnings=()) -> "Results":
        return cls(scenario=scenario, summary=[r.summary for r in runs], graphs=dict(graphs or {}), forecast=forecast,
                   warnings=list(warnings), **{t: pl.concat([getattr(r, t) for r in runs], how="vertical") for t in TABLES})

    def write(self, out_dir: str | Path, *, scenario: Scenario | None = None) -> None:
        """Write ``<table>.parquet`` for each table, ``topologies/<design>.yaml`` (each design's topology, for
        the report's map), ``forecast/`` (the scenario's forecast, if any), the resolved ``scenario.yaml``
        and ``summary.json``; each file goes to a temp name first, then is renamed. ``manifest.json`` (see
        :data:`MANIFEST`) is removed first and written last, so a directory whose files do not all come from
        one write has no manifest, or one whose hashes do not match."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        (out / MANIFEST).unlink(missing_ok=True)
        for t in TABLES:
            tmp = out / f".{t}.parquet.tmp"
            getattr(self, t).write_parquet(tmp, statistics=False)
            tmp.replace(out / f"{t}.parquet")
        from netsim.topology import save_topology

        (out / "topologies").mkdir(exist_ok=True)
        for name, g in self.graphs.items():
            # design names are checked (scenario.SAFE_NAME); this guards the API too: nothing outside OUTDIR
            if (out / "topologies" / f"{name}.yaml").resolve().parent != (out / "topologies").resolve():
                raise ValueError(f"design name {name!r} would write outside {out / 'topologies'}")
            save_topology(g, out / "topologies" / f".{name}.tmp.yaml")
            (out / "topologies" / f".{name}.tmp.yaml").replace(out / "topologies" / f"{name}.yaml")
        import shutil

        if self.forecast is not None:
            tmp_dir = out / ".forecast.tmp"
            if tmp_dir.exists():
                shutil.rmtree(tmp_dir)
            self.forecast.write(tmp_dir, plot=False)
            if (out / "forecast").exists():
                shutil.rmtree(out / "forecast")
            tmp_dir.replace(out / "forecast")
        elif (out / "forecast").exists():  # an earlier run's forecast must not pass for this one's
            shutil.rmtree(out / "forecast")
        if scenario is not None:
            from netsim.yamlio import dump_yaml

            doc = scenario.model_dump(mode="json", exclude={"base_dir", "source"}, exclude_none=True)
            tmp = out / ".scenario.yaml.tmp"
            dump_yaml(doc, tmp, header=f"The scenario as run (durations in seconds, designs expanded); from {scenario.source}")
            tmp.replace(out / "scenario.yaml")
        tmp = out / ".summary.json.tmp"
        planned = [d.name for d in scenario.designs] if scenario is not None else [r["design"] for r in self.summary]
        done = [r["design"] for r in self.summary]
        complete = done == planned and not any(r.get("interrupted") for r in self.summary)
        doc = {"scenario": self.scenario, "designs": finite_or_none(self.summary), "designs_planned": planned,
               "complete": complete, "warnings": list(self.warnings)}
        tmp.write_text(json.dumps(doc, indent=2, sort_keys=True, allow_nan=False) + "\n")
        tmp.replace(out / "summary.json")
        write_manifest(out, complete=complete, tables=TABLES)


@dataclass
class DesignResult(RunResult):
    """One design of a run: the engine's replay (:class:`netsim.sim.engine.RunResult`) and the analyses
    this module adds to it, each table tagged with the design (see :func:`_analyse`)."""

    cost: pl.DataFrame | None = None            # per member monthly cost
    quality: pl.DataFrame | None = None         # per ISP, peak vs off-peak
    quality_hourly: pl.DataFrame | None = None  # per ISP and hour of day
    procurement: pl.DataFrame | None = None     # joint vs separate procurement of an aggregated ISP
    resilience: pl.DataFrame | None = None      # the fast N-1 pass on the busy hour (netsim.analysis.resilience)
    capacity_plan: pl.DataFrame | None = None   # when links cross the forecast threshold
    #: the link loads of the same design replayed without failures (planning.basis normal)
    normal_links: pl.DataFrame | None = field(default=None, repr=False)

    @classmethod
    def of(cls, replay: RunResult) -> "DesignResult":
        return cls(**{f.name: getattr(replay, f.name) for f in fields(RunResult)})


def _servers(baseline_g, placement: str) -> tuple[dict | None, str | None]:
    """Measurement servers, fixed on the first design's topology for every design (so designs are
    compared against the same servers): the scenario's placement, else the other one; None if
    the topology has neither a node in the client's region nor one in a core metro. Returns the
    servers and the placement used."""
    from netsim.analysis.quality import measurement_servers
    from netsim.errors import InputError

    for p in (placement, "tokyo" if placement == "regional" else "regional"):
        try:
            return measurement_servers(baseline_g, p), p
        except InputError:
            continue
    return None, None


_PROCUREMENT_SCHEMA = {"design": pl.Utf8, "aggregator": pl.Int64, "member": pl.Utf8, "peak_bps": pl.Float64,
                       "p95_bps": pl.Float64, "line_gbps": pl.Float64, "line_cost": pl.Float64,
                       "transit_cost": pl.Float64, "separate_cost": pl.Float64, "share": pl.Float64,
                       "joint_cost": pl.Float64, "saving": pl.Float64}
_PLAN_SCHEMA = {"design": pl.Utf8, "src": pl.Utf8, "dst": pl.Utf8, "capacity_gbps": pl.Float64, "peak_bps": pl.Float64,
                "peak_utilisation": pl.Float64, "growth_series": pl.Utf8, "growth_per_year": pl.Float64,
                "months_to_threshold": pl.Float64, "threshold": pl.Float64}


def _calm_bins(res: DesignResult) -> pl.Series:
    return res.bins.filter(pl.col("failures_active") == 0)["bin"]


def _plan_links(res: DesignResult) -> pl.DataFrame:
    """The per-bin link loads a design is planned on (cost, procurement, capacity plan): those of its
    failure-free replay (``planning.basis: normal``) when the run had failures, else the run's own in
    its bins without a failure, renumbered 0.. (a left-out bin must not count as a 0 bps sample)."""
    if res.normal_links is not None:
        return res.normal_links
    calm = _calm_bins(res).sort()
    if calm.len() == res.bins.height:
        return res.links
    renum = pl.DataFrame({"bin": calm, "_b": pl.int_range(calm.len(), eager=True)})
    return res.links.join(renum, on="bin", how="inner").with_columns(pl.col("_b").alias("bin")).drop("_b")


#: the resilience table of a design run without the N-1 pass (resilience.n1: false)
_NO_RESILIENCE = pl.DataFrame(schema={"design": pl.Utf8, "kind": pl.Utf8, "element": pl.Utf8, "survivor_gbps": pl.Float64,
                                      "served_gbps": pl.Float64, "availability": pl.Float64})


def _resilience(res: DesignResult, g, sc: Scenario, busy: pl.DataFrame) -> None:
    """The fast N-1 pass (netsim.analysis.resilience) on the trace's busy hour: the worst single failure for the
    design's survivors, and the failures that leave them less than half of it (single points of failure)."""
    from netsim.analysis.resilience import n1_resilience

    r = n1_resilience(g, busy, cache_offload=float(res.summary.get("cache_offload") or 0.0),
                      igp_weight=sc.routing.igp_weight, multipath=sc.routing.multipath)
    res.resilience = r.with_columns(pl.lit(res.design).alias("design")).select(["design", *r.columns])
    s = res.summary
    worst = r.filter(pl.col("availability").is_not_null())
    s["n1_worst_availability"] = worst["availability"][0] if worst.height else None
    s["n1_worst_failure"] = f"{worst['kind'][0]} {worst['element'][0]}" if worst.height else None
    spof = worst.filter(pl.col("availability") < sc.resilience.spof_below)
    s["n1_single_points_of_failure"] = [f"{k} {e}" for k, e in zip(spof["kind"], spof["element"])]


def _analyse(res: DesignResult, g, sc: Scenario, *, servers: tuple, reference: DesignResult | None,
             reference_g, growth: dict | None, start_hour: float = 0.0) -> None:
    """Monthly cost (netsim.analysis.cost), the broadband quality method (netsim.analysis.quality),
    joint procurement for an aggregated ISP and the capacity plan under the forecast growth of one
    design run: tables ``cost`` (per member), ``quality`` (per ISP: peak vs off-peak in normal
    operation, and during failures), ``quality_hourly``, ``procurement``, ``capacity_plan``, and
    headline figures in its summary. The quality method's clock starts at the trace's ``start_hour``
    unless the scenario's ``quality.start_hour`` says otherwise."""
    import numpy as np

    from netsim.analysis.cost import design_cost
    from netsim.analysis.quality import _hourly, empty_summary, measure_quality
    from netsim.stats import weighted_quantile

    aggregators = g.graph.get("aggregators")
    # NOTE: billed and sized on an ordinary day: a month of the day Tokyo went dark would be no bill
    plan_links = _plan_links(res)
    cost = design_cost(g, plan_links, prices=sc.prices, bin_s=sc.bin_s, design=res.design,
                       aggregators=aggregators, split=sc.cost.split)
    res.cost = cost.by_member.with_columns(pl.lit(res.design).alias("design")).select(["design", *cost.by_member.columns])
    s = res.summary
    s["cost_per_month"] = cost.total
    s["cost_currency"] = cost.currency
    res.procurement = _procurement(res, g, sc, aggregators, reference, reference_g)
    res.capacity_plan = _capacity_plan(res.design, plan_links, g, sc, growth)
    if len(res.capacity_plan):
        first = res.capacity_plan.row(0, named=True)
        s["capacity_first_link"] = f"{first['src']}->{first['dst']}"
        s["capacity_months_to_threshold"] = first["months_to_threshold"]
    s["quality_placement"] = None
    s["quality_peak_p50_mbps"] = s["quality_peak_p10_mbps"] = s["quality_peak_rtt_p50_ms"] = None
    s["quality_failure_p50_mbps"] = s["quality_failure_unreachable_share"] = None
    servers, placement = servers
    if servers is not None and placement == "regional":
        # clients whose region has no other node are measured against the Tokyo server instead
        s["quality_server_fallbacks"] = sum(1 for c, v in sorted(servers.items())
                                            if v in g and g.nodes[v].get("region") != g.nodes[c].get("region"))
    if servers is None:
        res.quality = empty_summary()
        res.quality_hourly = _hourly(pl.DataFrame(), {})
        return
    calm = _calm_bins(res)
    failed = res.bins.filter(pl.col("failures_active") > 0)["bin"].to_list()
    method = sc.quality
    if "start_hour" not in method.model_fields_set:
        method = method.model_copy(update={"start_hour": float(start_hour) % 24})
    access_load = {}
    for (pop,), part in res.access.group_by(["pop"]):
        arr = np.zeros(res.bins.height)
        arr[part["bin"].to_numpy()] = part["down_bytes"].to_numpy() * 8 / sc.bin_s
        access_load[str(pop)] = arr
    q = measure_quality(g, res.links, res.paths_for_bin(0), method=method, design=res.design, bin_s=sc.bin_s,
                        servers=servers, paths_for_bin=res.paths_for_bin, failure_bins=failed, access_load=access_load)
    res.quality, res.quality_hourly = q.summary, q.hourly
    s["quality_placement"] = placement
    # as a measurement campaign reports it: the evening peak (21-23h) in normal operation; what the
    # failure windows do is in the quality table's failure_ columns and in availability
    fail = q.samples.filter(pl.col("bin").is_in(pl.Series(failed, dtype=pl.Int64).implode()))
    if fail.height:
        w = fail["weight"].to_numpy()
        s["quality_failure_p50_mbps"] = weighted_quantile(fail["throughput_mbps"].to_numpy(), w, 0.5)
        s["quality_failure_unreachable_share"] = float(w[~fail["reachable"].to_numpy()].sum() / w.sum()) if w.sum() > 0 else None
    peak = q.samples.filter(pl.col("hour").is_in(list(sc.quality.peak_hours)) & pl.col("bin").is_in(calm.implode()))
    if peak.height:
        thr, w = peak["throughput_mbps"].to_numpy(), peak["weight"].to_numpy()
        s["quality_peak_p50_mbps"] = weighted_quantile(thr, w, 0.5)
        s["quality_peak_p10_mbps"] = weighted_quantile(thr, w, 0.1)
        rtt = peak["rtt_ms"].to_numpy()
        ok = np.isfinite(rtt)
        s["quality_peak_rtt_p50_ms"] = weighted_quantile(rtt[ok], w[ok], 0.5) if ok.any() else None


def _procurement(res: DesignResult, g, sc: Scenario, aggregators, reference: DesignResult | None, reference_g) -> pl.DataFrame:
    """Joint procurement of each aggregated ISP of the design (netsim.analysis.cost.joint_procurement):
    its members' upstream traffic as they carry it when each buys its own (the ``reference`` run: the
    first design of the run without an aggregated ISP, e.g. the baseline; without one the table is
    empty and ``procurement_reference`` is None), in normal operation (bins with a
    failure in force are left out: a dark Tokyo would hide the evening peak the lines are sized
    for), one line each vs one joint line sized on the peak of the sum, one transit bill each vs
    one on the 95th percentile of the sum. The line length is the aggregated ISP's longest own link
    (its joint upstream line, e.g. Utsunomiya to Otemachi; fibre km from latency), else 150 km."""
    from netsim.analysis.cost import MS_PER_KM, joint_procurement, member_upstream_series

    rows = []
    s = res.summary
    if aggregators and reference is None:
        # NOTE: the design's own member traffic is no stand-in: behind a shared cache one member carries the
        # others' fills, so their "separate" lines would be empty
        s["procurement_reference"] = None
    if aggregators and reference is not None:
        links = _plan_links(reference)
        s["procurement_reference"] = reference.design
        for agg_asn, members in sorted(aggregators.items()):
            series = member_upstream_series(reference_g, links, design=reference.design, bin_s=sc.bin_s,
                                            members=members)
            if not series:
                continue
            kms = [d["latency_ms"] / MS_PER_KM for u, v, d in g.edges(data=True)
                   if g.nodes[u]["asn"] == int(agg_asn) and d.get("latency_ms")]
            jp = joint_procurement(series, headroom=sc.cost.headroom, prices=sc.prices, line_km=max(kms) if kms else 150.0,
                                   line_step_gbps=sc.cost.line_step_gbps, split=sc.cost.split)
            rows.append(jp.members.with_columns(pl.lit(res.design).alias("design"), pl.lit(int(agg_asn)).alias("aggregator")))
            s["procurement_separate_per_month"] = s.get("procurement_separate_per_month", 0.0) + jp.separate["total"]
            s["procurement_joint_per_month"] = s.get("procurement_joint_per_month", 0.0) + jp.joint["total"]
            s["procurement_separate_line_gbps"] = s.get("procurement_separate_line_gbps", 0.0) + jp.separate["line_gbps"]
            s["procurement_joint_line_gbps"] = s.get("procurement_joint_line_gbps", 0.0) + jp.joint["line_gbps"]
            s["procurement_saving_per_month"] = s["procurement_separate_per_month"] - s["procurement_joint_per_month"]
            s["procurement_split"] = jp.split
    if not rows:
        return pl.DataFrame(schema=_PROCUREMENT_SCHEMA)
    return pl.concat(rows).select([pl.col(c).cast(t) for c, t in _PROCUREMENT_SCHEMA.items()])


def _load_forecast(sc: Scenario, history):
    """Fit the scenario's ``forecast.history`` (None without one; ``history``: the (frame, path) the scenario
    check read, netsim.sim.check.forecast_history): each series, plus ``total`` (their sum over the timestamps
    all of them have) when there are several."""
    from netsim.analysis.forecast import forecast

    spec = sc.forecast
    if spec is None or history is None:
        return None
    frame, path = history
    n = frame["series"].n_unique()
    if n > 1 and "total" not in frame["series"].to_list():
        total = (frame.group_by("timestamp").agg(pl.col("bps").sum(), pl.len().alias("_n"))
                 .filter(pl.col("_n") == n).select("timestamp", pl.lit("total").alias("series"), "bps"))
        frame = pl.concat([frame, total.sort("timestamp")])
    return forecast(frame, holdout=spec.holdout, horizon=spec.horizon, threshold=spec.threshold, source=str(path))


def _growth_of(fc) -> dict | None:
    if fc is None:
        return None
    return {r["series"]: r["growth_per_year"] for r in fc.evaluation.iter_rows(named=True)}


def _capacity_plan(design: str, links: pl.DataFrame, g, sc: Scenario, growth: dict | None) -> pl.DataFrame:
    """When each link of the design crosses the forecast threshold: its peak utilisation in normal
    operation (``links``: :func:`_plan_links`) grown at the forecast rate. A link takes the growth of
    series ``AS<asn>`` when exactly one of its ends belongs to an AS with such a series and
    neither end is an IX or a cache (that AS's traffic is what it carries), else of ``total``
    (an IX port or a shared cache carries every member's traffic; or the only series). Sorted by
    months, soonest first."""
    from netsim.analysis.forecast import months_to_threshold

    if not growth or not links.height:
        return pl.DataFrame(schema=_PLAN_SCHEMA)
    fallback = "total" if "total" in growth else (next(iter(growth)) if len(growth) == 1 else None)
    peaks = (links.group_by(["src", "dst"]).agg(pl.col("bps").max(), pl.col("utilisation").max())
             .sort(["src", "dst"]))
    thr = sc.forecast.threshold
    rows = []
    for src, dst, bps, util in peaks.iter_rows():
        names = sorted({f"AS{g.nodes[n]['asn']}" for n in (src, dst)} & set(growth))
        shared = any(g.nodes[n].get("kind") in ("ix", "cache") for n in (src, dst))
        series = names[0] if len(names) == 1 and not shared else fallback
        if series is None:
            continue
        gr = growth[series]
        rows.append({"design": design, "src": src, "dst": dst, "capacity_gbps": float(g.edges[src, dst]["capacity_gbps"]),
                     "peak_bps": float(bps), "peak_utilisation": float(util), "growth_series": series,
                     "growth_per_year": gr, "months_to_threshold": months_to_threshold(float(util), gr, thr),
                     "threshold": thr})
    if not rows:
        return pl.DataFrame(schema=_PLAN_SCHEMA)
    return pl.DataFrame(rows, schema=_PLAN_SCHEMA).sort(["months_to_threshold", "peak_utilisation", "src", "dst"],
                                                          descending=[False, True, False, False])


def _link_prefetch(sc: Scenario, runs: list[DesignResult]) -> None:
    """For each design with a ``prefetch`` transform, the design it is compared with (``prefetch_of``: its
    ``compare_with``, else the design with the same transforms but the prefetch) and the backbone peak
    and 95th percentile the prefetch saved against it (positive: lower with prefetch), once both ran."""
    specs = {d.name: d.transforms for d in sc.designs}
    chosen = {d.name: d.compare_with for d in sc.designs}
    by_name = {r.design: r for r in runs}
    for r in runs:
        own = specs.get(r.design) or []
        if not any("prefetch" in t for t in own):
            continue
        rest = [t for t in own if "prefetch" not in t]
        of = chosen.get(r.design) or next((n for n, t in specs.items() if n != r.design and t == rest), None)
        of = of if of in by_name else None
        r.summary["prefetch_of"] = of
        if of is None:
            continue
        base = by_name[of].summary
        r.summary["prefetch_peak_backbone_saved_bps"] = base["backbone_peak_bps"] - r.summary["backbone_peak_bps"]
        r.summary["prefetch_p95_backbone_saved_bps"] = base["backbone_p95_bps"] - r.summary["backbone_p95_bps"]


def run(scenario: Scenario | str | Path, out_dir: str | Path | None = None, *, seed: int | None = None,
        on_bin: Callable[[str, int, int], None] | None = None, base_topology=None,
        checked: ScenarioCheck | None = None) -> Results:
    """Simulate every design of a scenario (a Scenario, a file, or a shipped name) on the same traffic.

    With ``out_dir``, tables and summary.json are (re)written after each design completes, so an
    interrupted run keeps the designs already done; on Ctrl-C the design in progress keeps the bins
    it finished (its summary says ``interrupted``), the files are written, and KeyboardInterrupt
    is raised again. ``base_topology`` is the scenario's topology already parsed (callers that run
    many variants of one scenario, e.g. sweeps, parse it once; it is not modified). ``checked``: the scenario's
    :func:`netsim.sim.check.check_scenario` already done (the CLI checks before it shows progress bars).

    Examples
    --------
    >>> res = run("tochigi")                                   # doctest: +SKIP
    >>> res.bins.group_by("design").agg(pl.col("backbone_bps").max())  # doctest: +SKIP
    """
    from netsim.topology import load_topology

    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    if seed is not None:
        sc = sc.model_copy(update={"seed": int(seed)})
    if base_topology is None:
        base_topology = checked.topology if checked is not None else \
            load_topology(sc.resolve("topologies", sc.topology, where="topology"))
    g0 = base_topology
    # before simulating anything: every design, failure and file the scenario names (netsim.sim.check), so a
    # misspelt node in the last design is not found after the others were simulated
    if checked is None or checked.topology is not g0:
        checked = check_scenario(sc, g0)
    for w in checked.warnings:
        warnings.warn(f"{sc.source or sc.name}: {w}", ScenarioWarning, stacklevel=2)
    fc = _load_forecast(sc, checked.history)  # the check read it; a fit that fails is said before simulating
    if out_dir is None:
        return _run(sc, checked, fc, None, on_bin)
    with claim_output(out_dir):  # before simulating: an unusable -o, or another run writing there, is said at once
        return _run(sc, checked, fc, out_dir, on_bin)


class ScenarioWarning(UserWarning):
    """Something that makes a run's numbers misleading without being an error (netsim.sim.check)."""


def claim_output(out_dir):
    """Make ``out_dir`` (a directory, created if need be) this process's for the length of a run.

    A lock file (``.netsim-run.lock``, holding the pid) is created exclusively: while another live
    process holds it, InputError at once (two runs writing one directory would mix their tables); a
    lock left by a process that is gone is taken over. A directory that cannot be created or written
    is an InputError before anything is simulated. The lock is removed when the run ends, however.
    """
    import contextlib
    import os

    from netsim.errors import InputError

    out = Path(out_dir)

    @contextlib.contextmanager
    def claim():
        try:
            out.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise InputError(f"{out} exists and is not a directory", where="-o") from None
        except OSError as e:
            raise InputError(f"cannot create the output directory {out}: {e.strerror}", where="-o") from None
        lock = out / ".netsim-run.lock"
        for _ in range(2):
            try:
                fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
                break
            except FileExistsError:
                other = _lock_owner(lock)
                if other is not None and other != os.getpid():
                    raise InputError(f"another netsim run (pid {other}) is writing to {out}; wait for it to end "
                                     "or choose another -o", where="-o") from None
                lock.unlink(missing_ok=True)   # its process is gone: a stale lock
            except OSError as e:
                raise InputError(f"cannot write to the output directory {out}: {e.strerror}", where="-o") from None
        else:
            raise InputError(f"cannot lock the output directory {out}", where="-o")
        try:
            os.write(fd, f"{os.getpid()}\n".encode())
        finally:
            os.close(fd)
        try:
            yield out
        finally:
            if _lock_owner(lock) == os.getpid():
                lock.unlink(missing_ok=True)

    return claim()


def _lock_owner(lock: Path) -> int | None:
    """The pid in a lock file if that process is alive, else None."""
    import os

    try:
        pid = int(lock.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:   # alive, another user's
        return pid
    return pid


def _run(sc: Scenario, checked: ScenarioCheck, fc, out_dir, on_bin) -> "Results":
    done: list[DesignResult] = []
    graphs: dict = {}
    servers: tuple = (None, None)
    growth = _growth_of(fc)
    for i, design in enumerate(sc.designs):
        g = checked.graphs[design.name]
        graphs[design.name] = g
        if i == 0:
            servers = _servers(g, sc.quality.placement)
        traffic = traffic_source(sc, g)
        if i == 0 and sc.resilience.n1:
            from netsim.analysis.resilience import busy_hour_demand

            busy = busy_hour_demand(traffic.trace, scale=traffic.scale)
        cb = None if on_bin is None else (lambda b, n, _d=design.name: on_bin(_d, b, n))
        warm: dict = {}   # the caches after the warm-up, for the failure-free replay below
        done.append(DesignResult.of(run_design(sc, design, g, traffic, on_bin=cb, warm=warm)))
        if sc.planning.basis == "normal" and (sc.failures.schedule or sc.failures.random) \
                and not done[-1].summary.get("interrupted"):
            # the same design on an ordinary day (no failure), for the cost, procurement and capacity plan
            calm_sc = sc.model_copy(update={"failures": FailureSpec()})
            cb2 = None if on_bin is None else (lambda b, n, _d=f"{design.name} (no failures, for planning)": on_bin(_d, b, n))
            normal = run_design(calm_sc, design, g, traffic_source(calm_sc, g), on_bin=cb2, warm=warm)
            if normal.summary.get("interrupted"):
                done[-1].summary["interrupted"] = True
            done[-1].normal_links = normal.links
        done[-1].summary["start_hour"] = traffic.start_hour
        done[-1].summary["planning_basis"] = (
            "failure-free replay" if done[-1].normal_links is not None
            else "run, failure bins left out" if (sc.failures.schedule or sc.failures.random) else "run")
        # the members' separate purchase: the first design run without an aggregated ISP (e.g. the baseline)
        ref = next((r for r in done if not graphs[r.design].graph.get("aggregators")), None)
        _analyse(done[-1], g, sc, servers=servers, reference=ref, reference_g=graphs[ref.design] if ref else None,
                 growth=growth, start_hour=traffic.start_hour)
        if sc.resilience.n1:
            _resilience(done[-1], g, sc, busy)
        else:
            done[-1].resilience = _NO_RESILIENCE
        if ref is not None:  # aggregated designs that ran before any design of separate buyers
            for r in done[:-1]:
                aggs = graphs[r.design].graph.get("aggregators")
                if aggs and r.summary.get("procurement_reference") is None:
                    r.procurement = _procurement(r, graphs[r.design], sc, aggs, ref, graphs[ref.design])
        _link_prefetch(sc, done)
        if out_dir is not None:
            Results.combine(sc.name, done, graphs, fc, warnings=checked.warnings).write(out_dir, scenario=sc)
        if done[-1].summary.get("interrupted"):
            raise KeyboardInterrupt
    return Results.combine(sc.name, done, graphs, fc, warnings=checked.warnings)
