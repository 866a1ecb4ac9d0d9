"""Synthetic graphs for routing tests and benchmarks: random multi-AS graphs, single-AS graphs, an Internet-like AS graph.

All take a ``seed`` and return netsim topology ``DiGraph`` objects (nodes with ``kind``/``asn``,
duplex links with ``rel`` and ``latency_ms``) that :func:`netsim.routing.compile` accepts.
"""

from __future__ import annotations

import math

import networkx as nx
import numpy as np

__all__ = ["random_multi_as", "single_as", "internet_like"]

_BACK = {"internal": "internal", "c2p": "p2c", "p2c": "c2p", "p2p": "p2p"}


def _link(g: nx.DiGraph, u, v, rel: str, latency_ms: float, **extra) -> None:
    g.add_edge(u, v, rel=rel, latency_ms=latency_ms, **extra)
    g.add_edge(v, u, rel=_BACK[rel], latency_ms=latency_ms, **extra)


def random_multi_as(seed: int, *, max_as: int = 5, max_nodes_per_as: int = 4, max_ix: int = 2,
                    integer_weights: bool = True) -> nx.DiGraph:
    """A small random multi-AS graph: random c2p DAG + random p2p, random IGPs, random IXs.

    Integer latencies (``integer_weights=True``) make many equal-cost ties (ECMP, exits). Some
    IGPs may be disconnected and some pairs unreachable, on purpose.

    Examples
    --------
    >>> g = random_multi_as(1)
    >>> all("asn" in d for _, d in g.nodes(data=True))
    True
    """
    rng = np.random.default_rng(seed)
    g = nx.DiGraph()
    n_as = int(rng.integers(1, max_as + 1))
    asns = sorted(rng.choice(np.arange(100, 200), size=n_as, replace=False).tolist())
    members: dict[int, list[str]] = {}

    def lat() -> float:
        return float(rng.integers(1, 4)) if integer_weights else float(np.round(rng.uniform(0.1, 3.0), 3))

    for a in asns:
        k = int(rng.integers(1, max_nodes_per_as + 1))
        members[a] = [f"n{a}-{i}" for i in range(k)]
        for n in members[a]:
            g.add_node(n, kind="pop", asn=a)
        for i in range(1, k):  # a random tree, sometimes left broken, plus extra links
            if rng.random() < 0.92:
                _link(g, members[a][i], members[a][int(rng.integers(0, i))], "internal", lat(), igp_metric=float(rng.integers(1, 5)))
        for _ in range(int(rng.integers(0, k))):
            u, v = rng.choice(k, size=2, replace=k < 2)
            if u != v and not g.has_edge(members[a][u], members[a][v]):
                _link(g, members[a][u], members[a][v], "internal", lat(), igp_metric=float(rng.integers(1, 5)))
    rank = {a: i for i, a in enumerate(rng.permutation(asns).tolist())}  # lower rank = higher tier
    for i, x in enumerate(asns):
        for y in asns[i + 1:]:
            p = rng.random()
            if p < 0.45:
                rel = "c2p" if rank[x] > rank[y] else "p2c"
            elif p < 0.65:
                rel = "p2p"
            else:
                continue
            for _ in range(int(rng.integers(1, 3))):
                u, v = rng.choice(members[x]), rng.choice(members[y])
                if not g.has_edge(u, v):
                    _link(g, u, v, rel, lat(), igp_metric=float(rng.integers(1, 5)))
    all_nodes = sorted(g.nodes)
    for i in range(int(rng.integers(0, max_ix + 1))):
        ix = f"ix{i}"
        g.add_node(ix, kind="ix", asn=64999)
        k = int(rng.integers(2, min(6, len(all_nodes)) + 1)) if len(all_nodes) >= 2 else 0
        for m in rng.choice(all_nodes, size=k, replace=False).tolist():
            _link(g, m, ix, "p2p", lat(), igp_metric=float(rng.integers(1, 5)))
    return g


