"""Compile a topology graph into the arrays the routing kernels run on (``netsim.routing.compile``).

Node and link order
-------------------
``net.nodes`` is the sorted list of node ids (``str(node)``); a node's int32 index is its position.
``net.links`` is the list of directed links ``(u, v)`` sorted by ``(index(u), index(v))``; a link's
index is its position, and every per-link array (loads, weights) uses that order. The CSR arrays
``indptr``/``indices``/``link_ids``/``weight`` describe the same links. :meth:`CompiledNet.index` is the
one place where node ids become indices.

What the routing sees
---------------------
* **ASes** are the ASNs of non-IX nodes. A link between two non-IX nodes of one AS is an IGP link of
  that AS whatever its ``rel`` says; a link between two ASes carries their relationship: ``rel`` of
  ``u -> v`` is ``c2p`` (v is u's provider), ``p2c`` (v is u's customer) or ``p2p``. All links
  between two ASes must agree (``u -> v`` c2p needs ``v -> u`` p2c, ...), and an ``internal`` link
  between two ASes is an error.
* **IXs are transparent route servers**: every two members (non-IX nodes with a link to the IX) of
  different ASes peer, unless the two ASes have a direct c2p/p2c relationship (that relationship
  wins, and their traffic does not cross the IX). An IX node is never an AS-path hop, never an
  endpoint and not in any IGP. Two members of one AS do not use the IX between themselves.
* A **hop** is what a node can forward to: a real link ``u -> v`` between two non-IX nodes, or a
  virtual IX crossing ``u -> ix -> w`` (two real links; its weight and latency are the sums; its
  bytes are put on both links). The routing decides, per destination, which hops are next hops.
* AS X can forward to AS Y (an *adjacency* X -> Y) when some hop leads from X to Y. Routes travel
  against adjacencies: X learns Y's route when X can forward to Y.

Failures (:meth:`CompiledNet.with_failures`) keep the node and link numbering and only change the
``node_up``/``link_up`` masks, so routes and loads of a failed network line up with the intact one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Iterable, Sequence

import networkx as nx
import numpy as np

from netsim.errors import InputError

__all__ = ["CompiledNet", "UnknownNodeError", "compile_graph", "REL_CUST", "REL_PEER", "REL_PROV"]

#: Codes of ``adj_rel``: what neighbour AS Y is to AS X for the adjacency X -> Y.
REL_CUST, REL_PEER, REL_PROV = 0, 1, 2
_REL_OF_LINK = {"p2c": REL_CUST, "p2p": REL_PEER, "c2p": REL_PROV}
_INVERSE = {REL_CUST: REL_PROV, REL_PEER: REL_PEER, REL_PROV: REL_CUST}
_REL_NAME = {REL_CUST: "p2c", REL_PEER: "p2p", REL_PROV: "c2p"}

_I32 = np.int32


class UnknownNodeError(InputError, KeyError):
    """A node id that is not in the compiled network (both an :class:`InputError` and a ``KeyError``)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return InputError.__str__(self)


def _csr(keys: np.ndarray, n: int) -> np.ndarray:
    ptr = np.zeros(n + 1, dtype=_I32)
    np.cumsum(np.bincount(keys, minlength=n), out=ptr[1:])
    return ptr


