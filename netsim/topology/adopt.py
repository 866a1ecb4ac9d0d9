"""Adopt any networkx graph as a netsim topology, filling what it lacks."""

from __future__ import annotations

import math
from typing import Any

import networkx as nx

from netsim.errors import InputError
from netsim.topology.build import model_to_graph
from netsim.topology.schema import LinkModel, NodeModel, TopologyModel

__all__ = ["from_networkx", "make_runnable", "SUBSCRIPTIONS_PER_PERSON", "DEFAULT_SUBSCRIBERS", "DEFAULT_CAPACITY_GBPS"]

#: The capacity the readers give a link whose file says none (an assumption a run must not rest on)
DEFAULT_CAPACITY_GBPS = 10.0
_LAT_KEYS = ("lat", "latitude", "Latitude", "y")
_LON_KEYS = ("lon", "longitude", "Longitude", "x")
_NODE_FIELDS = set(NodeModel.model_fields) - {"id"}
_LINK_FIELDS = set(LinkModel.model_fields) - {"src", "dst", "duplex"}


def _first(d: dict, keys, *, node: str, source: str | None) -> Any:
    """The first of ``keys`` the node has, as a float; None if absent or not a number. A number that is not
    finite is an InputError (an infinite latitude was dropped in silence)."""
    for k in keys:
        v = d.get(k)
        if v is not None and v != "":
            try:
                x = float(v)
            except (TypeError, ValueError):
                return None
            except OverflowError:   # an integer of 400 digits
                x = math.inf
            if not math.isfinite(x):
                raise InputError(f"{k} is {v!r:.40}; expected a finite coordinate in degrees", source=source,
                                 where=f"node {node!r}")
            return x
    return None


