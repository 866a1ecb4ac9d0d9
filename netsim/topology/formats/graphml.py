"""GraphML: Topology Zoo files in, netsim's own GraphML out (and back in, exactly).

Reading a **Topology Zoo** file (http://www.topology-zoo.org/, GraphML as the Zoo ships it):

- every node is a ``pop`` of one AS (``asn``, default 64512) — the Zoo's ``Internal`` flag is not
  used: external nodes join the same AS; node ids are the Zoo ``label`` when
  every node has a distinct one (else the GraphML id); ``name`` = label, ``metro`` = the label
  lower-cased with non-alphanumerics as ``-`` (``"New York"`` -> ``new-york``);
  ``Latitude``/``Longitude`` become ``lat``/``lon`` where present (some Zoo nodes have none);
- link capacity from ``LinkSpeedRaw`` (bits/s), else ``LinkSpeed`` × ``LinkSpeedUnits``
  (K, M, G, T), else ``capacity_gbps`` (default 10); parallel Zoo edges between the same two
  nodes are one netsim link whose capacity is their sum;
- latency from the endpoints' coordinates (great circle × 1.5 × 0.005 ms/km); a link with an
  endpoint without coordinates gets ``default_latency_ms`` (default 1.0 ms);
- an undirected Zoo graph becomes duplex ``internal`` links.

**netsim's GraphML** (written by :func:`write_graphml`) carries the graph attribute
``netsim_format`` and is read back exactly: node attributes (``kind``, ``asn``, ``metro``,
``region``, ``lat``, ``lon``, ``subscribers``, cache and origin fields...) and link attributes
(``capacity_gbps``, ``latency_ms``, ``rel``, ``cost``, ``igp_metric``) are GraphML attributes
of their own; list values (``tags``, ``serves``, ``providers``) are joined with ``,``; the graph's
``metros`` and ``ases`` tables are JSON strings in the graph attributes ``metros_json`` and
``ases_json``. Every directed edge is written as one directed GraphML edge. Only the schema's
attributes travel: extras such as ``g.graph["demands"]`` are not written.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

import networkx as nx

from netsim.errors import InputError
from netsim.topology.adopt import from_networkx
from netsim.topology.formats._common import NETSIM_FORMAT, build_graph, check_keywords, graph_meta, netsim_doc, slug
from netsim.topology.io import READERS, WRITERS, Reader

__all__ = ["read_graphml", "write_graphml"]

# Divisors from a Zoo LinkSpeedUnits prefix to Gbps (division keeps 622 M -> 0.622 exact).
_PER_GBPS = {"": 1e9, "K": 1e6, "M": 1e3, "G": 1.0, "T": 1e-3}
_FLOAT = {"lat", "lon", "access_gbps", "cost", "capacity_gbps", "latency_ms", "igp_metric"}
_INT = {"asn", "subscribers", "capacity_bytes"}
_LIST = {"tags", "serves", "providers"}


def read_graphml(path: str | Path, *, asn: int = 64512, capacity_gbps: float = 10.0,
                 default_latency_ms: float = 1.0) -> nx.DiGraph:
    """Read a Topology Zoo GraphML file, or a GraphML file netsim wrote (then exactly).

    Parameters
    ----------
    path : the ``.graphml`` file.
    asn : the one AS a Zoo network is given.
    capacity_gbps : capacity of a Zoo link without ``LinkSpeedRaw`` / ``LinkSpeed``.
    default_latency_ms : latency of a Zoo link with an endpoint without coordinates.

    Raises
    ------
    InputError : broken XML (with line and column), a file that is not GraphML, a bad value.

    Examples
    --------
    >>> import tempfile, os
    >>> from netsim.topology import load_topology
    >>> p = os.path.join(tempfile.mkdtemp(), "two_as.graphml")
    >>> write_graphml(load_topology("examples/two_as"), p)
    >>> g = read_graphml(p)
    >>> g.edges["a1", "t1"]["rel"], g.nodes["a1"]["subscribers"]
    ('c2p', 20000)
    """
    check_keywords(asn=(0 <= asn <= 4294967295, "an AS number 0..4294967295"),
                   capacity_gbps=(capacity_gbps > 0, "a capacity > 0"),
                   default_latency_ms=(default_latency_ms > 0, "a latency > 0"))
    path = Path(path)
    g = _parse(path)
    if g.graph.get("netsim_format") == NETSIM_FORMAT:
        return _read_netsim(g, path)
    return _read_zoo(g, path, asn=asn, capacity_gbps=capacity_gbps, default_latency_ms=default_latency_ms)


def _parse(path: Path) -> nx.Graph:
    if not path.is_file():
        raise InputError("not a regular file; expected a topology file" if path.exists() else "no such file",
                         source=str(path))
    try:
        g = nx.read_graphml(path)
    except ParseError as e:
        line, col = e.position
        msg = str(e).split(":")[0]
        raise InputError(f"XML syntax error: {msg}; expected well-formed GraphML", source=str(path),
                         where=f"line {line}, column {col + 1}") from None
    except nx.NetworkXError as e:
        raise InputError(f"not readable as GraphML: {e}", source=str(path)) from None
    except (ValueError, KeyError, TypeError, IndexError) as e:
        # networkx converts <data> values by their <key attr.type>; a bad one lands here.
        raise InputError(f"bad GraphML data: {e}; expected values matching their <key attr.type>", source=str(path)) from None
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror or e}", source=str(path)) from None
    return g


def _zoo_number(value, field: str, where: str, source: str) -> float | None:
    """A Zoo speed as a float, None when absent or not a number (a label such as "OC-3"); a number that is not
    finite or not > 0 is an InputError (a negative LinkSpeedRaw became the 10 Gbps default)."""
    if value in (None, ""):
        return None
    try:
        x = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if not (math.isfinite(x) and x > 0):
        raise InputError(f"{field} is {value!r}; expected a speed > 0 (or no {field})", source=source, where=where)
    return x


def _zoo_capacity_gbps(d: dict[str, Any], default: float, *, where: str, source: str) -> float:
    raw = _zoo_number(d.get("LinkSpeedRaw"), "LinkSpeedRaw", where, source)
    if raw is not None:
        return raw / 1e9
    unit = str(d.get("LinkSpeedUnits") or "").strip().upper()[:1]
    speed = _zoo_number(d.get("LinkSpeed"), "LinkSpeed", where, source) if unit in _PER_GBPS else None
    if speed is not None:
        return speed / _PER_GBPS[unit]
    return default


def _read_zoo(g: nx.Graph, path: Path, *, asn: int, capacity_gbps: float, default_latency_ms: float) -> nx.DiGraph:
    labels = {n: str(d.get("label") or "").strip() for n, d in g.nodes(data=True)}
    use_labels = all(labels.values()) and len(set(labels.values())) == len(labels)
    ident = {n: (labels[n] if use_labels else str(n)) for n in g.nodes}
    h = nx.DiGraph() if g.is_directed() else nx.Graph()
    for n, d in g.nodes(data=True):
        attrs: dict[str, Any] = {"metro": slug(labels[n]) or slug(str(n)) or str(n)}
        if labels[n]:
            attrs["name"] = labels[n]
        if d.get("Latitude") is not None and d.get("Longitude") is not None:
            attrs["lat"], attrs["lon"] = d["Latitude"], d["Longitude"]
        h.add_node(ident[n], **attrs)
    for u, v, d in g.edges(data=True):
        a, b = ident[u], ident[v]
        if a == b:
            continue
        cap = _zoo_capacity_gbps(d, capacity_gbps, where=f"edge {a}->{b}", source=str(path))
        if h.has_edge(a, b):
            h.edges[a, b]["capacity_gbps"] += cap
        else:
            h.add_edge(a, b, capacity_gbps=cap)
    name = g.graph.get("Network") or g.graph.get("label") or path.stem
    return from_networkx(h, asn=asn, name=str(name), capacity_gbps=capacity_gbps,
                         default_latency_ms=default_latency_ms, source=str(path))


def _read_netsim(g: nx.Graph, path: Path) -> nx.DiGraph:
    meta: dict[str, Any] = {"name": g.graph.get("name"), "description": g.graph.get("description")}
    for key in ("metros", "ases"):
        text = g.graph.get(f"{key}_json") or "{}"
        try:
            meta[key] = json.loads(text)
        except json.JSONDecodeError as e:
            raise InputError(f"{key}_json is not valid JSON ({e.msg}); expected the JSON object netsim wrote",
                             source=str(path), where=f"graph.{key}_json") from None
    nodes = [(str(n), _decode(d)) for n, d in g.nodes(data=True)]
    edges = [(str(u), str(v), _decode(d)) for u, v, d in g.edges(data=True)]
    doc = netsim_doc(meta, nodes, edges)
    return build_graph(doc, source=str(path), nodes_at=[f"node {n!r}" for n, _ in nodes],
                       links_at=[f"edge {u}->{v}" for u, v, _ in edges])


def _decode(d: dict[str, Any]) -> dict[str, Any]:
    out = dict(d)
    for k in _LIST & set(out):
        out[k] = [x for x in str(out[k]).split(",") if x]
    return out


def _encode(d: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if v is None:
            continue
        if k in _LIST or isinstance(v, (list, tuple)):
            out[k] = ",".join(str(x) for x in v)
        elif k in _FLOAT:
            out[k] = float(v)
        elif k in _INT:
            out[k] = int(v)
        elif isinstance(v, (bool, int, float, str)):
            out[k] = v
        # NOTE: other values (dicts, objects) have no GraphML type; they are not part of the schema.
    return out


def write_graphml(g: nx.DiGraph, path: str | Path) -> None:
    """Write a topology as GraphML that :func:`read_graphml` reads back to the same graph.

    Examples
    --------
    >>> import tempfile, os
    >>> from netsim.topology import load_topology
    >>> g = load_topology("examples/two_as")
    >>> p = os.path.join(tempfile.mkdtemp(), "t.graphml")
    >>> write_graphml(g, p)
    >>> h = read_graphml(p)
    >>> dict(h.nodes(data=True)) == dict(g.nodes(data=True)) and h.graph["metros"] == g.graph["metros"]
    True
    """
    meta = graph_meta(g)
    h = nx.DiGraph()
    h.graph["netsim_format"] = NETSIM_FORMAT
    h.graph["name"] = meta["name"]
    if meta.get("description"):
        h.graph["description"] = meta["description"]
    h.graph["metros_json"] = json.dumps(meta["metros"], ensure_ascii=False)
    h.graph["ases_json"] = json.dumps(meta["ases"], ensure_ascii=False)
    for n, d in g.nodes(data=True):
        h.add_node(str(n), **_encode(d))
    for u, v, d in g.edges(data=True):
        h.add_edge(str(u), str(v), **_encode(d))
    nx.write_graphml(h, str(path))


READERS.register("graphml")(Reader(read=read_graphml, extensions=(".graphml",)))
WRITERS.register("graphml")(write_graphml)
