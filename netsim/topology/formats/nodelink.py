"""networkx node-link JSON: topohub's files in (https://github.com/piotrjurkiewicz/topohub), netsim's own out and back.

Reading a **foreign** node-link file (``{"directed", "multigraph", "graph", "nodes", "links"}``;
the edge list may also be called ``edges``, as networkx ≥ 3.4 writes it):

- the graph goes through :func:`netsim.topology.from_networkx`: one AS (``asn``, default
  64512), every node a ``pop``, ``metro`` = its ``metro``, else its ``label``/``name``/id lower-cased
  with non-alphanumerics as ``-``; undirected edges are duplex links;
- coordinates from ``lat``/``lon`` (or ``latitude``/``longitude``, ``y``/``x``), or topohub's
  ``pos`` = ``[longitude, latitude]``;
- link latency: ``latency_ms`` if given, else topohub's ``dist`` (km). topohub's ``dist`` is
  the straight-line (great-circle) length of the link, so it is multiplied by ``dist_factor``
  (default 1.5, the route factor netsim applies to coordinates) to give the fibre route, at
  0.005 ms/km; pass ``dist_factor=1.0`` when ``dist`` is already a route length. Without either,
  latency follows the coordinates, else ``default_latency_ms`` (1.0 ms);
- capacity: ``capacity_gbps`` if an edge has it, else the ``capacity_gbps`` keyword (10);
- of parallel edges in a multigraph, the first is kept (as :func:`from_networkx` does);
- topohub's demand matrix ``graph.demands`` (``{src: {dst: value}}``) is kept as
  ``g.graph["demands"]``, a sorted list of ``(src, dst, value)`` tuples.

A file written by :func:`write_nodelink` (``graph.netsim_format`` set) is read back exactly:
every directed edge is one link with its ``capacity_gbps``, ``latency_ms``, ``rel``, ``tags``...;
the graph's ``metros`` and ``ases`` tables are kept in ``graph``. Only the schema's attributes
travel: extras such as ``g.graph["demands"]`` are not written.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import networkx as nx

from netsim.errors import InputError
from netsim.topology.adopt import from_networkx
from netsim.topology.build import ROUTE_FACTOR
from netsim.topology.formats._common import (
    NETSIM_FORMAT, build_graph, check_keywords, graph_meta, netsim_doc, read_json, slug, sniff_json,
)
from netsim.topology.io import READERS, WRITERS, Reader

__all__ = ["read_nodelink", "write_nodelink"]

_EXPECTED = "a node-link JSON object with 'nodes' and 'links' (or 'edges') lists"


def read_nodelink(path: str | Path, *, asn: int = 64512, capacity_gbps: float = 10.0, dist_factor: float = ROUTE_FACTOR,
                  default_latency_ms: float = 1.0) -> nx.DiGraph:
    """Read networkx node-link JSON (topohub's files, or netsim's own exactly).

    Parameters
    ----------
    path : the ``.json`` file.
    asn : the one AS a foreign network is given.
    capacity_gbps : capacity of a link that does not say.
    dist_factor : fibre route km per km of ``dist`` (topohub's ``dist`` is the straight line).
    default_latency_ms : latency of a link with neither ``dist`` nor endpoint coordinates.

    Examples
    --------
    >>> import tempfile, os, json
    >>> p = os.path.join(tempfile.mkdtemp(), "t.json")
    >>> doc = {"directed": False, "multigraph": False, "graph": {"name": "x"},
    ...        "nodes": [{"id": "A", "pos": [13.4, 52.5]}, {"id": "B", "pos": [11.6, 48.1]}],
    ...        "links": [{"source": "A", "target": "B", "dist": 500.0}]}
    >>> _ = open(p, "w").write(json.dumps(doc))
    >>> g = read_nodelink(p)
    >>> g.edges["A", "B"]["latency_ms"], g.nodes["A"]["lat"]
    (3.75, 52.5)
    """
    check_keywords(asn=(0 <= asn <= 4294967295, "an AS number 0..4294967295"),
                   capacity_gbps=(capacity_gbps > 0, "a capacity > 0"),
                   dist_factor=(dist_factor > 0, "a factor > 0"),
                   default_latency_ms=(default_latency_ms > 0, "a latency > 0"))
    path = Path(path)
    source = str(path)
    data = read_json(path)
    if not isinstance(data, dict) or "nodes" not in data or not ("links" in data or "edges" in data):
        raise InputError(f"expected {_EXPECTED}", source=source)
    edges_key = "links" if "links" in data else "edges"
    for key in ("nodes", edges_key):
        if not isinstance(data[key], list):
            raise InputError(f"expected a list, found {type(data[key]).__name__}", source=source, where=key)
        for i, item in enumerate(data[key]):
            if not isinstance(item, dict):
                raise InputError(f"expected an object, found {type(item).__name__}", source=source, where=f"{key}[{i}]")
            for field in (("id",) if key == "nodes" else ("source", "target")):
                if field not in item:
                    raise InputError(f"required field {field!r} is missing", source=source, where=f"{key}[{i}]")
    graph = data.get("graph") if isinstance(data.get("graph"), dict) else {}
    if graph.get("netsim_format") == NETSIM_FORMAT:
        return _read_netsim(data, edges_key, graph, source)
    return _read_foreign(data, edges_key, graph, source, asn=asn, capacity_gbps=capacity_gbps, dist_factor=dist_factor,
                         default_latency_ms=default_latency_ms)


def _read_netsim(data: dict, edges_key: str, graph: dict, source: str) -> nx.DiGraph:
    nodes = [(str(n["id"]), n) for n in data["nodes"]]
    edges = [(str(e["source"]), str(e["target"]), e) for e in data[edges_key]]
    doc = netsim_doc(graph, nodes, edges)
    return build_graph(doc, source=source, nodes_at=[f"nodes[{i}]" for i in range(len(nodes))],
                       links_at=[f"{edges_key}[{i}]" for i in range(len(edges))])


def _read_foreign(data: dict, edges_key: str, graph: dict, source: str, *, asn: int, capacity_gbps: float,
                  dist_factor: float, default_latency_ms: float) -> nx.DiGraph:
    try:
        ids = {_hashable(n["id"]) for n in data["nodes"]}
    except TypeError:   # an id networkx cannot take either: it says so below
        ids = None
    for i, e in enumerate(data[edges_key] if ids is not None else ()):
        for end in ("source", "target"):
            if not _in(e[end], ids):
                # networkx would add the node in silence, with no coordinates and none of its attributes
                raise InputError(f"{end} {e[end]!r:.60} is not the id of a node in 'nodes'", source=source,
                                 where=f"{edges_key}[{i}].{end}")
    try:
        g = nx.node_link_graph(data, directed=bool(data.get("directed", False)), multigraph=bool(data.get("multigraph", False)),
                               edges=edges_key)
    except (nx.NetworkXError, KeyError, TypeError, ValueError) as e:
        raise InputError(f"not a node-link graph ({e}); expected {_EXPECTED}", source=source) from None
    for i, (n, d) in enumerate(g.nodes(data=True)):
        d.setdefault("metro", slug(str(d.get("label") or d.get("name") or n)) or str(n))
        pos = d.get("pos")
        if pos is None or ("lat" in d and "lon" in d):
            continue
        xy = [_finite(x) for x in pos] if isinstance(pos, (list, tuple)) and len(pos) == 2 else [None]
        if None in xy:
            raise InputError(f"pos is {pos!r:.60}; expected [longitude, latitude], finite numbers", source=source,
                             where=f"nodes[{i}].pos")
        d["lon"], d["lat"] = xy
    for i, (u, v, d) in enumerate(g.edges(data=True)):
        dist = d.get("dist")
        if dist is None:
            continue
        km = _finite(dist)
        if km is None or km < 0:
            raise InputError(f"dist is {dist!r:.60}; expected a finite length in km >= 0", source=source,
                             where=f"{edges_key}[{i}].dist")
        d["_route_km"] = km * dist_factor
    name = graph.get("name")
    out = from_networkx(g, asn=asn, name=str(name) if name else Path(source).stem, capacity_gbps=capacity_gbps,
                        dist_attr="_route_km", default_latency_ms=default_latency_ms, source=source)
    demands = graph.get("demands")
    if demands:
        out.graph["demands"] = _demands(demands, out, source)
    return out


def _demands(demands: Any, g: nx.DiGraph, source: str) -> list[tuple[str, str, float]]:
    if not isinstance(demands, dict):
        raise InputError("expected {source: {target: value}}", source=source, where="graph.demands")
    out = []
    for s, row in demands.items():
        if not isinstance(row, dict):
            raise InputError("expected {target: value}", source=source, where=f"graph.demands.{s}")
        for t, value in row.items():
            where = f"graph.demands.{s}.{t}"
            for node in (s, t):
                if str(node) not in g:
                    raise InputError(f"{node!r} is not a node; expected a node id", source=source, where=where)
            x = _finite(value)
            if x is None or x < 0:
                raise InputError(f"demand {value!r:.60} is not a finite number >= 0", source=source, where=where)
            out.append((str(s), str(t), x))
    return sorted(out)


def _finite(x) -> float | None:
    """A JSON number as a finite float; None for anything else (a string, a boolean, inf, NaN, 10**400).

    Examples
    --------
    >>> _finite(2), _finite(float("nan")), _finite(10**400), _finite(True)
    (2.0, None, None, None)
    """
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return None
    try:
        x = float(x)
    except OverflowError:
        return None
    return x if math.isfinite(x) else None


def _in(x, ids: set) -> bool:
    try:
        return _hashable(x) in ids
    except TypeError:
        return False


def _hashable(x):
    """A node id as networkx keys it (node-link ids may be lists: networkx makes them tuples)."""
    return tuple(_hashable(y) for y in x) if isinstance(x, list) else x


def write_nodelink(g: nx.DiGraph, path: str | Path) -> None:
    """Write a topology as networkx node-link JSON (``links`` key) that :func:`read_nodelink` reads back exactly.

    Examples
    --------
    >>> import tempfile, os
    >>> from netsim.topology import load_topology
    >>> g = load_topology("examples/two_as")
    >>> p = os.path.join(tempfile.mkdtemp(), "t.json")
    >>> write_nodelink(g, p)
    >>> h = read_nodelink(p)
    >>> sorted(h.edges(data=True)) == sorted(g.edges(data=True))
    True
    """
    h = nx.DiGraph()
    h.graph.update(netsim_format=NETSIM_FORMAT, **graph_meta(g))
    for n, d in g.nodes(data=True):
        h.add_node(str(n), **_plain(d))
    for u, v, d in g.edges(data=True):
        h.add_edge(str(u), str(v), **_plain(d))
    data = nx.node_link_data(h, edges="links")
    Path(path).write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _plain(d: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in d.items():
        if isinstance(v, tuple):
            v = list(v)
        if v is None or isinstance(v, (str, int, float, bool, list, dict)):
            out[k] = v
    return out


def _sniff(path: Path) -> bool:
    data = sniff_json(path)
    return isinstance(data, dict) and "nodes" in data and ("links" in data or "edges" in data)


READERS.register("nodelink")(Reader(read=read_nodelink, extensions=(".json",), sniff=_sniff))
WRITERS.register("nodelink")(write_nodelink)