def from_networkx(
    g: nx.Graph,
    *,
    asn: int = 64512,
    name: str | None = None,
    capacity_gbps: float = DEFAULT_CAPACITY_GBPS,
    capacity_attr: str | None = None,
    capacity_scale: float = 1.0,
    dist_attr: str = "dist",
    default_latency_ms: float | None = 1.0,
    subscribers: int = 0,
    source: str | None = None,
) -> nx.DiGraph:
    """Adopt a networkx graph (directed or not) as a topology DiGraph.

    Node attributes that netsim knows (``kind``, ``asn``, ``metro``, ``lat``...) are kept; missing
    ones are filled: ``kind='pop'``, ``asn`` (one AS for the whole graph), ``metro`` = a slug of the
    node's ``label`` (as the file readers make it) or its id, coordinates from ``lat/lon``, ``Latitude/Longitude`` or ``y/x``. An undirected
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
    from netsim.topology.formats._common import slug  # (the formats package imports this module)

    ids = {n: str(n) for n in g.nodes}
    if len(set(ids.values())) != len(ids):
        raise InputError("node ids collide when turned into strings", source=source)
    nodes = []
    for n, d in g.nodes(data=True):
        entry = {k: v for k, v in d.items() if k in _NODE_FIELDS and v is not None}
        entry.setdefault("kind", "pop")
        entry.setdefault("asn", asn)
        label = d.get("label") or d.get("name")
        # metro ids as every reader makes them (a slug of the label: "New York" -> new-york), so a scenario's
        # `metro:` means the same whichever way the topology came in
        entry.setdefault("metro", (slug(str(label)) or str(label)) if label else ids[n])
        if "name" not in entry and label:
            entry["name"] = str(label)
        lat, lon = _first(d, _LAT_KEYS, node=ids[n], source=source), _first(d, _LON_KEYS, node=ids[n], source=source)
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
        except OverflowError:   # an integer of 400 digits: the schema says it is not finite
            entry["capacity_gbps"] = math.inf
        if "latency_ms" not in entry:
            dist = d.get(dist_attr)
            if dist not in (None, ""):
                try:
                    entry["distance_km"] = float(dist)
                except (TypeError, ValueError):
                    raise InputError(f"{dist_attr} is {dist!r:.40}; expected a length in km", source=source,
                                     where=f"link {ids[u]}-{ids[v]}") from None
                except OverflowError:   # the schema says it is not finite
                    entry["distance_km"] = math.inf
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


#: Subscriptions per person when subscribers come from a population attribute: Japan's 43.8M fixed
#: broadband subscriptions (APNIC blog, 2023-09-04) over its 126.1M people (2020 census), docs/sources.md.
SUBSCRIPTIONS_PER_PERSON = 43.8e6 / 126.1e6
#: Subscribers per access PoP when a file gives none and no option says: an assumption (a mid-size
#: metro PoP of a regional ISP).
DEFAULT_SUBSCRIBERS = 10_000


def make_runnable(g: nx.DiGraph, *, capacity_gbps: float | None = None, capacity_per_degree: float | None = None,
                  regions_by_node: dict | None = None, subscribers_per_node: int | None = None,
                  subscribers_by_node: dict | None = None, subscribers_attr: str | None = None,
                  per_person: float = SUBSCRIPTIONS_PER_PERSON, origins: int = 2, origin_nodes: list | None = None,
                  providers: tuple = ("video", "web"), origin_gbps: float = 100.0, core: list | None = None,
                  source: str | None = None) -> tuple[nx.DiGraph, list[str]]:
    """Fill what an imported topology lacks for a run, and say what was assumed (one line each).

    * **capacity**: every link set to ``capacity_gbps`` when given, or by role: ``capacity_per_degree`` ×
      the smaller degree of its two ends (links between hubs carry more than a spur); the file's otherwise;
    * **regions** of the nodes named in ``regions_by_node`` (node -> region; default: each metro its own);
    * **subscribers** on ``pop`` nodes: from ``subscribers_by_node`` (node -> count), a node attribute
      (``subscribers_attr`` × ``per_person``, e.g. a population column), ``subscribers_per_node``,
      else, when no node has any, :data:`DEFAULT_SUBSCRIBERS` each;
    * **origins** of the content providers (``providers``), when the topology has none: one origin
      node per provider at each of ``origin_nodes``, else at the ``origins`` (two: no single point of
      failure) best-connected PoPs (most
      link capacity, then degree, then id), in an AS of their own, as a customer of the host
      (``c2p``: every AS learns the route) on an ``origin_gbps`` link;
    * **core metros** (``core``, else the metro of the first origin host when no metro is core): the
      inter-metro links reaching them are the backbone when no link is tagged ``backbone`` (a metro
      is only known with coordinates: a graph without them gets no core).

    Examples
    --------
    >>> p = nx.path_graph(4)
    >>> nx.set_node_attributes(p, {i: {"lat": 35.0 + i, "lon": 139.0} for i in p})
    >>> t, said = make_runnable(from_networkx(p, asn=65000), capacity_gbps=40, providers=("video",), origins=1)
    >>> sorted(n for n, d in t.nodes(data=True) if d["kind"] == "origin"), t.nodes["0"]["subscribers"]
    (['origin-video-1'], 10000)
    >>> for line in said: print(line)
    every link set to 40 Gbps
    no subscribers in the file: 10,000 per PoP (4 PoPs)
    origins of video at 1 (the best-connected PoP), AS64700+, 100 Gbps c2p links
    core metro: 1 (the first origin's), so links reaching it are the backbone
    """
    said: list[str] = []
    g = g.copy()
    if capacity_gbps is not None:
        if not capacity_gbps > 0:
            raise InputError(f"expected a capacity > 0, found {capacity_gbps}", where="--capacity-gbps")
        for _, _, d in g.edges(data=True):
            d["capacity_gbps"] = float(capacity_gbps)
        said.append(f"every link set to {capacity_gbps:g} Gbps")
    elif capacity_per_degree is not None:
        if not capacity_per_degree > 0:
            raise InputError(f"expected a capacity > 0, found {capacity_per_degree}", where="--capacity-per-degree")
        und = g.to_undirected(as_view=True)
        for u, v, d in g.edges(data=True):
            d["capacity_gbps"] = float(capacity_per_degree) * min(und.degree(u), und.degree(v))
        said.append(f"link capacity = {capacity_per_degree:g} Gbps x the smaller degree of its ends")
    if regions_by_node is not None:
        for n, r in regions_by_node.items():
            if n not in g:
                raise InputError(f"node {n!r} is not in the topology", source=source, where="regions")
            g.nodes[n]["region"] = str(r)
        said.append(f"regions of {len(regions_by_node)} nodes from the file given")
    pops = sorted((n for n, d in g.nodes(data=True) if d.get("kind") == "pop"), key=str)
    if subscribers_by_node is not None:
        for n, c in subscribers_by_node.items():
            if n not in g or g.nodes[n].get("kind") != "pop":
                raise InputError(f"node {n!r} is not a pop node of the topology", source=source, where="subscribers")
            g.nodes[n]["subscribers"] = int(c)
        said.append(f"subscribers of {len(subscribers_by_node)} PoPs from the file given")
    elif subscribers_attr is not None:
        missing = [n for n in pops if g.nodes[n].get(subscribers_attr) in (None, "")]
        for n in pops:
            try:
                g.nodes[n]["subscribers"] = int(round(float(g.nodes[n].get(subscribers_attr) or 0) * per_person))
            except (TypeError, ValueError):
                raise InputError(f"node {n!r}: {subscribers_attr} is {g.nodes[n][subscribers_attr]!r}, not a number",
                                 where="--subscribers-attr") from None
        said.append(f"subscribers = {subscribers_attr} x {per_person:.3f} per unit"
                    + (f" ({len(missing)} PoPs without it: 0)" if missing else ""))
    elif subscribers_per_node is not None:
        for n in pops:
            g.nodes[n]["subscribers"] = int(subscribers_per_node)
        said.append(f"{subscribers_per_node:,} subscribers per PoP ({len(pops)} PoPs)")
    elif not any(g.nodes[n].get("subscribers", 0) > 0 for n in pops):
        for n in pops:
            g.nodes[n]["subscribers"] = DEFAULT_SUBSCRIBERS
        said.append(f"no subscribers in the file: {DEFAULT_SUBSCRIBERS:,} per PoP ({len(pops)} PoPs)")
    hosts: list = []
    if not any(d.get("kind") == "origin" for _, d in g.nodes(data=True)):
        if origin_nodes:
            for n in origin_nodes:
                if n not in g:
                    raise InputError(f"node {n!r} is not in the topology", where="--origin-node")
            hosts = list(origin_nodes)
            how = "the nodes given"
        else:
            def rank(n):
                cap = sum(d.get("capacity_gbps", 0.0) for _, _, d in g.out_edges(n, data=True))
                return (-cap, -g.degree(n), str(n))

            hosts = sorted(pops, key=rank)[:max(0, int(origins))]
            how = "the best-connected PoP" if len(hosts) == 1 else f"the {len(hosts)} best-connected PoPs"
        for k, p in enumerate(providers):
            for h in hosts:
                oid = f"origin-{p}-{h}"
                hd = g.nodes[h]
                g.add_node(oid, **{key: hd[key] for key in ("metro", "region", "lat", "lon") if key in hd},
                           kind="origin", asn=64700 + k, provider=p)
                g.add_edge(oid, h, capacity_gbps=float(origin_gbps), latency_ms=0.01, rel="c2p", tags=("origin",))
                g.add_edge(h, oid, capacity_gbps=float(origin_gbps), latency_ms=0.01, rel="p2c", tags=("origin",))
        if hosts and providers:
            said.append(f"origins of {', '.join(providers)} at {', '.join(map(str, hosts))} ({how}), AS64700+, "
                        f"{origin_gbps:g} Gbps c2p links")
    metros = {m: dict(d) for m, d in (g.graph.get("metros") or {}).items()}
    for n, d in g.nodes(data=True):
        m = d.get("metro")
        if m is not None and m not in metros and "lat" in d and "lon" in d:
            metros[m] = {"lat": d["lat"], "lon": d["lon"], "region": d.get("region", m)}
    if core:
        for m in core:
            if m not in metros:
                raise InputError(f"metro {m!r} is not in the topology (metros: {', '.join(sorted(metros)[:10])}...)",
                                 where="--core")
            metros[m]["core"] = True
        said.append(f"core metro(s): {', '.join(core)}")
    elif not any(d.get("core") for d in metros.values()) and hosts:
        m = g.nodes[hosts[0]].get("metro")
        if m in metros:
            metros[m]["core"] = True
            said.append(f"core metro: {m} (the first origin's), so links reaching it are the backbone")
    g.graph["metros"] = metros
    return g, said
