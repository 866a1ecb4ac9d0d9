"""Turn a validated topology model into a networkx.DiGraph (cross-field checks, defaults) and back."""

from __future__ import annotations

import warnings
from typing import Any, Iterable

import networkx as nx
import numpy as np

from netsim.errors import InputError
from netsim.topology.schema import REVERSE_REL, LinkModel, NodeModel, TopologyModel

__all__ = [
    "TopologyWarning", "ROUTE_FACTOR", "MS_PER_KM", "MIN_LATENCY_MS",
    "great_circle_km", "default_latency_ms", "model_to_graph", "graph_to_dict", "check_reachability",
]

#: Fibre routes run ≈1.3–1.5× the straight line (docs/sources.md "Distance and latency").
ROUTE_FACTOR = 1.5
#: One-way propagation in fibre: 4.9 µs/km (1550 nm), rounded to 5 µs/km (docs/sources.md, "Distance and latency").
MS_PER_KM = 0.005
#: Floor for a link's latency: co-located nodes still cross equipment, and a zero IGP weight
#: would let equal-cost next hops point at each other (a forwarding loop).
MIN_LATENCY_MS = 0.01


class TopologyWarning(UserWarning):
    """Something in a topology that is legal but probably not what the author meant."""


def great_circle_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance(s) in km (compiled kernel; arrays or scalars).

    Examples
    --------
    >>> round(float(great_circle_km(35.6895, 139.6917, 34.6863, 135.5200)))  # Tokyo-Osaka
    395
    """
    from netsim._ext.geo import haversine_km

    arrs = [np.ascontiguousarray(np.atleast_1d(np.asarray(a, dtype=np.float64))) for a in (lat1, lon1, lat2, lon2)]
    arrs = np.broadcast_arrays(*arrs)
    arrs = [np.ascontiguousarray(a) for a in arrs]
    out = np.empty(arrs[0].shape[0], dtype=np.float64)
    haversine_km(*arrs, out)
    return out if np.ndim(lat1) or np.ndim(lat2) else out[0]


def default_latency_ms(distance_km: float, *, route_km: bool = False) -> float:
    """One-way latency for a link: great-circle km × 1.5 × 0.005 ms/km (or route km × 0.005), floored.

    Examples
    --------
    >>> default_latency_ms(100.0)
    0.75
    >>> default_latency_ms(0.0)
    0.01
    """
    km = distance_km if route_km else distance_km * ROUTE_FACTOR
    return max(MIN_LATENCY_MS, round(km * MS_PER_KM, 6))


def _node_attrs(n: NodeModel, metros) -> dict[str, Any]:
    m = metros.get(n.metro)
    lat = n.lat if n.lat is not None else (m.lat if m else None)
    lon = n.lon if n.lon is not None else (m.lon if m else None)
    region = n.region or (m.region if m and m.region else None) or n.metro
    attrs: dict[str, Any] = {"kind": n.kind, "asn": n.asn, "metro": n.metro, "region": region}
    if lat is not None and lon is not None:
        attrs["lat"], attrs["lon"] = float(lat), float(lon)
    if n.name:
        attrs["name"] = n.name
    if n.kind == "pop":
        attrs["subscribers"] = n.subscribers
        if n.access_gbps is not None:
            attrs["access_gbps"] = n.access_gbps
        if n.access is not None:
            attrs["access"] = n.access.model_dump(exclude_none=True)
    if n.kind == "cache":
        attrs["capacity_bytes"] = n.capacity_bytes
        attrs["policy"] = n.policy or "lru"
        attrs["serves"] = tuple(sorted(set(n.serves if n.serves is not None else [n.asn])))
        attrs["providers"] = None if n.providers is None else tuple(sorted(set(n.providers)))
        attrs["parent"] = n.parent
    if n.kind == "origin":
        attrs["provider"] = n.provider or f"AS{n.asn}"
    if n.cost is not None:
        attrs["cost"] = n.cost
    return attrs


def _check_node_fields(i: int, n: NodeModel) -> None:
    where = f"nodes[{i}]"
    if n.kind == "cache" and n.capacity_bytes is None:
        raise InputError(f"cache node {n.id!r} has no capacity_bytes; expected an integer > 0", where=f"{where}.capacity_bytes")
    cache_only = ("capacity_bytes", "policy", "serves", "providers", "parent")
    if n.kind != "cache":
        for f in cache_only:
            if getattr(n, f) is not None:
                raise InputError(f"{f} is only valid on cache nodes, found on a {n.kind} node", where=f"{where}.{f}")
    if n.kind != "origin" and n.provider is not None:
        raise InputError(f"provider is only valid on origin nodes, found on a {n.kind} node", where=f"{where}.provider")
    if n.kind != "pop" and n.access is not None:
        raise InputError(f"access is only valid on pop nodes, found on a {n.kind} node", where=f"{where}.access")
    if n.kind != "pop" and n.subscribers:
        raise InputError(f"subscribers is only valid on pop nodes, found on a {n.kind} node", where=f"{where}.subscribers")


def model_to_graph(model: TopologyModel) -> nx.DiGraph:
    """Build the DiGraph of a validated model. Raises InputError (with the place, no file) on a cross-field error."""
    g = nx.DiGraph()
    g.graph["name"] = model.name
    if model.description:
        g.graph["description"] = model.description
    g.graph["metros"] = {k: v.model_dump(exclude_none=True) for k, v in sorted(model.metros.items())}
    g.graph["as_names"] = {asn: a.name for asn, a in sorted(model.ases.items()) if a.name}
    g.graph["as_types"] = {asn: a.type for asn, a in sorted(model.ases.items()) if a.type}
    g.graph["as_access"] = {asn: a.access.model_dump(exclude_none=True) for asn, a in sorted(model.ases.items())
                            if a.access is not None}
    first: dict[str, int] = {}
    for i, n in enumerate(model.nodes):
        if n.id in first:
            raise InputError(f"duplicate node id {n.id!r} (first defined at nodes[{first[n.id]}])", where=f"nodes[{i}].id")
        first[n.id] = i
        _check_node_fields(i, n)
        g.add_node(n.id, **_node_attrs(n, model.metros))
    for i, n in enumerate(model.nodes):
        if n.kind == "cache" and n.parent is not None:
            if n.parent not in g:
                raise InputError(f"parent {n.parent!r} is not a node", where=f"nodes[{i}].parent")
            if g.nodes[n.parent]["kind"] not in ("cache", "origin"):
                raise InputError(f"parent {n.parent!r} is a {g.nodes[n.parent]['kind']}; expected a cache or origin", where=f"nodes[{i}].parent")
    defined: dict[tuple[str, str], int] = {}
    km = _link_km(model.links, g)
    for i, link in enumerate(model.links):
        for (u, v), explicit in _link_edges(i, link, g, node_at=first, km=km.get(i)):
            if (u, v) in defined:
                raise InputError(f"link {u}->{v} defined twice (also links[{defined[(u, v)]}])", where=f"links[{i}]")
            defined[(u, v)] = i
            g.add_edge(u, v, **explicit)
    for (u, v), i in defined.items():
        rel = g.edges[u, v]["rel"]
        if rel in ("c2p", "p2c") and g.has_edge(v, u) and g.edges[v, u]["rel"] != REVERSE_REL[rel]:
            raise InputError(
                f"{rel} link {u}->{v} has reverse {v}->{u} with rel {g.edges[v, u]['rel']!r}; expected {REVERSE_REL[rel]!r}",
                where=f"links[{i}].rel")
        if rel == "p2p" and g.has_edge(v, u) and g.edges[v, u]["rel"] != "p2p":
            raise InputError(f"p2p link {u}->{v} has reverse with rel {g.edges[v, u]['rel']!r}; expected 'p2p'", where=f"links[{i}].rel")
    return g


def _link_km(links: list[LinkModel], g: nx.DiGraph) -> dict[int, float]:
    """Great-circle km of every link whose latency comes from its ends' coordinates, in one kernel call (NOTE: a call
    per link cost 3 s of a 1e5-node topology's check; the kernel gives the same bits either way)."""
    idx, coords = [], []
    nodes = g.nodes
    for i, link in enumerate(links):
        if link.latency_ms is None and link.distance_km is None and link.src in nodes and link.dst in nodes:
            a, b = nodes[link.src], nodes[link.dst]
            if "lat" in a and "lat" in b:
                idx.append(i)
                coords.append((a["lat"], a["lon"], b["lat"], b["lon"]))
    if not idx:
        return {}
    c = np.asarray(coords, dtype=np.float64)
    return dict(zip(idx, great_circle_km(c[:, 0], c[:, 1], c[:, 2], c[:, 3]).tolist()))


