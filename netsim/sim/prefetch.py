"""The daily off-peak pushes of a design with the ``prefetch`` transform, and the trace of the days before a run.

:class:`Prefetch` ranks what each cache was consulted for and schedules the pushes as demands of
the bins of its window; :func:`prior_requests` reads a history or warm-up trace.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from netsim.topology.designs import PrefetchSettings

__all__ = ["Prefetch", "prior_requests", "check_sample_rate", "SEEN_COLS"]

#: the columns of the requests a prefetch ranks (the first cache consulted, and the object)
SEEN_COLS = {"cache": pl.Utf8, "provider": pl.Utf8, "obj": pl.UInt64, "ts": pl.Float64, "bytes": pl.Int64}


def check_sample_rate(run, name: str, meta: dict, *, where: str) -> None:
    """A trace of the days before the run must sample the same object space as its traffic."""
    from netsim.errors import InputError

    rate = meta.get("sample_rate")
    own = run.caches_sample_rate
    if rate is not None and abs(float(rate) - own) > 1e-12 * max(own, 1.0):
        raise InputError(f"{name}: sampled at {float(rate):g}, the run's traffic at {own:g}; a history must "
                         "sample the same object space (same sample rate)", source=run.scenario.source, where=where)


def prior_requests(run, name: str, *, where: str) -> pl.DataFrame:
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
    check_sample_rate(run, name, meta, where=where)
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


class Prefetch:
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

    def __init__(self, run, spec: PrefetchSettings):
        self.run = run
        self.at_s, self.window_s = spec.at_s, spec.window_s
        self.share, self.half_life_s = spec.share, spec.half_life_s
        self.cache_ids = [c for c in spec.caches or run.caches.cache_ids if c in run.caches.caches]
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
        self.seen: list[pl.DataFrame] = [self._history(spec.history)]

    def _history(self, name) -> pl.DataFrame:
        """The history trace's requests, each with the cache it would have gone to first, ts shifted to end at 0."""
        run = self.run
        empty = pl.DataFrame(schema={**SEEN_COLS, "requests": pl.Int64})
        if name is None:
            return empty
        from netsim.errors import InputError

        where = f"design {run.design!r}: prefetch.history"
        h = prior_requests(run, name, where=where)
        if h.height == 0:
            return empty
        pairs = h.select("src", "provider").unique().sort("src", "provider")
        try:
            first = run.caches.first_caches(pairs["src"].to_list(), pairs["provider"].to_list(),
                                            distance=run.distance_fn(run.base_routes))
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
            self.seen.append(requests.select([pl.col(c).cast(t) for c, t in SEEN_COLS.items()])
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
        dist = run.distance_fn(routes)
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