@dataclass(eq=False)
class CompiledNet:
    """A topology as arrays: nodes, links, hops, AS adjacencies, and which elements are up.

    Build it with :func:`netsim.routing.compile`; route it with :meth:`route`.
    """

    nodes: list[str]
    links: list[tuple[str, str]]
    igp_weight: str
    indptr: np.ndarray            # CSR over links: out-links of node i are indptr[i]..indptr[i+1]-1
    indices: np.ndarray           # head node of each link
    link_ids: np.ndarray          # link index of each CSR entry (identity: links are in CSR order)
    weight: np.ndarray            # IGP weight of each link
    link_tail: np.ndarray
    link_latency_ms: np.ndarray   # NaN where a link has no latency_ms
    is_ix: np.ndarray             # bool per node
    asns: np.ndarray              # sorted ASNs (AS index -> ASN)
    node_as: np.ndarray           # AS index per node, -1 for IX nodes
    hop_ptr: np.ndarray
    hop_tail: np.ndarray
    hop_head: np.ndarray
    hop_ix: np.ndarray            # IX node of a virtual hop, -1 for a direct link
    hop_link1: np.ndarray
    hop_link2: np.ndarray         # second link of a virtual hop, -1 for a direct link
    hop_adj: np.ndarray           # -1 for an IGP hop, else the adjacency index
    hop_w: np.ndarray
    hop_lat: np.ndarray
    rin_ptr: np.ndarray           # IGP hops by head node
    rin_hop: np.ndarray
    adj_ptr: np.ndarray           # adjacencies X -> Y by X (sorted by Y)
    adj_from: np.ndarray
    adj_to: np.ndarray
    adj_rev: np.ndarray           # index of Y -> X, or -1
    adj_direct_rel: np.ndarray    # relationship from direct links of the pair, -1 if none
    ain_ptr: np.ndarray           # adjacencies by Y
    ain_adj: np.ndarray
    exit_ptr: np.ndarray          # exit hops by adjacency
    exit_hop: np.ndarray
    node_up: np.ndarray
    link_up: np.ndarray
    hop_up: np.ndarray = field(init=False)
    adj_up: np.ndarray = field(init=False)
    adj_rel: np.ndarray = field(init=False)
    _names: np.ndarray = field(init=False, repr=False)
    _link_index: dict = field(init=False, repr=False)

    def __post_init__(self):
        self._names = np.array(self.nodes, dtype=str) if self.nodes else np.array([], dtype="<U1")
        self._link_index = {uv: i for i, uv in enumerate(self.links)}
        self._derive_state()

    # -- ids -------------------------------------------------------------------------------
    @property
    def n_nodes(self) -> int:
        return len(self.nodes)

    @property
    def n_links(self) -> int:
        return len(self.links)

    def index(self, ids, *, what: str = "node") -> np.ndarray:
        """int32 indices of node ids (strings) or of int indices (checked); unknown ids raise.

        Examples
        --------
        >>> import netsim.routing
        >>> net = netsim.routing.compile(netsim.load_topology("examples/two_as"))
        >>> net.index(["a1", "t2"]).tolist()
        [0, 4]
        """
        arr = np.asarray(ids)
        if arr.ndim == 0:
            arr = arr.reshape(1)
        if arr.size == 0:
            return np.zeros(0, dtype=_I32)
        if np.issubdtype(arr.dtype, np.integer):
            bad = (arr < 0) | (arr >= self.n_nodes)
            if bad.any():
                raise UnknownNodeError(f"{what} index {int(arr[bad][0])} out of range 0..{self.n_nodes - 1}")
            return arr.astype(_I32, copy=False)
        arr = arr.astype(str)
        pos = np.searchsorted(self._names, arr)
        pos_c = np.minimum(pos, max(self.n_nodes - 1, 0))
        bad = (pos >= self.n_nodes) | (self._names[pos_c] != arr)
        if bad.any():
            missing = list(dict.fromkeys(arr[bad].tolist()))
            more = f" (and {len(missing) - 3} more)" if len(missing) > 3 else ""
            raise UnknownNodeError(f"unknown {what} id(s) {', '.join(map(repr, missing[:3]))}{more}; "
                                   f"not in the compiled network of {self.n_nodes} nodes")
        return pos.astype(_I32)

    def link_index(self, u: str, v: str) -> int:
        """Index of link ``u -> v`` in :attr:`links`; raises :class:`UnknownNodeError` if absent."""
        try:
            return self._link_index[(str(u), str(v))]
        except KeyError:
            raise UnknownNodeError(f"no link {u}->{v} in the compiled network") from None

    # -- state -----------------------------------------------------------------------------
    def _derive_state(self) -> None:
        """hop_up, adj_up, adj_rel from node_up/link_up (see the module docstring for the rules)."""
        lu, nu = self.link_up.astype(bool), self.node_up.astype(bool)
        up = lu[self.hop_link1] & nu[self.hop_tail] & nu[self.hop_head]
        virt = self.hop_link2 >= 0
        up[virt] &= lu[self.hop_link2[virt]] & nu[self.hop_ix[virt]]
        n_adj = len(self.adj_from)
        direct_exit = (~virt) & (self.hop_adj >= 0)
        direct_up = np.zeros(n_adj, dtype=bool)
        direct_up[self.hop_adj[direct_exit & up]] = True
        pair_direct = direct_up.copy()
        has_rev = self.adj_rev >= 0
        pair_direct[has_rev] |= direct_up[self.adj_rev[has_rev]]
        rel = np.where(pair_direct, self.adj_direct_rel, REL_PEER).astype(np.int8)
        # A virtual (IX) hop is off when the pair has a live direct c2p/p2c relationship.
        blocked = virt & (self.hop_adj >= 0)
        blocked[blocked] = pair_direct[self.hop_adj[blocked]] & (self.adj_direct_rel[self.hop_adj[blocked]] != REL_PEER)
        up &= ~blocked
        adj_up = np.zeros(n_adj, dtype=bool)
        adj_up[self.hop_adj[(self.hop_adj >= 0) & up]] = True
        self.hop_up = up.astype(np.uint8)
        self.adj_up = adj_up.astype(np.uint8)
        self.adj_rel = rel

    def with_failures(self, *, nodes: Iterable[str] = (), links: Iterable[tuple[str, str]] = ()) -> "CompiledNet":
        """The same network with ``nodes`` and directed ``links`` down (indices unchanged).

        A failed node takes all its links with it; a link ``(u, v)`` fails that direction only.
        """
        node_up = self.node_up.copy()
        link_up = self.link_up.copy()
        nodes = list(nodes)
        if nodes:
            idx = self.index([str(n) for n in nodes])
            node_up[idx] = 0
            down = ~node_up.astype(bool)
            link_up[down[self.link_tail] | down[self.indices]] = 0
        for uv in links:
            if len(uv) != 2:
                raise InputError(f"a failed link is a (u, v) pair, found {uv!r}")
            link_up[self.link_index(*uv)] = 0
        return replace(self, node_up=node_up, link_up=link_up)

    # -- routing ---------------------------------------------------------------------------
    def route(self, *, multipath: bool = False, destinations: Sequence[str] | None = None,
              threads: int | None = None):
        """Routes toward every destination (all non-IX nodes, or ``destinations``).

        Parameters
        ----------
        multipath : bool
            Use all equally-best neighbour ASes instead of the lowest next-hop ASN.
        destinations : sequence of str, optional
            Route only toward these nodes (default: every non-IX node).
        threads : int, optional
            OpenMP threads (default: all CPUs); small jobs run on fewer threads.

        Returns
        -------
        netsim.routing.Routes

        Examples
        --------
        >>> import netsim.routing
        >>> net = netsim.routing.compile(netsim.load_topology("examples/two_as"))
        >>> routes = net.route()
        >>> routes.paths("a2", "t2")  # hot potato: leave AS65001 at a1, the nearest exit
        [(['a2', 'a1', 't1', 't2'], 1.0)]
        """
        from netsim.routing.routes import Routes

        return Routes._compute(self, multipath=bool(multipath), destinations=destinations, threads=threads)

    def kernel_args(self) -> tuple:
        """The graph arrays in the order of ``netsim._ext.routing.route_destinations``."""
        return (self.node_as, self.node_up, self.hop_ptr, self.hop_tail, self.hop_head, self.hop_adj,
                self.hop_w, self.hop_lat, self.hop_up, self.rin_ptr, self.rin_hop, self.exit_ptr,
                self.exit_hop, self.adj_ptr, self.adj_from, self.adj_to, self.adj_rel, self.adj_up,
                self.ain_ptr, self.ain_adj)

    @property
    def destinations(self) -> np.ndarray:
        """Indices of the nodes that can be destinations (every non-IX node)."""
        return np.flatnonzero(~self.is_ix).astype(_I32)

    def hop_nodes(self, h: int) -> tuple[str, ...]:
        """The node ids a hop passes: ``(u, v)`` or ``(u, ix, w)``."""
        t, hd, ix = int(self.hop_tail[h]), int(self.hop_head[h]), int(self.hop_ix[h])
        return (self.nodes[t], self.nodes[hd]) if ix < 0 else (self.nodes[t], self.nodes[ix], self.nodes[hd])


