"""A fast N-1 pass over a design: which single failure leaves the most of the survivors' busy hour without a route.

Replaying a day per failure (``netsim sweep``) is the thorough answer; this is the quick one every
run gives. The busy hour of the run's trace (its busiest hour, as rates) is taken, and for each
metro and each node of the design taken down alone:

* the *survivors* are the subscribers whose own PoP is up (a dark PoP's own subscribers cannot be
  served by any design, so they are left out, as in the run's ``availability_survivors``);
* a flow is served when a route joins its two ends;
* content is served when the provider's nearest live origin is reachable (through the design's
  caches, as the run resolves it); when it is not, a live cache that the client reaches serves the
  share ``cache_offload`` of it (the whole-mix offload the run measured for this design: what the
  cache held on an ordinary day, an approximation of what it holds when the origin goes dark).

Availability here is served / offered over the survivors' busy hour, with routes only: congestion
is the replay's business. A failure that leaves less than ``spof_below`` (default 50 %) of it is a
*single point of failure* of the design.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import polars as pl

from netsim.errors import InputError

__all__ = ["busy_hour_demand", "n1_resilience", "SPOF_BELOW"]

#: below this survivor availability a single failure is flagged as a single point of failure (assumption)
SPOF_BELOW = 0.5


def busy_hour_demand(trace, *, bin_s: float = 3600.0, scale: float | None = None) -> pl.DataFrame:
    """The busiest ``bin_s`` window of a trace (by bytes), as full-load rates per (src, dst, provider).

    ``trace``: a trace file or shipped name, or a polars frame in the trace schema; ``scale``: what a
    byte stands for (default: the file's metadata; 1 for a frame).

    Examples
    --------
    >>> d = busy_hour_demand("tochigi-1d@0.001")
    >>> sorted(d.columns), bool((d["bytes_per_s"] > 0).all())
    (['bytes_per_s', 'dst', 'provider', 'src'], True)
    """
    from netsim.traffic.io import read_trace, trace_meta

    if isinstance(trace, (pl.DataFrame, pl.LazyFrame)):
        lf = trace.lazy()
        scale = 1.0 if scale is None else float(scale)
    else:
        lf = read_trace(trace, validate=False)
        scale = float(trace_meta(trace).get("scale", 1.0)) if scale is None else float(scale)
    lf = lf.select("ts", "src", "dst", "provider", "bytes")
    win = (pl.col("ts") // bin_s).cast(pl.Int64).alias("win")
    per = lf.group_by(win).agg(pl.col("bytes").sum()).sort(["bytes", "win"], descending=[True, False]).head(1).collect()
    if per.height == 0:
        raise InputError("the trace has no rows: no busy hour to test failures with", source=str(trace))
    busiest = per["win"][0]
    return (lf.filter(win == busiest).group_by("src", "dst", "provider").agg(pl.col("bytes").sum())
            .with_columns((pl.col("bytes") * scale / bin_s).alias("bytes_per_s"))
            .select("src", "dst", "provider", "bytes_per_s").sort("src", "dst", "provider", nulls_last=True).collect())


def _elements(g: nx.DiGraph) -> list[tuple[str, str, list[str]]]:
    """(kind, name, nodes down) for every metro with nodes and every node."""
    by_metro: dict[str, list[str]] = {}
    for n, d in g.nodes(data=True):
        by_metro.setdefault(str(d.get("metro")), []).append(n)
    out = [("metro", m, sorted(ns, key=str)) for m, ns in sorted(by_metro.items())]
    out += [("node", str(n), [n]) for n in sorted(g.nodes, key=str)]
    return out


def n1_resilience(g: nx.DiGraph, demand: pl.DataFrame, *, cache_offload: float = 0.0, igp_weight: str = "latency_ms",
                  multipath: bool = False) -> pl.DataFrame:
    """Per single failure (each metro, each node): the survivors' busy-hour availability, worst first.

    Columns: ``kind`` (metro / node), ``element``, ``survivor_gbps`` (busy-hour demand of subscribers
    whose PoP is up), ``served_gbps``, ``availability`` (served / survivor; null when no survivor).

    Examples
    --------
    >>> from netsim.topology import load_topology
    >>> from netsim.traffic.generators import expected_demand
    >>> g = load_topology("tochigi")
    >>> r = n1_resilience(g, expected_demand(g))
    >>> r.row(0, named=True)["element"]   # every byte of content comes through Tokyo
    'tokyo-otemachi'
    """
    from netsim import routing
    from netsim.cache.resolve import CacheSystem

    if not 0.0 <= cache_offload <= 1.0:
        raise InputError(f"cache_offload must be in [0, 1], found {cache_offload!r}", where="cache_offload")
    nodes = set(g.nodes)
    d = demand.filter(pl.col("src").is_in(list(nodes)) & (pl.col("dst").is_null() | pl.col("dst").is_in(list(nodes))))
    content = d.filter(pl.col("provider").is_not_null() & pl.col("dst").is_null())
    flows = d.filter(pl.col("dst").is_not_null())
    net = routing.compile(g, igp_weight=igp_weight)
    base = net.route(multipath=multipath)
    system = CacheSystem(g, distance=base.distance_function())
    known = set(system.origin_providers)
    content = content.filter(pl.col("provider").is_in(sorted(known)))
    c_vol = content["bytes_per_s"].to_numpy()
    f_src, f_dst, f_vol = flows["src"].to_list(), flows["dst"].to_list(), flows["bytes_per_s"].to_numpy()
    f_si, f_di = np.asarray(net.index(f_src), dtype=np.int64), np.asarray(net.index(f_dst), dtype=np.int64)
    f_dst_arr = np.array(f_dst, dtype=object)
    c_src_arr = np.array(content["src"].to_list(), dtype=object)
    frame = content.select("src", "provider", pl.lit(0, pl.UInt64).alias("obj"), pl.lit(1, pl.Int64).alias("bytes"))
    rows = []
    for kind, name, down in _elements(g):
        dn = set(down)
        routes = base.without(nodes=down)
        dist = routes.distance_function()
        # survivors: content to an up client; a flow to an up receiver
        c_live = ~np.isin(c_src_arr, down)
        f_live = ~np.isin(f_dst_arr, down)
        survivor = float(c_vol[c_live].sum() + f_vol[f_live].sum())
        served = 0.0
        if f_live.any():
            idx = np.flatnonzero(f_live)
            ok = routes.reachable_idx(f_si[idx], f_di[idx])
            served += float(f_vol[idx][ok].sum())
        if c_live.any() and frame.height:
            system.clear()   # each failure starts from empty caches: what one state admits must not serve the next
            r = system.resolve(frame, down=dn, distance=dist)
            unreach = r["unreachable"].to_numpy()
            served += float(c_vol[c_live & ~unreach].sum())
            if cache_offload > 0:
                cache = r["cache"].to_numpy()
                lost = np.flatnonzero(c_live & unreach)
                lost = lost[np.array([cache[i] is not None and cache[i] not in dn for i in lost], dtype=bool)]
                if len(lost):
                    ok = ~routes.unreachable(list(cache[lost]), list(c_src_arr[lost]))
                    served += cache_offload * float(c_vol[lost][ok].sum())
        rows.append({"kind": kind, "element": name, "survivor_gbps": survivor * 8e-9, "served_gbps": served * 8e-9,
                     "availability": served / survivor if survivor > 0 else None})
    return (pl.DataFrame(rows, schema={"kind": pl.Utf8, "element": pl.Utf8, "survivor_gbps": pl.Float64,
                                       "served_gbps": pl.Float64, "availability": pl.Float64})
            .sort(["availability", "kind", "element"], nulls_last=True))
