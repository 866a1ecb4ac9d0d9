"""Request resolution through the caches of a topology: which cache, hit or miss, where a miss fills from.

A cache node (``kind == "cache"``) serves requests from clients whose AS is in its ``serves``
tuple, for the providers in ``providers`` (None: all). A request from ``src`` goes to the
nearest eligible cache that is up (by the distance function, ties to the smallest node id). A
hit is served there. A miss is fetched from the cache's ``parent`` (a cache that is up, reachable
and carries the provider; a down or ineligible parent is skipped for its own parent), else from
the provider's nearest reachable origin (``kind == "origin"``, attribute ``provider``), and then
admitted. A miss at a parent fills from the parent's parent/origin in turn, so a hierarchy is
resolved exactly: every cache sees, in request order, its direct requests merged with the misses
of its children, and each cache is one batched ``process`` call per ``resolve``.

Distances come from a callable ``distance(src_ids, dst_ids) -> float array (ms)`` over numpy
arrays of node ids (``inf`` = unreachable). The engine passes the routing core's distances;
the default, :func:`latency_distance`, is shortest paths on ``latency_ms`` over all links,
ignoring routing policy, without the failed nodes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Optional

import networkx as nx
import numpy as np
import polars as pl

from netsim.cache.policies import (
    CACHE_POLICIES, Cache, StaticCache, _mix64, make_keys, provider_hash, scaled_capacity,
)
from netsim.errors import InputError

__all__ = ["CacheSystem", "Distance", "latency_distance"]

Distance = Callable[[np.ndarray, np.ndarray], np.ndarray]


def latency_distance(g: nx.DiGraph, *, down: Iterable[str] = (), weight: str = "latency_ms") -> Distance:
    """Distance function from shortest paths on ``weight`` (all links, no routing policy).

    Nodes in ``down`` are removed first. Paths from each source are computed once (Dijkstra)
    and remembered. A missing weight counts as 1.

    Examples
    --------
    >>> g = nx.DiGraph()
    >>> g.add_edge("a", "b", latency_ms=2.0); g.add_edge("b", "c", latency_ms=3.0)
    >>> d = latency_distance(g)
    >>> d(np.array(["a", "a", "c"]), np.array(["c", "b", "a"])).tolist()
    [5.0, 2.0, inf]
    >>> latency_distance(g, down={"b"})(np.array(["a"]), np.array(["c"])).tolist()
    [inf]
    """
    down = frozenset(down)
    h = g.subgraph([n for n in g.nodes if n not in down]) if down else g
    memo: dict[str, dict[str, float]] = {}

    def distance(src_ids: np.ndarray, dst_ids: np.ndarray) -> np.ndarray:
        out = np.full(len(src_ids), np.inf)
        for i, (s, t) in enumerate(zip(src_ids.tolist(), dst_ids.tolist())):
            if s not in h:
                continue
            lengths = memo.get(s)
            if lengths is None:
                lengths = memo[s] = nx.single_source_dijkstra_path_length(h, s, weight=weight)
            out[i] = lengths.get(t, np.inf)
        return out

    return distance


@dataclass
class _CacheSpec:
    serves: frozenset
    providers: Optional[frozenset]
    parent: Optional[str]


_STAT_COLS = ("bytes_served", "fill_bytes", "unfillable_misses")
_TOUCH_COLS = ("requests", "hits", "bytes_requested", "bytes_hit")


def _codes(col: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct strings of a column and each row's index among them."""
    col = col.cast(pl.Utf8)
    if col.null_count():
        raise InputError(f"requests: column {col.name!r} has {col.null_count()} null values", where=col.name)
    uniq = col.unique().sort()
    codes = col.cast(pl.Enum(uniq.to_list())).to_physical().cast(pl.Int64).to_numpy() if len(col) else \
        np.empty(0, np.int64)
    return np.array(uniq.to_list(), dtype=object), codes


