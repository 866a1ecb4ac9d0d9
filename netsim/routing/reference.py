"""The routing semantics of :mod:`netsim.routing` in plain Python + networkx, written for clarity.

Tests assert the compiled core equals this module (next hops, fractions, loads, latencies). It
shares no code with the compiled path: relationships, IX peering, Gao-Rexford selection (here as
networkx BFS/Dijkstra runs) and hot-potato ECMP are all written again from the rules:

1. ASes are the ASNs of non-IX nodes. Links inside an AS are its IGP; a link between two ASes
   gives their relationship (``rel`` of ``u -> v``: c2p = v is u's provider, p2c = customer,
   p2p = peer). Members of an IX (nodes linked to it) of different ASes peer through it, unless
   their ASes have a direct c2p/p2c relationship.
2. For destination AS D: customer routes climb from D along "X is a provider of Y" edges (BFS);
   ASes without one take a peer route (one p2p hop from an AS with its own or a customer route);
   the rest take provider routes (shortest over "Y is X's provider" edges from every routed AS).
   Next-hop ASes: the neighbours offering that class at length - 1; the lowest ASN, or all.
3. For destination node t in D: D's nodes use IGP shortest paths to t. A node of another AS X
   uses the cheapest exits toward its next-hop ASes (IGP distance + exit weight) whose far end
   reaches t; ECMP at every hop with relative tolerance 1e-9.

Examples
--------
>>> import netsim
>>> ref = ReferenceRoutes(netsim.load_topology("examples/valley_free"))
>>> ref.next_hops("c3")["s"]
[(('s', 'c3'), 1.0)]
"""

from __future__ import annotations

import math

import networkx as nx

__all__ = ["ReferenceRoutes", "TOL"]

TOL = 1e-9
CUSTOMER, PEER, PROVIDER = "customer", "peer", "provider"
_REL = {"p2c": CUSTOMER, "p2p": PEER, "c2p": PROVIDER}
_RANK = {"own": 0, CUSTOMER: 1, PEER: 2, PROVIDER: 3}


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= TOL * max(abs(a), abs(b))


