"""Check a scenario without simulating it: every file, node, metro, design transform and failure it names.

``netsim scenario check FILE`` runs :func:`check_scenario` alone; ``netsim run`` runs it before the
first design, so a misspelt node in the last design fails at once instead of after the others were
simulated. Nothing here reads a whole trace or generates a shipped one: a trace file's columns and
first rows are checked, a shipped trace's name is checked against its recipe.

Warnings are things that make a run's numbers meaningless without being errors: no origin node for
content, no backbone link, no subscribers, a region with no node, every link at the capacity the
readers fill in when a file gives none, a scheduled failure after the run's end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx

from netsim.errors import InputError
from netsim.scenario import Scenario

__all__ = ["ScenarioCheck", "check_scenario"]


@dataclass
class ScenarioCheck:
    """What :func:`check_scenario` found: each design's topology (ready to simulate) and the warnings."""

    topology: nx.DiGraph
    graphs: dict[str, nx.DiGraph] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    trace: str = ""
    #: the forecast history read (frame, path), or None (netsim.sim.run fits it; read once)
    history: tuple | None = None


def check_scenario(sc: Scenario, g0: nx.DiGraph | None = None) -> ScenarioCheck:
    """Validate everything the scenario names; InputError (one located line) at the first problem.

    Examples
    --------
    >>> from netsim.scenario import load_scenario
    >>> c = check_scenario(load_scenario("tochigi"))
    >>> list(c.graphs), c.warnings
    (['baseline', 'regional_ix', 'regional_ix+shared_cache', 'aggregated_isp'], [])
    """
    from netsim.sim.failures import resolve_target
    from netsim.topology import load_topology
    from netsim.topology.designs import apply_design

    if g0 is None:
        g0 = load_topology(sc.resolve("topologies", sc.topology, where="topology"))
    out = ScenarioCheck(topology=g0)
    out.trace = _check_trace(sc, g0)
    if sc.caches.warmup:
        _check_trace_name(sc, sc.caches.warmup, where="caches.warmup")
    out.history = forecast_history(sc)
    for i, design in enumerate(sc.designs):
        g = apply_design(g0, design.name, design.transforms, source=sc.source, where=f"designs[{i}]")
        pf = g.graph.get("prefetch")
        if pf is not None and pf.history is not None:   # the popularity history a prefetch ranks from
            j = next(k for k, t in enumerate(design.transforms) if "prefetch" in t)
            _check_trace_name(sc, pf.history, where=f"designs[{i}].transforms[{j}].prefetch.history")
        for j, ev in enumerate(sc.failures.schedule):
            kind, value = ev.target
            try:
                resolve_target(g, kind, value, where=f"failures.schedule[{j}].{kind}", source=sc.source)
            except InputError as e:
                raise InputError(f"{e.message} (in design {design.name!r})", source=sc.source, where=e.where) from None
        out.graphs[design.name] = g
    end = _run_end(sc, out.trace)
    if end is not None:   # otherwise the run says so when it knows its length, before it draws any
        from netsim.sim.failures import check_random_failures, random_elements

        for kind, rates in sorted(sc.failures.random.items()):
            for g in out.graphs.values():
                check_random_failures(kind, rates, len(random_elements(g, kind)), end, source=sc.source)
    out.warnings = topology_warnings(g0, backbone_tags=sc.backbone.tags) + _failure_time_warnings(sc, end)
    return out


def _run_end(sc: Scenario, trace: str) -> float | None:
    """The run's length in seconds: the scenario's duration, a generator's, a trace file's metadata, or (when the
    scenario has failures to check against it) the trace's last ``ts``, as the run takes it; None if unknown."""
    end = sc.duration or sc.traffic.duration
    if end is None and sc.traffic.trace is not None and Path(trace).is_file():
        from netsim.traffic import trace_meta

        end = trace_meta(trace).get("duration_s")
        if end is None and (sc.failures.schedule or sc.failures.random):
            end = _last_ts(Path(trace))
    return None if end is None else float(end)


def _last_ts(path: Path) -> float | None:
    """A trace file's last ``ts`` + 1e-9 (the run's length; netsim.sim.sources): Parquet from its statistics, a CSV
    by a scan of that column; None when it cannot be had cheaply (an importer's format)."""
    import polars as pl

    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            last = pl.scan_parquet(path).select(pl.col("ts").max()).collect().item()
        elif path.suffix.lower() == ".csv":
            last = pl.scan_csv(path, infer_schema=False).select(pl.col("ts").cast(pl.Float64, strict=False).max()).collect().item()
        else:
            return None
    except pl.exceptions.PolarsError:   # the run says what is wrong with the file
        return None
    return None if last is None else float(last) + 1e-9