def single_as(kind: str, n: int, *, degree: float = 6.0, seed: int = 0) -> nx.DiGraph:
    """One AS of ``n`` nodes: ``"geometric"`` (random geometric, connected) or ``"ba"`` (Barabási-Albert).

    Latency is the Euclidean distance in a 1000 km square × 0.0075 ms/km (floored at 0.01 ms).

    Examples
    --------
    >>> g = single_as("ba", 50, seed=1)
    >>> g.number_of_nodes(), round(g.number_of_edges() / 50)
    (50, 6)
    """
    rng = np.random.default_rng(seed)
    pos = rng.uniform(0, 1000.0, size=(n, 2))
    if kind == "geometric":
        radius = math.sqrt(degree / (math.pi * n)) * 1000.0
        u = nx.random_geometric_graph(n, radius, pos={i: tuple(p) for i, p in enumerate(pos)}, seed=seed)
        # Join the components into one (a real network is connected).
        comps = sorted(nx.connected_components(u), key=min)
        for a, b in zip(comps, comps[1:]):
            u.add_edge(min(a), min(b))
    elif kind == "ba":
        u = nx.barabasi_albert_graph(n, max(1, round(degree / 2)), seed=seed)
    else:
        raise ValueError(f"kind must be 'geometric' or 'ba', found {kind!r}")
    g = nx.DiGraph()
    for i in range(n):
        g.add_node(f"v{i:05d}", kind="pop", asn=65000)
    for a, b in u.edges:
        d = float(np.hypot(*(pos[a] - pos[b])))
        _link(g, f"v{a:05d}", f"v{b:05d}", "internal", max(0.01, round(d * 0.0075, 6)))
    return g


def internet_like(n_as: int, *, seed: int = 0, n_tier1: int = 12, transit_share: float = 0.12,
                  peer_links_per_transit: float = 2.0) -> nx.DiGraph:
    """An Internet-like AS graph, one node per AS: tier-1 clique (p2p), transit tiers, stubs.

    Transit ASes buy from 1-3 ASes of higher tiers and peer with some of the same tier; stubs buy
    from 1-2 transit or tier-1 ASes (preferential attachment by customer count).

    Examples
    --------
    >>> g = internet_like(200, seed=1)
    >>> g.number_of_nodes()
    200
    """
    rng = np.random.default_rng(seed)
    g = nx.DiGraph()
    ids = [f"as{i:06d}" for i in range(n_as)]
    for i, n in enumerate(ids):
        g.add_node(n, kind="pop", asn=i + 1)
    t1 = list(range(min(n_tier1, n_as)))
    for i in t1:
        for j in t1:
            if i < j:
                _link(g, ids[i], ids[j], "p2p", float(rng.uniform(1, 50)))
    n_transit = max(0, int(n_as * transit_share))
    customers = np.ones(n_as)
    tiers = [t1]
    rest = list(range(len(t1), len(t1) + n_transit))
    for tier in np.array_split(np.array(rest, dtype=int), 3):
        tier = tier.tolist()
        above = [a for t in tiers for a in t]
        for x in tier:
            p = customers[above] / customers[above].sum()
            for y in rng.choice(above, size=min(len(above), int(rng.integers(1, 4))), replace=False, p=p):
                _link(g, ids[x], ids[int(y)], "c2p", float(rng.uniform(1, 30)))
                customers[int(y)] += 1
        for _ in range(int(len(tier) * peer_links_per_transit / 2)):
            if len(tier) < 2:
                break
            x, y = rng.choice(tier, size=2, replace=False)
            if not g.has_edge(ids[int(x)], ids[int(y)]):
                _link(g, ids[int(x)], ids[int(y)], "p2p", float(rng.uniform(1, 30)))
        tiers.append(tier)
    providers = [a for t in tiers for a in t]
    for x in range(len(t1) + n_transit, n_as):
        p = customers[providers] / customers[providers].sum()
        for y in rng.choice(providers, size=min(len(providers), int(rng.integers(1, 3))), replace=False, p=p):
            _link(g, ids[x], ids[int(y)], "c2p", float(rng.uniform(1, 20)))
            customers[int(y)] += 1
    return g
