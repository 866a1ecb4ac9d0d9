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
from netsim.sim.demands import EncodedBins, Items, Spread, bin_items, demand_of, segments
from netsim.sim.failures import Change, FailureState, build_timeline
from netsim.stats import weighted_quantiles
from netsim.sim.prefetch import SEEN_COLS, Prefetch
from netsim.sim.record import RTT_CLASS_COLUMNS, RTT_CLASS_EDGES_MS, SCHEMAS, Recorder
from netsim.sim.vocab import SERVED_FROM, Vocab

__all__ = ["RunResult", "run_design", "backbone_links"]

GBPS_TO_BYTES_PER_S = 1e9 / 8
#: Most bins one run may take (about 9.5 years of 5-minute bins): more is a mistake in duration or a trace row.
MAX_BINS = 1_000_000


@dataclass
class RunResult:
    """Tables of one design's replay (polars frames) and its summary record, as the engine makes them
    (the analyses of a run on top of them are ``netsim.sim.run.DesignResult``)."""

    design: str
    bins: pl.DataFrame
    links: pl.DataFrame
    caches: pl.DataFrame
    pairs: pl.DataFrame
    services: pl.DataFrame
    access: pl.DataFrame   # per access PoP and bin: its subscribers' downstream and upstream bytes (the access load)
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


_SCHEMAS = SCHEMAS  # the tables of a run (netsim.sim.record)