class ReferenceRoutes:
    """All routes of ``g`` by the rules in the module docstring (slow, for tests and benchmarks)."""

    def __init__(self, g: nx.DiGraph, *, igp_weight: str = "latency_ms", multipath: bool = False):
        if not g.is_directed():
            g = g.to_directed()
        self.g = nx.relabel_nodes(g, {n: str(n) for n in g.nodes})
        self.igp_weight = igp_weight
        self.multipath = multipath
        g = self.g
        self.ix = {n for n, d in g.nodes(data=True) if d.get("kind") == "ix"}
        self.asn = {n: int(d["asn"]) for n, d in g.nodes(data=True) if n not in self.ix}
        self.hops = self._hops()
        self.rel = self._relationships()
        self.members: dict[int, list[str]] = {}
        for n in sorted(self.asn):
            self.members.setdefault(self.asn[n], []).append(n)
        self.neighbours: dict[int, list[tuple[int, str]]] = {}   # X -> [(Y, what Y is to X)]
        for (x, y), r in sorted(self.rel.items()):
            self.neighbours.setdefault(x, []).append((y, r))
        self._cache: dict[str, dict] = {}

    # -- structure -------------------------------------------------------------------------
    def _w(self, u: str, v: str) -> float:
        return 1.0 if self.igp_weight == "hops" else float(self.g.edges[u, v][self.igp_weight])

    def _lat(self, u: str, v: str) -> float:
        return float(self.g.edges[u, v].get("latency_ms", math.nan))

    def _hops(self) -> dict[str, list[tuple]]:
        """Per node: (hop nodes, links, weight, latency) for every link/IX crossing it can forward over."""
        out: dict[str, list[tuple]] = {n: [] for n in self.asn}
        for u in self.asn:
            for v in self.g.successors(u):
                if v == u:
                    continue
                if v not in self.ix:
                    out[u].append(((u, v), [(u, v)], self._w(u, v), self._lat(u, v)))
                    continue
                for w in self.g.successors(v):
                    if w in self.ix or w == u or self.asn[w] == self.asn[u]:
                        continue
                    out[u].append(((u, v, w), [(u, v), (v, w)], self._w(u, v) + self._w(v, w),
                                   self._lat(u, v) + self._lat(v, w)))
        return out

    def _relationships(self) -> dict[tuple[int, int], str]:
        """(X, Y) -> what Y is to X, for every pair of ASes with a usable hop X -> Y."""
        direct: dict[tuple[int, int], str] = {}
        for u, v, d in self.g.edges(data=True):
            if u in self.ix or v in self.ix or self.asn[u] == self.asn[v]:
                continue
            r = _REL[d.get("rel")]
            direct[(self.asn[u], self.asn[v])] = r
            direct[(self.asn[v], self.asn[u])] = {CUSTOMER: PROVIDER, PROVIDER: CUSTOMER, PEER: PEER}[r]
        rel = {}
        for u, hs in self.hops.items():
            for nodes, _, _, _ in hs:
                pair = (self.asn[u], self.asn[nodes[-1]])
                if pair[0] == pair[1]:
                    continue
                if len(nodes) == 3 and direct.get(pair, PEER) != PEER:
                    continue  # a direct c2p/p2c pair does not use the IX
                rel[pair] = direct.get(pair, PEER)
        return rel

    def usable(self, u: str, hop: tuple) -> bool:
        nodes = hop[0]
        pair = (self.asn[u], self.asn[nodes[-1]])
        return pair[0] == pair[1] or (pair in self.rel and (len(nodes) == 2 or self.rel[pair] == PEER))

    # -- AS level ----------------------------------------------------------------------------
    def as_routes(self, D: int) -> tuple[dict[int, tuple[str, int]], dict[int, list[int]]]:
        """({AS: (class, AS-path length)}, {AS: chosen next-hop ASes}) toward destination AS D."""
        rel = self.rel
        up = nx.DiGraph()  # edge Y -> X when X is Y's provider and can forward to Y
        up.add_node(D)
        up.add_edges_from((y, x) for (x, y), r in rel.items() if r == CUSTOMER)
        route = {X: (CUSTOMER, L) for X, L in nx.single_source_shortest_path_length(up, D).items()}
        route[D] = ("own", 0)
        peer = {}
        for (x, y), r in rel.items():
            if r == PEER and y in route and x not in route:
                L = route[y][1] + 1
                peer[x] = min(peer.get(x, L), L)
        route.update({x: (PEER, L) for x, L in peer.items()})
        down = nx.DiGraph()  # super source -> routed AS at its length; Y -> X when Y is X's provider
        down.add_weighted_edges_from(("src", X, L) for X, (_, L) in route.items())
        # An AS that already has a customer/peer route exports that route, never a provider one.
        down.add_weighted_edges_from((y, x, 1) for (x, y), r in rel.items() if r == PROVIDER and x not in route)
        for X, L in nx.single_source_dijkstra_path_length(down, "src").items():
            if X != "src" and X not in route:
                route[X] = (PROVIDER, int(L))
        chosen = {}
        for X, (cls, L) in route.items():
            if X == D:
                continue
            offers = sorted(Y for Y, r in self.neighbours.get(X, []) if Y in route and route[Y][1] == L - 1
                            and r == cls and (cls == PROVIDER or _RANK[route[Y][0]] <= 1))
            chosen[X] = offers if self.multipath else offers[:1]
        return route, chosen

    # -- node level --------------------------------------------------------------------------
    def next_hops(self, t: str) -> dict[str, list[tuple[tuple[str, ...], float]]]:
        """{node: [(hop nodes, fraction)]} toward t for every node that reaches t (t itself excluded)."""
        if t not in self._cache:
            self._cache[t] = self._route(t)
        return self._cache[t]["next"]

    def latency_ms(self, t: str) -> dict[str, float]:
        self.next_hops(t)
        return self._cache[t]["lat"]

    def _route(self, t: str) -> dict:
        D = self.asn[t]
        route, chosen = self.as_routes(D)
        cost: dict[str, float] = {}
        nxt: dict[str, list] = {}
        lat: dict[str, float] = {t: 0.0}
        for X in sorted(route, key=lambda a: route[a][1]):
            members = self.members[X]
            igp = nx.DiGraph()
            igp.add_nodes_from(members)
            for u in members:
                for nodes, _, w, _ in self.hops[u]:
                    if len(nodes) == 2 and self.asn[nodes[1]] == X:
                        igp.add_edge(nodes[1], u, weight=w)  # reversed: distances toward the target
            if X == D:
                dist = nx.single_source_dijkstra_path_length(igp, t)
            else:
                igp.add_node("EXIT")
                for u in members:
                    for hop in self.hops[u]:
                        w_node = hop[0][-1]
                        if self.asn[w_node] in chosen[X] and w_node in cost and self.usable(u, hop):
                            if not igp.has_edge("EXIT", u) or hop[2] < igp.edges["EXIT", u]["weight"]:
                                igp.add_edge("EXIT", u, weight=hop[2])
                dist = nx.single_source_dijkstra_path_length(igp, "EXIT")
                dist.pop("EXIT")
            cost.update(dist)
            for u in sorted(dist, key=lambda n: dist[n]):
                if u == t:
                    continue
                hs = []
                for hop in self.hops[u]:
                    v = hop[0][-1]
                    if v not in cost or not self.usable(u, hop):
                        continue
                    if self.asn[v] == X:
                        if cost[v] < cost[u] and _close(cost[v] + hop[2], cost[u]):
                            hs.append(hop)
                    elif self.asn[v] in chosen.get(X, ()) and _close(hop[2], cost[u]):
                        hs.append(hop)
                nxt[u] = [(hop[0], 1.0 / len(hs)) for hop in hs]
                lat[u] = sum(hop[3] + lat[hop[0][-1]] for hop in hs) / len(hs)
        return {"next": nxt, "lat": lat, "hops": {u: [h for h in self.hops[u]] for u in nxt}}

    # -- assignment ----------------------------------------------------------------------------
    def assign(self, demands) -> tuple[dict[tuple[str, str], float], list[bool]]:
        """Loads per link and an unreachable flag per demand for ``[(src, dst, volume), ...]``."""
        loads: dict[tuple[str, str], float] = {}
        lost = []
        for s, t, vol in demands:
            s, t = str(s), str(t)
            nh = self.next_hops(t)
            if s == t:
                lost.append(False)
                continue
            if s not in nh:
                lost.append(True)
                continue
            lost.append(False)
            flow = {s: float(vol)}
            dag = nx.DiGraph((u, hop[-1]) for u, hs in nh.items() for hop, _ in hs)
            for u in nx.topological_sort(dag):
                f = flow.pop(u, 0.0)
                if u == t or f == 0.0:
                    continue
                for hop, frac in nh[u]:
                    for a, b in zip(hop, hop[1:]):
                        loads[(a, b)] = loads.get((a, b), 0.0) + f * frac
                    flow[hop[-1]] = flow.get(hop[-1], 0.0) + f * frac
        return loads, lost
