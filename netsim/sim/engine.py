"""The simpy engine: replay a trace bin by bin through routing, caches and congestion, under failures.

One ``simpy.Environment`` per design. Two kinds of process share it:

* the **failure process** walks the failure timeline (scheduled + random events) and changes
  the set of down nodes and links; a cache that comes back up restarts cold or warm;
* the **replay process** wakes at every bin start and processes the bin with the state then in
  force (an event at a bin boundary is applied before that bin: it was scheduled earlier).

Per bin: content requests are resolved through the caches (hit: cache → client; miss: the fill
source → cache → client); flows and request segments are aggregated per (src, dst); unreachable
demands (no route, or an endpoint down) are set aside; the rest are assigned to links with the
current routes (re-routed incrementally on each failure state); where a link is loaded above
capacity the demands crossing overloaded links are cut max-min fairly (netsim.sim.congestion), so
no link carries more than its capacity. Per bin the client-facing invariant holds:
offered = delivered + dropped + unreachable.

A design with the ``prefetch`` transform also pushes forecast-popular objects into its caches every
day off-peak (:class:`_Prefetch`): those bytes load the links like any demand but are counted apart,
in the ``prefetch_*`` columns (prefetch = delivered + dropped + unreachable for them too).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import networkx as nx
import numpy as np
import polars as pl
import simpy

from netsim.scenario import DesignSpec, Scenario
from netsim.sim.congestion import max_min_rates
from netsim.sim.failures import Change, FailureState, build_timeline
from netsim.sim.metrics import BinCollector, group_sums, weighted_quantile

__all__ = ["RunResult", "run_design", "backbone_links"]

GBPS_TO_BYTES_PER_S = 1e9 / 8


@dataclass
class RunResult:
    """Tables of one design run (polars frames) and its summary record."""

    design: str
    bins: pl.DataFrame
    links: pl.DataFrame
    caches: pl.DataFrame
    pairs: pl.DataFrame
    services: pl.DataFrame
    cost: pl.DataFrame | None = None  # per member monthly cost (filled by netsim.sim.run)
    quality: pl.DataFrame | None = None  # per ISP, peak vs off-peak (filled by netsim.sim.run)
    quality_hourly: pl.DataFrame | None = None  # per ISP and hour of day (filled by netsim.sim.run)
    procurement: pl.DataFrame | None = None  # joint vs separate procurement of an aggregated ISP (netsim.sim.run)
    capacity_plan: pl.DataFrame | None = None  # when links cross the forecast threshold (netsim.sim.run)
    #: the link loads of the same design replayed without failures (netsim.sim.run, planning.basis normal)
    normal_links: pl.DataFrame | None = field(default=None, repr=False)
    summary: dict = field(default_factory=dict)
    #: ``paths_for_bin(b)`` -> the ``paths(src, dst)`` of the routes in force in bin b (for the quality method)
    paths_for_bin: Callable | None = field(default=None, repr=False)


def backbone_links(g: nx.DiGraph, *, tags, auto: bool = True) -> list[tuple]:
    """Links counted as backbone: those carrying any of ``tags``; if none does and ``auto``, the
    inter-metro links with an endpoint in a core metro (graph attr ``metros[m]['core']``)."""
    tags = set(tags)
    out = [(u, v) for u, v, d in g.edges(data=True) if tags & set(d.get("tags", ()))]
    if out or not auto:
        return sorted(out, key=lambda e: (str(e[0]), str(e[1])))
    core = {m for m, d in g.graph.get("metros", {}).items() if d.get("core")}
    out = [(u, v) for u, v in g.edges
           if g.nodes[u]["metro"] != g.nodes[v]["metro"] and ({g.nodes[u]["metro"], g.nodes[v]["metro"]} & core)]
    return sorted(out, key=lambda e: (str(e[0]), str(e[1])))


_SCHEMAS = {
    "bins": {
        "design": pl.Utf8, "bin": pl.Int64, "ts_s": pl.Float64, "offered_bytes": pl.Float64,
        "delivered_bytes": pl.Float64, "dropped_bytes": pl.Float64, "unreachable_bytes": pl.Float64,
        "offered_bps": pl.Float64, "delivered_bps": pl.Float64, "backbone_bps": pl.Float64,
        "local_share": pl.Float64, "local_bytes": pl.Float64, "same_region_bytes": pl.Float64, "cache_requests": pl.Int64, "cache_hits": pl.Int64, "cache_bytes_requested": pl.Float64, "cache_bytes_hit": pl.Float64,
        "cache_hit_ratio": pl.Float64, "cache_byte_hit_ratio": pl.Float64, "rtt_p50_ms": pl.Float64,
        "rtt_p95_ms": pl.Float64, "failures_active": pl.Int64, "max_utilisation": pl.Float64,
        "prefetch_bytes": pl.Float64, "prefetch_delivered_bytes": pl.Float64, "prefetch_dropped_bytes": pl.Float64,
        "prefetch_unreachable_bytes": pl.Float64,
    },
    "links": {
        "design": pl.Utf8, "bin": pl.Int64, "ts_s": pl.Float64, "src": pl.Utf8, "dst": pl.Utf8,
        "load_bytes": pl.Float64, "bps": pl.Float64, "utilisation": pl.Float64, "dropped_bytes": pl.Float64,
        "backbone": pl.Boolean,
    },
    "caches": {
        "design": pl.Utf8, "bin": pl.Int64, "ts_s": pl.Float64, "cache": pl.Utf8, "requests": pl.Int64,
        "hits": pl.Int64, "bytes_requested": pl.Float64, "bytes_served": pl.Float64, "fill_bytes": pl.Float64,
        "up": pl.Boolean, "prefetch_bytes": pl.Float64,
    },
    "services": {
        "design": pl.Utf8, "bin": pl.Int64, "ts_s": pl.Float64, "service": pl.Utf8, "region": pl.Utf8,
        "offered_bytes": pl.Float64, "delivered_bytes": pl.Float64, "unreachable_bytes": pl.Float64,
        "failures_active": pl.Int64,
    },
    "pairs": {
        "design": pl.Utf8, "bin": pl.Int64, "src_region": pl.Utf8, "dst_region": pl.Utf8, "served_from": pl.Utf8,
        "offered_bytes": pl.Float64, "delivered_bytes": pl.Float64,
    },
}


class _DesignRun:
    """State of one design's simulation: routes per failure state, caches, collectors."""

    def __init__(self, scenario: Scenario, design: str, g: nx.DiGraph, *, duration_s: float, scale: float,
                 sample_rate: float):
        from netsim import routing

        self.scenario, self.design, self.g = scenario, design, g
        self.bin_s = float(scenario.bin_s)
        self.scale = float(scale) * scenario.traffic.growth
        self.n_bins = max(1, int(math.ceil(duration_s / self.bin_s - 1e-9)))
        self.duration_s = duration_s
        self.net = routing.compile(g, igp_weight=scenario.routing.igp_weight)
        self.links = list(self.net.links)
        self.base_routes = self.net.route(multipath=scenario.routing.multipath)
        self._routes: dict[tuple, object] = {FailureState().key(): self.base_routes}
        self.cap_bytes = np.array([g.edges[e]["capacity_gbps"] for e in self.links]) * GBPS_TO_BYTES_PER_S * self.bin_s
        bb = set(backbone_links(g, tags=scenario.backbone.tags, auto=scenario.backbone.auto))
        self.backbone = np.array([e in bb for e in self.links], dtype=bool)
        self.region = {n: str(g.nodes[n]["region"]) for n in g.nodes}
        self.metro_core = {m for m, d in g.graph.get("metros", {}).items() if d.get("core")}
        self.asn = {n: g.nodes[n]["asn"] for n in g.nodes}
        self.state = FailureState()
        self.timeline = build_timeline(g, scenario.failures, duration_s=duration_s, seed=scenario.seed,
                                       source=scenario.source)
        from netsim.cache import CacheSystem

        self.caches = CacheSystem(g, distance=_distance_fn(self.base_routes), sample_rate=sample_rate)
        self.caches_sample_rate = float(sample_rate)
        self._warm: dict = {}
        self._local_cache: dict = {}
        self._cache_totals = None
        self.rtt_samples: list[tuple[np.ndarray, np.ndarray]] = []
        self.bin_routes: list = []
        self.out = BinCollector(_SCHEMAS)
        self.prefetch = _Prefetch(self, g.graph["prefetch"]) if g.graph.get("prefetch") else None

    def warm_up(self, name: str) -> int:
        """Replay a trace of the days before the run (``caches.warmup``) through the caches, with every
        node up and the base routes, so the run starts with the contents yesterday left (a cold start
        at the run's first bins fills every cache from the origins at once, which is not what a
        network in service sees); nothing is measured, and the caches' counters start at zero.
        ``static`` caches (which admit nothing on a miss) are filled with that day's most requested
        objects, as the previous day's off-peak fill would have left them. Returns the number of
        requests replayed."""
        if not self.caches.cache_ids:
            return 0
        from netsim.errors import InputError

        h = _prior_requests(self, name, where="caches.warmup")
        if h.height:
            try:
                self.caches.resolve(h.sort("ts", maintain_order=True), distance=_distance_fn(self.base_routes))
            except (InputError, ValueError) as e:
                msg = e.message if isinstance(e, InputError) else str(e)
                raise InputError(f"{name}: {msg}", source=self.scenario.source, where="caches.warmup") from None
            # a static cache admits nothing on a miss: it starts with the day's most requested objects
            self.caches.fill_static(h.select("provider", "obj", "bytes"))
        self.caches.reset_stats()
        return h.height

    # -- failures ------------------------------------------------------------------------------
    def apply(self, change: Change) -> None:
        was_down = self.state.nodes
        self.state.apply(change)
        if self.caches is None or change.kind != "node":
            return
        node = change.element
        if self.g.nodes[node]["kind"] != "cache":
            return
        if node in self.state.nodes and node not in was_down:
            self._warm[node] = self.caches.caches[node].state()
            self.caches.clear(node)  # a cache that is down serves nothing and holds nothing
        elif node not in self.state.nodes and node in was_down:
            warm = self._warm.pop(node, None)
            if self.scenario.caches.restart == "warm" and warm is not None:
                self.caches.caches[node].load_state(warm)

    def routes(self):
        key = self.state.key()
        r = self._routes.get(key)
        if r is None:
            r = self.base_routes.without(nodes=sorted(self.state.nodes, key=str),
                                         links=sorted(self.state.links, key=lambda e: (str(e[0]), str(e[1]))))
            self._routes[key] = r
        return r

    # -- one bin -------------------------------------------------------------------------------
    def process_bin(self, b: int, frame: pl.DataFrame) -> None:
        t0 = b * self.bin_s
        down = self.state.nodes
        routes = self.routes()
        self.bin_routes.append(routes)
        if self.prefetch is not None:
            self.prefetch.before_bin(b, routes)
        seen = [] if self.prefetch is not None else None
        items = _items(frame, self.caches, down, scale=self.scale, distance=_distance_fn(routes), seen=seen)
        if self.prefetch is not None and seen:
            self.prefetch.observe(seen[0])
        # client-facing items -> segments (serve: served_by -> client; fill: fill_src -> cache)
        seg_src, seg_dst, seg_item = [], [], []
        for i, (chain, client, dead) in enumerate(zip(items["chain"], items["client"], items["unreachable"])):
            if dead:
                continue
            hops = list(chain) + [client]
            for u, v in zip(hops[:-1], hops[1:]):
                if u != v:
                    seg_src.append(u)
                    seg_dst.append(v)
                    seg_item.append(i)
        seg_item = np.asarray(seg_item, dtype=np.int64)
        seg_bytes = items["bytes"][seg_item] if len(seg_item) else np.zeros(0)
        n_items = len(items["client"])
        # aggregate segments into (src, dst) demands
        pair_codes = {}
        seg_dem = np.empty(len(seg_src), dtype=np.int64)
        for i, (s, d) in enumerate(zip(seg_src, seg_dst)):
            seg_dem[i] = pair_codes.setdefault((s, d), len(pair_codes))
        # the off-peak pushes of this bin are demands too (not subscriber items: they are counted apart)
        push = self.prefetch.pending.pop(b, {}) if self.prefetch is not None else {}
        push_pairs = sorted(push)
        push_dem = np.array([pair_codes.setdefault(p, len(pair_codes)) for p in push_pairs], dtype=np.int64)
        push_bytes = np.array([push[p] for p in push_pairs], dtype=np.float64)
        pairs = list(pair_codes)
        dem_bytes = np.bincount(seg_dem, weights=seg_bytes, minlength=len(pairs)) if pairs else np.zeros(0)
        if len(push_dem):
            np.add.at(dem_bytes, push_dem, push_bytes)
        d_src = np.array([p[0] for p in pairs], dtype=object)
        d_dst = np.array([p[1] for p in pairs], dtype=object)
        unreach = np.zeros(len(pairs), dtype=bool)
        if pairs:
            endpoint_down = np.array([s in down or d in down for s, d in pairs], dtype=bool)
            unreach = endpoint_down.copy()
            ok = ~endpoint_down
            if ok.any():
                unreach[ok] = routes.unreachable(d_src[ok].tolist(), d_dst[ok].tolist())
        reach = ~unreach
        loads = np.zeros(len(self.links))
        ratio = np.zeros(len(pairs))
        if reach.any():
            rs, rd, rv = d_src[reach].tolist(), d_dst[reach].tolist(), dem_bytes[reach]
            loads = routes.assign(rs, rd, rv)
            ratio[reach] = 1.0
            over = loads > self.cap_bytes * (1 + 1e-9)
            if over.any():
                rate = _congest(routes, rs, rd, rv, self.cap_bytes, over, self.links)
                with np.errstate(invalid="ignore", divide="ignore"):
                    ratio[reach] = np.where(rv > 0, rate / rv, 1.0)
                after = routes.assign(rs, rd, rate)
            else:
                after = loads
        else:
            after = loads
        dropped_links = np.maximum(loads - after, 0.0)
        # per item: delivered = bytes × Π ratio of its segments; unreachable if any segment is
        item_ratio = np.ones(n_items)
        item_unreach = items["unreachable"].copy()
        if len(seg_dem):
            np.multiply.at(item_ratio, seg_item, ratio[seg_dem])
            np.logical_or.at(item_unreach, seg_item, unreach[seg_dem])
        offered = items["bytes"]
        unreachable_b = np.where(item_unreach, offered, 0.0)
        delivered_b = np.where(item_unreach, 0.0, offered * item_ratio)
        dropped_b = offered - delivered_b - unreachable_b
        # RTT an item sees: out and back along every segment of its chain (fraction-weighted paths)
        rtt = np.full(n_items, np.nan)
        if reach.any():
            dem_ms = np.full(len(pairs), np.nan)
            dem_ms[reach] = np.asarray(routes.distance_ms(d_src[reach].tolist(), d_dst[reach].tolist()), dtype=float)
            seg_ok = reach[seg_dem]
            rtt_sum = np.bincount(seg_item[seg_ok], weights=dem_ms[seg_dem[seg_ok]], minlength=n_items)
            rtt = np.where(item_unreach, np.nan, 2.0 * rtt_sum)
        push_unreach = np.where(unreach[push_dem], push_bytes, 0.0) if len(push_dem) else np.zeros(0)
        push_deliv = np.where(unreach[push_dem], 0.0, push_bytes * ratio[push_dem]) if len(push_dem) else np.zeros(0)
        push_rec = {
            "prefetch_bytes": float(push_bytes.sum()), "prefetch_delivered_bytes": float(push_deliv.sum()),
            "prefetch_unreachable_bytes": float(push_unreach.sum()),
            "prefetch_dropped_bytes": float((push_bytes - push_deliv - push_unreach).sum()),
        }
        push_to = {}
        for (_, dst), v in zip(push_pairs, push_bytes.tolist()):
            push_to[dst] = push_to.get(dst, 0.0) + v
        self._record(b, t0, items, offered, delivered_b, dropped_b, unreachable_b, rtt, routes, after, dropped_links, down,
                     push_rec, push_to)
        if self.prefetch is not None:
            if len(push_pairs):
                self.prefetch.delivered(b, push_pairs, push_deliv)
            self.prefetch.land(b)

    def _record(self, b, t0, items, offered, delivered_b, dropped_b, unreachable_b, rtt, routes, after, dropped_links, down,
                push_rec, push_to):
        bin_s, design = self.bin_s, self.design
        serve_src, client = items["served_by"], items["client"]
        ok = ~np.isnan(rtt) & (delivered_b > 0)
        self.rtt_samples.append((rtt[ok], delivered_b[ok]))
        # local turnaround: items whose serving node and client share a region
        same = np.array([self.region[s] == self.region[c] for s, c in zip(serve_src.tolist(), client.tolist())], dtype=bool)
        local_num = local_den = 0.0
        for i in np.flatnonzero(same & (delivered_b > 0)):
            frac = self._local_fraction(routes, serve_src[i], client[i])
            local_num += delivered_b[i] * frac
            local_den += delivered_b[i]
        util = after / self.cap_bytes
        self.out.add(
            "bins", design=design, bin=b, ts_s=t0, offered_bytes=float(offered.sum()),
            delivered_bytes=float(delivered_b.sum()), dropped_bytes=float(dropped_b.sum()),
            unreachable_bytes=float(unreachable_b.sum()), offered_bps=float(offered.sum()) * 8 / bin_s,
            delivered_bps=float(delivered_b.sum()) * 8 / bin_s,
            backbone_bps=float(after[self.backbone].sum()) * 8 / bin_s,
            local_share=(local_num / local_den) if local_den > 0 else float("nan"),
            local_bytes=local_num, same_region_bytes=local_den,
            cache_requests=int(items["requests"][items["via_cache"]].sum()),
            cache_hits=int(items["requests"][items["hit"]].sum()),
            cache_bytes_requested=float(offered[items["via_cache"]].sum()), cache_bytes_hit=float(offered[items["hit"]].sum()),
            cache_hit_ratio=_ratio(items["requests"][items["hit"]].sum(), items["requests"][items["via_cache"]].sum()),
            cache_byte_hit_ratio=_ratio(offered[items["hit"]].sum(), offered[items["via_cache"]].sum()),
            rtt_p50_ms=weighted_quantile(rtt[ok], delivered_b[ok], 0.5) if ok.any() else float("nan"),
            rtt_p95_ms=weighted_quantile(rtt[ok], delivered_b[ok], 0.95) if ok.any() else float("nan"),
            failures_active=len(self.state.nodes) + len(self.state.links),
            max_utilisation=float(util.max()) if len(util) else 0.0, **push_rec,
        )
        used = np.flatnonzero((after > 0) | (dropped_links > 0))
        self.out.extend(
            "links", design=[design] * len(used), bin=[b] * len(used), ts_s=[t0] * len(used),
            src=[str(self.links[i][0]) for i in used], dst=[str(self.links[i][1]) for i in used],
            load_bytes=after[used], bps=after[used] * 8 / bin_s, utilisation=util[used],
            dropped_bytes=dropped_links[used], backbone=self.backbone[used],
        )
        if self.caches is not None and self.caches.cache_ids:
            st = self.caches.stats()
            now = {c: st.row(i, named=True) for i, c in enumerate(st["cache"].to_list())}
            prev = self._cache_totals or {}
            for c in self.caches.cache_ids:
                d = {k: now[c][k] - prev.get(c, {}).get(k, 0) for k in ("requests", "hits", "bytes_requested", "bytes_served", "fill_bytes")}
                self.out.add("caches", design=design, bin=b, ts_s=t0, cache=c, requests=int(d["requests"]),
                             hits=int(d["hits"]), bytes_requested=float(d["bytes_requested"]) * self.scale,
                             bytes_served=float(d["bytes_served"]) * self.scale, fill_bytes=float(d["fill_bytes"]) * self.scale,
                             up=c not in down, prefetch_bytes=float(push_to.get(c, 0.0)))
            self._cache_totals = now
        frame = pl.DataFrame({
            "service": items["service"].astype(str), "region": [self.region[c] for c in client.tolist()],
            "src_region": [self.region[s] for s in serve_src.tolist()],
            "served_from": [self._served_from(s, c, h, ch) for s, c, h, ch in
                            zip(serve_src.tolist(), client.tolist(), items["hit"].tolist(), items["chain"])],
            "offered": offered, "delivered": delivered_b, "unreachable": unreachable_b,
        }, schema={"service": pl.Utf8, "region": pl.Utf8, "src_region": pl.Utf8, "served_from": pl.Utf8,
                   "offered": pl.Float64, "delivered": pl.Float64, "unreachable": pl.Float64})
        svc = group_sums(frame, ["service", "region"], ["offered", "delivered", "unreachable"])
        n = svc.height
        self.out.extend("services", design=[design] * n, bin=[b] * n, ts_s=[t0] * n, service=svc["service"].to_list(),
                        region=svc["region"].to_list(), offered_bytes=svc["offered"].to_list(),
                        delivered_bytes=svc["delivered"].to_list(), unreachable_bytes=svc["unreachable"].to_list(),
                        failures_active=[len(self.state.nodes) + len(self.state.links)] * n)
        pr = group_sums(frame, ["src_region", "region", "served_from"], ["offered", "delivered"])
        n = pr.height
        self.out.extend("pairs", design=[design] * n, bin=[b] * n, src_region=pr["src_region"].to_list(),
                        dst_region=pr["region"].to_list(), served_from=pr["served_from"].to_list(),
                        offered_bytes=pr["offered"].to_list(), delivered_bytes=pr["delivered"].to_list())

    def _served_from(self, src, client, hit, chain=None) -> str:
        """Where the bytes a client received came from: own ISP, a regional peer/IX, a cache, a core metro,
        overseas; ``no copy reachable`` for a request that nothing could serve."""
        if chain is not None and len(chain) == 0:
            return "no copy reachable"
        d = self.g.nodes[src]
        if d["kind"] == "cache":
            return "shared cache" if self.asn[src] != self.asn[client] else "own cache"
        if self.asn[src] == self.asn[client]:
            return "own ISP"
        metros = self.g.graph.get("metros", {})
        m = metros.get(d["metro"], {})
        if d.get("lon") is not None and (d["lon"] < 120 or d["lon"] > 155):
            return "overseas"
        if d["metro"] in self.metro_core or m.get("core"):
            return "core metro"
        return "regional peer" if self.region[src] == self.region[client] else "other region"

    def _local_fraction(self, routes, s, c) -> float:
        key = (id(routes), s, c)
        v = self._local_cache.get(key)
        if v is None:
            r = self.region[c]
            v = sum(f for path, f in routes.paths(s, c) if all(self.region[n] == r for n in path))
            self._local_cache[key] = v
        return v