class _DesignRun:
    """State of one design's simulation: routes per failure state, caches, the run's codes, the tables."""

    def __init__(self, scenario: Scenario, design: str, g: nx.DiGraph, *, duration_s: float, scale: float,
                 sample_rate: float):
        from netsim import routing
        from netsim.cache import CacheSystem

        self.scenario, self.design, self.g = scenario, design, g
        self.bin_s = float(scenario.bin_s)
        self.scale = float(scale) * scenario.traffic.growth
        if not math.isfinite(duration_s) or duration_s / self.bin_s > MAX_BINS:
            from netsim.errors import InputError

            raise InputError(f"the run would take {duration_s / self.bin_s:,.0f} bins of {self.bin_s:g} s (duration "
                             f"{duration_s:,.0f} s); at most {MAX_BINS:,}: set a shorter duration or a wider bin_s "
                             "(a trace row far in the future also makes the run this long)",
                             source=scenario.source, where="duration")
        self.n_bins = max(1, int(math.ceil(duration_s / self.bin_s - 1e-9)))
        self.duration_s = duration_s
        from netsim.errors import InputError

        try:
            self.net = routing.compile(g, igp_weight=scenario.routing.igp_weight)
        except InputError as e:
            if "IGP weight" not in e.message:
                raise
            # the scenario chose the weight: say so there (the topology is not wrong)
            raise InputError(e.message, source=scenario.source, where="routing.igp_weight") from None
        self.links = list(self.net.links)
        self.link_src = np.asarray(self.net.index([u for u, _ in self.links]), dtype=np.int32)
        self.link_dst = np.asarray(self.net.index([v for _, v in self.links]), dtype=np.int32)
        self.base_routes = self.net.route(multipath=scenario.routing.multipath)
        self._routes: dict[tuple, object] = {FailureState().key(): self.base_routes}
        self._dist_fns: dict[int, tuple] = {}
        self.cap_bytes = np.array([g.edges[e]["capacity_gbps"] for e in self.links]) * GBPS_TO_BYTES_PER_S * self.bin_s
        bb = set(backbone_links(g, tags=scenario.backbone.tags, auto=scenario.backbone.auto))
        self.backbone = np.array([e in bb for e in self.links], dtype=bool)
        # a backbone link's direction: out of the region(s) when its head is in a core metro, else into them
        core = {m for m, d in g.graph.get("metros", {}).items() if d.get("core")}
        self.backbone_out = self.backbone & np.array([g.nodes[v].get("metro") in core for _, v in self.links], dtype=bool)
        self.backbone_in = self.backbone & ~self.backbone_out
        self.state = FailureState()
        self.timeline = build_timeline(g, scenario.failures, duration_s=duration_s, seed=scenario.seed,
                                       source=scenario.source)
        self.vocab = Vocab.of(g, list(self.net.nodes))
        self.node_code = {x: i for i, x in enumerate(self.vocab.nodes)}
        self.caches = CacheSystem(g, distance=self.distance_fn(self.base_routes), sample_rate=sample_rate)
        if self.caches.nodes != self.vocab.nodes:
            raise AssertionError("the cache system and the routing core number nodes differently")
        self.caches_sample_rate = float(sample_rate)
        self.cache_codes = np.array([self.node_code[c] for c in self.caches.cache_ids], dtype=np.int32)
        from netsim.cache.cacheability import Cacheability

        known = set(self.caches.origin_providers)
        for p in sorted(scenario.caches.cacheable_providers):
            if p not in known:
                from netsim.errors import InputError

                raise InputError(f"provider {p!r} has no origin in the topology; providers: {', '.join(sorted(known))}",
                                 source=scenario.source, where=f"caches.cacheable_providers.{p}")
        self.cacheability = Cacheability(scenario.caches.cacheable, scenario.caches.cacheable_providers,
                                         services=self.vocab.services, caches=self.caches)
        self._warm: dict = {}
        self._cache_totals = np.zeros((len(self.caches.cache_ids), 5))
        self.rtt_samples: list[tuple[np.ndarray, np.ndarray]] = []
        #: bin -> parts of earlier transfers that fall in it (traffic.transfer_mbps)
        self._carry: dict[int, list] = {}
        tm = scenario.traffic.transfer_mbps
        self.transfer_bps = float(tm) * 1e6 if tm else None
        self.bin_routes: list = []
        v = self.vocab
        self.out = Recorder(design, {
            "links": {"src": v.nodes, "dst": v.nodes}, "caches": {"cache": v.nodes},
            "services": {"service": v.services, "region": v.regions},
            "pairs": {"src_region": v.regions, "dst_region": v.regions, "served_from": list(SERVED_FROM)},
            "access": {"pop": v.nodes},
        })
        #: node codes of the access PoPs (pop nodes with subscribers), whose access load is recorded
        self.access_codes = np.array([i for i, n in enumerate(v.nodes) if g.nodes[n].get("kind") == "pop"
                                      and g.nodes[n].get("subscribers", 0) > 0], dtype=np.int64)
        self.prefetch = Prefetch(self, g.graph["prefetch"]) if g.graph.get("prefetch") else None

    def distance_fn(self, routes):
        """The routing core's distances for the cache system, one function object per routes object
        (the cache system keeps what it derives from a distance function while that function is in use)."""
        got = self._dist_fns.get(id(routes))
        if got is None or got[0] is not routes:
            got = self._dist_fns[id(routes)] = (routes, routes.distance_function())
        return got[1]

    def encoded_bins(self, traffic) -> EncodedBins:
        """The run's trace as integer-coded bins (read and validated batch by batch)."""
        from netsim.traffic.binning import read_batches

        # NOTE: node ids are checked by the encoding's cast, not twice (the reader checks the rest)
        source = None if isinstance(traffic.trace, pl.DataFrame) else str(traffic.trace)
        return EncodedBins(read_batches(traffic.trace), self.bin_s, nodes=self.vocab.nodes,
                           services=self.vocab.services, caches=self.caches, source=source)

    def warm_up(self, name: str) -> int:
        """Replay a trace of the days before the run (``caches.warmup``) through the caches, with every
        node up and the base routes, so the run starts with the contents yesterday left (a cold start
        at the run's first bins fills every cache from the origins at once, which is not what a
        network in service sees); nothing is measured, and the caches' counters start at zero.
        ``static`` caches (which admit nothing on a miss) are filled with that day's most requested
        objects, as the previous day's off-peak fill would have left them. The trace is streamed batch
        by batch (memory: one batch, and the day's object counts only when a cache is static).
        Returns the number of requests replayed."""
        if not self.caches.cache_ids:
            return 0
        from netsim.cache.policies import StaticCache
        from netsim.errors import InputError
        from netsim.sim.demands import Encoder
        from netsim.sim.prefetch import check_sample_rate
        from netsim.traffic import trace_meta
        from netsim.traffic.binning import read_batches

        sc, where = self.scenario, "caches.warmup"
        path = sc.resolve("traces", name, where=where)
        static = any(isinstance(c, StaticCache) for c in self.caches.caches.values())
        enc = Encoder(nodes=self.vocab.nodes, services=self.vocab.services, caches=self.caches, source=str(path))
        dist = self.distance_fn(self.base_routes)
        n, counts = 0, []
        try:
            check_sample_rate(self, name, trace_meta(path), where=where)
            for df in read_batches(path):
                rows = enc.encode(df)
                ri = np.flatnonzero(rows.req)
                if len(ri) == 0:
                    continue
                prov = rows.prov[ri]
                keys = self.caches.keys_of(prov, rows.obj[ri])
                ok = self.cacheability.mask(prov, rows.obj[ri], rows.svc[ri])
                self.caches.resolve_codes(rows.src[ri], prov, keys, rows.nbytes[ri], distance=dist, cacheable=ok)
                n += len(ri)
                if static:
                    take = rows.req.copy()
                    if ok is not None:
                        take[ri] = ok
                    counts.append(df.filter(pl.Series(take))
                                  .group_by(["provider", "obj"], maintain_order=True)
                                  .agg(pl.len().cast(pl.Int64).alias("requests"), pl.col("bytes").last()))
        except InputError as e:
            if e.source is None:
                raise InputError(f"{name}: {e.message}", source=sc.source, where=where) from None
            if e.source == sc.source:
                raise
            raise e.located(source=sc.source, where_prefix=where) from None
        except ValueError as e:
            raise InputError(f"{name}: {e}", source=sc.source, where=where) from None
        if counts:
            # a static cache admits nothing on a miss: it starts with the day's most requested objects
            self.caches.fill_static(pl.concat(counts).group_by(["provider", "obj"], maintain_order=True)
                                    .agg(pl.col("requests").sum(), pl.col("bytes").last()))
        self.caches.reset_stats()
        return n

    def restore_warm(self, warm: dict) -> int:
        """The caches as :meth:`warm_up` left them in another run of this design (see :func:`run_design`);
        returns the number of requests that warm-up replayed."""
        states = warm["states"]
        if sorted(states) != sorted(self.caches.cache_ids):
            raise ValueError("a warm-up snapshot of another design's caches")
        self.caches.add_providers(warm["providers"])
        for cid, state in states.items():
            self.caches.caches[cid].load_state(state)
        self.caches.reset_stats()
        return int(warm["requests"])

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
    def process_bin(self, b: int, rows) -> None:
        t0 = b * self.bin_s
        down = self.state.nodes
        node_down = np.zeros(len(self.vocab.nodes), dtype=bool)
        if down:
            node_down[[self.node_code[str(x)] for x in down]] = True
        routes = self.routes()
        self.bin_routes.append(routes)
        if self.prefetch is not None:
            self.prefetch.before_bin(b, routes)
        seen = [] if self.prefetch is not None else None
        carried = self._carry.pop(b, [])
        spread = Spread(b, self.bin_s, self.transfer_bps) if self.transfer_bps else None
        items, spill = bin_items(rows, self.caches, down=down, scale=self.scale, distance=self.distance_fn(routes),
                                 seen=seen, cacheability=self.cacheability,
                                 carry=Items.concat(carried) if carried else None, spread=spread)
        for k, part in spill.items():
            if b + k < self.n_bins:   # a transfer still running when the run ends is not simulated further
                self._carry.setdefault(b + k, []).append(part)
        if self.prefetch is not None and seen:
            self.prefetch.observe(self._seen_frame(seen[0]))
        # the off-peak pushes of this bin are demands too (not subscriber items: they are counted apart)
        push = self.prefetch.pending.pop(b, {}) if self.prefetch is not None else {}
        push_pairs = sorted(push)
        push_src = np.array([self.node_code[str(p[0])] for p in push_pairs], dtype=np.int64)
        push_dst = np.array([self.node_code[str(p[1])] for p in push_pairs], dtype=np.int64)
        push_bytes = np.array([push[p] for p in push_pairs], dtype=np.float64)
        nn = len(self.vocab.nodes)
        seg = segments(items, nn, extra_src=push_src, extra_dst=push_dst, extra_bytes=push_bytes)
        push_dem = demand_of(seg, nn, push_src, push_dst) if len(push_pairs) else np.zeros(0, np.int64)
        # unreachable demands: an endpoint down, or no route
        unreach = node_down[seg.src] | node_down[seg.dst]
        ok = ~unreach
        if ok.any():
            unreach[ok] = ~routes.reachable_idx(seg.src[ok], seg.dst[ok])
        reach = ~unreach
        ratio = np.zeros(len(seg.src))
        loads = np.zeros(len(self.links))
        after = loads
        if reach.any():
            rs, rd, rv = seg.src[reach], seg.dst[reach], seg.nbytes[reach]
            loads = routes.assign_idx(rs, rd, rv)
            ratio[reach] = 1.0
            over = loads > self.cap_bytes * (1 + 1e-9)
            after = loads
            if over.any():
                rate = _congest(routes, rs, rd, rv, self.cap_bytes, over)
                with np.errstate(invalid="ignore", divide="ignore"):
                    ratio[reach] = np.where(rv > 0, rate / rv, 1.0)
                after = routes.assign_idx(rs, rd, rate)
        dropped_links = np.maximum(loads - after, 0.0)
        # backbone traffic: delivered bytes whose path crosses the backbone, once per byte (and once per direction),
        # however many backbone links the path takes (summing link loads counts an ISP-to-ISP byte twice)
        crossing = {"backbone": 0.0, "backbone_in": 0.0, "backbone_out": 0.0}
        if reach.any() and self.backbone.any():
            vol = seg.nbytes[reach] * ratio[reach]
            for key, mask in (("backbone", self.backbone), ("backbone_in", self.backbone_in),
                              ("backbone_out", self.backbone_out)):
                if mask.any():
                    crossing[key] = float((vol * routes.crossing_fractions(rs, rd, mask)).sum())
        # per item: delivered = bytes × Π ratio of its segments; unreachable if any segment is; the RTT is
        # out and back along every segment (each at most once per chain position, so plain indexing adds)
        n_items = items.n
        item_ratio = np.ones(n_items)
        item_unreach = items.unreachable.copy()
        dem_ms = np.full(len(seg.src), np.nan)
        if reach.any():
            dem_ms[reach] = routes.distance_idx(seg.src[reach], seg.dst[reach])
        rtt_sum = np.zeros(n_items)
        for j in np.unique(seg.col).tolist():
            sel = seg.col == j
            it, dm = seg.item[sel], seg.dem[sel]
            item_ratio[it] *= ratio[dm]
            item_unreach[it] |= unreach[dm]
            rtt_sum[it] += np.where(reach[dm], dem_ms[dm], 0.0)
        offered = items.nbytes
        unreachable_b = np.where(item_unreach, offered, 0.0)
        delivered_b = np.where(item_unreach, 0.0, offered * item_ratio)
        dropped_b = offered - delivered_b - unreachable_b
        rtt = np.where(item_unreach, np.nan, 2.0 * rtt_sum)
        push_unreach = np.where(unreach[push_dem], push_bytes, 0.0) if len(push_dem) else np.zeros(0)
        push_deliv = np.where(unreach[push_dem], 0.0, push_bytes * ratio[push_dem]) if len(push_dem) else np.zeros(0)
        push_rec = {
            "prefetch_bytes": float(push_bytes.sum()), "prefetch_delivered_bytes": float(push_deliv.sum()),
            "prefetch_unreachable_bytes": float(push_unreach.sum()),
            "prefetch_dropped_bytes": float((push_bytes - push_deliv - push_unreach).sum()),
        }
        push_to = np.zeros(len(self.vocab.nodes))
        if len(push_pairs):
            np.add.at(push_to, push_dst, push_bytes)
        self._record(b, t0, items, offered, delivered_b, dropped_b, unreachable_b, rtt, routes, after,
                     dropped_links, node_down, push_rec, push_to, crossing)
        if self.prefetch is not None:
            if len(push_pairs):
                self.prefetch.delivered(b, push_pairs, push_deliv)
            self.prefetch.land(b)

    def _seen_frame(self, seen) -> pl.DataFrame:
        cache, prov, obj, ts, nbytes = seen
        names = pl.Series("n", self.vocab.nodes, dtype=pl.Utf8)
        provs = pl.Series("p", self.caches.providers, dtype=pl.Utf8)
        return pl.DataFrame({
            "cache": names.gather(pl.Series(cache.astype(np.int64), dtype=pl.UInt32)),
            "provider": provs.gather(pl.Series(prov.astype(np.int64), dtype=pl.UInt32)),
            "obj": obj, "ts": ts, "bytes": nbytes}, schema=SEEN_COLS)

    def _record(self, b, t0, items: Items, offered, delivered_b, dropped_b, unreachable_b, rtt, routes, after,
                dropped_links, node_down, push_rec, push_to, crossing):
        bin_s, v = self.bin_s, self.vocab
        served_by, client = items.served_by, items.client
        ok = ~np.isnan(rtt) & (delivered_b > 0)
        self.rtt_samples.append((rtt[ok], delivered_b[ok]))
        # local turnaround: of the *offered* bytes whose sender and client share a region, the share delivered
        # on paths that never leave it (on the DAGs, per distinct (sender, client)); offered, not delivered,
        # in the denominator, so a failure lowers it instead of leaving only the local traffic to count (a
        # request nothing could serve has no sender and is left out)
        no_copy = items.req & (items.chain[:, 0] < 0)
        same = (v.node_region[served_by] == v.node_region[client]) & (offered > 0) & ~no_copy
        local_num = local_den = same_dlv = 0.0
        if same.any():
            idx = np.flatnonzero(same)
            nn = len(v.nodes)
            live = delivered_b[idx] > 0
            frac = np.zeros(len(idx))
            if live.any():
                pair, inv = np.unique(served_by[idx[live]].astype(np.int64) * nn + client[idx[live]],
                                      return_inverse=True)
                frac[live] = routes.confined_fractions(pair // nn, pair % nn, v.node_region)[inv.reshape(-1)]
            local_num = float((delivered_b[idx] * frac).sum())
            local_den = float(offered[idx].sum())
            same_dlv = float(delivered_b[idx].sum())
        util = after / self.cap_bytes
        n_fail = len(self.state.nodes) + len(self.state.links)
        survivor = ~node_down[client]
        via, hit = items.via_cache, items.hit
        off_sum, dlv_sum = float(offered.sum()), float(delivered_b.sum())
        q50, q95 = weighted_quantiles(rtt[ok], delivered_b[ok], (0.5, 0.95)) if ok.any() else (float("nan"),) * 2
        # delivered bytes by RTT class (a class [lo, hi) per RTT_CLASS_EDGES_MS): what the hourly RTT figure adds up
        rtt_class = np.bincount(np.searchsorted(RTT_CLASS_EDGES_MS, rtt[ok], side="right"), weights=delivered_b[ok],
                                minlength=len(RTT_CLASS_COLUMNS))
        self.out.add(
            "bins", bin=b, ts_s=t0, offered_bytes=off_sum, delivered_bytes=dlv_sum,
            dropped_bytes=float(dropped_b.sum()), unreachable_bytes=float(unreachable_b.sum()),
            offered_bps=off_sum * 8 / bin_s, delivered_bps=dlv_sum * 8 / bin_s,
            backbone_bps=crossing["backbone"] * 8 / bin_s, backbone_in_bps=crossing["backbone_in"] * 8 / bin_s,
            backbone_out_bps=crossing["backbone_out"] * 8 / bin_s,
            backbone_links_bps=float(after[self.backbone].sum()) * 8 / bin_s,
            local_share=(local_num / local_den) if local_den > 0 else float("nan"),
            local_bytes=local_num, same_region_bytes=local_den, same_region_delivered_bytes=same_dlv,
            cache_requests=int(items.requests[via].sum()), cache_hits=int(items.requests[hit].sum()),
            cache_bytes_requested=float(offered[via].sum()), cache_bytes_hit=float(offered[hit].sum()),
            content_bytes=float(offered[items.req].sum()),
            cache_served_bytes=float(offered[items.req & v.node_cache[served_by]].sum()),
            cache_hit_ratio=_ratio(items.requests[hit].sum(), items.requests[via].sum()),
            cache_byte_hit_ratio=_ratio(offered[hit].sum(), offered[via].sum()),
            rtt_p50_ms=q50, rtt_p95_ms=q95, **{c: float(x) for c, x in zip(RTT_CLASS_COLUMNS, rtt_class)},
            failures_active=n_fail, max_utilisation=float(util.max()) if len(util) else 0.0, **push_rec,
            # survivors: subscribers whose own PoP is up (a dark metro takes its PoPs down with it)
            survivor_offered_bytes=float(offered[survivor].sum()),
            survivor_delivered_bytes=float(delivered_b[survivor].sum()),
        )
        used = np.flatnonzero((after > 0) | (dropped_links > 0))
        self.out.add("links", bin=b, ts_s=t0, src=self.link_src[used],
                     dst=self.link_dst[used], load_bytes=after[used], bps=after[used] * 8 / bin_s,
                     utilisation=util[used], dropped_bytes=dropped_links[used], backbone=self.backbone[used])
        if self.caches.cache_ids:
            now = self.caches.counters()
            d = now - self._cache_totals
            self._cache_totals = now
            up = ~node_down[self.cache_codes]
            self.out.add("caches", bin=b, ts_s=t0, cache=self.cache_codes,
                         requests=d[:, 0].astype(np.int64), hits=d[:, 1].astype(np.int64),
                         bytes_requested=d[:, 2] * self.scale, bytes_served=d[:, 3] * self.scale,
                         fill_bytes=d[:, 4] * self.scale, up=up, prefetch_bytes=push_to[self.cache_codes])
        region = v.node_region[client].astype(np.int64)
        svc = _group(items.svc.astype(np.int64), region, offered, delivered_b, unreachable_b,
                     np.where(survivor, offered, 0.0), np.where(survivor, delivered_b, 0.0),
                     radix=(len(v.services), len(v.regions)))
        self.out.add("services", bin=b, ts_s=t0, service=svc[0][0], region=svc[0][1],
                     offered_bytes=svc[1][0], delivered_bytes=svc[1][1], unreachable_bytes=svc[1][2],
                     survivor_offered_bytes=svc[1][3], survivor_delivered_bytes=svc[1][4],
                     failures_active=n_fail)
        src_region = v.node_region[served_by].astype(np.int64)
        frm = v.served_from(served_by, client, no_copy).astype(np.int64)
        pr = _group(src_region, region, frm, offered, delivered_b,
                    radix=(len(v.regions), len(v.regions), len(SERVED_FROM)))
        self.out.add("pairs", bin=b, src_region=pr[0][0], dst_region=pr[0][1],
                     served_from=pr[0][2], offered_bytes=pr[1][0], delivered_bytes=pr[1][1])
        if len(self.access_codes):
            nn = len(v.nodes)
            down = np.bincount(client, weights=delivered_b, minlength=nn)[self.access_codes]
            up = np.bincount(served_by, weights=delivered_b, minlength=nn)[self.access_codes]
            self.out.add("access", bin=b, ts_s=t0, pop=self.access_codes, down_bytes=down, up_bytes=up)


def _group(*cols, radix):
    """Sums of the float columns after the integer key columns (``len(radix)`` of them), per distinct key,
    sorted by key; each group's values are added in row order (np.bincount), so the sums are reproducible."""
    keys, vals = cols[:len(radix)], cols[len(radix):]
    n = len(keys[0])
    if n == 0:
        return [np.zeros(0, np.int64) for _ in keys], [np.zeros(0) for _ in vals]
    code = np.zeros(n, dtype=np.int64)
    for k, r in zip(keys, radix):
        code = code * int(r) + k
    uniq, inv = np.unique(code, return_inverse=True)
    inv = inv.reshape(-1)
    out_keys = []
    rest = uniq
    for r in reversed(radix):
        out_keys.append(rest % int(r))
        rest = rest // int(r)
    out_keys.reverse()
    return out_keys, [np.bincount(inv, weights=x, minlength=len(uniq)) for x in vals]


def _ratio(num, den) -> float:
    return float(num) / float(den) if den else float("nan")


def _congest(routes, src, dst, vol, cap, over) -> np.ndarray:
    """Delivered volume per demand after max-min fair cutting on the overloaded links.

    Which demands cross an overloaded link, and with what fraction, comes from the ECMP DAGs
    (:meth:`Routes.link_fractions`), never from enumerating paths.
    """
    over_ids = np.flatnonzero(over)
    frac = routes.link_fractions(src, dst, over_ids)
    dem, lnk = np.nonzero(frac > 0)
    rate = np.asarray(vol, dtype=np.float64).copy()
    if len(dem) == 0:
        return rate
    touched, local = np.unique(dem, return_inverse=True)
    # every demand crossing an overloaded link is in `touched`, so each such link's whole capacity
    # is shared among them (links that are not overloaded cannot saturate and are left out)
    r, _ = max_min_rates(rate[touched], cap[over_ids], local.reshape(-1), lnk, frac[dem, lnk])
    rate[touched] = r
    return rate


def run_design(scenario: Scenario, design: DesignSpec, g: nx.DiGraph, traffic, *,
               on_bin: Callable[[int, int], None] | None = None, warm: dict | None = None) -> RunResult:
    """Simulate one design: a simpy environment with a failure process and a replay process.

    ``traffic`` is a :class:`netsim.sim.sources.TrafficSource` (bins of the trace, scale, duration).
    ``warm``: the caches after the warm-up, shared by runs of the same design and warm-up trace (the warm-up
    replays with every node up and the base routes, so it does not depend on the failures): an empty dict is
    filled by the first run, and a later run starts from its snapshot instead of replaying the warm-up again.
    """
    from netsim._alloc import tune_allocator

    tune_allocator()
    run = _DesignRun(scenario, design.name, g, duration_s=traffic.duration_s, scale=traffic.scale,
                     sample_rate=traffic.sample_rate)
    warmed = 0
    if scenario.caches.warmup:
        if warm and warm.get("trace") == scenario.caches.warmup:
            warmed = run.restore_warm(warm)
        else:
            warmed = run.warm_up(scenario.caches.warmup)
            if warm is not None and run.caches.cache_ids:
                warm.update(trace=scenario.caches.warmup, requests=warmed, providers=list(run.caches.providers),
                            states={c: run.caches.caches[c].state() for c in run.caches.cache_ids})
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
        frames = run.encoded_bins(traffic)
        try:
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
        finally:
            frames.close()

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
    summary["bins_planned"] = run.n_bins
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
