"""SNDlib native format (http://sndlib.zib.de/, "native" text format): network and demands.

The file has sections ``META ( ... )``, ``NODES ( ... )``, ``LINKS ( ... )``, ``DEMANDS ( ... )``,
``ADMISSIBLE_PATHS ( ... )``; ``#`` starts a comment, a leading ``?`` line is the header.

- ``NODES``: ``id ( x y )`` with x = longitude, y = latitude. Every node is a ``pop`` of one AS
  (``asn``, default 64512), ``metro`` = its id. If any coordinate is outside the lon/lat range
  (some SNDlib instances use planar coordinates), coordinates are dropped for all nodes and
  links get ``default_latency_ms`` (default 1.0 ms); otherwise latency follows the coordinates
  (great circle × 1.5 × 0.005 ms/km).
- ``LINKS``: ``id ( src dst ) pre_installed_capacity pre_cost routing_cost setup_cost ( {module_capacity module_cost}* )``.
  Capacity: the pre-installed capacity if > 0, else the largest module capacity, else
  ``capacity_gbps`` (default 10). **SNDlib does not fix a capacity unit**; netsim assumes Mbit/s
  (Abilene's 9920 is an OC-192, 9.92 Gbit/s) and multiplies by ``capacity_scale`` (default
  0.001, Mbit/s -> Gbit/s); pass ``capacity_scale=1.0`` for an instance given in Gbit/s.
  Links are duplex (SNDlib networks are undirected); two links between the same pair in the same
  direction are merged with their capacities summed; if a pair has links in both directions,
  each direction keeps its own capacity.
- ``DEMANDS``: ``id ( src dst ) routing_unit demand_value max_path_length``; returned alongside
  by :func:`read_sndlib` as a polars DataFrame ``src, dst, demand_value`` (units as in the file),
  and put in ``g.graph["demands"]`` as ``(src, dst, value)`` tuples by ``load_topology``.
- ``META`` and ``ADMISSIBLE_PATHS`` are skipped.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import networkx as nx
import polars as pl

from netsim.errors import InputError
from netsim.topology.formats._common import build_graph, check_keywords, read_head, read_text
from netsim.topology.io import READERS, Reader

__all__ = ["read_sndlib"]

_SECTION = re.compile(r"^([A-Z_]+)\s*\($")
_NODE = re.compile(r"^(\S+)\s*\(\s*(\S+)\s+(\S+)\s*\)$")
_LINK = re.compile(r"^(\S+)\s*\(\s*(\S+)\s+(\S+)\s*\)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s*\(([^()]*)\)$")
_DEMAND = re.compile(r"^(\S+)\s*\(\s*(\S+)\s+(\S+)\s*\)\s+(\S+)\s+(\S+)\s+(\S+)$")
_SNIFF_NODES = re.compile(r"^\s*NODES\s*\(", re.M)
_SNIFF_LINKS = re.compile(r"^\s*LINKS\s*\(", re.M)

_EXPECT = {
    "NODES": "'<node_id> ( <longitude> <latitude> )'",
    "LINKS": "'<link_id> ( <source> <target> ) <pre_installed_capacity> <pre_installed_capacity_cost> "
             "<routing_cost> <setup_cost> ( {<module_capacity> <module_cost>}* )'",
    "DEMANDS": "'<demand_id> ( <source> <target> ) <routing_unit> <demand_value> <max_path_length>'",
}


def _sections(text: str, source: str, opened: set[str]):
    """Yield (section, line number, entry text) for the entries of NODES, LINKS and DEMANDS; note sections in ``opened``."""
    section, depth, start = None, 0, 0
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line or (lineno == 1 and line.startswith("?")):
            continue
        if section is None:
            m = _SECTION.match(line)
            if not m:
                raise InputError(f"expected a section such as 'NODES (' or a comment, found {line[:60]!r}",
                                 source=source, where=f"line {lineno}")
            section, depth, start = m.group(1), 1, lineno
            opened.add(section)
            continue
        depth += line.count("(") - line.count(")")
        if depth <= 0:
            if line != ")":
                raise InputError(f"expected ')' closing the {section} section, found {line[:60]!r}", source=source, where=f"line {lineno}")
            section = None
            continue
        if section in _EXPECT and depth == 1:
            yield section, lineno, line
    if section is not None:
        raise InputError(f"section {section} opened at line {start} is not closed; expected a line ')'", source=source, where="end of file")


def _num(text: str, what: str, lineno: int, source: str, *, low: float | None = None) -> float:
    """A number of the file: finite (``nan``, ``inf`` and 1e400 passed, or dropped every node's coordinates), and at
    least ``low`` when given (a negative capacity fell back to the modules or the default)."""
    try:
        x = float(text)
    except ValueError:
        raise InputError(f"{what} {text!r} is not a number", source=source, where=f"line {lineno}") from None
    if not math.isfinite(x) or (low is not None and x < low):
        expected = "a finite number" + (f" >= {low:g}" if low is not None else "")
        raise InputError(f"{what} is {text!r}; expected {expected}", source=source, where=f"line {lineno}")
    return x


def read_sndlib(path: str | Path, *, capacity_scale: float = 0.001, capacity_gbps: float = 10.0, asn: int = 64512,
                default_latency_ms: float = 1.0) -> tuple[nx.DiGraph, pl.DataFrame]:
    """Read an SNDlib native-format file: the network as a topology and its demands as a table.

    Parameters
    ----------
    path : the SNDlib file (``.txt`` or ``.sndlib``).
    capacity_scale : Gbps per SNDlib capacity unit (default 0.001: the file is taken to be in Mbit/s).
    capacity_gbps : capacity of a link with neither pre-installed capacity nor modules.
    asn : the one AS the network is given.
    default_latency_ms : link latency when the nodes have no geographic coordinates.

    Returns
    -------
    (graph, demands) : the topology DiGraph and a polars DataFrame with columns ``src``, ``dst``
    (node ids) and ``demand_value`` (as in the file).

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "net.txt")
    >>> _ = open(p, "w").write('''NODES (
    ...   A ( 13.40 52.52 )
    ...   B ( 11.58 48.14 )
    ... )
    ... LINKS (
    ...   L1 ( A B ) 2500.0 0.0 0.0 0.0 ( )
    ... )
    ... DEMANDS (
    ...   D1 ( A B ) 1 120.0 UNLIMITED
    ... )''')
    >>> g, demands = read_sndlib(p)
    >>> g.edges["A", "B"]["capacity_gbps"], g.edges["B", "A"]["capacity_gbps"]
    (2.5, 2.5)
    >>> demands.row(0)
    ('A', 'B', 120.0)
    """
    check_keywords(capacity_scale=(capacity_scale > 0, "a scale > 0 (Gbps per SNDlib capacity unit)"),
                   capacity_gbps=(capacity_gbps > 0, "a capacity > 0"),
                   asn=(0 <= asn <= 4294967295, "an AS number 0..4294967295"),
                   default_latency_ms=(default_latency_ms > 0, "a latency > 0"))
    path = Path(path)
    source = str(path)
    text = read_text(path)
    nodes: dict[str, tuple[float, float, int]] = {}
    links: dict[tuple[str, str], list] = {}  # (src, dst) -> [capacity_gbps, first line, link id]
    demands: list[tuple[str, str, float]] = []
    opened: set[str] = set()
    for section, lineno, line in _sections(text, source, opened):
        m = {"NODES": _NODE, "LINKS": _LINK, "DEMANDS": _DEMAND}[section].match(line)
        if not m:
            raise InputError(f"malformed {section} entry {line[:60]!r}; expected {_EXPECT[section]}", source=source, where=f"line {lineno}")
        if section == "NODES":
            nid = m.group(1)
            if nid in nodes:
                raise InputError(f"node {nid!r} defined twice (also line {nodes[nid][2]})", source=source, where=f"line {lineno}")
            nodes[nid] = (_num(m.group(2), "longitude", lineno, source), _num(m.group(3), "latitude", lineno, source), lineno)
            continue
        lid, u, v = m.group(1), m.group(2), m.group(3)
        for end in (u, v):
            if end not in nodes:
                raise InputError(f"{section[:-1].lower()} {lid!r} names node {end!r}, which is not in NODES; expected one of the node ids",
                                 source=source, where=f"line {lineno}")
        if section == "DEMANDS":
            demands.append((u, v, _num(m.group(5), "demand_value", lineno, source, low=0.0)))
            continue
        if u == v:
            raise InputError(f"link {lid!r} joins {u!r} to itself; expected two different nodes", source=source, where=f"line {lineno}")
        pre = _num(m.group(4), "pre_installed_capacity", lineno, source, low=0.0)
        modules = m.group(8).split()
        if len(modules) % 2:
            raise InputError(f"link {lid!r} has an odd number of module values; expected pairs '<module_capacity> <module_cost>'",
                             source=source, where=f"line {lineno}")
        module_caps = [_num(x, "module_capacity", lineno, source, low=0.0) for x in modules[0::2]]
        raw = pre if pre > 0 else max(module_caps, default=0.0)
        cap = raw * capacity_scale if raw > 0 else capacity_gbps
        if (u, v) in links:
            links[(u, v)][0] += cap
        else:
            links[(u, v)] = [cap, lineno, lid]
    for need in ("NODES", "LINKS"):
        if need not in opened:
            raise InputError(f"no {need} section; expected an SNDlib native file with 'NODES (' and 'LINKS (' sections", source=source)
    geo = all(-180 <= x <= 180 and -90 <= y <= 90 for x, y, _ in nodes.values())
    doc_nodes, nodes_at = [], []
    for nid, (x, y, lineno) in nodes.items():
        entry = {"id": nid, "kind": "pop", "asn": asn, "metro": nid}
        if geo:
            entry["lat"], entry["lon"] = y, x
        doc_nodes.append(entry)
        nodes_at.append(f"line {lineno}")
    doc_links, links_at = [], []
    for (u, v), (cap, lineno, lid) in links.items():
        entry = {"src": u, "dst": v, "capacity_gbps": cap, "duplex": (v, u) not in links}
        if not geo:
            entry["latency_ms"] = default_latency_ms
        doc_links.append(entry)
        links_at.append(f"line {lineno} (link {lid})")
    name = path.stem
    m = re.search(r"^#\s*network\s+(\S+)", text, re.M)
    if m:
        name = m.group(1)
    g = build_graph({"name": name, "nodes": doc_nodes, "links": doc_links}, source=source, nodes_at=nodes_at, links_at=links_at)
    table = pl.DataFrame(demands, schema={"src": pl.Utf8, "dst": pl.Utf8, "demand_value": pl.Float64}, orient="row")
    return g, table


def _read(path: Path) -> nx.DiGraph:
    g, demands = read_sndlib(path)
    g.graph["demands"] = [tuple(r) for r in demands.iter_rows()]
    return g


def _sniff(path: Path) -> bool:
    head = read_head(path, 4 << 20)
    return bool(_SNIFF_NODES.search(head) and _SNIFF_LINKS.search(head))


READERS.register("sndlib")(Reader(read=_read, extensions=(".txt", ".sndlib"), sniff=_sniff))