def _link_edges(i: int, link: LinkModel, g: nx.DiGraph, *, node_at: dict | None = None, km: float | None = None):
    where = f"links[{i}]"
    for end in ("src", "dst"):
        node = getattr(link, end)
        if node not in g:
            raise InputError(f"link endpoint {node!r} is not a node", where=f"{where}.{end}")
    u, v = link.src, link.dst
    if u == v:
        raise InputError(f"self-loop on {u!r}; a link joins two different nodes", where=where)
    a, b = g.nodes[u], g.nodes[v]
    rel = link.rel
    if rel is None:
        if a["asn"] == b["asn"]:
            rel = "internal"
        elif "ix" in (a["kind"], b["kind"]):
            rel = "p2p"
        else:
            raise InputError(f"link {u}->{v} joins AS{a['asn']} and AS{b['asn']}; rel is required (c2p, p2c or p2p)", where=f"{where}.rel")
    if rel == "internal" and a["asn"] != b["asn"]:
        raise InputError(f"internal link {u}->{v} joins different ASes (AS{a['asn']}, AS{b['asn']}); expected c2p, p2c or p2p", where=f"{where}.rel")
    if link.latency_ms is not None:
        lat_ms = link.latency_ms
    elif link.distance_km is not None:
        lat_ms = default_latency_ms(link.distance_km, route_km=True)
    elif "lat" in a and "lat" in b:
        lat_ms = default_latency_ms(km if km is not None else float(great_circle_km(a["lat"], a["lon"], b["lat"], b["lon"])))
    else:
        missing = u if "lat" not in a else v
        metro = g.nodes[missing].get("metro")
        metros = g.graph.get("metros") or {}
        if metros and metro not in metros and node_at and missing in node_at:
            # the culprit is the node's metro (a misspelling, most likely), not the link
            import difflib

            close = difflib.get_close_matches(str(metro), sorted(metros), n=1)
            raise InputError(f"metro {metro!r} is not in metros" + (f" (did you mean {close[0]}?)" if close else "")
                             + f", so node {missing!r} has no coordinates for the latency of link {u}->{v}",
                             where=f"nodes[{node_at[missing]}].metro")
        raise InputError(f"latency_ms is not given and node {missing!r} has no coordinates (lat/lon or a metro with them)",
                         where=f"{where}.latency_ms")
    attrs: dict[str, Any] = {"capacity_gbps": float(link.capacity_gbps), "latency_ms": float(lat_ms), "rel": rel,
                             "tags": tuple(link.tags)}
    if link.cost is not None:
        attrs["cost"] = float(link.cost)
    if link.igp_metric is not None:
        attrs["igp_metric"] = float(link.igp_metric)
    yield (u, v), attrs
    if link.duplex:
        back = dict(attrs, rel=REVERSE_REL[rel])
        yield (v, u), back


