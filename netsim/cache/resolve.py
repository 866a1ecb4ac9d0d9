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


@dataclass
class Resolved:
    """Requests resolved through the caches, as integer node codes (positions in ``CacheSystem.nodes``; -1: none).

    ``chain[i]`` lists the nodes request i's bytes pass through before its client, from the node
    that sent the copy (``served_by``) to the first cache consulted, left-aligned and padded with
    -1 (all -1 when ``unreachable[i]``).
    """

    cache: np.ndarray
    hit: np.ndarray
    served_by: np.ndarray
    fill_src: np.ndarray
    chain: np.ndarray
    unreachable: np.ndarray


def _chain_matrix(by_step: np.ndarray, length: np.ndarray) -> np.ndarray:
    """The visited nodes of each request (``by_step[i, :length[i]]``, client side first) reversed into a
    left-aligned matrix, copy source first, -1 pads; as narrow as the longest chain."""
    n = len(length)
    depth = max(1, int(length.max())) if n else 1
    out = np.full((n, depth), -1, dtype=np.int32)
    rows = np.arange(n)
    for j in range(depth):
        col = length - 1 - j
        ok = col >= 0
        out[ok, j] = by_step[rows[ok], col[ok]]
    return out


class _Plan:
    """What resolution needs of one failure state (nodes down, distances), computed once and reused:
    the first cache of each (client, provider), the nearest origin where none serves it, and where
    each cache fills from per provider. Filled lazily, for the pairs the requests bring."""

    def __init__(self, system: "CacheSystem", down: frozenset, dist: Distance):
        self.sys, self.down, self.dist = system, down, dist
        self.up = [c for c in system.cache_ids if c not in down]
        self.up_codes = np.array([system._code[c] for c in self.up], dtype=np.int64)
        n = len(system.nodes)
        self._first = np.full((n, 0), -3, dtype=np.int64)   # -3: not computed yet
        self._origin = np.full((n, 0), -1, dtype=np.int64)
        self._d_cache: dict[int, np.ndarray] = {}
        self._d_orig: dict[int, dict[int, float]] = {}
        self._upstream: dict[tuple[str, int], int] = {}
        self._up_all: dict[tuple[str, int], tuple[np.ndarray, np.ndarray]] = {}
        self._reach: dict[tuple[str, str], bool] = {}

    def _dist(self, a: list[str], b: list[str]) -> np.ndarray:
        return CacheSystem._pairs(self.dist, a, b)

    def _grow(self) -> None:
        P = len(self.sys.providers)
        have = self._first.shape[1]
        if have < P:
            extra = max(P - have, 8)
            self._first = np.pad(self._first, ((0, 0), (0, extra)), constant_values=-3)
            self._origin = np.pad(self._origin, ((0, 0), (0, extra)), constant_values=-1)

    def first(self, src: np.ndarray, prov: np.ndarray) -> np.ndarray:
        """Node code of each request's first cache; -1 none serves it; -2 the client is down."""
        self._grow()
        f = self._first[src, prov]
        need = f == -3
        if need.any():
            P = self._first.shape[1]
            self._prefetch(np.unique(src[need]).tolist())
            for k in np.unique(src[need] * P + prov[need]).tolist():
                self._compute(k // P, k % P)
            f = self._first[src, prov]
        return f

    def _prefetch(self, scs: list[int]) -> None:
        """Distances from these clients (and the live caches) to every live origin, and from the clients to every
        live cache, in one call each (one call per (client, provider) made a failure state over 141 PoPs x 5
        providers cost 80 ms)."""
        sys = self.sys
        scs = [x for x in scs if sys.nodes[x] not in self.down]
        origins = sorted({o for per in sys._prov_origins for o in per if sys.nodes[o] not in self.down})
        # the live caches too: a miss fills from the cache's nearest origin (upstream), asked once per provider
        todo = [x for x in dict.fromkeys(scs + self.up_codes.tolist()) if x not in self._d_orig]
        if todo and origins:
            rows = self._dist([sys.nodes[x] for x in todo], [sys.nodes[o] for o in origins])
            for x, row in zip(todo, rows.tolist()):
                self._d_orig[x] = dict(zip(origins, row))
        todo = [x for x in scs if x not in self._d_cache]
        if todo and self.up:
            for x, row in zip(todo, self._dist([sys.nodes[x] for x in todo], self.up)):
                self._d_cache[x] = row

    def origin(self, src: np.ndarray, prov: np.ndarray) -> np.ndarray:
        """Nearest reachable origin of each request's client and provider (-1: none); after :meth:`first`."""
        return self._origin[src, prov]

    def _compute(self, sc: int, pc: int) -> None:
        sys = self.sys
        name = sys.nodes[sc]
        if name in self.down:
            self._first[sc, pc], self._origin[sc, pc] = -2, -1
            return
        # the nearest origin too: a request for an object no cache may store goes there
        self._origin[sc, pc] = self._nearest_origin(sc, pc)
        if self.up:
            d = self._d_cache.get(sc)
            if d is None:
                d = self._d_cache[sc] = self._dist([name], self.up)[0]
            asn = sys.g.nodes[name].get("asn")
            ok = np.array([asn in sys._spec[c].serves and sys._carry[pc][sys._cache_pos[c]] for c in self.up],
                          dtype=bool)
            dd = np.where(ok, d, np.inf)
            j = int(np.argmin(dd))
            if np.isfinite(dd[j]):
                self._first[sc, pc] = int(self.up_codes[j])
                return
        self._first[sc, pc] = -1

    def _nearest_origin(self, xc: int, pc: int) -> int:
        sys = self.sys
        origins = [o for o in sys._prov_origins[pc] if sys.nodes[o] not in self.down]
        if not origins:
            return -1
        d = self._d_orig.setdefault(xc, {})
        missing = [o for o in origins if o not in d]
        if missing:
            vals = self._dist([sys.nodes[xc]], [sys.nodes[o] for o in missing])[0]
            d.update(zip(missing, vals.tolist()))
        best, bd = -1, np.inf
        for o in origins:   # sorted by id: ties go to the smallest
            if d[o] < bd:
                best, bd = o, d[o]
        return best

    def _reachable(self, a: str, b: str) -> bool:
        v = self._reach.get((a, b))
        if v is None:
            v = self._reach[(a, b)] = bool(np.isfinite(self._dist([a], [b])[0, 0]))
        return v

    def upstream(self, c: str, pc: int) -> int:
        """Where cache ``c`` fills from for provider ``pc``: an eligible parent cache, else the nearest origin."""
        key = (c, pc)
        v = self._upstream.get(key)
        if v is not None:
            return v
        sys = self.sys
        p = sys.providers[pc]
        res = -1
        q = sys._spec[c].parent
        while q is not None:
            dq = sys.g.nodes[q]
            if dq.get("kind") == "origin":
                if q not in self.down and sys._code[q] in sys._prov_origins[pc] and self._reachable(c, q):
                    res = sys._code[q]
                break
            if (q not in self.down and (sys._spec[q].providers is None or p in sys._spec[q].providers)
                    and self._reachable(c, q)):
                res = sys._code[q]
                break
            q = sys._spec[q].parent
        if res < 0:
            res = self._nearest_origin(sys._code[c], pc)
        self._upstream[key] = res
        return res

    def upstream_all(self, c: str, n_prov: int) -> tuple[np.ndarray, np.ndarray]:
        """Per provider code: where ``c`` fills from, and whether an origin is reachable up its chain."""
        key = (c, n_prov)
        v = self._up_all.get(key)
        if v is None:
            sys = self.sys
            ups = np.array([self.upstream(c, p) for p in range(n_prov)], dtype=np.int64)
            fill = np.zeros(n_prov, dtype=bool)
            for p in range(n_prov):
                x = int(ups[p])
                while x >= 0 and sys._is_cache[x]:
                    x = self.upstream(sys.nodes[x], p)
                fill[p] = x >= 0
            v = self._up_all[key] = (ups, fill)
        return v


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
        # integer vocabularies: nodes (sorted ids, as the routing core numbers them) and providers
        self.nodes: list[str] = sorted(str(n) for n in g.nodes)
        self._code = {x: i for i, x in enumerate(self.nodes)}
        self._node_enum = pl.Enum(self.nodes)
        self._is_cache = np.zeros(len(self.nodes), dtype=bool)
        self._is_cache[[self._code[c] for c in self.cache_ids]] = True
        self._cache_pos = {c: j for j, c in enumerate(self.cache_ids)}
        self.providers: list[str] = []
        self._prov_code: dict[str, int] = {}
        self._prov_enum = pl.Enum([])
        self._prov_hash = np.empty(0, dtype=np.uint64)
        self._carry: list[np.ndarray] = []
        self._prov_origins: list[list[int]] = []
        self._plans: dict[tuple, _Plan] = {}
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

    @property
    def origin_providers(self) -> list[str]:
        """The providers that have an origin node in the topology (sorted)."""
        return sorted(self._origins)

    # ------------------------------------------------------------------ vocabularies
    def node_codes(self, ids, *, where: str = "src") -> np.ndarray:
        """Integer codes (positions in :attr:`nodes`, the sorted node ids) of node ids; InputError for an unknown one."""
        col = pl.Series("ids", ids, dtype=pl.Utf8) if not isinstance(ids, pl.Series) else ids.cast(pl.Utf8)
        if col.null_count():
            raise InputError(f"requests: column {where!r} has {col.null_count()} null values", where=where)
        if len(col) == 0:
            return np.empty(0, np.int32)
        codes = col.cast(self._node_enum, strict=False)
        if codes.null_count():
            bad = col.filter(codes.is_null())[0]
            raise InputError(f"request source {bad!r} is not a node of the topology", where=where)
        return codes.to_physical().cast(pl.Int32).to_numpy()

    def provider_codes(self, names) -> np.ndarray:
        """Integer codes of provider names in this system's provider vocabulary (new names are added)."""
        col = pl.Series("p", names, dtype=pl.Utf8) if not isinstance(names, pl.Series) else names.cast(pl.Utf8)
        if col.null_count():
            raise InputError(f"requests: column 'provider' has {col.null_count()} null values", where="provider")
        if len(col) == 0:
            return np.empty(0, np.int32)
        return self.provider_code_series(col).to_numpy()

    def provider_code_series(self, col: pl.Series) -> pl.Series:
        """:meth:`provider_codes` as an Int32 Series, null where ``col`` is null (a flow's provider)."""
        codes = col.cast(self._prov_enum, strict=False) if self.providers else None
        if codes is None or codes.null_count() != col.null_count():
            new = col.drop_nulls() if codes is None else col.filter(codes.is_null() & col.is_not_null())
            for p in new.unique().sort().to_list():
                self._add_provider(p)
            self._prov_enum = pl.Enum(self.providers)
            codes = col.cast(self._prov_enum)
        return codes.to_physical().cast(pl.Int32)

    def add_providers(self, names) -> None:
        """Add provider names to the vocabulary, in this order (as another system of the same caches met them,
        so that codes, and everything ordered by them, are the same)."""
        for p in names:
            if p not in self._prov_code:
                self._add_provider(p)
        self._prov_enum = pl.Enum(self.providers)

    def _add_provider(self, p: str) -> int:
        # NOTE: the replay engine encodes trace batches on a reader thread; what a code indexes is in
        # place before the name is listed in ``providers`` (whose length says which codes exist)
        k = len(self.providers)
        self._prov_hash = np.append(self._prov_hash, np.uint64(provider_hash(p)))
        self._carry.append(np.array([self._spec[c].providers is None or p in self._spec[c].providers
                                     for c in self.cache_ids], dtype=bool))
        self._prov_origins.append([self._code[o] for o in self._origins.get(p, [])])
        self._prov_code[p] = k
        self.providers.append(p)
        return k

    def keys_of(self, prov: np.ndarray, objs: np.ndarray) -> np.ndarray:
        """Cache keys (:func:`make_keys`) of (provider code, obj) pairs."""
        if len(prov) == 0:
            return np.empty(0, dtype=np.uint64)
        return _mix64(self._prov_hash[prov] ^ _mix64(np.asarray(objs, dtype=np.uint64)))

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
        :meth:`resolve_codes` is the same on integer codes (the replay engine's form).
        """
        need = {"src", "provider", "obj", "bytes"}
        missing = need - set(requests.columns)
        if missing:
            raise ValueError(f"resolve: requests lack columns {sorted(missing)}")
        n = requests.height
        if requests["obj"].null_count():
            raise InputError(f"requests: column 'obj' has {requests['obj'].null_count()} null values", where="obj")
        src = self.node_codes(requests["src"])
        prov = self.provider_codes(requests["provider"])
        keys = self.keys_of(prov, requests["obj"].cast(pl.UInt64).to_numpy())
        sizes = requests["bytes"].cast(pl.Int64).to_numpy()
        r = self.resolve_codes(src, prov, keys, sizes, down=down, distance=distance)
        name_s = pl.Series("name", self.nodes, dtype=pl.Utf8)

        def col(label: str, codes: np.ndarray) -> pl.Series:
            idx = pl.Series(label, np.where(codes < 0, 0, codes), dtype=pl.UInt32)
            return name_s.gather(idx).alias(label).set(pl.Series(codes < 0), None) if n else \
                pl.Series(label, [], dtype=pl.Utf8)

        # NOTE: one list array from (offsets, values) in O(n); a group_by + join per batch was slow
        import pyarrow as pa

        ch = r.chain
        valid = ch >= 0
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(valid.sum(axis=1), out=offsets[1:])
        flat = ch[valid]
        values = (name_s.gather(pl.Series(flat, dtype=pl.UInt32)) if flat.size else pl.Series([], dtype=pl.Utf8))
        arr = pa.LargeListArray.from_arrays(pa.array(offsets, type=pa.int64()),
                                            values.to_arrow().cast(pa.large_string()))
        return requests.with_columns(
            col("cache", r.cache),
            pl.Series("hit", r.hit, dtype=pl.Boolean),
            col("served_by", r.served_by),
            col("fill_src", r.fill_src),
            pl.Series("chain", pl.from_arrow(arr)).cast(pl.List(pl.Utf8)),
            pl.Series("unreachable", r.unreachable, dtype=pl.Boolean),
        )

    def _plan(self, down: frozenset, dist: Distance) -> "_Plan":
        key = (down, dist)
        plan = self._plans.get(key)
        if plan is None:
            if len(self._plans) >= 64:  # bound the memo over many failure states
                self._plans.pop(next(iter(self._plans)))
            plan = self._plans[key] = _Plan(self, down, dist)
        return plan

    def resolve_codes(self, src: np.ndarray, prov: np.ndarray, keys: np.ndarray, sizes: np.ndarray, *,
                      down: Iterable[str] = (), distance: Optional[Distance] = None,
                      cacheable: Optional[np.ndarray] = None) -> "Resolved":
        """:meth:`resolve` on integer codes: the workhorse, and the replay engine's entry point.

        ``src``: node codes (:meth:`node_codes`); ``prov``: provider codes (:meth:`provider_codes`);
        ``keys``: cache keys (:meth:`keys_of`); ``sizes``: bytes. Node codes in the result are
        positions in :attr:`nodes` (-1: none). What depends only on the failure state (the first
        cache of each client and provider, where each cache fills from) is computed once per state
        and reused, so a call costs the cache lookups and a few array operations. ``cacheable``
        (bool per request; default all): a request for an object no cache may store consults no
        cache and is served by the nearest origin (netsim.cache.cacheability).
        """
        down = frozenset(down)
        plan = self._plan(down, self._dist_fn(down, distance))
        n = len(src)
        src = np.asarray(src, dtype=np.int64)
        prov = np.asarray(prov, dtype=np.int64)
        sizes = np.asarray(sizes, dtype=np.int64)
        first = plan.first(src, prov)          # node code of the first cache, -1 none, -2 client down
        if cacheable is not None:
            first = np.where((first >= 0) & ~np.asarray(cacheable, dtype=bool), -1, first)
        hit_first = np.zeros(n, dtype=bool)
        served_by = np.full(n, -1, dtype=np.int64)
        fill_src = np.full(n, -1, dtype=np.int64)
        # the nodes each request visits, by step from its client (0: the first cache, or the origin of a
        # request no cache serves); at most every cache and one origin
        by_step = np.full((n, len(self._topo) + 1), -1, dtype=np.int32)
        length = np.zeros(n, dtype=np.int64)

        direct = first == -1
        if direct.any():
            served_by[direct] = plan.origin(src[direct], prov[direct])
            idx = np.flatnonzero(direct & (served_by >= 0))
            by_step[idx, 0] = served_by[idx]
            length[idx] = 1
        incoming: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}
        has_cache = first >= 0
        if has_cache.any():
            # NOTE: one comparison per cache that is up (few) is cheaper than a stable sort of the requests
            for cc in plan.up_codes.tolist():
                part = np.flatnonzero(first == cc)
                if part.size:
                    incoming[cc] = [(part, np.zeros(part.size, np.int64))]
        n_prov = len(self.providers)
        for c in self._topo:
            cc = self._code[c]
            if c in down or cc not in incoming:
                continue
            parts = incoming.pop(cc)
            if len(parts) == 1:
                idx, step = parts[0]
            else:
                idx = np.concatenate([a for a, _ in parts])
                step = np.concatenate([st for _, st in parts])
                o = np.argsort(idx, kind="stable")
                idx, step = idx[o], step[o]
            pcode = prov[idx]
            up_code, fillable = plan.upstream_all(c, n_prov)
            adm = fillable[pcode]
            hits = self.caches[c].process(keys[idx], sizes[idx], admit=adm)
            by_step[idx, step] = cc
            length[idx] = step + 1
            at_first = step == 0
            hit_first[idx[at_first]] = hits[at_first]
            served_by[idx[hits]] = cc
            miss = ~hits
            fill_src[idx[miss & at_first]] = up_code[pcode[miss & at_first]]
            acc = self._acc[c]
            sz = sizes[idx]
            ok = miss & adm
            acc["bytes_served"] += int(sz[hits].sum() + sz[ok].sum())
            acc["fill_bytes"] += int(sz[ok].sum())
            acc["unfillable_misses"] += int((miss & ~adm).sum())
            # forward misses upstream: to a parent cache, or they end at an origin
            u = np.where(miss, up_code[pcode], -1)
            fwd = u >= 0
            if not fwd.any():
                continue
            to_cache = fwd & self._is_cache[np.maximum(u, 0)]
            end = fwd & ~to_cache
            if end.any():
                ie = idx[end]
                served_by[ie] = u[end]
                by_step[ie, step[end] + 1] = u[end]
                length[ie] = step[end] + 2
            for q in np.unique(u[to_cache]).tolist():
                sel = to_cache & (u == q)
                incoming.setdefault(int(q), []).append((idx[sel], step[sel] + 1))

        unreachable = served_by < 0
        cache_code = np.where(has_cache, first, -1)
        length[unreachable] = 0
        return Resolved(cache=cache_code, hit=hit_first & has_cache, served_by=served_by, fill_src=fill_src,
                        chain=_chain_matrix(by_step, length), unreachable=unreachable)

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
        if not src:
            return []
        down = frozenset(down)
        plan = self._plan(down, self._dist_fn(down, distance))
        first = plan.first(self.node_codes(src).astype(np.int64), self.provider_codes(provider).astype(np.int64))
        return [self.nodes[c] if c >= 0 else None for c in first.tolist()]

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
        plan = self._plan(down, self._dist_fn(down, distance))
        pc = int(self.provider_codes([provider])[0])
        x = plan.upstream(cache_id, pc)
        seen = {cache_id}
        while key is not None and x >= 0 and self._is_cache[x] and self.nodes[x] not in seen \
                and not self.caches[self.nodes[x]].contains(int(key)):
            seen.add(self.nodes[x])
            x = plan.upstream(self.nodes[x], pc)
        return self.nodes[x] if x >= 0 else None

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

    def counters(self) -> np.ndarray:
        """Per cache (rows in ``cache_ids`` order): requests, hits, bytes_requested, bytes_served, fill_bytes
        since creation or ``reset_stats``, as :meth:`stats` counts them (a cheap read for every bin)."""
        out = np.zeros((len(self.cache_ids), 5))
        for i, cid in enumerate(self.cache_ids):
            st, t, a = self.caches[cid].stats, self._touch[cid], self._acc[cid]
            out[i] = (st.requests - t["requests"], st.hits - t["hits"], st.bytes_requested - t["bytes_requested"],
                      a["bytes_served"], a["fill_bytes"])
        return out

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
