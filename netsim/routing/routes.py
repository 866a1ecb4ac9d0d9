"""Routes toward every destination: per-destination ECMP DAGs, demand assignment, paths, re-routing.

Storage (per routed destination, one *row*)
-------------------------------------------
* ``bits[row]``: one bit per hop of the compiled network; set when that hop is a next hop of its
  tail node toward the row's destination. The fraction a node sends over each of its next hops is
  ``1 / (number of next hops)`` (per-hop ECMP), so no fractions are stored.
* ``order[row, :nreach[row]]``: the nodes that reach the destination, destination first, in an
  order where every node comes after all its next hops (assignment walks it backwards).
* ``reach[row]``: bitmap of the nodes that reach the destination (itself included when up).
* ``latency_ms[row]``: mean one-way latency from each node to the destination over its ECMP
  paths (each path weighted by its fraction); NaN where unreachable.

At N = 5000 nodes with average degree 6 that is about 19 MB of bits, 100 MB of order and 200 MB
of latency (see :attr:`Routes.nbytes`).
"""

from __future__ import annotations

import os
from typing import Iterable

import numpy as np

from netsim.errors import InputError
from netsim.routing.compiled import CompiledNet

__all__ = ["Routes", "duplex"]


#: Below this much work (≈ elementary steps) a call runs on one thread: starting and joining an
#: OpenMP team costs more than it saves, and on a busy machine far more (measured: ~10 ms).
_WORK_PER_THREAD = 2_000_000


