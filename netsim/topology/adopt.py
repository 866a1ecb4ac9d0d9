"""Adopt any networkx graph as a netsim topology, filling what it lacks."""

from __future__ import annotations

from typing import Any

import networkx as nx

from netsim.errors import InputError
from netsim.topology.build import model_to_graph
from netsim.topology.schema import LinkModel, NodeModel, TopologyModel

__all__ = ["from_networkx"]

_LAT_KEYS = ("lat", "latitude", "Latitude", "y")
_LON_KEYS = ("lon", "longitude", "Longitude", "x")
_NODE_FIELDS = set(NodeModel.model_fields) - {"id"}
_LINK_FIELDS = set(LinkModel.model_fields) - {"src", "dst", "duplex"}


def _first(d: dict, keys) -> Any:
    for k in keys:
        v = d.get(k)
        if v is not None and v != "":
            try:
                return float(v)
            except (TypeError, ValueError):
                return None
    return None


def from_networkx(
    g: nx.Graph,
    *,
    asn: int = 64512,
    name: str | None = None,
    capacity_gbps: float = 10.0,
    capacity_attr: str | None = None,
    capacity_scale: float = 1.0,
    dist_attr: str = "dist",
    default_latency_ms: float | None = 1.0,
    subscribers: int = 0,
    source: str | None = None,
) -> nx.DiGraph:
    """Adopt a networkx graph (directed or not) as a topology DiGraph.

    Node attributes that netsim knows (``kind``, ``asn``, ``metro``, ``lat``...) are kept; missing
    ones are filled: ``kind='pop'``, ``asn`` (one AS for the whole graph), ``metro`` = the node's
    ``label`` or id, coordinates from ``lat/lon``, ``Latitude/Longitude`` or ``y/x``. An undirected
    edge becomes two directed links. Link latency: ``latency_ms`` if present, else the route
    distance ``dist_attr`` in km × 0.005 ms/km, else great circle × 1.5 × 0.005 ms/km from the
    coordinates, else ``default_latency_ms`` (None: raise). Capacity: ``capacity_attr`` ×
    ``capacity_scale`` if given and present, else ``capacity_gbps``.

    Examples
    --------
    >>> t = from_networkx(nx.path_graph(3), asn=65000)
    >>> sorted(t.edges())
    [('0', '1'), ('1', '0'), ('1', '2'), ('2', '1')]
    >>> t.edges['0', '1']["rel"], t.edges['0', '1']["latency_ms"], t.nodes['0']["asn"]
    ('internal', 1.0, 65000)
    """
    ids = {n: str(n) for n in g.nodes}
    if len(set(ids.values())) != len(ids):
        raise InputError("node ids collide when turned into strings", source=source)
    nodes = []
    for n, d in g.nodes(data=True):
        entry = {k: v for k, v in d.items() if k in _NODE_FIELDS and v is not None}
        entry.setdefault("kind", "pop")
        entry.setdefault("asn", asn)
        label = d.get("label") or d.get("name")
        entry.setdefault("metro", str(label) if label else ids[n])
        if "name" not in entry and label:
            entry["name"] = str(label)
        lat, lon = _first(d, _LAT_KEYS), _first(d, _LON_KEYS)
        if lat is not None and lon is not None and -90 <= lat <= 90 and -180 <= lon <= 180:
            entry["lat"], entry["lon"] = lat, lon
        else:
            entry.pop("lat", None), entry.pop("lon", None)
        if entry["kind"] == "pop":
            entry.setdefault("subscribers", subscribers)
        nodes.append({"id": ids[n], **entry})
    coords = {e["id"]: (e.get("lat"), e.get("lon")) for e in nodes}
    links = []
    directed = g.is_directed()
    seen = set()
    for u, v, d in g.edges(data=True):
        if u == v:
            continue
        key = (u, v) if directed else tuple(sorted((ids[u], ids[v])))
        if key in seen:  # multigraph parallel edges: keep the first
            continue
        seen.add(key)
        entry = {k: val for k, val in d.items() if k in _LINK_FIELDS and val is not None}
        cap = d.get(capacity_attr) if capacity_attr else None
        try:
            entry["capacity_gbps"] = float(cap) * capacity_scale if cap not in (None, "") else entry.get("capacity_gbps", capacity_gbps)
        except (TypeError, ValueError):
            entry["capacity_gbps"] = capacity_gbps
        if "latency_ms" not in entry:
            dist = d.get(dist_attr)
            if dist not in (None, ""):
                entry["distance_km"] = float(dist)
            elif None in coords[ids[u]] or None in coords[ids[v]]:
                if default_latency_ms is None:
                    raise InputError(f"link {u}-{v} has no latency_ms, {dist_attr} or endpoint coordinates", source=source)
                entry["latency_ms"] = default_latency_ms
        if isinstance(entry.get("tags"), str):
            entry["tags"] = [t for t in entry["tags"].split(",") if t]
        entry["duplex"] = not directed
        links.append({"src": ids[u], "dst": ids[v], **entry})
    doc = {"name": name or str(g.graph.get("name") or g.graph.get("Network") or "topology"), "nodes": nodes, "links": links}
    from netsim.yamlio import validation_error
    from pydantic import ValidationError

    try:
        model = TopologyModel.model_validate(doc)
    except ValidationError as e:
        raise validation_error(e, source=source) from None
    try:
        return model_to_graph(model)
    except InputError as e:
        raise e.located(source=source) from None
