"""PeeringDB JSON (https://www.peeringdb.com/apidocs/): IXs and their member networks.

Input: one JSON object holding the object types ``ix``, ``ixlan``, ``netixlan`` and (optional)
``net``, each as the PeeringDB API returns it (``{"data": [...], "meta": {...}}``) or as a plain
list — the layout of a combined API dump such as CAIDA's PeeringDB snapshots (the layout of
the ``peeringdb`` client's own output was not checked; combine its per-type JSON into this). Field names are
PeeringDB's: ``ix`` (id, name, city, country), ``ixlan`` (id, ix_id), ``netixlan`` (net_id,
ixlan_id, asn, speed in Mbit/s), ``net`` (id, asn, name). Records with ``status: "deleted"`` are
skipped.

What netsim builds:

- each IX: an ``ix`` node ``IX<id>`` (``name`` = the IX name) in metro = its ``city`` lower-cased
  with non-alphanumerics as ``-`` (``"Tokyo"`` -> ``tokyo``; ``ix<id>`` if the city is empty).
  PeeringDB does not give an IX's ASN, so each IX gets a synthetic one from the 32-bit
  private-use range (RFC 6996): ``4200000000 + ix id``, listed in ``ases`` with the IX name and
  type ``ix-operator``;
- each member network at each metro where it has ports: a ``pop`` node of its AS — ``AS<asn>``
  if the network is at IXs in one metro only, else ``AS<asn>-<metro>`` per metro (PeeringDB does
  not say how a network's sites are joined, so these nodes get no links between them); the
  ``net`` name goes to ``ases``. Networks without ports are left out;
- one duplex ``p2p`` link member <-> IX per (network, IX), with ``capacity_gbps`` = the sum of
  the network's port ``speed`` s at that IX (over all its ixlans) / 1000, and ``latency_ms`` =
  the ``latency_ms`` keyword (default 0.5 ms: a member's router and the IX fabric are in the
  same metro, often the same building);
- coordinates: PeeringDB gives none for IXs; pass ``city_coords={"Tokyo": (35.69, 139.69)}``
  (keys: city names or metro ids) to put them in ``metros``, which the nodes there inherit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import networkx as nx

from netsim.errors import InputError
from netsim.topology.formats._common import build_graph, check_keywords, read_json, slug, sniff_json
from netsim.topology.io import READERS, Reader

__all__ = ["read_peeringdb", "IX_ASN_BASE"]

#: Synthetic ASN of an IX = IX_ASN_BASE + its PeeringDB id (RFC 6996 private-use 4200000000–4294967294).
IX_ASN_BASE = 4_200_000_000
#: The fastest port a netixlan ``speed`` may give, Mbit/s (1 Pbit/s: far above any IX port; 10**400 overflowed)
MAX_PORT_MBPS = 10**9
_TYPES = ("ix", "ixlan", "netixlan", "net")
_EXPECTED = ("a PeeringDB JSON object with the object types 'ix', 'ixlan', 'netixlan' (and 'net'), "
             "each {\"data\": [...]} or a list")


class _Table:
    """One PeeringDB object type: its live rows and how to name a place in it."""

    def __init__(self, name: str, value: Any, source: str):
        self.name, self.source = name, source
        wrapped = isinstance(value, dict)
        rows = value.get("data") if wrapped else value
        if not isinstance(rows, list):
            raise InputError(f"expected a list of {name} records (or {{\"data\": [...]}}), found {type(rows).__name__}",
                             source=source, where=f"{name}.data" if wrapped else name)
        self.prefix = f"{name}.data" if wrapped else name
        self.rows: list[tuple[int, dict]] = []
        for i, row in enumerate(rows):
            if not isinstance(row, dict):
                raise InputError(f"expected a {name} object, found {type(row).__name__}", source=source, where=self.at(i))
            if row.get("status", "ok") != "deleted":
                self.rows.append((i, row))

    def at(self, i: int, field: str | None = None) -> str:
        return f"{self.prefix}[{i}]" + (f".{field}" if field else "")

    def integer(self, i: int, row: dict, field: str, *, positive: bool = False, maximum: int = 2**63 - 1) -> int:
        v = row.get(field)
        if isinstance(v, bool) or not isinstance(v, int) or (positive and v <= 0) or v < 0 or v > maximum:
            expected = ("an integer > 0" if positive else "an integer >= 0") + f" and <= {maximum:,}"
            found = "missing" if field not in row else f"found {v!r:.40}"
            raise InputError(f"{field} {found}; expected {expected}", source=self.source, where=self.at(i, field))
        return v


def read_peeringdb(path: str | Path, *, city_coords: Mapping[str, tuple[float, float]] | None = None,
                   latency_ms: float = 0.5) -> nx.DiGraph:
    """Read a PeeringDB JSON dump: IXs as ``ix`` nodes, member networks as ``pop`` nodes, ports as ``p2p`` links.

    Parameters
    ----------
    path : the JSON file (object types ``ix``, ``ixlan``, ``netixlan``, ``net``).
    city_coords : optional ``{city or metro: (lat, lon)}`` giving the metros coordinates.
    latency_ms : one-way latency of a member <-> IX link.

    Examples
    --------
    >>> import tempfile, os, json
    >>> doc = {"ix": {"data": [{"id": 7, "name": "Demo-IX", "city": "Sapporo", "country": "JP"}]},
    ...        "ixlan": {"data": [{"id": 70, "ix_id": 7}]},
    ...        "netixlan": {"data": [{"id": 1, "net_id": 5, "ixlan_id": 70, "asn": 64512, "speed": 10000,
    ...                               "ipaddr4": "192.0.2.1"}]},
    ...        "net": {"data": [{"id": 5, "asn": 64512, "name": "Demo Net"}]}}
    >>> p = os.path.join(tempfile.mkdtemp(), "pdb.json")
    >>> _ = open(p, "w").write(json.dumps(doc))
    >>> g = read_peeringdb(p)
    >>> g.edges["AS64512", "IX7"]["capacity_gbps"], g.edges["AS64512", "IX7"]["rel"], g.nodes["IX7"]["metro"]
    (10.0, 'p2p', 'sapporo')
    """
    check_keywords(latency_ms=(latency_ms > 0, "a latency > 0"))
    path = Path(path)
    source = str(path)
    data = read_json(path)
    if not isinstance(data, dict):
        raise InputError(f"expected {_EXPECTED}, found a JSON {type(data).__name__}", source=source)
    if "data" in data and not any(t in data for t in _TYPES):
        raise InputError("this is one PeeringDB API response ({\"data\": [...]}) of unknown object type; expected the "
                         "responses for ix, ixlan, netixlan and net combined as {\"ix\": {...}, \"ixlan\": {...}, ...}",
                         source=source)
    missing = [t for t in ("ix", "ixlan", "netixlan") if t not in data]
    if missing:
        raise InputError(f"no {', '.join(missing)} at the top level; expected {_EXPECTED}", source=source)
    ix_t, ixlan_t, nixl_t = (_Table(t, data[t], source) for t in ("ix", "ixlan", "netixlan"))
    net_t = _Table("net", data.get("net", []), source)

    ixs: dict[int, dict] = {}
    for i, row in ix_t.rows:
        ix_id = ix_t.integer(i, row, "id", positive=True)
        if ix_id in ixs:
            raise InputError(f"ix id {ix_id} appears twice", source=source, where=ix_t.at(i, "id"))
        if IX_ASN_BASE + ix_id > 4294967294:
            raise InputError(f"ix id {ix_id!r:.40} is too large for a synthetic ASN {IX_ASN_BASE}+id", source=source, where=ix_t.at(i, "id"))
        city = str(row.get("city") or "").strip()
        ixs[ix_id] = {"name": str(row.get("name") or f"IX {ix_id}"), "metro": slug(city) or f"ix{ix_id}", "city": city}
    ixlan_ix: dict[int, int] = {}
    for i, row in ixlan_t.rows:
        ix_id = ixlan_t.integer(i, row, "ix_id", positive=True)
        if ix_id not in ixs:
            raise InputError(f"ix_id {ix_id} is not an ix in this file", source=source, where=ixlan_t.at(i, "ix_id"))
        ixlan_ix[ixlan_t.integer(i, row, "id", positive=True)] = ix_id
    net_names: dict[int, str] = {}
    net_asn: dict[int, int] = {}
    for i, row in net_t.rows:
        asn = net_t.integer(i, row, "asn", positive=True)
        if "id" in row:
            net_asn[net_t.integer(i, row, "id", positive=True)] = asn
        if row.get("name"):
            net_names.setdefault(asn, str(row["name"]))

    ports: dict[tuple[int, int], list] = {}  # (asn, ix id) -> [speed Mbit/s summed, first netixlan index]
    for i, row in nixl_t.rows:
        lan = nixl_t.integer(i, row, "ixlan_id", positive=True)
        if lan not in ixlan_ix:
            raise InputError(f"ixlan_id {lan} is not an ixlan in this file", source=source, where=nixl_t.at(i, "ixlan_id"))
        if "asn" not in row and row.get("net_id") in net_asn:
            asn = net_asn[row["net_id"]]  # an older dump without netixlan.asn
        else:
            asn = nixl_t.integer(i, row, "asn", positive=True)
        speed = nixl_t.integer(i, row, "speed", positive=True, maximum=MAX_PORT_MBPS)
        key = (asn, ixlan_ix[lan])
        if key in ports:
            ports[key][0] += speed
        else:
            ports[key] = [speed, i]
    return _build(ixs, ports, net_names, city_coords, latency_ms, source, nixl_t)


def _build(ixs: dict[int, dict], ports: dict[tuple[int, int], list], net_names: dict[int, str],
           city_coords: Mapping[str, tuple[float, float]] | None, latency_ms: float, source: str, nixl_t: _Table) -> nx.DiGraph:
    metros_of: dict[int, set[str]] = {}
    for asn, ix_id in ports:
        metros_of.setdefault(asn, set()).add(ixs[ix_id]["metro"])

    def member(asn: int, metro: str) -> str:
        return f"AS{asn}" if len(metros_of[asn]) == 1 else f"AS{asn}-{metro}"

    nodes = [{"id": f"IX{ix_id}", "kind": "ix", "asn": IX_ASN_BASE + ix_id, "metro": ixs[ix_id]["metro"],
              "name": ixs[ix_id]["name"]} for ix_id in sorted(ixs)]
    for asn in sorted(metros_of):
        for metro in sorted(metros_of[asn]):
            entry = {"id": member(asn, metro), "kind": "pop", "asn": asn, "metro": metro}
            if asn in net_names:
                entry["name"] = net_names[asn]
            nodes.append(entry)
    links, links_at = [], []
    for (asn, ix_id), (speed, i) in sorted(ports.items()):
        links.append({"src": member(asn, ixs[ix_id]["metro"]), "dst": f"IX{ix_id}", "rel": "p2p",
                      "capacity_gbps": speed / 1000.0, "latency_ms": latency_ms})
        links_at.append(nixl_t.at(i))
    ases: dict[int, dict] = {IX_ASN_BASE + ix_id: {"name": ixs[ix_id]["name"], "type": "ix-operator"} for ix_id in sorted(ixs)}
    ases.update({asn: {"name": net_names[asn]} for asn in sorted(metros_of) if asn in net_names})
    doc: dict[str, Any] = {"name": Path(source).stem, "ases": ases, "nodes": nodes, "links": links}
    if city_coords:
        city_of = {ixs[i]["metro"]: ixs[i]["city"] for i in sorted(ixs, reverse=True)}  # first IX's spelling wins
        metros = {}
        for key, value in city_coords.items():
            metro = slug(key)
            try:
                lat, lon = (float(x) for x in value)
            except (TypeError, ValueError):
                raise InputError(f"city_coords[{key!r}] is {value!r}; expected (lat, lon)") from None
            if metro in city_of:
                metros[metro] = {"lat": lat, "lon": lon, "name": city_of[metro] or key}
        doc["metros"] = metros
    return build_graph(doc, source=source, links_at=links_at)


def _sniff(path: Path) -> bool:
    data = sniff_json(path)
    if not isinstance(data, dict):
        return False
    return any(t in data for t in _TYPES) or (isinstance(data.get("data"), list) and "nodes" not in data)


READERS.register("peeringdb")(Reader(read=read_peeringdb, extensions=(".json",), sniff=_sniff))