#: the columns of the requests a prefetch ranks (the first cache consulted, and the object)
_SEEN_COLS = {"cache": pl.Utf8, "provider": pl.Utf8, "obj": pl.UInt64, "ts": pl.Float64, "bytes": pl.Int64}


def _prior_requests(run: "_DesignRun", name: str, *, where: str) -> pl.DataFrame:
    """The content requests (``src, provider, obj, ts, bytes``) of a trace of the days before the run
    (a prefetch history, a cache warm-up), ``ts`` shifted to end at the run's start (by the trace's
    span rounded up to whole days, so times of day are kept). It must sample the same object space
    as the run's traffic (same sample rate). Errors are located at ``where`` of the scenario."""
    from netsim.errors import InputError
    from netsim.traffic import read_trace, trace_meta

    sc = run.scenario
    path = sc.resolve("traces", name, where=where)
    try:
        meta = trace_meta(path)
        h = (read_trace(path).filter(pl.col("obj").is_not_null())
             .select("src", "provider", "obj", "ts", "bytes").collect())
    except InputError as e:
        raise e.located(source=sc.source, where_prefix=where) from None
    rate = meta.get("sample_rate")
    own = run.caches_sample_rate
    if rate is not None and abs(float(rate) - own) > 1e-12 * max(own, 1.0):
        raise InputError(f"{name}: sampled at {float(rate):g}, the run's traffic at {own:g}; a history must "
                         "sample the same object space (same sample rate)", source=sc.source, where=where)
    if h.height == 0:
        return h.with_columns(pl.col("ts").cast(pl.Float64))
    span = meta.get("duration_s")
    span = float(span) if span else float(h["ts"].max())
    span = max(1, math.ceil(span / 86400.0 - 1e-9)) * 86400.0
    return h.with_columns(pl.col("ts").cast(pl.Float64) - span)