class CacheSystem:
    """The caches of a topology and the resolution of request batches through them.

    Parameters
    ----------
    g : networkx.DiGraph
        A netsim topology (cache nodes carry ``capacity_bytes``, ``policy``, ``serves``,
        ``providers``, ``parent``; origins carry ``provider``).
    distance : callable, optional
        ``distance(src_ids, dst_ids) -> ms`` over arrays of node ids; default
        :func:`latency_distance` of ``g`` without the failed nodes of each call.
    sample_rate : float
        Fraction of objects kept in a spatially sampled trace; every cache runs at
        ``scaled_capacity(capacity_bytes, sample_rate)``.

    Attributes
    ----------
    caches : dict of str to Cache
        The cache of each cache node (sorted by id): ``clear()`` for a cold restart,
        ``state()``/``load_state()`` for a warm one.

    Examples
    --------
    >>> g = nx.DiGraph()
    >>> g.add_node("u", kind="pop", asn=1); g.add_node("o", kind="origin", asn=9, provider="v")
    >>> g.add_node("c", kind="cache", asn=1, capacity_bytes=100, policy="lru", serves=(1,),
    ...            providers=None, parent=None)
    >>> for a, b in [("u", "c"), ("c", "u"), ("c", "o"), ("o", "c"), ("u", "o"), ("o", "u")]:
    ...     g.add_edge(a, b, latency_ms=1.0)
    >>> cs = CacheSystem(g)
    >>> req = pl.DataFrame({"src": ["u", "u"], "provider": ["v", "v"], "obj": [1, 1], "bytes": [10, 10]})
    >>> cs.resolve(req).select("cache", "hit", "served_by", "fill_src").rows()
    [('c', False, 'o', 'o'), ('c', True, 'c', None)]
    """

    def __init__(self, g: nx.DiGraph, *, distance: Optional[Distance] = None, sample_rate: float = 1.0):
        self.g = g
        self._distance = distance
        self._default_distances: dict[frozenset, Distance] = {}
        self.cache_ids: list[str] = sorted(n for n, d in g.nodes(data=True) if d.get("kind") == "cache")
        self.caches: dict[str, Cache] = {}
        self._spec: dict[str, _CacheSpec] = {}
        for cid in self.cache_ids:
            d = g.nodes[cid]
            policy = d.get("policy") or "lru"
            if policy not in CACHE_POLICIES:
                raise InputError(f"cache {cid!r}: unknown policy {policy!r}; known: {', '.join(CACHE_POLICIES.names())}",
                                 where=f"{cid}.policy")
            cap = d.get("capacity_bytes")
            if cap is None or int(cap) <= 0:
                raise InputError(f"cache {cid!r} has no capacity_bytes; expected an integer > 0", where=f"{cid}.capacity_bytes")
            self.caches[cid] = CACHE_POLICIES[policy](capacity_bytes=scaled_capacity(int(cap), sample_rate))
            serves = d.get("serves")
            parent = d.get("parent")
            if parent is not None and (parent not in g or g.nodes[parent].get("kind") not in ("cache", "origin")):
                raise InputError(f"cache {cid!r}: parent {parent!r} is not a cache or origin node", where=f"{cid}.parent")
            providers = d.get("providers")
            self._spec[cid] = _CacheSpec(
                serves=frozenset(serves if serves else [d.get("asn")]),
                providers=None if providers is None else frozenset(providers),
                parent=parent)
        # children before parents; a parent cycle is a user error
        order = nx.DiGraph()
        order.add_nodes_from(self.cache_ids)
        for cid, spec in self._spec.items():
            if spec.parent is not None and spec.parent in self._spec:
                order.add_edge(cid, spec.parent)
        try:
            self._topo = list(nx.lexicographical_topological_sort(order))
        except nx.NetworkXUnfeasible:
            cycle = " -> ".join(u for u, _ in nx.find_cycle(order))
            raise InputError(f"cache parents form a cycle: {cycle}", where="parent") from None
        self._origins: dict[str, list[str]] = {}
        for n, d in sorted(g.nodes(data=True)):
            if d.get("kind") == "origin":
                self._origins.setdefault(d.get("provider") or f"AS{d.get('asn')}", []).append(n)
        self._acc = {cid: dict.fromkeys(_STAT_COLS, 0) for cid in self.cache_ids}
        # lookups a prefetch made to refresh resident objects: not subscriber requests, so stats() leaves them out
        self._touch = {cid: dict.fromkeys(_TOUCH_COLS, 0) for cid in self.cache_ids}

    # ------------------------------------------------------------------ helpers
    def _dist_fn(self, down: frozenset, distance: Optional[Distance]) -> Distance:
        if distance is not None:
            return distance
        if self._distance is not None:
            return self._distance
        fn = self._default_distances.get(down)
        if fn is None:
            if len(self._default_distances) >= 32:  # bound the memo over many failure states
                self._default_distances.pop(next(iter(self._default_distances)))
            fn = self._default_distances[down] = latency_distance(self.g, down=down)
        return fn

    @staticmethod
    def _pairs(dist: Distance, a: list[str], b: list[str]) -> np.ndarray:
        """len(a) x len(b) matrix of distances, one call."""
        if not a or not b:
            return np.full((len(a), len(b)), np.inf)
        src = np.repeat(np.array(a, dtype=object), len(b))
        dst = np.tile(np.array(b, dtype=object), len(a))
        return np.asarray(dist(src, dst), dtype=float).reshape(len(a), len(b))

    # ------------------------------------------------------------------ resolve
    def resolve(self, requests: pl.DataFrame, *, down: Iterable[str] = (),
                distance: Optional[Distance] = None) -> pl.DataFrame:
        """Resolve a batch of requests (in the order given) through the caches.

        Parameters
        ----------
        requests : polars.DataFrame
            Columns ``src`` (client node id), ``provider``, ``obj`` (uint), ``bytes`` (> 0).
        down : iterable of str
            Failed nodes: down caches are skipped, down origins cannot fill, a down ``src``
            is unreachable.
        distance : callable, optional
            Distances for this call (e.g. the routing core's after a failure); default: the
            system's.

        Returns
        -------
        polars.DataFrame
            The requests with, per row: ``cache`` (first cache consulted, or null), ``hit``
            (hit at that cache), ``served_by`` (the node whose copy was sent: the hitting cache,
            or the origin), ``fill_src`` (on a miss at ``cache``: the parent cache or origin it
            fetched from), ``chain`` (the nodes the bytes pass through, from ``served_by`` to
            the last node before ``src``: e.g. ``[origin, parent, cache]``) and
            ``unreachable`` (no copy could be reached).

        Notes
        -----
        A miss whose cache has no reachable origin upstream (all origins of the provider down
        or cut off) is not admitted anywhere along its parent chain, even if a parent cache
        happens to hold the object; such a request is still served by that parent.
        """
        need = {"src", "provider", "obj", "bytes"}
        missing = need - set(requests.columns)
        if missing:
            raise ValueError(f"resolve: requests lack columns {sorted(missing)}")
        n = requests.height
        down = frozenset(down)
        dist = self._dist_fn(down, distance)
        g = self.g

        usrc, src_inv = _codes(requests["src"])
        uprov, prov_inv = _codes(requests["provider"])
        sizes = requests["bytes"].cast(pl.Int64).to_numpy()
        if requests["obj"].null_count():
            raise InputError(f"requests: column 'obj' has {requests['obj'].null_count()} null values", where="obj")
        objs = requests["obj"].cast(pl.UInt64).to_numpy()
        hp = np.array([provider_hash(p) for p in uprov.tolist()], dtype=np.uint64)
        keys = _mix64(hp[prov_inv] ^ _mix64(objs)) if n else np.empty(0, dtype=np.uint64)
        for s in usrc.tolist():
            if s not in g:
                raise InputError(f"request source {s!r} is not a node of the topology", where="src")

        up = [c for c in self.cache_ids if c not in down]
        d_src_cache = self._pairs(dist, usrc.tolist(), up)
        src_asn = np.array([g.nodes[s].get("asn") for s in usrc.tolist()], dtype=object)
        serve = np.array([[src_asn[i] in self._spec[c].serves for c in up] for i in range(len(usrc))], dtype=bool)
        serve = serve.reshape(len(usrc), len(up))
        carry = np.array([[self._spec[c].providers is None or p in self._spec[c].providers for c in up]
                          for p in uprov.tolist()], dtype=bool).reshape(len(uprov), len(up))
        src_down = np.array([s in down for s in usrc.tolist()], dtype=bool)

        # origins per provider that are up; distances from every client and cache to them
        origins = {p: [o for o in self._origins.get(p, []) if o not in down] for p in uprov.tolist()}
        all_orig = sorted({o for os_ in origins.values() for o in os_})
        o_pos = {o: j for j, o in enumerate(all_orig)}
        d_from = self._pairs(dist, usrc.tolist() + up, all_orig)
        row_of = {s: i for i, s in enumerate(usrc.tolist())}
        row_of.update({c: len(usrc) + j for j, c in enumerate(up)})

        def nearest_origin(x: str, p: str) -> Optional[str]:
            best, bd = None, np.inf
            for o in origins[p]:
                dd = d_from[row_of[x], o_pos[o]]
                if dd < bd:
                    best, bd = o, dd
            return best

        upstream_memo: dict[tuple[str, str], Optional[str]] = {}

        def upstream(c: str, p: str) -> Optional[str]:
            key = (c, p)
            if key in upstream_memo:
                return upstream_memo[key]
            res = None
            q = self._spec[c].parent
            while q is not None:
                dq = g.nodes[q]
                if dq.get("kind") == "origin":
                    if q not in down and q in origins[p] and np.isfinite(d_from[row_of[c], o_pos[q]]):
                        res = q
                    break
                if (q not in down and (self._spec[q].providers is None or p in self._spec[q].providers)
                        and np.isfinite(self._pairs(dist, [c], [q])[0, 0])):
                    res = q
                    break
                q = self._spec[q].parent
            if res is None:
                res = nearest_origin(c, p)
            upstream_memo[key] = res
            return res

        def chain_has_origin(c: str, p: str) -> bool:
            x = upstream(c, p)
            while x is not None and x in self._spec:
                x = upstream(x, p)
            return x is not None

        # node codes for the output columns: caches, then origins
        names = self.cache_ids + sorted(o for os_ in self._origins.values() for o in os_)
        code = {x: i for i, x in enumerate(names)}
        cnull = -1

        def c_of(x: Optional[str]) -> int:
            return cnull if x is None else code[x]

        # the first cache of each (client, provider) pair, and the origin when there is none
        npr = max(len(uprov), 1)
        pair = src_inv.astype(np.int64) * npr + prov_inv
        upairs, pair_first, pair_inv = np.unique(pair, return_index=True, return_inverse=True)
        pair_cache = np.full(upairs.size, -1, dtype=np.int64)     # index into `up`; -2: client down
        pair_origin = np.full(upairs.size, cnull, dtype=np.int64)
        for k, i0 in enumerate(pair_first.tolist()):
            si, pi = int(src_inv[i0]), int(prov_inv[i0])
            if src_down[si]:
                pair_cache[k] = -2
                continue
            d = np.where(serve[si] & carry[pi], d_src_cache[si], np.inf)
            j = int(np.argmin(d)) if d.size else -1
            if j >= 0 and np.isfinite(d[j]):
                pair_cache[k] = j
            else:
                pair_origin[k] = c_of(nearest_origin(str(usrc[si]), str(uprov[pi])))
        first = pair_cache[pair_inv.reshape(-1)] if n else np.empty(0, np.int64)

        hit_first = np.zeros(n, dtype=bool)
        served_by = np.full(n, cnull, dtype=np.int64)
        fill_src = np.full(n, cnull, dtype=np.int64)
        chain_req: list[np.ndarray] = []     # (request, step, node code) per node visited
        chain_step: list[np.ndarray] = []
        chain_node: list[np.ndarray] = []

        direct = first == -1
        served_by[direct] = pair_origin[pair_inv.reshape(-1)][direct] if n else cnull
        idx_direct = np.nonzero(direct & (served_by != cnull))[0]
        chain_req.append(idx_direct)
        chain_step.append(np.zeros(idx_direct.size, np.int64))
        chain_node.append(served_by[idx_direct])

        incoming: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {c: [] for c in up}
        order_first = np.argsort(first, kind="stable")
        bounds = np.searchsorted(first[order_first], np.arange(len(up) + 1))
        for j, c in enumerate(up):
            idx = order_first[bounds[j]:bounds[j + 1]]
            if idx.size:
                incoming[c].append((idx, np.zeros(idx.size, np.int64)))
        for c in self._topo:
            if c in down or not incoming.get(c):
                continue
            idx = np.concatenate([a for a, _ in incoming[c]])
            step = np.concatenate([st for _, st in incoming[c]])
            order = np.argsort(idx, kind="stable")
            idx, step = idx[order], step[order]
            pcode = prov_inv[idx]
            ups = [upstream(c, p) for p in uprov.tolist()]
            up_code = np.array([c_of(u) for u in ups], dtype=np.int64)
            fillable = np.array([chain_has_origin(c, p) for p in uprov.tolist()], dtype=bool)
            hits = self.caches[c].process(keys[idx], sizes[idx], admit=fillable[pcode])
            chain_req.append(idx)
            chain_step.append(step)
            chain_node.append(np.full(idx.size, code[c], dtype=np.int64))
            at_first = step == 0
            hit_first[idx[at_first]] = hits[at_first]
            served_by[idx[hits]] = code[c]
            miss = ~hits
            fill_src[idx[miss & at_first]] = up_code[pcode[miss & at_first]]
            acc = self._acc[c]
            ok = miss & fillable[pcode]
            acc["bytes_served"] += int(sizes[idx[hits]].sum() + sizes[idx[ok]].sum())
            acc["fill_bytes"] += int(sizes[idx[ok]].sum())
            acc["unfillable_misses"] += int((miss & ~fillable[pcode]).sum())
            # forward misses upstream: to a parent cache, or they end at an origin
            for p_i, u in enumerate(ups):
                if u is None:
                    continue
                sel = miss & (pcode == p_i)
                if not sel.any():
                    continue
                if u in self._spec:
                    incoming[u].append((idx[sel], step[sel] + 1))
                else:
                    served_by[idx[sel]] = code[u]
                    chain_req.append(idx[sel])
                    chain_step.append(step[sel] + 1)
                    chain_node.append(np.full(int(sel.sum()), code[u], dtype=np.int64))

        unreachable = served_by == cnull
        has_cache = first >= 0
        cache_code = np.full(n, cnull, dtype=np.int64)
        if up:
            up_codes = np.array([code[c] for c in up], dtype=np.int64)
            cache_code[has_cache] = up_codes[first[has_cache]]
        name_s = pl.Series("name", names, dtype=pl.Utf8)

        def col(label: str, codes: np.ndarray) -> pl.Series:
            idx = pl.Series(label, np.where(codes < 0, 0, codes), dtype=pl.UInt32)
            return name_s.gather(idx).alias(label).set(pl.Series(codes < 0), None) if names else \
                pl.Series(label, [None] * n, dtype=pl.Utf8)

        return requests.with_columns(
            col("cache", cache_code),
            pl.Series("hit", hit_first & has_cache, dtype=pl.Boolean),
            col("served_by", served_by),
            col("fill_src", fill_src),
            self._chains(n, chain_req, chain_step, chain_node, unreachable, name_s),
            pl.Series("unreachable", unreachable, dtype=pl.Boolean),
        )

    @staticmethod
    def _chains(n, reqs, steps, nodes, unreachable, name_s) -> pl.Series:
        """Per request, the nodes the bytes pass through: the copy's source first."""
        r = np.concatenate(reqs) if reqs else np.empty(0, np.int64)
        s = np.concatenate(steps) if steps else np.empty(0, np.int64)
        v = np.concatenate(nodes) if nodes else np.empty(0, np.int64)
        keep = ~unreachable[r] if r.size else np.zeros(0, bool)
        r, s, v = r[keep], s[keep], v[keep]
        order = np.lexsort((-s, r))
        r, v = r[order], v[order]
        lengths = np.bincount(r, minlength=n) if n else np.zeros(0, np.int64)
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        flat = name_s.gather(pl.Series(v, dtype=pl.UInt32)) if v.size else pl.Series([], dtype=pl.Utf8)
        # NOTE: one list array from (offsets, values) in O(n); a group_by + join per batch was the
        # engine's largest per-bin cost.
        import pyarrow as pa

        values = flat.to_arrow().cast(pa.large_string())
        arr = pa.LargeListArray.from_arrays(pa.array(offsets, type=pa.int64()), values)
        return pl.Series("chain", pl.from_arrow(arr)).cast(pl.List(pl.Utf8))

    # ------------------------------------------------------------------ prefetch (off-peak pushes)
    def first_caches(self, src, provider, *, down: Iterable[str] = (),
                     distance: Optional[Distance] = None) -> list[Optional[str]]:
        """The cache a request of each (client, provider) pair is sent to first, as :meth:`resolve` picks it.

        The nearest eligible cache that is up (ties to the smallest id); None where no cache
        serves the pair or the client is down. Nothing is looked up or admitted.

        Examples
        --------
        >>> g = nx.DiGraph()
        >>> g.add_node("u", kind="pop", asn=1); g.add_node("w", kind="pop", asn=2)
        >>> g.add_node("c", kind="cache", asn=1, capacity_bytes=100, policy="lru", serves=(1,),
        ...            providers=None, parent=None)
        >>> g.add_edge("u", "c", latency_ms=1.0); g.add_edge("w", "c", latency_ms=1.0)
        >>> CacheSystem(g).first_caches(["u", "w"], ["v", "v"])
        ['c', None]
        """
        src, provider = [str(x) for x in src], [str(x) for x in provider]
        if len(src) != len(provider):
            raise ValueError("first_caches: src and provider must have one length")
        down = frozenset(down)
        dist = self._dist_fn(down, distance)
        up = [c for c in self.cache_ids if c not in down]
        usrc = sorted(set(src))
        for s in usrc:
            if s not in self.g:
                raise InputError(f"request source {s!r} is not a node of the topology", where="src")
        d = self._pairs(dist, usrc, up)
        row = {s: i for i, s in enumerate(usrc)}
        memo: dict[tuple[str, str], Optional[str]] = {}
        out: list[Optional[str]] = []
        for s, p in zip(src, provider):
            key = (s, p)
            if key not in memo:
                best = None
                if s not in down and up:
                    asn = self.g.nodes[s].get("asn")
                    ok = np.array([asn in self._spec[c].serves and
                                   (self._spec[c].providers is None or p in self._spec[c].providers) for c in up])
                    dd = np.where(ok, d[row[s]], np.inf)
                    j = int(np.argmin(dd))
                    if np.isfinite(dd[j]):
                        best = up[j]
                memo[key] = best
            out.append(memo[key])
        return out

    def fill_source(self, cache_id: str, provider: str, key: Optional[int] = None, *, down: Iterable[str] = (),
                    distance: Optional[Distance] = None) -> Optional[str]:
        """Where a copy of an object for ``cache_id`` comes from: the node a miss there would fill from.

        That is the cache's parent (a cache that is up, reachable and carries the provider; a
        down or ineligible parent is skipped for its own parent), else the provider's nearest
        reachable origin, as :meth:`resolve` does. With ``key``, a parent cache that does not
        hold the object is passed through to where *it* would fill from (the node that sends
        the bytes). None: no reachable copy.

        Examples
        --------
        >>> g = nx.DiGraph()
        >>> g.add_node("c", kind="cache", asn=1, capacity_bytes=100, policy="lru", serves=(1,),
        ...            providers=None, parent=None)
        >>> g.add_node("o1", kind="origin", asn=9, provider="v"); g.add_node("o2", kind="origin", asn=9, provider="v")
        >>> g.add_edge("o1", "c", latency_ms=5.0); g.add_edge("c", "o1", latency_ms=5.0)
        >>> g.add_edge("o2", "c", latency_ms=1.0); g.add_edge("c", "o2", latency_ms=1.0)
        >>> cs = CacheSystem(g)
        >>> cs.fill_source("c", "v"), cs.fill_source("c", "v", down={"o2"}), cs.fill_source("c", "w")
        ('o2', 'o1', None)
        """
        down = frozenset(down)
        dist = self._dist_fn(down, distance)
        g = self.g

        def reach(a: str, b: str) -> float:
            return float(self._pairs(dist, [a], [b])[0, 0])

        def upstream(c: str) -> Optional[str]:
            q = self._spec[c].parent
            while q is not None:
                dq = g.nodes[q]
                if dq.get("kind") == "origin":
                    if (q not in down and (dq.get("provider") or f"AS{dq.get('asn')}") == provider
                            and np.isfinite(reach(c, q))):
                        return q
                    break
                if (q not in down and (self._spec[q].providers is None or provider in self._spec[q].providers)
                        and np.isfinite(reach(c, q))):
                    return q
                q = self._spec[q].parent
            best, bd = None, np.inf
            for o in self._origins.get(provider, []):
                if o in down:
                    continue
                dd = reach(c, o)
                if dd < bd:
                    best, bd = o, dd
            return best

        x = upstream(cache_id)
        seen = {cache_id}
        while key is not None and x is not None and x in self._spec and x not in seen \
                and not self.caches[x].contains(int(key)):
            seen.add(x)
            x = upstream(x)
        return x

    def prefetch(self, cache_id: str, keys, sizes) -> np.ndarray:
        """Push objects into a cache ahead of demand (most popular first); return which were transferred.

        Objects already resident are not transferred: they are refreshed (LRU: moved to the MRU
        end; LFU and S3-FIFO: one more use), as a hit would, without counting as a request in
        :meth:`stats`. The others are admitted, least popular first so that the most popular end
        up freshest, as a miss admits them (evicting as the policy does); an object the policy
        refuses (too big) is not transferred. S3-FIFO: a pushed object is credited with
        ``move_to_main_threshold`` uses (it is known popular), so it moves to the main FIFO instead
        of leaving through the small one before any request. A ``static`` cache is refilled: the
        pushed list first (in order), then what it held before, in its old order, while it fits.

        Parameters
        ----------
        cache_id : str
        keys, sizes : arrays
            Keys (:func:`make_keys`) and sizes in bytes, most popular first.

        Returns
        -------
        numpy.ndarray of bool
            Per object: its bytes were sent to the cache.

        Examples
        --------
        >>> g = nx.DiGraph()
        >>> g.add_node("c", kind="cache", asn=1, capacity_bytes=100, policy="lru", serves=(1,),
        ...            providers=None, parent=None)
        >>> cs = CacheSystem(g)
        >>> cs.prefetch("c", [1, 2], [30, 30]).tolist(), cs.prefetch("c", [3, 1], [30, 30]).tolist()
        ([True, True], [True, False])
        >>> int(cs.stats()["requests"][0])   # the refresh of object 1 is not a request
        0
        """
        from netsim.cache.policies import S3FIFOCache, _as_batch

        k, s = _as_batch(keys, sizes)
        cache = self.caches[cache_id]
        pushed = np.zeros(k.shape[0], dtype=bool)
        resident = np.array([cache.contains(x) for x in k.tolist()], dtype=bool)
        if isinstance(cache, StaticCache):
            old = cache.state()
            cache.clear()
            for i, (x, n) in enumerate(zip(k.tolist(), s.tolist())):
                pushed[i] = cache.insert(x, n) and not resident[i]
            for x, n in zip(old.keys.tolist(), old.sizes.tolist()):
                if not cache.contains(x):
                    cache.insert(x, n)
            return pushed
        t = self._touch[cache_id]
        credit = cache._params[2] if isinstance(cache, S3FIFOCache) else 0
        if cache.policy != "fifo":
            for i in np.flatnonzero(resident)[::-1].tolist():
                cache.get(int(k[i]))
                t["requests"] += 1
                t["hits"] += 1
                t["bytes_requested"] += int(s[i])
                t["bytes_hit"] += int(s[i])
        for i in np.flatnonzero(~resident)[::-1].tolist():
            pushed[i] = cache.insert(int(k[i]), int(s[i]))
            for _ in range(credit if pushed[i] else 0):
                cache.get(int(k[i]))
                t["requests"] += 1
                t["hits"] += 1
                t["bytes_requested"] += int(s[i])
                t["bytes_hit"] += int(s[i])
        return pushed

    # ------------------------------------------------------------------ stats and restarts
    def stats(self) -> pl.DataFrame:
        """Per-cache counters since creation or ``reset_stats`` (misses = requests - hits).

        ``bytes_served``: bytes this cache sent downstream (hits, and misses it filled);
        ``fill_bytes``: bytes it fetched upstream on misses; ``unfillable_misses``: misses with
        no reachable origin upstream.
        """
        rows = []
        for cid in self.cache_ids:
            c = self.caches[cid]
            st = c.stats
            t = self._touch[cid]
            rows.append({"cache": cid, "policy": c.policy, "capacity_bytes": c.capacity_bytes,
                         "used_bytes": c.used_bytes, "n_objects": c.n_objects, "requests": st.requests - t["requests"],
                         "hits": st.hits - t["hits"], "misses": st.misses, "bytes_requested": st.bytes_requested - t["bytes_requested"],
                         "bytes_hit": st.bytes_hit - t["bytes_hit"], "evictions": st.evictions, **self._acc[cid]})
        schema = {"cache": pl.Utf8, "policy": pl.Utf8, **{k: pl.Int64 for k in (
            "capacity_bytes", "used_bytes", "n_objects", "requests", "hits", "misses", "bytes_requested",
            "bytes_hit", "evictions", *_STAT_COLS)}}
        return pl.DataFrame(rows, schema=schema)

    def fill_static(self, popularity: pl.DataFrame) -> dict[str, int]:
        """Pre-fill every ``static`` cache with the most popular objects of the providers it carries.

        Parameters
        ----------
        popularity : polars.DataFrame
            Columns ``provider``, ``obj``, ``bytes`` and optionally ``requests`` (a forecast
            count; default: each row counts once, so a past trace can be passed as it is).
            Objects are ranked by requests (ties: provider, then obj) and admitted greedily
            while they fit (:meth:`StaticCache.fill`); an object's size is its last ``bytes``.

        Returns
        -------
        dict of str to int
            Objects placed per static cache.
        """
        # NOTE: without a requests column each row counts once: pl.len(), not pl.lit(1).sum(), which a
        # group_by aggregates to 1 per group (every object would tie, ranked by provider name)
        weight = pl.col("requests").sum() if "requests" in popularity.columns else pl.len()
        ranked = (popularity.group_by(["provider", "obj"], maintain_order=True)
                  .agg(weight.cast(pl.Float64).alias("_w"), pl.col("bytes").last())
                  .sort(["_w", "provider", "obj"], descending=[True, False, False]))
        placed = {}
        for cid in self.cache_ids:
            cache = self.caches[cid]
            if not isinstance(cache, StaticCache):
                continue
            prov = self._spec[cid].providers
            r = ranked if prov is None else ranked.filter(pl.col("provider").is_in(sorted(prov)))
            keys = make_keys(r["provider"].to_numpy(), r["obj"].to_numpy())
            placed[cid] = cache.fill(keys, r["bytes"].to_numpy())
        return placed

    def reset_stats(self) -> None:
        for cid in self.cache_ids:
            self.caches[cid].reset_stats()
            self._acc[cid] = dict.fromkeys(_STAT_COLS, 0)
            self._touch[cid] = dict.fromkeys(_TOUCH_COLS, 0)

    def clear(self, cache_id: Optional[str] = None) -> None:
        """Cold restart of one cache (or all): drop the contents."""
        for cid in ([cache_id] if cache_id is not None else self.cache_ids):
            self.caches[cid].clear()