def _failure_time_warnings(sc: Scenario, end: float | None) -> list[str]:
    """A scheduled failure that starts after the run ends never happens: said, not silently dropped (a warning,
    as a shortened copy of a scenario legitimately cuts its later failures), when the run's length is known here
    (the scenario's duration, a generator's, or a trace file's metadata)."""
    if end is None:
        return []
    return [f"failures.schedule[{j}] starts at {ev.at:,.0f} s, after the run ends ({float(end):,.0f} s): it will not "
            "happen (times count from the run's start: 00:10 is ten minutes in)"
            for j, ev in enumerate(sc.failures.schedule) if ev.at >= float(end)]


def topology_warnings(g: nx.DiGraph, *, backbone_tags=("backbone",)) -> list[str]:
    """What makes a run on ``g`` misleading though nothing is invalid (see the module docstring).

    Examples
    --------
    >>> g = nx.DiGraph(metros={"m": {"region": "r"}, "n": {"region": "empty"}})
    >>> g.add_node("a", kind="pop", asn=1, metro="m", region="r", subscribers=0)
    >>> for w in topology_warnings(g): print(w)
    no node has subscribers: nothing is offered (give access PoPs `subscribers`)
    no origin node: content requests have no source and are all unreachable (add `kind: origin` nodes, one per provider)
    no backbone link (no link tagged backbone, and none reaches a core metro): backbone figures will be 0
    region 'empty' (metros n) has no node
    """
    from netsim.sim.engine import backbone_links

    out = []
    kinds = [d.get("kind") for _, d in g.nodes(data=True)]
    if not any(d.get("subscribers", 0) > 0 for _, d in g.nodes(data=True)):
        out.append("no node has subscribers: nothing is offered (give access PoPs `subscribers`)")
    if "origin" not in kinds:
        out.append("no origin node: content requests have no source and are all unreachable "
                   "(add `kind: origin` nodes, one per provider)")
    if not backbone_links(g, tags=backbone_tags, auto=True):
        out.append(f"no backbone link (no link tagged {', '.join(backbone_tags)}, and none reaches a core metro): "
                   "backbone figures will be 0")
    from netsim.topology.adopt import DEFAULT_CAPACITY_GBPS

    caps = {round(float(d.get("capacity_gbps", 0.0)), 9) for _, _, d in g.edges(data=True)}
    if g.number_of_edges() >= 4 and caps == {DEFAULT_CAPACITY_GBPS}:
        out.append(f"every link has {DEFAULT_CAPACITY_GBPS:g} Gbps, what the readers assume when a file gives no "
                   "capacity: utilisation and congestion mean nothing until capacities are set "
                   "(netsim topo adopt --capacity-gbps, or the file)")
    used = {d.get("region") for _, d in g.nodes(data=True)}
    by_region: dict = {}
    for m, d in (g.graph.get("metros") or {}).items():
        if d.get("region"):
            by_region.setdefault(d["region"], []).append(m)
    for region, metros in sorted(by_region.items()):
        if region not in used:
            out.append(f"region {region!r} (metros {', '.join(sorted(metros))}) has no node")
    return out


def _check_trace(sc: Scenario, g0: nx.DiGraph) -> str:
    """The trace (or generator) the scenario names: a file's columns and first rows against the topology, a
    shipped trace's recipe, a generator's name. Returns what it is, for the summary line."""
    spec = sc.traffic
    if spec.trace is None:
        from netsim.traffic import GENERATORS

        if spec.generator not in GENERATORS:
            raise InputError(f"unknown generator {spec.generator!r}; known: {', '.join(GENERATORS.names())}",
                             source=sc.source, where="traffic.generator")
        return f"generator {spec.generator}"
    path = _check_trace_name(sc, spec.trace, where="traffic.trace")
    if path is None:
        return f"shipped trace {spec.trace} (generated on first use)"
    from netsim.traffic.io import open_validated

    try:
        first = next(iter(open_validated(path, g0, batch_rows=10_000)), None)   # columns, types and node ids; the
    except InputError as e:                                                   # run validates every row
        raise e.located(source=str(path)) from None
    if first is None:
        # NOTE: the run failed on it later, in the analyses ("design 'baseline' is not in the links table (found )")
        raise InputError("the trace has no rows; expected at least one request or flow", source=str(path))
    return str(path)


def _check_trace_name(sc: Scenario, name: str, *, where: str) -> Path | None:
    """A trace file the scenario names (its path), or a shipped trace's name (None: not generated here)."""
    from netsim.traffic.recipes import _variant

    base = Path(sc.base_dir) if sc.base_dir else None
    p = Path(name)
    if (base is not None and not p.is_absolute() and (base / p).exists()) or p.exists():
        return sc.resolve("traces", name, where=where)
    try:
        if _variant(name) is not None:
            return None
    except InputError as e:
        raise InputError(e.message, source=sc.source, where=where) from None
    return sc.resolve("traces", name, where=where)   # a shipped file, or the error naming the place