def _threads(threads: int | None, work: int) -> int:
    if threads is None:
        threads = os.cpu_count() or 1
    elif int(threads) < 1:
        raise InputError(f"threads must be >= 1, found {threads!r}")
    return max(1, min(int(threads), int(work) // _WORK_PER_THREAD))


def duplex(links: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Both directions of each link: ``[(u, v)] -> [(u, v), (v, u)]`` (for :meth:`Routes.without`).

    Examples
    --------
    >>> duplex([("a", "b")])
    [('a', 'b'), ('b', 'a')]
    """
    out = []
    for u, v in links:
        out += [(u, v), (v, u)]
    return out


class Routes:
    """Routes of a :class:`CompiledNet` toward a set of destinations (see the module docstring)."""

    def __init__(self, net: CompiledNet, *, multipath: bool, dests: np.ndarray, bits: np.ndarray,
                 order: np.ndarray, nreach: np.ndarray, latency_ms: np.ndarray, reach: np.ndarray):
        self.net = net
        self.multipath = multipath
        self.dests = dests
        self.bits = bits
        self.order = order
        self.nreach = nreach
        self.latency_ms = latency_ms
        self.reach = reach
        #: destinations whose routes were computed to make this object (all, or those a failure touched)
        self.recomputed = len(dests)
        self.row_of = np.full(net.n_nodes, -1, dtype=np.int32)
        self.row_of[dests] = np.arange(len(dests), dtype=np.int32)

    # -- computing ---------------------------------------------------------------------------
    @classmethod
    def _alloc(cls, net: CompiledNet, dests: np.ndarray):
        r, n = len(dests), net.n_nodes
        nbytes_row = max(1, (len(net.hop_tail) + 7) // 8)
        return (np.zeros((r, nbytes_row), dtype=np.uint8), np.zeros((r, n), dtype=np.int32),
                np.zeros(r, dtype=np.int32), np.empty((r, n), dtype=np.float64),
                np.zeros((r, max(1, (n + 7) // 8)), dtype=np.uint8))

    @classmethod
    def _compute(cls, net: CompiledNet, *, multipath: bool, destinations, threads) -> "Routes":
        from netsim._ext.routing import route_destinations

        if destinations is None:
            dests = net.destinations
        else:
            dests = net.index(list(destinations) if not isinstance(destinations, np.ndarray) else destinations,
                              what="destination")
            if net.is_ix[dests].any():
                raise InputError(f"{net.nodes[int(dests[net.is_ix[dests]][0])]!r} is an IX node; "
                                 "IX nodes are not destinations")
            if len(np.unique(dests)) != len(dests):
                raise InputError("destinations contain duplicates")
        bits, order, nreach, lat, reach = cls._alloc(net, dests)
        route_destinations(*net.kernel_args(), dests, np.arange(len(dests), dtype=np.int32),
                           multipath, _threads(threads, len(dests) * (net.n_nodes + len(net.hop_tail))),
                           bits, order, nreach, lat, reach)
        return cls(net, multipath=multipath, dests=dests, bits=bits, order=order, nreach=nreach,
                   latency_ms=lat, reach=reach)

    @property
    def nbytes(self) -> int:
        """Bytes held by the route arrays."""
        return sum(a.nbytes for a in (self.bits, self.order, self.nreach, self.latency_ms, self.reach,
                                      self.row_of, self.dests))

    # -- lookups -------------------------------------------------------------------------------
    def _rows(self, dst_idx: np.ndarray) -> np.ndarray:
        rows = self.row_of[dst_idx]
        if (rows < 0).any():
            bad = self.net.nodes[int(dst_idx[rows < 0][0])]
            why = "is an IX node (not an endpoint)" if self.net.is_ix[self.net.index(bad)][0] else "was not routed"
            raise InputError(f"destination {bad!r} {why}")
        return rows

    def _pairs(self, src, dst) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        s = self.net.index(src, what="source")
        d = self.net.index(dst, what="destination")
        if s.shape != d.shape:
            raise InputError(f"src and dst differ in length ({len(s)} != {len(d)})")
        if self.net.is_ix[s].any():
            raise InputError(f"source {self.net.nodes[int(s[self.net.is_ix[s]][0])]!r} is an IX node (not an endpoint)")
        return s, d, self._rows(d)

    def _next_hops_of(self, row: int, u: int) -> list[int]:
        h0, h1 = int(self.net.hop_ptr[u]), int(self.net.hop_ptr[u + 1])
        b = self.bits[row]
        return [h for h in range(h0, h1) if (b[h >> 3] >> (h & 7)) & 1]

    def next_hops(self, dst: str) -> dict[str, list[tuple[tuple[str, ...], float]]]:
        """Next hops toward ``dst``: ``{node: [(hop nodes, fraction), ...]}`` for every node that reaches it.

        A hop is ``(u, v)`` for a link or ``(u, ix, w)`` for an IX crossing.

        Examples
        --------
        >>> import netsim.routing
        >>> routes = netsim.routing.compile(netsim.load_topology("examples/two_as")).route()
        >>> routes.next_hops("a1")["t2"]
        [(('t2', 'a3'), 1.0)]
        """
        (d,) = self.net.index([dst], what="destination")
        row = int(self._rows(np.array([d]))[0])
        out = {}
        for u in self.order[row, 1:self.nreach[row]]:
            hs = self._next_hops_of(row, int(u))
            out[self.net.nodes[u]] = [(self.net.hop_nodes(h), 1.0 / len(hs)) for h in hs]
        return out

    def paths(self, src: str, dst: str) -> list[tuple[list[str], float]]:
        """Every ECMP path from ``src`` to ``dst`` with the fraction of traffic it carries.

        IX nodes appear in the node lists where a path crosses an IX. ``[]`` when unreachable;
        ``[([src], 1.0)]`` when ``src == dst``.

        Examples
        --------
        >>> import netsim.routing
        >>> routes = netsim.routing.compile(netsim.load_topology("examples/valley_free")).route()
        >>> routes.paths("c2", "c3")
        [(['c2', 'p1', 'p2', 'c3'], 1.0)]
        """
        s, d, rows = self._pairs([src], [dst])
        s, d, row = int(s[0]), int(d[0]), int(rows[0])
        if s == d:
            return [([self.net.nodes[s]], 1.0)] if self.nreach[row] > 0 else []
        out: list[tuple[list[str], float]] = []

        def walk(u: int, nodes: list[str], frac: float) -> None:
            if u == d:
                out.append((nodes, frac))
                return
            hs = self._next_hops_of(row, u)
            for h in hs:
                walk(int(self.net.hop_head[h]), nodes + list(self.net.hop_nodes(h)[1:]), frac / len(hs))

        walk(s, [self.net.nodes[s]], 1.0)
        return out

    def unreachable(self, src, dst) -> np.ndarray:
        """Boolean mask: True for each demand ``src[i] -> dst[i]`` that has no route.

        Examples
        --------
        >>> import netsim.routing
        >>> routes = netsim.routing.compile(netsim.load_topology("examples/two_as")).route()
        >>> routes.without(nodes=["a1"]).unreachable(["a2", "a1"], ["t1", "t1"]).tolist()
        [False, True]
        """
        s, d, rows = self._pairs(src, dst)
        return ~self._reachable(s, d, rows)

    def _reachable(self, s, d, rows) -> np.ndarray:
        from netsim._ext.routing import reachable_pairs

        out = np.zeros(len(s), dtype=np.uint8)
        reachable_pairs(self.reach, np.ascontiguousarray(rows, dtype=np.int32), np.ascontiguousarray(s, dtype=np.int32), out)
        return out.astype(bool)

    def distance_ms(self, src, dst) -> np.ndarray:
        """One-way latency (ms) per demand: the fraction-weighted mean over its ECMP paths; NaN if unreachable.

        Examples
        --------
        >>> import netsim.routing
        >>> routes = netsim.routing.compile(netsim.load_topology("examples/two_as")).route()
        >>> round(float(routes.distance_ms(["a2"], ["a1"])[0]), 6)
        0.029881
        """
        s, d, rows = self._pairs(src, dst)
        out = self.latency_ms[rows, s].copy()
        out[~self._reachable(s, d, rows)] = np.nan
        return out

    def distance_function(self):
        """These routes' one-way latencies as a ``distance(src_ids, dst_ids) -> ms`` callable
        (``inf``: no route), the form :class:`netsim.cache.CacheSystem` takes.

        Examples
        --------
        >>> import netsim.routing
        >>> routes = netsim.routing.compile(netsim.load_topology("examples/two_as")).route()
        >>> d = routes.without(nodes=["a1"]).distance_function()
        >>> [round(x, 6) for x in d(["a2", "a1"], ["t1", "t1"]).tolist()]
        [0.523854, inf]
        """

        def distance(src, dst) -> np.ndarray:
            src, dst = list(src), list(dst)
            out = np.full(len(src), np.inf)
            if not src:
                return out
            dead = np.asarray(self.unreachable(src, dst), dtype=bool)
            live = np.flatnonzero(~dead)
            if len(live):
                out[live] = self.distance_ms([src[i] for i in live], [dst[i] for i in live])
            return out

        return distance

    def rtt_ms(self, src, dst) -> np.ndarray:
        """Round-trip latency (ms) per demand: ``distance_ms(src, dst) + distance_ms(dst, src)``."""
        return self.distance_ms(src, dst) + self.distance_ms(dst, src)

    # -- index-level calls: the replay engine's hot path -----------------------------------------
    # Node indices (``net.index``) in, arrays out; the caller guarantees valid, non-IX endpoints,
    # so nothing is converted or re-checked per call beyond the destination rows.
    def rows_of(self, dst_idx: np.ndarray) -> np.ndarray:
        """The route row of each destination index (InputError for one that was not routed)."""
        return np.ascontiguousarray(self._rows(np.asarray(dst_idx)), dtype=np.int32)

    def reachable_idx(self, src_idx: np.ndarray, dst_idx: np.ndarray) -> np.ndarray:
        """Boolean mask of the demands ``src_idx[i] -> dst_idx[i]`` that have a route."""
        s = np.ascontiguousarray(src_idx, dtype=np.int32)
        return self._reachable(s, None, self.rows_of(dst_idx))

    def distance_idx(self, src_idx: np.ndarray, dst_idx: np.ndarray) -> np.ndarray:
        """:meth:`distance_ms` by node index."""
        s = np.ascontiguousarray(src_idx, dtype=np.int32)
        rows = self.rows_of(dst_idx)
        out = self.latency_ms[rows, s].copy()
        out[~self._reachable(s, None, rows)] = np.nan
        return out

    def assign_idx(self, src_idx: np.ndarray, dst_idx: np.ndarray, volume: np.ndarray) -> np.ndarray:
        """:meth:`assign` by node index (volumes finite and >= 0, one thread: a bin's demands are few)."""
        from netsim._ext.routing import assign_demands

        s = np.ascontiguousarray(src_idx, dtype=np.int32)
        rows = self.rows_of(dst_idx)
        vol = np.ascontiguousarray(volume, dtype=np.float64)
        loads = np.zeros(self.net.n_links, dtype=np.float64)
        unreach = np.zeros(len(s), dtype=np.uint8)
        net = self.net
        assign_demands(net.hop_ptr, net.hop_head, net.hop_link1, net.hop_link2, self.bits, self.order,
                       self.nreach, self.reach, self.dests, rows, s, vol,
                       _threads(None, len(s) + len(self.dests) * (net.n_nodes + len(net.hop_tail))), loads, unreach)
        return loads

    def link_fractions(self, src_idx: np.ndarray, dst_idx: np.ndarray, links: np.ndarray) -> np.ndarray:
        """``out[i, j]``: the fraction of demand i's traffic on link ``links[j]`` (the split :meth:`assign` uses).

        Computed on the DAG (a unit pushed from the source), never by enumerating paths.

        Examples
        --------
        >>> import netsim.routing
        >>> net = netsim.routing.compile(netsim.load_topology("examples/two_as"), igp_weight="hops")
        >>> routes = net.route()
        >>> l = net.links.index(("a2", "a1"))
        >>> routes.link_fractions(net.index(["a2"]), net.index(["t2"]), np.array([l])).tolist()
        [[0.5]]
        """
        from netsim._ext.routing import demand_link_fractions

        s = np.ascontiguousarray(src_idx, dtype=np.int32)
        rows = self.rows_of(dst_idx)
        col = np.full(self.net.n_links, -1, dtype=np.int32)
        links = np.asarray(links, dtype=np.int64)
        col[links] = np.arange(len(links), dtype=np.int32)
        out = np.zeros((len(s), len(links)), dtype=np.float64)
        net = self.net
        if len(s) == 0 or len(links) == 0 or len(net.hop_tail) == 0:   # nothing to push (and no &a[0] of empty)
            return out
        demand_link_fractions(net.hop_ptr, net.hop_head, net.hop_link1, net.hop_link2, self.bits, self.order,
                              self.nreach, self.reach, self.dests, rows, s, col, out)
        return out

    def confined_fractions(self, src_idx: np.ndarray, dst_idx: np.ndarray, node_zone: np.ndarray) -> np.ndarray:
        """Per demand, the fraction of its traffic whose path never leaves the zone of its destination.

        ``node_zone[i]`` is an integer zone (e.g. a region code) per node index; an IX crossing
        stays in a zone only if the IX node is in it too. Unreachable: 0; to itself: 1.

        Examples
        --------
        >>> import netsim.routing
        >>> net = netsim.routing.compile(netsim.load_topology("examples/two_as"), igp_weight="hops")
        >>> routes = net.route()
        >>> zone = np.zeros(net.n_nodes, dtype=np.int32); zone[net.index(["a3"])] = 1
        >>> routes.confined_fractions(net.index(["a2"]), net.index(["t2"]), zone).tolist()  # half goes via a3
        [0.5]
        """
        from netsim._ext.routing import confined_fractions

        s = np.ascontiguousarray(src_idx, dtype=np.int32)
        d = np.asarray(dst_idx)
        rows = self.rows_of(d)
        out = np.zeros(len(s), dtype=np.float64)
        net = self.net
        if len(s) == 0:
            return out
        if len(net.hop_tail) == 0:   # no hop: only a demand to itself (its node up) stays
            return ((s == np.asarray(d)) & self._reachable(s, None, rows)).astype(np.float64)
        confined_fractions(net.hop_ptr, net.hop_head, self._hop_zone(node_zone), self.bits, self.order,
                           self.nreach, self.reach, self.dests, rows, s,
                           np.ascontiguousarray(np.asarray(node_zone)[d], dtype=np.int32), out)
        return out

    def crossing_fractions(self, src_idx: np.ndarray, dst_idx: np.ndarray, link_mask: np.ndarray) -> np.ndarray:
        """Per demand, the fraction of its traffic whose path crosses at least one link of ``link_mask``.

        ``link_mask[l]``: whether link l (``net.links`` order) is marked. However many marked links a
        path crosses, its traffic counts once (the "backbone" of a run: bytes that cross the boundary,
        not link loads summed). Computed on the DAG like :meth:`confined_fractions` (what avoids every
        marked link is carried on, the rest is what crosses). Unreachable, or to itself: 0.

        Examples
        --------
        >>> import netsim.routing
        >>> net = netsim.routing.compile(netsim.load_topology("examples/two_as"), igp_weight="hops")
        >>> routes = net.route()
        >>> mask = np.zeros(len(net.links), dtype=bool); mask[net.links.index(("a3", "t2"))] = True
        >>> routes.crossing_fractions(net.index(["a2"]), net.index(["t2"]), mask).tolist()  # half goes via a3
        [0.5]
        """
        from netsim._ext.routing import confined_fractions

        net = self.net
        s = np.ascontiguousarray(src_idx, dtype=np.int32)
        d = np.asarray(dst_idx)
        out = np.zeros(len(s), dtype=np.float64)
        mask = np.asarray(link_mask, dtype=bool)
        if len(s) == 0 or len(net.hop_tail) == 0 or not mask.any():
            return out
        key = mask.tobytes()
        memo = getattr(net, "_cross_zone_memo", None)
        if memo is None or memo[0] != key:
            hit = mask[net.hop_link1] | ((net.hop_link2 >= 0) & mask[np.maximum(net.hop_link2, 0)])
            memo = net._cross_zone_memo = (key, np.where(hit, -1, 0).astype(np.int32))
        rows = self.rows_of(d)
        avoid = np.zeros(len(s), dtype=np.float64)
        confined_fractions(net.hop_ptr, net.hop_head, memo[1], self.bits, self.order, self.nreach, self.reach,
                           self.dests, rows, s, np.zeros(len(s), dtype=np.int32), avoid)
        live = self._reachable(s, None, rows) & (s != d)
        out[live] = 1.0 - avoid[live]
        return out

    def _hop_zone(self, node_zone) -> np.ndarray:
        net = self.net
        z = np.asarray(node_zone, dtype=np.int32)
        key = (id(node_zone), z.tobytes())
        memo = getattr(net, "_hop_zone_memo", None)
        if memo is not None and memo[0] == key:
            return memo[1]
        zt, zh = z[net.hop_tail], z[net.hop_head]
        zi = np.where(net.hop_ix >= 0, z[np.maximum(net.hop_ix, 0)], zt)
        out = np.where((zt == zh) & (zi == zt), zt, -1).astype(np.int32)
        net._hop_zone_memo = (key, out)
        return out

    # -- assignment ----------------------------------------------------------------------------
    def assign(self, src, dst, volume, *, threads: int | None = None, return_unreachable: bool = False):
        """Per-link load (``net.links`` order) of demands ``src[i] -> dst[i]`` of ``volume[i]``.

        Traffic splits equally among a node's next hops at every node. A demand with no route
        adds nothing; with ``return_unreachable=True`` the result is ``(loads, unreachable)``
        where ``unreachable`` is the boolean mask of such demands (offered = delivered +
        ``volume[unreachable].sum()``). A demand with ``src == dst`` is delivered on no link.

        Examples
        --------
        >>> import netsim.routing
        >>> net = netsim.routing.compile(netsim.load_topology("examples/two_as"), igp_weight="hops")
        >>> routes = net.route()
        >>> loads, lost = routes.assign(["a2"], ["t2"], [10.0], return_unreachable=True)
        >>> {routes.net.links[i]: float(x) for i, x in enumerate(loads) if x}
        {('a1', 't1'): 5.0, ('a2', 'a1'): 5.0, ('a2', 'a3'): 5.0, ('a3', 't2'): 5.0, ('t1', 't2'): 5.0}
        >>> lost.tolist()
        [False]
        """
        from netsim._ext.routing import assign_demands

        s, d, rows = self._pairs(src, dst)
        vol = np.ascontiguousarray(volume, dtype=np.float64).reshape(-1)
        if vol.shape != s.shape:
            raise InputError(f"volume has {vol.size} values for {len(s)} demands")
        if not np.isfinite(vol).all() or (vol < 0).any():
            raise InputError("demand volumes must be finite and >= 0")
        loads = np.zeros(self.net.n_links, dtype=np.float64)
        unreach = np.zeros(len(s), dtype=np.uint8)
        net = self.net
        assign_demands(net.hop_ptr, net.hop_head, net.hop_link1, net.hop_link2, self.bits, self.order,
                       self.nreach, self.reach, self.dests, np.ascontiguousarray(rows, dtype=np.int32),
                       np.ascontiguousarray(s, dtype=np.int32), vol,
                       _threads(threads, len(s) + len(self.dests) * (net.n_nodes + len(net.hop_tail))),
                       loads, unreach)
        if return_unreachable:
            return loads, unreach.astype(bool)
        return loads

    # -- failures ------------------------------------------------------------------------------
    def without(self, *, nodes: Iterable[str] = (), links: Iterable[tuple[str, str]] = (),
                threads: int | None = None) -> "Routes":
        """Routes after failing ``nodes`` and directed ``links`` (use :func:`duplex` for both directions).

        A failed node takes its links; ``(u, v)`` fails that direction only. Node and link indices
        stay those of the intact network (failed elements carry no load; demands to/from a failed
        node are unreachable). Only destinations whose routes can change are recomputed: those
        whose DAG uses a failed hop, and those of every destination AS whose AS-level choices
        change; the rest are copied.

        Examples
        --------
        >>> import netsim.routing
        >>> routes = netsim.routing.compile(netsim.load_topology("examples/two_as")).route()
        >>> routes.without(links=duplex([("a1", "t1")])).paths("a2", "t2")
        [(['a2', 'a3', 't2'], 1.0)]
        """
        from netsim._ext.routing import as_selection_differs, route_destinations, rows_using_hops

        old, new = self.net, self.net.with_failures(nodes=nodes, links=links)
        if (new.hop_up.astype(bool) & ~old.hop_up.astype(bool)).any():
            # A failure can switch an IX crossing on (a direct c2p pair lost its direct links);
            # new next hops may appear anywhere, so recompute everything (rare).
            return Routes._compute(new, multipath=self.multipath, destinations=self.dests, threads=threads)
        went_down = np.flatnonzero(old.hop_up.astype(bool) & ~new.hop_up.astype(bool)).astype(np.int32)
        touched = np.zeros(len(self.dests), dtype=np.uint8)
        rows_using_hops(self.bits, went_down, touched)
        touched |= (new.node_up[self.dests] == 0).astype(np.uint8)
        if len(old.asns) > 1:
            dest_as = np.unique(old.node_as[self.dests]).astype(np.int32)
            differs = np.zeros(len(dest_as), dtype=np.uint8)
            as_selection_differs(old.adj_ptr, old.adj_from, old.adj_to, old.adj_rel, old.adj_up,
                                 new.adj_rel, new.adj_up, old.ain_ptr, old.ain_adj, dest_as,
                                 self.multipath, differs)
            changed_as = dest_as[differs.astype(bool)]
            touched |= np.isin(old.node_as[self.dests], changed_as).astype(np.uint8)
        rows = np.flatnonzero(touched).astype(np.int32)
        bits, order, nreach, lat = self.bits.copy(), self.order.copy(), self.nreach.copy(), self.latency_ms.copy()
        reach = self.reach.copy()
        if len(rows):
            route_destinations(*new.kernel_args(), np.ascontiguousarray(self.dests[rows]), rows,
                               self.multipath, _threads(threads, len(rows) * (new.n_nodes + len(new.hop_tail))),
                               bits, order, nreach, lat, reach)
        out = Routes(new, multipath=self.multipath, dests=self.dests, bits=bits, order=order,
                     nreach=nreach, latency_ms=lat, reach=reach)
        out.recomputed = len(rows)
        return out