def _weight_of(g: nx.DiGraph, u, v, attr: str) -> float:
    if attr == "hops":
        return 1.0
    d = g.edges[u, v]
    if attr not in d:
        raise InputError(f"link {u}->{v} has no attribute {attr!r} to use as IGP weight "
                         f"(use 'hops', 'latency_ms' or a numeric link attribute every link has)",
                         where=f"links[{u}->{v}].{attr}")
    w = d[attr]
    try:
        w = float(w)
    except (TypeError, ValueError):
        raise InputError(f"link {u}->{v}: IGP weight {attr!r} must be a number, found {w!r}",
                         where=f"links[{u}->{v}].{attr}") from None
    if not math.isfinite(w) or w <= 0:
        raise InputError(f"link {u}->{v}: IGP weight {attr!r} must be finite and > 0, found {w!r}",
                         where=f"links[{u}->{v}].{attr}")
    return w


def compile_graph(g: nx.DiGraph, *, igp_weight: str = "latency_ms") -> CompiledNet:
    """Compile ``g`` (a netsim topology ``DiGraph``) into a :class:`CompiledNet`.

    Parameters
    ----------
    g : networkx.DiGraph
        Nodes carry ``kind`` (``ix`` nodes are route servers) and ``asn``; links carry ``rel`` and
        the IGP weight attribute. An undirected graph is taken as both directions of every edge.
    igp_weight : str
        ``"latency_ms"`` (default), ``"hops"``, or the name of a numeric link attribute.

    Raises
    ------
    InputError
        Missing/invalid weight attribute, missing ASN, inconsistent AS relationships.

    Examples
    --------
    >>> import netsim.routing
    >>> net = compile_graph(netsim.load_topology("examples/two_as"), igp_weight="hops")
    >>> net.nodes, net.links[:2]
    (['a1', 'a2', 'a3', 't1', 't2'], [('a1', 'a2'), ('a1', 'a3')])
    """
    if not isinstance(igp_weight, str) or not igp_weight:
        raise InputError(f"igp_weight must be 'latency_ms', 'hops' or a link attribute name, found {igp_weight!r}")
    if not g.is_directed():
        g = g.to_directed()
    key_of: dict[str, object] = {}
    for n in g.nodes:
        s = str(n)
        if s in key_of:
            raise InputError(f"node ids {key_of[s]!r} and {n!r} are the same string {s!r}")
        key_of[s] = n
    nodes = sorted(key_of)
    idx = {s: i for i, s in enumerate(nodes)}
    n = len(nodes)
    attrs = [g.nodes[key_of[s]] for s in nodes]
    is_ix = np.array([a.get("kind") == "ix" for a in attrs], dtype=bool)
    asn_list = []
    for s, a, ix in zip(nodes, attrs, is_ix):
        if ix:
            continue
        asn = a.get("asn")
        if asn is None or isinstance(asn, bool):
            raise InputError(f"node {s!r} has no asn (every non-IX node needs one)", where=f"nodes[{s}].asn")
        try:
            asn_list.append(int(asn))
        except (TypeError, ValueError):
            raise InputError(f"node {s!r}: asn must be an integer, found {asn!r}", where=f"nodes[{s}].asn") from None
    asns = np.array(sorted(set(asn_list)), dtype=np.int64)
    as_idx = {int(a): i for i, a in enumerate(asns)}
    node_as = np.array([-1 if ix else as_idx[int(a["asn"])] for a, ix in zip(attrs, is_ix)], dtype=_I32)

    # Links in CSR order.
    edges = sorted(((idx[str(u)], idx[str(v)], u, v) for u, v in g.edges if str(u) != str(v)),
                   key=lambda e: (e[0], e[1]))
    m = len(edges)
    tail = np.array([e[0] for e in edges], dtype=_I32)
    head = np.array([e[1] for e in edges], dtype=_I32)
    w = np.array([_weight_of(g, e[2], e[3], igp_weight) for e in edges], dtype=np.float64)
    lat = np.array([float(g.edges[e[2], e[3]].get("latency_ms", math.nan)) for e in edges], dtype=np.float64)
    links = [(nodes[e[0]], nodes[e[1]]) for e in edges]
    indptr = _csr(tail, n)

    # Relationships between ASes from direct links; all links of a pair must agree.
    pair_rel: dict[tuple[int, int], tuple[int, int]] = {}   # (X, Y) -> (code of Y for X, link index)
    for l in range(m):
        u, v = int(tail[l]), int(head[l])
        if is_ix[u] or is_ix[v] or node_as[u] == node_as[v]:
            continue
        X, Y = int(node_as[u]), int(node_as[v])
        rel = g.edges[edges[l][2], edges[l][3]].get("rel", "internal")
        if rel not in _REL_OF_LINK:
            raise InputError(f"link {links[l][0]}->{links[l][1]} joins AS{asns[X]} and AS{asns[Y]} but has "
                             f"rel {rel!r}; expected c2p, p2c or p2p", where=f"links[{links[l][0]}->{links[l][1]}].rel")
        code = _REL_OF_LINK[rel]
        for key, c in (((X, Y), code), ((Y, X), _INVERSE[code])):
            if key in pair_rel and pair_rel[key][0] != c:
                other = pair_rel[key][1]
                raise InputError(
                    f"inconsistent relationship between AS{asns[X]} and AS{asns[Y]}: link "
                    f"{links[l][0]}->{links[l][1]} says {rel}, link {links[other][0]}->{links[other][1]} says "
                    f"{g.edges[edges[other][2], edges[other][3]].get('rel')}",
                    where=f"links[{links[l][0]}->{links[l][1]}].rel")
            pair_rel.setdefault(key, (c, l))

    # Hops, tail-major, sorted by (head, first link, second link) within a tail.
    out_links = [range(indptr[i], indptr[i + 1]) for i in range(n)]
    hops: list[tuple[int, int, int, int, int]] = []   # (tail, head, ix, l1, l2)
    for u in range(n):
        if is_ix[u]:
            continue
        mine = []
        for l in out_links[u]:
            v = int(head[l])
            if not is_ix[v]:
                mine.append((v, -1, l, -1))
                continue
            for l2 in out_links[v]:
                x = int(head[l2])
                if x != u and not is_ix[x] and node_as[x] != node_as[u]:
                    mine.append((x, v, l, l2))
        mine.sort(key=lambda h: (h[0], h[2], h[3]))
        hops.extend((u, x, ix, l1, l2) for x, ix, l1, l2 in mine)
    H = len(hops)
    harr = np.array(hops, dtype=np.int64).reshape(H, 5)
    hop_tail, hop_head, hop_ix = harr[:, 0].astype(_I32), harr[:, 1].astype(_I32), harr[:, 2].astype(_I32)
    hop_link1, hop_link2 = harr[:, 3].astype(_I32), harr[:, 4].astype(_I32)
    virt = hop_link2 >= 0
    hop_w = w[hop_link1].copy()
    hop_w[virt] += w[hop_link2[virt]]
    hop_lat = lat[hop_link1].copy()
    hop_lat[virt] += lat[hop_link2[virt]]
    hop_ptr = _csr(hop_tail, n)

    # AS adjacencies from exit hops.
    is_exit = node_as[hop_tail] != node_as[hop_head]
    pairs = sorted({(int(node_as[hop_tail[h]]), int(node_as[hop_head[h]])) for h in np.flatnonzero(is_exit)})
    adj_of = {p: a for a, p in enumerate(pairs)}
    A = len(pairs)
    adj_from = np.array([p[0] for p in pairs], dtype=_I32)
    adj_to = np.array([p[1] for p in pairs], dtype=_I32)
    adj_rev = np.array([adj_of.get((p[1], p[0]), -1) for p in pairs], dtype=_I32)
    adj_direct_rel = np.array([pair_rel.get(p, (-1,))[0] for p in pairs], dtype=np.int8)
    hop_adj = np.full(H, -1, dtype=_I32)
    for h in np.flatnonzero(is_exit):
        hop_adj[h] = adj_of[(int(node_as[hop_tail[h]]), int(node_as[hop_head[h]]))]
    n_as = len(asns)
    adj_ptr = _csr(adj_from, n_as)
    ain_adj = np.argsort(adj_to, kind="stable").astype(_I32)
    ain_ptr = _csr(adj_to, n_as)
    exits = np.flatnonzero(hop_adj >= 0)
    exit_hop = exits[np.argsort(hop_adj[exits], kind="stable")].astype(_I32)
    exit_ptr = _csr(hop_adj[exits], A)
    igp = np.flatnonzero(hop_adj < 0)
    rin_hop = igp[np.argsort(hop_head[igp], kind="stable")].astype(_I32)
    rin_ptr = _csr(hop_head[igp], n)

    return CompiledNet(
        nodes=nodes, links=links, igp_weight=igp_weight, indptr=indptr, indices=head,
        link_ids=np.arange(m, dtype=_I32), weight=w, link_tail=tail, link_latency_ms=lat,
        is_ix=is_ix, asns=asns, node_as=node_as, hop_ptr=hop_ptr, hop_tail=hop_tail, hop_head=hop_head,
        hop_ix=hop_ix, hop_link1=hop_link1, hop_link2=hop_link2, hop_adj=hop_adj, hop_w=hop_w,
        hop_lat=hop_lat, rin_ptr=rin_ptr, rin_hop=rin_hop, adj_ptr=adj_ptr, adj_from=adj_from,
        adj_to=adj_to, adj_rev=adj_rev, adj_direct_rel=adj_direct_rel, ain_ptr=ain_ptr, ain_adj=ain_adj,
        exit_ptr=exit_ptr, exit_hop=exit_hop, node_up=np.ones(n, dtype=np.uint8),
        link_up=np.ones(m, dtype=np.uint8))