def forecast_history(sc: Scenario):
    """The scenario's ``forecast.history`` read (``timestamp, series, bps``), or None without one: a file
    relative to the scenario, or a shipped history by name with or without its ``.csv``. Errors name the file."""
    from netsim.analysis.forecast import read_series_csv

    spec = sc.forecast
    if spec is None:
        return None
    try:
        path = sc.resolve("traces", spec.history, where="forecast.history")
    except InputError as e:
        try:  # a shipped history by name, without its .csv
            path = sc.resolve("traces", f"{spec.history}.csv")
        except InputError:
            raise e from None
    if path.suffix.lower() != ".csv":
        raise InputError(f"{spec.history}: expected a CSV of measured traffic (timestamp, series, bps), found a "
                         f"{path.suffix or 'file without extension'} (a trace goes in traffic, caches.warmup or "
                         "prefetch.history)", source=sc.source, where="forecast.history")
    return read_series_csv(path).select("timestamp", "series", "bps"), path


def _q(name) -> str:
    """A node or metro id as a YAML string (quoted: an id such as 9 or yes would be read as a number or a bool)."""
    import json

    return json.dumps(str(name))


def starter_scenario(topology: str, g: nx.DiGraph, *, name: str | None = None) -> str:
    """The text of a runnable, commented starter scenario for topology ``topology`` (as the scenario will name
    it) whose graph is ``g``: the network as drawn, a shared cache at the largest access PoP, a regional IX at
    the metro where most access ASes meet (when there are two or more), and the core metro dark for 30 minutes
    at the evening peak (its busiest metro when none is marked core). Traffic is generated (``mixed``: content
    from the origins, and flows between subscribers), two evening hours."""
    access = {}
    for n, d in g.nodes(data=True):
        if d.get("kind") == "pop" and d.get("subscribers", 0) > 0:
            access.setdefault(d["asn"], []).append(n)
    if not access:
        raise InputError("the topology has no access PoP (a pop node with subscribers > 0): "
                         "netsim topo adopt gives it subscribers", where="topology")
    big = max((n for ns in access.values() for n in ns), key=lambda n: (g.nodes[n]["subscribers"], str(n)))
    core = sorted(m for m, d in (g.graph.get("metros") or {}).items() if d.get("core"))
    metro_subs: dict = {}
    for n, d in g.nodes(data=True):
        metro_subs[d.get("metro")] = metro_subs.get(d.get("metro"), 0) + d.get("subscribers", 0)
    dark = core[0] if core else max((m for m in metro_subs if m is not None), key=lambda m: (metro_subs[m], str(m)))
    lines = [
        f"# Starter scenario for {topology}, written by `netsim scenario new`: edit freely, then",
        "# `netsim scenario check` it and `netsim run` it. Every key: docs/reference.md.",
        f"name: {name or (g.graph.get('name') or 'my-network')}",
        f"topology: {topology}",
        "traffic:",
        "  generator: mixed      # content from the topology's origins + flows between subscribers (docs/sample-rates.md)",
        "  duration: 2h",
        "  options: {start_hour: 20, sample_rate: 0.001}   # the evening peak; raise sample_rate for finer peaks",
        "bin_s: 300",
        "seed: 1",
        "failures:",
        "  schedule:",
        f"    - {{at: 1h, duration: 30m, metro: {_q(dark)}}}   # from 21:00 (times count from the run's start), "
        f"{'the core metro' if core else 'the busiest metro'} dark",
        "designs:",
        "  - baseline            # the network as drawn",
        "  - name: shared_cache  # a 10 TB cache beside the largest access PoP",
        "    transforms:",
        f"      - shared_cache: {{host: {_q(big)}, capacity_tb: 10, link_gbps: 400, serves: [{', '.join(str(a) for a in sorted(access))}]}}",
    ]
    if len(access) >= 2:
        by_metro: dict = {}
        for a, ns in access.items():
            for n in ns:
                by_metro.setdefault(g.nodes[n].get("metro"), set()).add(a)
        site = max((m for m in by_metro if m is not None), key=lambda m: (len(by_metro[m]), metro_subs.get(m, 0), str(m)))
        members = ", ".join(str(a) for a in sorted(access))
        lines += [
            f"  - name: regional_ix  # the access ASes peer at a new IX in {site}, where most of them meet",
            "    transforms:",
            f"      - regional_ix: {{ix: regional-ix, metro: {_q(site)}, asn: 64999, members: [{members}], port_gbps: 100}}",
        ]
    return "\n".join(lines) + "\n"
