"""Summaries of a topology: nodes by kind, ASes, metros, links by relationship, capacity."""

from __future__ import annotations

from collections import Counter
from typing import Any

import networkx as nx

__all__ = ["summarize"]


def summarize(g: nx.DiGraph) -> dict[str, Any]:
    """A plain-data summary of a topology (what ``netsim topo check`` prints).

    Examples
    --------
    >>> from netsim import load_topology
    >>> s = summarize(load_topology("examples/two_as"))
    >>> s["nodes_by_kind"], s["ases"]
    ({'pop': 5}, 2)
    """
    kinds = Counter(d["kind"] for _, d in g.nodes(data=True))
    rels = Counter(d["rel"] for _, _, d in g.edges(data=True))
    cap = Counter()
    for _, _, d in g.edges(data=True):
        cap[d["rel"]] += d["capacity_gbps"]
    return {
        "name": g.graph.get("name", "topology"),
        "nodes": g.number_of_nodes(),
        "nodes_by_kind": {k: kinds[k] for k in ("pop", "ix", "cache", "origin") if kinds[k]},
        "ases": len({d["asn"] for _, d in g.nodes(data=True)}),
        "metros": len({d["metro"] for _, d in g.nodes(data=True)}),
        "regions": len({d["region"] for _, d in g.nodes(data=True)}),
        "subscribers": sum(d.get("subscribers", 0) for _, d in g.nodes(data=True)),
        "links": g.number_of_edges(),
        "links_by_rel": {k: rels[k] for k in ("internal", "c2p", "p2c", "p2p") if rels[k]},
        "capacity_gbps": round(sum(cap.values()), 3),
        "capacity_gbps_by_rel": {k: round(cap[k], 3) for k in ("internal", "c2p", "p2c", "p2p") if cap[k]},
    }
