"""The fast evaluator of ``netsim plan``: a candidate design's backbone load, monthly cost and N-1
survivor availability in well under a second, from the same parts the engine uses.

* **Demand**: the scenario's trace summed per bin and per (src, dst, provider) pair, at full load
  (× the trace's scale and the scenario's growth): the engine's bins without the requests.
* **Routes**: the compiled router on the design (the scenario's IGP weight and multipath), in normal
  operation and in each failure state of the scenario's timeline (scheduled and random failures,
  as ``netsim.sim.failures.build_timeline`` draws them).
* **Caches**: each content pair is resolved through the design's caches by
  :class:`netsim.cache.CacheSystem` (first cache, where it fills from, nearest origin), as the engine
  does; the bytes a cache keeps from its upstream are its **offload**, the byte hit ratio of an LRU
  (or the planned policy) of that size on the requests of the ASes it serves, warmed on the
  scenario's warm-up trace, over all their content bytes (uncacheable ones pass through as misses).
  One offload for the whole day: a replay's hit ratio varies by the hour.
* **Backbone** per bin: the bytes whose path crosses the backbone, once per byte, as the engine's
  ``backbone_bps`` (``Routes.crossing_fractions``); a pair cut off in a failure state carries
  nothing (a cache still serves its hits when its upstream is cut off). Its 95th percentile and
  peak over the bins are the figures the engine's summary reports. Congestion is not modelled: a
  design whose links overflow is better judged by its replay.
* **Cost**: :func:`netsim.analysis.cost.design_cost` on the per-bin loads of the billed (transit and
  shared) links in normal operation (the run's ``planning.basis: normal``), with the new IX ports
  and cache link sized for their busy hour (:func:`netsim.analysis.sizing.line_size` of the peak
  load over the 60 % target utilisation).
* **Availability**: :func:`netsim.analysis.resilience.n1_resilience` (the run's fast N-1 pass) on
  the trace's busy hour with the candidate's offload: the worst single metro or node failure for
  the survivors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import networkx as nx
import numpy as np
import polars as pl

from netsim.errors import InputError
from netsim.plan.space import Candidate, Space

__all__ = ["FastEvaluator", "FastFigures"]


@dataclass
class FastFigures:
    """The fast figures of one candidate (bps, a currency per month, a fraction)."""

    backbone_p95_bps: float
    backbone_peak_bps: float
    cost_per_month: float
    offload: float
    transforms: list
    latency_ms: float = 0.0   # byte-weighted one-way latency from where the bytes come from (normal operation)
    n1_worst_availability: float | None = None
    n1_worst_failure: str | None = None


class FastEvaluator:
    """Evaluates candidates of one scenario (its first design is the baseline they are built on)."""

    def __init__(self, sc, g0: nx.DiGraph, space: Space):
        from netsim.analysis.resilience import busy_hour_demand
        from netsim.sim.failures import FailureState, build_timeline
        from netsim.sim.sources import traffic_source
        from netsim.topology.designs import apply_design
        from netsim.traffic import read_trace

        self.sc, self.space = sc, space
        first = sc.designs[0]
        self.g_base = apply_design(g0, first.name, first.transforms, source=sc.source, where="designs[0]")
        self.base_transforms = list(first.transforms)
        traffic = traffic_source(sc, self.g_base)
        if not isinstance(traffic.trace, (str, bytes)) and not hasattr(traffic.trace, "__fspath__"):
            raise InputError("netsim plan replays a trace file: write the generated traffic with netsim trace gen "
                             "and name it in traffic.trace", source=sc.source, where="traffic")
        self.trace, self.sample_rate = traffic.trace, traffic.sample_rate
        self.bin_s = float(sc.bin_s)
        self.n_bins = max(1, int(math.ceil(traffic.duration_s / self.bin_s - 1e-9)))
        factor = float(traffic.scale) * float(sc.traffic.growth)
        lf = read_trace(self.trace, validate=False).filter(pl.col("ts") < traffic.duration_s)
        agg = (lf.group_by((pl.col("ts") // self.bin_s).cast(pl.Int64).alias("bin"), "src", "dst", "provider")
               .agg(pl.col("bytes").sum().cast(pl.Float64)).collect())
        pairs = agg.select("src", "dst", "provider").unique().sort("src", "dst", "provider", nulls_last=True)
        self.pairs = pairs.with_row_index("pair")
        agg = agg.join(self.pairs, on=["src", "dst", "provider"], how="left", nulls_equal=True)
        self.volume = np.zeros((self.n_bins, self.pairs.height))   # bytes per bin, full load
        b = np.minimum(agg["bin"].to_numpy(), self.n_bins - 1)
        np.add.at(self.volume, (b, agg["pair"].to_numpy()), agg["bytes"].to_numpy() * factor)
        self.busy = busy_hour_demand(self.trace, scale=factor)
        # the failure state of each bin, as the engine's failure process sets it (changes at or before the bin's start)
        timeline = build_timeline(self.g_base, sc.failures, duration_s=traffic.duration_s, seed=sc.seed,
                                  source=sc.source)
        state, k = FailureState(), 0
        self.bin_state: list[tuple] = []
        self.states: dict[tuple, tuple[list, list]] = {}
        for b in range(self.n_bins):
            while k < len(timeline) and timeline[k].t_s <= b * self.bin_s:
                state.apply(timeline[k])
                k += 1
            key = state.key()
            self.states.setdefault(key, (sorted(state.nodes, key=str), sorted(state.links, key=lambda e: (str(e[0]), str(e[1])))))
            self.bin_state.append(key)
        #: the bins of each failure state
        self.state_bins = {key: np.array([k == key for k in self.bin_state], dtype=bool) for key in self.states}
        self._requests = None
        self._offload: dict[tuple, float] = {}

    # -- cache offload ------------------------------------------------------------------------------
    def _content_requests(self):
        from netsim.cache.cacheability import cacheable_rows
        from netsim.cache.policies import make_keys
        from netsim.traffic import read_trace

        if self._requests is None:
            asn = {str(n): int(d["asn"]) for n, d in self.g_base.nodes(data=True)}
            frames = []
            for name in ([self.sc.caches.warmup] if self.sc.caches.warmup else []) + [None]:
                path = self.trace if name is None else self.sc.resolve("traces", name, where="caches.warmup")
                req = (read_trace(path, validate=False).filter(pl.col("obj").is_not_null())
                       .select("src", "provider", "obj", "bytes", "service").collect())
                ok = cacheable_rows(req, self.sc.caches.cacheable)
                frames.append({"asn": req["src"].replace_strict(asn, default=-1, return_dtype=pl.Int64).to_numpy(),
                               "keys": make_keys(req["provider"], req["obj"].to_numpy()),
                               "bytes": req["bytes"].to_numpy().astype(np.int64), "ok": ok})
            self._requests = frames
        return self._requests

    def offload(self, serves: tuple[int, ...], size_tb: float) -> float:
        """Share of the content bytes of the ASes ``serves`` that one cache of ``size_tb`` keeps from its
        upstream: its byte hits (warmed on the warm-up trace) over all their content bytes."""
        from netsim.cache.policies import make_cache, scaled_capacity

        key = (tuple(sorted(serves)), float(size_tb))
        if key not in self._offload:
            cache = make_cache(self.space.spec.policy,
                               capacity_bytes=scaled_capacity(int(round(size_tb * 1e12)), self.sample_rate))
            *warm, run = self._content_requests()
            for part in warm:
                sel = np.isin(part["asn"], key[0]) & part["ok"]
                cache.process(part["keys"][sel], part["bytes"][sel])
            mine = np.isin(run["asn"], key[0])
            sel = mine & run["ok"]
            hits = cache.process(run["keys"][sel], run["bytes"][sel])
            total = float(run["bytes"][mine].sum())
            self._offload[key] = float((run["bytes"][sel] * hits).sum()) / total if total > 0 else 0.0
        return self._offload[key]

    # -- one candidate --------------------------------------------------------------------------------
    def evaluate(self, c: Candidate, *, availability: bool = True, metro_only: bool = True) -> FastFigures:
        """The fast figures of ``c``; the availability over single metro failures (``metro_only``) or metro and node ones."""
        from netsim import routing
        from netsim.analysis.cost import design_cost
        from netsim.analysis.resilience import n1_resilience
        from netsim.analysis.sizing import TARGET_UTIL, line_size
        from netsim.cache.resolve import CacheSystem
        from netsim.sim.engine import backbone_links
        from netsim.stats import percentile_95
        from netsim.topology.designs import apply_design

        sc = self.sc
        g1 = apply_design(self.g_base, c.key, self.space.transforms(c))
        net = routing.compile(g1, igp_weight=sc.routing.igp_weight)
        base = net.route(multipath=sc.routing.multipath)
        links = list(net.links)
        bb = set(backbone_links(g1, tags=sc.backbone.tags, auto=sc.backbone.auto))
        bb_mask = np.array([e in bb for e in links], dtype=bool)
        cache_nodes = [n for n, d in g1.nodes(data=True) if d.get("kind") == "cache"]
        offload = {n: self.offload(tuple(g1.nodes[n]["serves"]), g1.nodes[n]["capacity_bytes"] / 1e12)
                   for n in cache_nodes}
        # links whose per-bin load is needed: billed ones (for the cost) and the candidate's new IX ports and cache
        # link (to size them; a cache of the baseline keeps its link)
        new_cache = next((n for n in cache_nodes if n not in self.g_base), None)   # the node shared_cache added
        new_links = [e for e in links if (c.ix is not None and c.ix in e) or (new_cache is not None and new_cache in e)]
        billed = [e for e in links if g1.edges[e].get("rel") in ("c2p", "p2c")]
        want = sorted(set(new_links) | set(billed), key=lambda e: (str(e[0]), str(e[1])))
        pos = {e: i for i, e in enumerate(links)}
        want_idx = np.array([pos[e] for e in want], dtype=np.int64)
        bb_bps = np.zeros(self.n_bins)
        system = CacheSystem(g1, distance=base.distance_function())
        normal = ((), ())
        for key, (down_nodes, down_links) in self.states.items():
            routes = base if key == normal else base.without(nodes=down_nodes, links=down_links)
            w_bb, w_links, w_lat = self._pair_weights(routes, net, system, set(down_nodes), bb_mask, want_idx, offload)
            sel = self.state_bins[key]
            bb_bps[sel] = self.volume[sel] @ w_bb * 8 / self.bin_s
            if key == normal:
                normal_w = w_links, w_lat
        if normal not in self.states:   # a failure from the first bin on: normal operation is never replayed
            normal_w = self._pair_weights(base, net, system, set(), bb_mask, want_idx, offload)[1:]
        # cost and sizing on an ordinary day: every bin in normal operation
        link_bytes = self.volume @ normal_w[0]
        tot = self.volume.sum(axis=0)
        latency = float((tot * normal_w[1]).sum() / tot.sum()) if tot.sum() > 0 else 0.0
        peak_gbps = {e: float(link_bytes[:, j].max()) * 8 / self.bin_s / 1e9 for j, e in enumerate(want)}
        ports, cache_link = {}, 100.0
        for u, v in new_links:
            if c.ix in (u, v):
                member = v if u == c.ix else u
                a = int(g1.nodes[member]["asn"])
                need = max(peak_gbps[(u, v)], peak_gbps.get((v, u), 0.0)) / TARGET_UTIL
                ports[a] = float(max(ports.get(a, 0.0), line_size(need, floor=10)))
        if new_cache is not None:
            need = max([peak_gbps[e] for e in new_links if new_cache in e] or [0.0]) / TARGET_UTIL
            cache_link = float(line_size(need, floor=10))
        transforms = self.space.transforms(c, ports=ports or None, cache_link_gbps=cache_link,
                                           port_gbps=max(ports.values()) if ports else 100.0)
        g = apply_design(self.g_base, c.key, transforms)
        n, k = self.n_bins, len(want)
        table = pl.DataFrame({"design": [c.key] * (n * k), "bin": np.tile(np.arange(n, dtype=np.int64), k),
                              "ts_s": np.tile(np.arange(n) * self.bin_s, k),
                              "src": [str(u) for u, _ in want for _ in range(n)],
                              "dst": [str(v) for _, v in want for _ in range(n)],
                              "bps": (link_bytes * 8 / self.bin_s).T.reshape(-1)})
        cost = design_cost(g, table, prices=sc.prices, bin_s=self.bin_s, design=c.key,
                           aggregators=g.graph.get("aggregators"), split=sc.cost.split)
        main_offload = max(offload.values()) if offload else 0.0
        out = FastFigures(backbone_p95_bps=percentile_95(bb_bps), backbone_peak_bps=float(bb_bps.max()),
                          cost_per_month=cost.total, offload=main_offload, transforms=self.base_transforms + transforms,
                          latency_ms=latency)
        if availability:
            r = n1_resilience(g, self.busy, cache_offload=main_offload, igp_weight=sc.routing.igp_weight,
                              multipath=sc.routing.multipath)
            worst = r.filter(pl.col("availability").is_not_null() & ((pl.col("kind") == "metro") | (not metro_only)))
            if worst.height:
                out.n1_worst_availability = float(worst["availability"][0])
                out.n1_worst_failure = f"{worst['kind'][0]} {worst['element'][0]}"
        return out

    def _pair_weights(self, routes, net, system, down: set, bb_mask, want_idx, offload):
        """Per pair: the share of its bytes that crosses the backbone, and the share on each wanted link, in
        one failure state (segments: copy source -> client, and fill source -> cache for a cache's misses); and
        its byte-weighted latency from where its bytes come from (a miss adds the fill's)."""
        P = self.pairs.height
        w_bb = np.zeros(P)
        w_lat = np.zeros(P)
        w_links = np.zeros((P, len(want_idx)))
        seg_src, seg_dst, seg_pair, seg_w = [], [], [], []
        src, dst, prov = (self.pairs[c].to_list() for c in ("src", "dst", "provider"))
        flows = [i for i in range(P) if dst[i] is not None]
        content = [i for i in range(P) if dst[i] is None and prov[i] is not None]
        for i in flows:
            if src[i] not in down and dst[i] not in down:
                seg_src.append(src[i]); seg_dst.append(dst[i]); seg_pair.append(i); seg_w.append(1.0)
        known = set(system.origin_providers)
        content = [i for i in content if prov[i] in known and src[i] not in down]
        if content:
            system.clear()
            frame = pl.DataFrame({"src": [src[i] for i in content], "provider": [prov[i] for i in content],
                                  "obj": pl.Series(range(len(content)), dtype=pl.UInt64),
                                  "bytes": pl.Series([1] * len(content), dtype=pl.Int64)})
            r = system.resolve(frame, down=down, distance=routes.distance_function())
            cache, fill, served, unreach = (r[k].to_list() for k in ("cache", "fill_src", "served_by", "unreachable"))
            for j, i in enumerate(content):
                if cache[j] is None:
                    if not unreach[j] and served[j] is not None:
                        seg_src.append(served[j]); seg_dst.append(src[i]); seg_pair.append(i); seg_w.append(1.0)
                    continue
                h = offload.get(cache[j], 0.0)
                if unreach[j]:
                    # the upstream is cut off: the cache still serves what it holds, if the client reaches it
                    if cache[j] not in down:
                        seg_src.append(cache[j]); seg_dst.append(src[i]); seg_pair.append(i); seg_w.append(h)
                    continue
                seg_src.append(cache[j]); seg_dst.append(src[i]); seg_pair.append(i); seg_w.append(1.0)
                if fill[j] is not None:
                    seg_src.append(fill[j]); seg_dst.append(cache[j]); seg_pair.append(i); seg_w.append(1.0 - h)
        if not seg_src:
            return w_bb, w_links, w_lat
        si = np.asarray(net.index(seg_src), dtype=np.int64)
        di = np.asarray(net.index(seg_dst), dtype=np.int64)
        ok = routes.reachable_idx(si, di)
        si, di = si[ok], di[ok]
        pair = np.asarray(seg_pair)[ok]
        w = np.asarray(seg_w)[ok]
        if len(si):
            if bb_mask.any():
                np.add.at(w_bb, pair, w * routes.crossing_fractions(si, di, bb_mask))
            if len(want_idx):
                np.add.at(w_links, pair, w[:, None] * routes.link_fractions(si, di, want_idx))
            np.add.at(w_lat, pair, w * np.nan_to_num(routes.distance_idx(si, di)))
        return w_bb, w_links, w_lat