def check_reachability(g: nx.DiGraph) -> list[str]:
    """Warnings for access PoPs (pop with subscribers) that cannot reach any node of another AS
    (none for a single-AS network)."""
    out = []
    by_asn: dict[int, list[str]] = {}
    for n, d in g.nodes(data=True):
        by_asn.setdefault(d["asn"], []).append(n)
    if len(by_asn) < 2:  # a single-AS network: there is no other AS to reach
        return out
    asn_of = {n: d["asn"] for n, d in g.nodes(data=True)}
    for asn, members in sorted(by_asn.items()):
        egress = [n for n in members if any(asn_of[v] != asn for v in g.successors(n))]
        # NOTE: the nodes that reach an egress inside their AS, in one walk back from all of them (an ancestors()
        # call per egress on a subgraph view cost O(AS size) each: 1e5 nodes took 7 s)
        can_exit, stack = set(egress), list(egress)
        while stack:
            for u in g.predecessors(stack.pop()):
                if u not in can_exit and asn_of[u] == asn:
                    can_exit.add(u)
                    stack.append(u)
        for n in sorted(members):
            d = g.nodes[n]
            if d["kind"] == "pop" and d.get("subscribers", 0) > 0 and n not in can_exit:
                out.append(f"access PoP {n!r} (AS{asn}) cannot reach any other AS")
    return out


def _clean(d: dict[str, Any]) -> dict[str, Any]:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in d.items() if v is not None}


def graph_to_dict(g: nx.DiGraph) -> dict[str, Any]:
    """The YAML document of a topology graph: symmetric edge pairs are written once as duplex links."""
    doc: dict[str, Any] = {"name": g.graph.get("name", "topology")}
    if g.graph.get("description"):
        doc["description"] = g.graph["description"]
    if g.graph.get("metros"):
        doc["metros"] = {k: dict(v) for k, v in g.graph["metros"].items()}
    names, types, access = g.graph.get("as_names", {}), g.graph.get("as_types", {}), g.graph.get("as_access", {})
    if names or types or access:
        doc["ases"] = {int(a): _clean({"name": names.get(a), "type": types.get(a), "access": access.get(a)})
                       for a in sorted(set(names) | set(types) | set(access))}
    nodes = []
    for n, d in g.nodes(data=True):
        entry = {"id": n, **_clean(d)}
        if entry.get("kind") == "pop" and not entry.get("subscribers"):
            entry.pop("subscribers", None)
        nodes.append(entry)
    doc["nodes"] = nodes
    links, done = [], set()
    for u, v, d in g.edges(data=True):
        if (u, v) in done:
            continue
        entry = {"src": u, "dst": v, **_clean(d)}
        if not entry.get("tags"):
            entry.pop("tags", None)
        back = g.edges[v, u] if g.has_edge(v, u) else None
        if back is not None and dict(back, rel=REVERSE_REL.get(back.get("rel"), back.get("rel"))) == dict(d):
            done.add((v, u))
        else:
            entry["duplex"] = False
        done.add((u, v))
        links.append(entry)
    doc["links"] = links
    return doc


def warn_all(messages: Iterable[str], *, source: str | None = None) -> None:
    for m in messages:
        warnings.warn(f"{source}: {m}" if source else m, TopologyWarning, stacklevel=3)