def _compact_requests(f: pl.DataFrame) -> pl.DataFrame:
    """One row per (cache, provider, obj, hour): the hour's mid-time, the last size, the number of requests."""
    return (f.sort("ts", maintain_order=True)
            .group_by(["cache", "provider", "obj", (pl.col("ts") // 3600.0).alias("_h")], maintain_order=True)
            .agg(pl.col("bytes").last(), pl.col("requests").sum())
            .select("cache", "provider", "obj", ((pl.col("_h") + 0.5) * 3600.0).alias("ts"), "bytes", "requests")
            .sort(["ts", "cache", "provider", "obj"]))


class _Prefetch:
    """The daily off-peak pushes of a design with the ``prefetch`` transform (netsim.topology.designs).

    Each day at ``at`` (the first push is the first ``at`` >= the run's start), in the bin that
    contains ``at`` (before the bin's requests are resolved, so the push happens at that bin's
    start when ``at`` is not on a bin boundary), every selected cache that is up is given the
    candidates :func:`netsim.analysis.forecast.prefetch_candidates` ranks from the requests it
    was consulted for: the ``history`` trace's requests, sent to the cache that would have been
    consulted first with every node up, and the run's requests so far (a parent cache also sees
    its descendants' requests). Candidates are kept greedily up to ``share`` × the cache's
    capacity (the scaled capacity the cache runs at), what is resident counts. Each object to push
    sends its bytes (× the scenario's scale) from its fill source (``CacheSystem.fill_source``: the
    parent cache holding it, or the provider's nearest reachable origin at push time; none: it is
    not pushed) to the cache, spread evenly over the bins that overlap ``[at, at + window)``;
    window bins past the run's end are not simulated. Those demands load links (backbone
    included) and can be cut by congestion or a failure, but they are not subscriber traffic:
    they are counted in the ``prefetch_*`` columns, not in offered/delivered, and for them
    ``prefetch_bytes = delivered + dropped + unreachable``. The objects **land at the end of the
    window** (``CacheSystem.prefetch``; the end of the run if that comes first): per fill source,
    the most popular first as far as the bytes delivered cover them, so a push cut short lands
    only in part; a cache down at the window's end takes nothing; resident candidates still there
    are refreshed then.
    """

    def __init__(self, run: _DesignRun, spec: dict):
        self.run = run
        self.at_s, self.window_s = float(spec["at_s"]), float(spec["window_s"])
        self.share, self.half_life_s = float(spec["share"]), float(spec["half_life_s"])
        self.cache_ids = [c for c in spec.get("caches") or run.caches.cache_ids if c in run.caches.caches]
        end_s = run.n_bins * run.bin_s
        self.push_at: dict[int, float] = {}
        t, k = self.at_s, 0
        while t < end_s:
            self.push_at[int(t // run.bin_s)] = t
            k += 1
            t = self.at_s + k * 86400.0
        self.pending: dict[int, dict[tuple, float]] = {}
        #: last window bin -> pushes in flight: (per cache (keys, sizes, fill pair or None), scheduled, delivered)
        self.landing: dict[int, list] = {}
        self.objects = 0
        self.objects_by_cache = dict.fromkeys(self.cache_ids, 0)
        # which first caches feed each cache: itself and the caches below it in the parent tree
        feeds = {c: {c} for c in run.caches.cache_ids}
        for c in run.caches.cache_ids:
            q, seen = run.g.nodes[c].get("parent"), {c}
            while q is not None and q in feeds and q not in seen:
                feeds[q].add(c)
                seen.add(q)
                q = run.g.nodes[q].get("parent")
        self.feeds = {c: sorted(v) for c, v in feeds.items()}
        self.seen: list[pl.DataFrame] = [self._history(spec.get("history"))]

    def _history(self, name) -> pl.DataFrame:
        """The history trace's requests, each with the cache it would have gone to first, ts shifted to end at 0."""
        run = self.run
        empty = pl.DataFrame(schema={**_SEEN_COLS, "requests": pl.Int64})
        if name is None:
            return empty
        from netsim.errors import InputError

        where = f"design {run.design!r}: prefetch.history"
        h = _prior_requests(run, name, where=where)
        if h.height == 0:
            return empty
        pairs = h.select("src", "provider").unique().sort("src", "provider")
        try:
            first = run.caches.first_caches(pairs["src"].to_list(), pairs["provider"].to_list(),
                                            distance=_distance_fn(run.base_routes))
        except InputError as e:
            raise InputError(f"{name}: {e.message}", source=run.scenario.source, where=where) from None
        pairs = pairs.with_columns(pl.Series("cache", first, dtype=pl.Utf8))
        return _compact_requests(h.join(pairs, on=["src", "provider"], how="inner")
                                 .filter(pl.col("cache").is_not_null())
                                 .select(pl.col("cache"), pl.col("provider"), pl.col("obj").cast(pl.UInt64),
                                         pl.col("ts"), pl.col("bytes").cast(pl.Int64),
                                         pl.lit(1, dtype=pl.Int64).alias("requests")))

    def observe(self, requests: pl.DataFrame) -> None:
        """Remember a bin's requests that consulted a cache (``cache, provider, obj, ts, bytes``).

        Memory stays bounded by objects × hours, not by requests: every 24 bins the remembered requests
        are compacted to one row per (cache, object, hour) with a ``requests`` count, at the hour's
        mid-time (a shift of at most half an hour in the decay, against a half-life of hours to days).
        """
        if requests.height:
            self.seen.append(requests.select([pl.col(c).cast(t) for c, t in _SEEN_COLS.items()])
                             .with_columns(pl.lit(1, dtype=pl.Int64).alias("requests")))
        if len(self.seen) > 24:
            self.seen = [_compact_requests(pl.concat(self.seen, how="vertical"))]

    def before_bin(self, b: int, routes) -> None:
        t = self.push_at.get(b)
        if t is not None:
            self._push(b, t, routes)

    def _push(self, b: int, t: float, routes) -> None:
        from netsim.analysis.forecast import prefetch_candidates
        from netsim.cache import make_keys

        run = self.run
        down = run.state.nodes
        dist = _distance_fn(routes)
        if len(self.seen) > 1:
            self.seen = [pl.concat(self.seen, how="vertical")]
        reqs = self.seen[0]
        flows: dict[tuple, float] = {}
        batch: list = []
        for c in self.cache_ids:
            if c in down:
                continue  # a cache that is down at push time gets nothing
            cache = run.caches.caches[c]
            h = reqs.filter(pl.col("cache").is_in(self.feeds[c])).select("provider", "obj", "ts", "bytes", "requests")
            if h.height == 0:
                continue
            cands = prefetch_candidates(h, capacity_bytes=self.share * cache.capacity_bytes,
                                        half_life=self.half_life_s, now_s=t)
            if cands.height == 0:
                continue
            provs = cands["provider"].to_list()
            keys = make_keys(cands["provider"].to_numpy(), cands["obj"].to_numpy())
            sizes = cands["bytes"].to_numpy().astype(np.int64)
            src_of = {p: run.caches.fill_source(c, p, down=down, distance=dist) for p in sorted(set(provs))}
            resident = np.array([cache.contains(int(k)) for k in keys.tolist()], dtype=bool)
            order, pair_of = [], []
            for i in range(len(keys)):
                if resident[i]:
                    order.append(i)
                    pair_of.append(None)   # already there: refreshed when the push lands, no bytes
                    continue
                src = src_of[provs[i]]
                if src in run.caches.caches:  # a parent cache: the copy comes from where it is held
                    src = run.caches.fill_source(c, provs[i], int(keys[i]), down=down, distance=dist)
                if src is None or sizes[i] > cache.capacity_bytes:
                    continue   # no copy reachable now, or it could never fit
                order.append(i)
                pair_of.append((src, c))
                flows[(src, c)] = flows.get((src, c), 0.0) + float(sizes[i]) * run.scale
            if order:
                batch.append((c, keys[order], sizes[order], pair_of))
        first = int(t // run.bin_s)
        last = max(first, math.ceil((t + self.window_s) / run.bin_s - 1e-9) - 1)
        n_win = last - first + 1
        for wb in range(first, min(last, run.n_bins - 1) + 1):
            slot = self.pending.setdefault(wb, {})
            for pair in sorted(flows):
                slot[pair] = slot.get(pair, 0.0) + flows[pair] / n_win
        if batch:
            # the objects land when the window ends (or when the run does), as far as their bytes arrived
            self.landing.setdefault(min(last, run.n_bins - 1), []).append((batch, dict(flows), {p: 0.0 for p in flows}))

    def delivered(self, b: int, pairs, delivered_bytes) -> None:
        """Count a bin's delivered push bytes towards the pushes still in flight."""
        for batches in self.landing.values():
            for _, _, got in batches:
                for pair, v in zip(pairs, delivered_bytes):
                    if pair in got:
                        got[pair] += float(v)

    def land(self, b: int) -> None:
        """At the end of a push window: each cache takes the pushed objects whose bytes arrived (per fill
        source, the most popular first while the delivered bytes cover them; a push cut by congestion or
        a failure lands only in part), and the resident candidates still there are refreshed."""
        run = self.run
        for batch, scheduled, got in self.landing.pop(b, []):
            for c, keys, sizes, pair_of in batch:
                if c in run.state.nodes:
                    continue  # the cache went down during the window: it holds nothing
                cache = run.caches.caches[c]
                budget = {p: got[p] * (1 + 1e-9) + 1e-6 for p in got}
                take = []
                for i, pair in enumerate(pair_of):
                    if pair is None:
                        if cache.contains(int(keys[i])):
                            take.append(i)
                        continue
                    need = float(sizes[i]) * run.scale
                    if budget[pair] >= need:
                        budget[pair] -= need
                        take.append(i)
                if not take:
                    continue
                pushed = run.caches.prefetch(c, keys[take], sizes[take])
                n = int(pushed.sum())
                self.objects += n
                self.objects_by_cache[c] += n


def _ratio(num, den) -> float:
    return float(num) / float(den) if den else float("nan")


def _congest(routes, src, dst, vol, cap, over, links) -> np.ndarray:
    """Delivered volume per demand after max-min fair cutting on the overloaded links."""
    over_ids = np.flatnonzero(over)
    local = {int(l): i for i, l in enumerate(over_ids)}
    link_of = {e: i for i, e in enumerate(links)}
    dem, lnk, frac = [], [], []
    touched = []
    for k, (s, d) in enumerate(zip(src, dst)):
        use: dict[int, float] = {}
        for path, f in routes.paths(s, d):
            for u, v in zip(path[:-1], path[1:]):
                li = local.get(link_of[(u, v)])
                if li is not None:
                    use[li] = use.get(li, 0.0) + f
        if use:
            touched.append(k)
            for li in sorted(use):
                dem.append(len(touched) - 1)
                lnk.append(li)
                frac.append(use[li])
    rate = np.asarray(vol, dtype=np.float64).copy()
    if not touched:
        return rate
    # every demand crossing an overloaded link is in `touched`, so each such link's whole capacity
    # is shared among them (links that are not overloaded cannot saturate and are left out)
    r, _ = max_min_rates(rate[touched], cap[over_ids], dem, lnk, frac)
    rate[touched] = r
    return rate


_SEP = "\x1f"


def _distance_fn(routes):
    """The routing core's distances as the cache system's ``distance(src_ids, dst_ids) -> ms`` (inf: no route)."""

    def distance(src, dst) -> np.ndarray:
        src, dst = list(src), list(dst)
        out = np.full(len(src), np.inf)
        if not src:
            return out
        dead = np.asarray(routes.unreachable(src, dst), dtype=bool)
        live = np.flatnonzero(~dead)
        if len(live):
            out[live] = routes.distance_ms([src[i] for i in live], [dst[i] for i in live])
        return out

    return distance


def _items(frame: pl.DataFrame, caches, down, *, scale: float, distance=None, seen: list | None = None) -> dict:
    """Client-facing items of one bin: aggregated flows and resolved content requests.

    Each item has a ``chain``: the nodes its bytes pass through before the client, from the node
    that sent them (``served_by``: a flow's source, the cache that hit, or the origin a miss
    was fetched from) to the node next to the client (the first cache consulted). With ``seen``
    (a list), the requests that consulted a cache (``cache, provider, obj, ts, bytes``) are appended to it.
    """
    flows = frame.filter(pl.col("obj").is_null())
    reqs = frame.filter(pl.col("obj").is_not_null())
    parts = []
    if flows.height:
        f = flows.group_by(["src", "dst", "service"]).agg(pl.col("bytes").sum().cast(pl.Float64), pl.len().alias("requests"))
        parts.append(pl.DataFrame({
            "client": f["dst"], "chain": f["src"], "cache": pl.Series([None] * f.height, dtype=pl.Utf8),
            "hit": [False] * f.height, "is_request": [False] * f.height, "unreachable": [False] * f.height,
            "service": f["service"], "bytes": f["bytes"], "requests": f["requests"].cast(pl.Int64),
        }))
    if reqs.height:
        r = caches.resolve(reqs, down=down, distance=distance)
        if seen is not None:
            seen.append(r.filter(pl.col("cache").is_not_null()).select("cache", "provider", "obj", "ts", "bytes"))
        # within one bin (one failure state) a chain is fixed by (served_by, cache, fill_src): group on
        # those and take the chain of the group's first row
        agg = r.group_by(["src", "served_by", "cache", "fill_src", "hit", "unreachable", "service"]).agg(
            pl.col("bytes").sum().cast(pl.Float64), pl.len().alias("requests"), pl.col("chain").first())
        agg = agg.with_columns(pl.col("chain").list.join(_SEP))
        parts.append(pl.DataFrame({
            "client": agg["src"], "chain": agg["chain"], "cache": agg["cache"], "hit": agg["hit"],
            "is_request": [True] * agg.height, "unreachable": agg["unreachable"], "service": agg["service"],
            "bytes": agg["bytes"], "requests": agg["requests"].cast(pl.Int64),
        }))
    schema = {"client": pl.Utf8, "chain": pl.Utf8, "cache": pl.Utf8, "hit": pl.Boolean, "is_request": pl.Boolean,
              "unreachable": pl.Boolean, "service": pl.Utf8, "bytes": pl.Float64, "requests": pl.Int64}
    if parts:
        items = pl.concat([p.cast(schema) for p in parts], how="vertical").sort(
            ["client", "chain", "service", "cache", "hit", "unreachable"], nulls_last=True)
    else:
        items = pl.DataFrame(schema=schema)
    out = {c: items[c].to_numpy() for c in ("hit", "is_request", "unreachable", "requests")}
    out["bytes"] = items["bytes"].to_numpy().astype(np.float64) * scale
    for c in ("client", "cache", "service"):
        out[c] = np.array(items[c].to_list(), dtype=object)
    out["via_cache"] = np.array([c is not None for c in out["cache"]], dtype=bool)
    out["chain"] = [tuple(c.split(_SEP)) if c else () for c in items["chain"].to_list()]
    out["unreachable"] = out["unreachable"].astype(bool) | np.array([len(c) == 0 for c in out["chain"]], dtype=bool)
    out["served_by"] = np.array([c[0] if c else cl for c, cl in zip(out["chain"], out["client"])], dtype=object)
    return out


def run_design(scenario: Scenario, design: DesignSpec, g: nx.DiGraph, traffic, *,
               on_bin: Callable[[int, int], None] | None = None) -> RunResult:
    """Simulate one design: a simpy environment with a failure process and a replay process.

    ``traffic`` is a :class:`netsim.sim.sources.TrafficSource` (bins of the trace, scale, duration).
    """
    run = _DesignRun(scenario, design.name, g, duration_s=traffic.duration_s, scale=traffic.scale,
                     sample_rate=traffic.sample_rate)
    warmed = run.warm_up(scenario.caches.warmup) if scenario.caches.warmup else 0
    env = simpy.Environment()
    end_s = run.n_bins * run.bin_s

    def failures(env):
        for change in run.timeline:
            if change.t_s >= end_s:
                break
            if change.t_s > env.now:
                yield env.timeout(change.t_s - env.now)
            run.apply(change)

    def replay(env):
        frames = traffic.bins(run.bin_s)
        for b in range(run.n_bins):
            t0 = b * run.bin_s
            if t0 > env.now:
                yield env.timeout(t0 - env.now)
            run.out.begin()
            n_rtt = len(run.rtt_samples)
            try:
                run.process_bin(b, frames.frame(b))
            except KeyboardInterrupt:
                run.out.rollback()
                del run.rtt_samples[n_rtt:]
                raise
            run.out.commit()
            if on_bin is not None:
                on_bin(b, run.n_bins)

    # NOTE: the failure process is started first, so an event at a bin boundary (scheduled
    # earlier, with a smaller simpy event id) is applied before the bin that starts there.
    env.process(failures(env))
    env.process(replay(env))
    interrupted = False
    try:
        env.run()
    except KeyboardInterrupt:
        # Ctrl-C: keep the bins already done (each bin is recorded whole, after it is processed)
        interrupted = True
    from netsim.sim.summary import summarize_run

    tables = {t: run.out.frame(t) for t in _SCHEMAS}
    summary = summarize_run(run, tables)
    summary["interrupted"] = interrupted
    summary["cache_warmup_requests"] = warmed
    routes_of = run.bin_routes

    bound: dict[int, Callable] = {}

    def paths_for_bin(b: int):
        # NOTE: one function object per routes object: `routes.paths` makes a new bound method on every
        # access, and the quality method groups bins by the identity of the function it gets
        r = routes_of[b] if 0 <= b < len(routes_of) else run.base_routes
        f = bound.get(id(r))
        if f is None:
            f = bound[id(r)] = r.paths
        return f

    return RunResult(design=run.design, summary=summary, paths_for_bin=paths_for_bin, **tables)
