#!/usr/bin/env python
"""Generate the shipped topologies ``topologies/japan/japan.yaml`` and ``topologies/tochigi/tochigi.yaml``.

Deterministic (no randomness): re-running it reproduces the committed files byte for byte, which
``tests/topology/test_shipped.py`` checks. Inputs are ``topologies/japan/jp_prefectures.csv``
(2020 census populations and prefectural-capital coordinates) and the figures in the constants
below, each cited to its source in docs/sources.md (copied into the file headers).

Usage::

    PYTHONPATH=. python scripts/build_topologies.py            # rewrite the shipped files (needs the compiled kernels:
                                                              # an editable install, or PYTHONPATH=<site-packages>)
    PYTHONPATH=. python scripts/build_topologies.py --out DIR  # write DIR/japan/japan.yaml, DIR/tochigi/tochigi.yaml
"""

from __future__ import annotations

import argparse
import copy
import csv
import heapq
import itertools
import math
import tempfile
from pathlib import Path

from netsim.analysis.sizing import FAILURE_UTIL, TARGET_UTIL, busy_hour_loads, size_links
from netsim.topology import load_topology
from netsim.traffic.generators import MBPS_PER_SUBSCRIPTION_2024, expected_demand
from netsim.traffic.timeshape import BUSY_HOUR_FACTOR
from netsim.yamlio import dump_yaml

REPO = Path(__file__).resolve().parent.parent
CSV_PATH = REPO / "topologies" / "japan" / "jp_prefectures.csv"

# --- traffic and subscriber figures (docs/sources.md) ----------------------------------------
#: Fixed-broadband subscriptions in Japan, 2023 (APNIC blog 2023-09-04: 36.6M FTTH + 6.5M cable + other).
NATIONAL_SUBSCRIPTIONS = 43_800_000
#: Average fixed-broadband download traffic, November 2024 (MIC traffic statistics): the generators'
#: MBPS_PER_SUBSCRIPTION_2024 = 38.9 Tbps / 43.8M.
NATIONAL_AVG_DOWNLOAD_TBPS = 38.9
#: The busy-hour factor: the busy hour's traffic over the weekly mean of netsim's diurnal curve
#: (netsim.traffic.timeshape.busy_hour_factor: 1.53, the 21-22h hour; MIC: the peak is 21-23h).
PEAK_OVER_AVERAGE = BUSY_HOUR_FACTOR
#: Busy-hour download per subscription, Mbps: 38.9e12 / 43.8e6 * 1.53 = 1.36 Mbps.
PEAK_MBPS_PER_SUB = MBPS_PER_SUBSCRIPTION_2024 * PEAK_OVER_AVERAGE

#: The traffic the shipped networks are sized for: the shipped traces' generator and parameters
#: (traces/recipes.yaml: `mixed`, overseas video 0.18/1.18 of video bytes), at its expected busy hour.
SHIPPED_TRAFFIC = {"provider_weights": {"overseas-video": 0.18}}
#: Smallest long-haul link (a protection path that carries little at the normal peak).
BACKBONE_FLOOR_GBPS = 400
#: Smallest IX port and PNI.
IX_FLOOR_GBPS = 100

# --- places -------------------------------------------------------------------------------------
CORE_METROS = {
    # Otemachi (Tokyo) and Dojima (Osaka): where JPIX, JPNAP, BBIX and the carriers interconnect.
    "tokyo-otemachi": {"lat": 35.6867, "lon": 139.7660, "region": "tokyo", "name": "Tokyo (Otemachi)", "core": True},
    "osaka-dojima": {"lat": 34.6960, "lon": 135.4950, "region": "osaka", "name": "Osaka (Dojima)", "core": True},
}
LOS_ANGELES = {"lat": 34.0522, "lon": -118.2437, "region": "overseas", "name": "Los Angeles (USA)", "overseas": True}

ASN = {
    "carrier-a": 64600, "carrier-b": 64610, "carrier-c": 64620,
    "video": 64700, "web": 64710, "update": 64720, "game": 64730, "overseas-video": 64740,
    "pacific-transit": 64800,
    "jpix": 64900, "bbix": 64910, "jpnap": 64920,
    "isp-a": 65001, "isp-b": 65002, "isp-c": 65003, "isp-d": 65004,
    "tochigi-ix": 65100,
}
AS_INFO = {
    "carrier-a": ("Carrier A: national FTTH carrier (fictional)", "carrier"),
    "carrier-b": ("Carrier B: national FTTH/mobile group (fictional)", "carrier"),
    "carrier-c": ("Carrier C: national cable + FTTH group (fictional)", "carrier"),
    "video": ("Video streaming provider (fictional)", "content"),
    "web": ("Web and social media provider (fictional)", "content"),
    "update": ("Software update distributor (fictional)", "content"),
    "game": ("Online game publisher (fictional)", "content"),
    "overseas-video": ("Overseas video provider, served from the USA (fictional)", "content"),
    "pacific-transit": ("Trans-Pacific transit carrier (fictional)", "transit"),
    "jpix": ("JPIX Tokyo (modelled; private ASN)", "ix-operator"),
    "bbix": ("BBIX Tokyo (modelled; private ASN)", "ix-operator"),
    "jpnap": ("JPNAP Osaka (modelled; private ASN)", "ix-operator"),
    "isp-a": ("ISP A: Utsunomiya-area cable ISP (fictional)", "cable"),
    "isp-b": ("ISP B: southern-Tochigi FTTH ISP (fictional)", "regional-isp"),
    "isp-c": ("ISP C: northern-Tochigi cable ISP (fictional)", "cable"),
    "isp-d": ("ISP D: Ashikaga-area FTTH ISP (fictional)", "regional-isp"),
    "tochigi-ix": ("Tochigi regional IX operator: a local cable TV company, after TOCHIGIX (fictional)", "ix-operator"),
}

# --- Japan: carriers -----------------------------------------------------------------------------
#: Share of the national subscriptions per carrier: an assumption (the three stand for the big
#: FTTH/ISP groups and the cable operators; cable is 6.5M of 43.8M per APNIC 2023).
CARRIER_SHARES = {"carrier-a": 0.45, "carrier-b": 0.32, "carrier-c": 0.23}
_HUBS_FULL = ["sapporo", "sendai", "niigata", "tokyo-otemachi", "nagoya", "osaka-dojima", "hiroshima",
              "takamatsu", "fukuoka", "naha"]
#: Long-haul links: a ladder along the archipelago (Pacific side and Japan-Sea side with rungs),
#: rings in the north and the south-west, Naha on submarine cables to Fukuoka, Osaka and Tokyo.
_BACKBONE_FULL = [
    ("sapporo", "sendai"), ("sapporo", "niigata"), ("sendai", "niigata"),
    ("sendai", "tokyo-otemachi"), ("niigata", "tokyo-otemachi"), ("niigata", "osaka-dojima"),
    ("tokyo-otemachi", "nagoya"), ("tokyo-otemachi", "osaka-dojima"), ("nagoya", "osaka-dojima"),
    ("osaka-dojima", "hiroshima"), ("osaka-dojima", "takamatsu"), ("hiroshima", "takamatsu"),
    ("hiroshima", "fukuoka"), ("takamatsu", "fukuoka"),
    ("naha", "fukuoka"), ("naha", "osaka-dojima"), ("naha", "tokyo-otemachi"),
]
#: Carrier C is smaller: no hubs in Niigata and Takamatsu, a simpler ladder.
_BACKBONE_C = [
    ("sapporo", "sendai"), ("sapporo", "tokyo-otemachi"), ("sendai", "tokyo-otemachi"),
    ("tokyo-otemachi", "nagoya"), ("tokyo-otemachi", "osaka-dojima"), ("nagoya", "osaka-dojima"),
    ("osaka-dojima", "hiroshima"), ("osaka-dojima", "fukuoka"), ("hiroshima", "fukuoka"),
    ("naha", "fukuoka"), ("naha", "tokyo-otemachi"),
]
CARRIERS = {
    "carrier-a": (_HUBS_FULL, _BACKBONE_FULL),
    "carrier-b": (_HUBS_FULL, _BACKBONE_FULL),
    "carrier-c": ([h for h in _HUBS_FULL if h not in ("niigata", "takamatsu")], _BACKBONE_C),
}
SUBMARINE = {"naha"}  # links touching Naha cross the sea

# --- Tochigi --------------------------------------------------------------------------------------
#: docs/sources.md "Tochigi" (approximate 2020 city figures): (lat, lon, population, region cluster).
TOCHIGI_CITIES = {
    "utsunomiya": (36.555, 139.883, 519_000, "kenoh", "Utsunomiya"),
    "oyama": (36.314, 139.800, 167_000, "kennan", "Oyama"),
    "tochigi": (36.382, 139.734, 155_000, "kennan", "Tochigi"),
    "ashikaga": (36.340, 139.450, 145_000, "kennan", "Ashikaga"),
    "sano": (36.314, 139.578, 117_000, "kennan", "Sano"),
    "nasushiobara": (36.962, 140.046, 115_000, "kenpoku", "Nasushiobara"),
    "kanuma": (36.567, 139.745, 94_000, "kenoh", "Kanuma"),
    "moka": (36.434, 140.013, 78_000, "kenoh", "Moka"),
    "nikko": (36.720, 139.698, 78_000, "kenoh", "Nikko"),
}
#: The four local ISPs' access networks (netsim.analysis.quality: each tier is shared by `shared_by`
#: subscribers; docs/quality.md gives each figure's source or says it is an assumption). FTTH on the NTT
#: NGN: GE-PON (1 Gbps down per tree of up to 32 ONUs, IEEE 802.3ah), an OLT uplink, and either the PPPoE
#: termination device the ISP rents in the NGN (the evening bottleneck Japanese users know) or the IPoE
#: path via a VNE; cable: a DOCSIS service group. Home limit (router, Wi-Fi, device) and access RTT:
#: assumptions.
_FTTH = {"line_gbps": 1.0, "cpe_mbps": 500.0, "latency_ms": 1.0}
_PON = [{"name": "pon", "gbps": 1.0, "shared_by": 32}, {"name": "olt-uplink", "gbps": 10.0, "shared_by": 512}]
_VNE = {"name": "ipoe-vne", "gbps": 100.0, "shared_by": 20000, "path": "ipoe"}
TOCHIGI_ACCESS = {
    "isp-a": {"line_gbps": 1.0, "cpe_mbps": 500.0, "latency_ms": 4.0,     # DOCSIS 3.1 (4 Gbps per group)
              "tiers": [{"name": "docsis-group", "gbps": 4.0, "shared_by": 500}]},
    "isp-b": {**_FTTH, "pppoe_share": 0.6,                                # an older base: most still on PPPoE
              "tiers": [*_PON, {"name": "pppoe-nte", "gbps": 1.0, "shared_by": 650, "path": "pppoe"}, _VNE]},
    "isp-c": {"line_gbps": 1.0, "cpe_mbps": 500.0, "latency_ms": 4.0,     # DOCSIS 3.0 (32 channels, ~1.2 Gbps)
              "tiers": [{"name": "docsis-group", "gbps": 1.2, "shared_by": 700}]},
    "isp-d": {**_FTTH, "pppoe_share": 0.4,
              "tiers": [*_PON, {"name": "pppoe-nte", "gbps": 1.0, "shared_by": 500, "path": "pppoe"}, _VNE]},
}
#: The four local ISPs: main PoP, the cities they serve, their share of the broadband
#: subscriptions in those cities (assumed), their transit carriers, extra upstream lines.
TOCHIGI_ISPS = {
    "isp-a": {"main": "utsunomiya", "cities": ["utsunomiya", "kanuma", "moka", "nikko"], "share": 0.15,
              "transit": ["carrier-a", "carrier-b"], "second_upstream": "moka"},
    "isp-b": {"main": "oyama", "cities": ["oyama", "tochigi", "sano", "ashikaga", "utsunomiya"], "share": 0.08,
              "transit": ["carrier-b"], "second_upstream": None},
    "isp-c": {"main": "nasushiobara", "cities": ["nasushiobara", "nikko", "utsunomiya"], "share": 0.08,
              "transit": ["carrier-a"], "second_upstream": None},
    "isp-d": {"main": "ashikaga", "cities": ["ashikaga", "sano", "tochigi"], "share": 0.12,
              "transit": ["carrier-b"], "second_upstream": None},
}
TOCHIGI_CONTENT_GBPS = 1000  # Tokyo ports of carriers/content providers: far above the four ISPs' peak


def _km(a: dict, b: dict) -> float:
    """Great-circle km (haversine, mean Earth radius 6371 km), in plain Python so the output is portable."""
    p1, p2 = math.radians(a["lat"]), math.radians(b["lat"])
    dp, dl = p2 - p1, math.radians(b["lon"] - a["lon"])
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def _peak_gbps(subscribers: int) -> float:
    return subscribers * PEAK_MBPS_PER_SUB / 1000.0


def _link(src: str, dst: str, gbps: int, *, rel: str | None = None, tags: list[str] | None = None,
          latency_ms: float | None = None) -> dict:
    d: dict = {"src": src, "dst": dst, "capacity_gbps": gbps}
    if latency_ms is not None:
        d["latency_ms"] = latency_ms
    if rel is not None:
        d["rel"] = rel
    if tags:
        d["tags"] = sorted(set(tags))
    return d


def _dijkstra(adj: dict[str, list[tuple[str, float]]], src: str) -> tuple[dict[str, float], dict[str, str]]:
    dist, prev, heap = {src: 0.0}, {}, [(0.0, src)]
    while heap:
        d, u = heapq.heappop(heap)
        if d > dist[u]:
            continue
        for v, w in adj[u]:
            nd = d + w
            if nd < dist.get(v, math.inf) - 1e-9:  # ties: first found wins (adjacency order is fixed)
                dist[v], prev[v] = nd, u
                heapq.heappush(heap, (nd, v))
    return dist, prev


def read_prefectures(path: Path = CSV_PATH) -> list[dict]:
    """Rows of the prefecture CSV with typed fields and the metro id (lowercase capital)."""
    rows = []
    with open(path, newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            rows.append({"code": int(r["code"]), "prefecture": r["prefecture"], "capital": r["capital"],
                         "metro": r["capital"].lower(), "region": r["prefecture"].lower(),
                         "lat": float(r["lat"]), "lon": float(r["lon"]),
                         "population": int(r["population_2020"]), "area": r["region"]})
    return rows


# ================================================================================================
# Japan
# ================================================================================================

def _size(doc: dict, *, fixed: frozenset = frozenset(), no_cut_tags: frozenset | set = frozenset()):
    """Give every link of ``doc`` its capacity with netsim's sizing (netsim/analysis/sizing.py): the shipped
    traffic model's expected busy-hour demand routed by netsim's router in normal operation and with each
    link cut in turn (except ``fixed`` links and those tagged ``no_cut_tags``); the capacities written
    before are floors. Returns the busy-hour loads."""
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"{doc['name']}.yaml"
        dump_yaml(doc, path)
        g = load_topology(path, warn=False)
    cuts = [(lk["src"], lk["dst"]) for lk in doc["links"]
            if frozenset((lk["src"], lk["dst"])) not in fixed and not set(lk.get("tags", [])) & set(no_cut_tags)]
    loads = busy_hour_loads(g, expected_demand(g, **SHIPPED_TRAFFIC), cuts=cuts)
    caps = size_links(loads, floors={(lk["src"], lk["dst"]): lk["capacity_gbps"] for lk in doc["links"]},
                      fixed=[tuple(e) for e in fixed])
    for lk in doc["links"]:
        lk["capacity_gbps"] = caps[(lk["src"], lk["dst"])]
    return loads


def _load_of(loads, u: str, v: str, col: str = "normal_gbps") -> float:
    """Busy-hour load of a duplex link: the larger direction."""
    import polars as pl

    x = loads.filter(((pl.col("src") == u) & (pl.col("dst") == v)) | ((pl.col("src") == v) & (pl.col("dst") == u)))
    return float(x[col].max())


def build_japan(prefs: list[dict]) -> tuple[dict, str]:
    total_pop = sum(p["population"] for p in prefs)
    metros: dict[str, dict] = {}
    for p in prefs:
        metros[p["metro"]] = {"lat": p["lat"], "lon": p["lon"], "region": p["region"],
                              "name": f"{p['capital']} ({p['prefecture']})", "population": p["population"]}
    metros.update({k: dict(v) for k, v in CORE_METROS.items()})
    metros["los-angeles"] = dict(LOS_ANGELES)

    nodes: list[dict] = []
    links: list[dict] = []
    node_metro: dict[str, str] = {}

    def add_node(d: dict) -> None:
        nodes.append(d)
        node_metro[d["id"]] = d["metro"]

    def hub_id(carrier: str, metro: str) -> str:
        # A hub in a prefecture's own metro shares it with that prefecture's access PoP: suffix -hub.
        return f"{carrier}-{metro}" if metro in CORE_METROS else f"{carrier}-{metro}-hub"

    def tags_for(u: str, v: str, base: list[str]) -> list[str]:
        mu, mv = node_metro[u], node_metro[v]
        t = list(base)
        if mu != mv and (mu in CORE_METROS or mv in CORE_METROS):
            t.append("backbone")
        return t

    carrier_peak: dict[str, float] = {}
    stats: dict[str, dict] = {}
    for carrier, (hubs, backbone) in CARRIERS.items():
        asn = ASN[carrier]
        hub_ids = [hub_id(carrier, h) for h in hubs]
        for h, hid in zip(hubs, hub_ids):
            add_node({"id": hid, "kind": "pop", "asn": asn, "metro": h})
        # The carrier's graph in km (what the default latency is proportional to), to route its demand
        # as netsim will: from the nearest core (content origins and IXs sit in both) on shortest paths.
        adj: dict[str, list[tuple[str, float]]] = {hid: [] for hid in hub_ids}
        edges: list[tuple[str, str, list[str]]] = []
        for a, b in backbone:
            base = ["long-haul"] + (["submarine"] if a in SUBMARINE or b in SUBMARINE else [])
            edges.append((hub_id(carrier, a), hub_id(carrier, b), base))
        demand: dict[str, float] = {}
        for p in prefs:
            subs = round(NATIONAL_SUBSCRIPTIONS * p["population"] / total_pop * CARRIER_SHARES[carrier])
            pop_id = f"{carrier}-{p['metro']}"
            add_node({"id": pop_id, "kind": "pop", "asn": asn, "metro": p["metro"], "subscribers": subs})
            adj[pop_id] = []
            demand[pop_id] = _peak_gbps(subs)
            # Dual-homed to the carrier's two nearest hubs (the second is the protection path); a PoP in
            # a hub's own metro homes to that hub only (a second uplink would parallel the hub's long-haul).
            homes = sorted(hubs, key=lambda h: (_km(metros[p["metro"]], metros[h]), h))[:2]
            if _km(metros[p["metro"]], metros[homes[0]]) < 20.0:
                homes = homes[:1]
            for h in homes:
                edges.append((pop_id, hub_id(carrier, h), ["access"]))
        for u, v, _ in edges:
            km = _km(metros[node_metro[u]], metros[node_metro[v]])
            adj[u].append((v, km))
            adj[v].append((u, km))
        from_core = {c: _dijkstra(adj, hub_id(carrier, c)) for c in CORE_METROS}
        through_access: set[str] = set()
        for pop_id in demand:
            # structure check: a shortest path from a core to an access PoP crosses no other access PoP
            c = min(CORE_METROS, key=lambda k: (from_core[k][0][pop_id], k))
            prev, v = from_core[c][1], pop_id
            while v != hub_id(carrier, c):
                if v != pop_id and v in demand:
                    through_access.add(v)
                v = prev[v]
        for u, v, base in edges:
            floor = 10 if "access" in base else BACKBONE_FLOOR_GBPS
            links.append(_link(u, v, floor, tags=tags_for(u, v, base)))
        carrier_peak[carrier] = sum(demand.values())
        stats[carrier] = {"peak": carrier_peak[carrier], "through_access": sorted(through_access)}

    # --- IXs, content, transit ------------------------------------------------------------------
    ixs = {"tokyo-otemachi": ["jpix", "bbix"], "osaka-dojima": ["jpnap"]}
    for core, names in ixs.items():
        for ix in names:
            add_node({"id": f"{ix}-{core}", "kind": "ix", "asn": ASN[ix], "metro": core})
    for core, names in ixs.items():
        for ix in names:
            for carrier in CARRIERS:
                links.append(_link(f"{carrier}-{core}", f"{ix}-{core}", IX_FLOOR_GBPS, rel="p2p", tags=["ix"]))
    # A direct PNI between the two biggest carriers in Otemachi (inter-carrier traffic).
    links.append(_link("carrier-a-tokyo-otemachi", "carrier-b-tokyo-otemachi", IX_FLOOR_GBPS, rel="p2p", tags=["pni"]))
    for provider in ("video", "web", "update", "game"):
        for core, names in ixs.items():
            oid = f"origin-{provider}-{core}"
            add_node({"id": oid, "kind": "origin", "asn": ASN[provider], "metro": core, "provider": provider})
            for ix in names:
                links.append(_link(oid, f"{ix}-{core}", IX_FLOOR_GBPS, rel="p2p", tags=["ix"]))
    # Overseas: a trans-Pacific transit carrier (Tokyo <-> Los Angeles) sells transit to the carriers;
    # the overseas video provider is its customer in Los Angeles.
    add_node({"id": "pacific-transit-tokyo-otemachi", "kind": "pop", "asn": ASN["pacific-transit"], "metro": "tokyo-otemachi"})
    add_node({"id": "pacific-transit-los-angeles", "kind": "pop", "asn": ASN["pacific-transit"], "metro": "los-angeles"})
    add_node({"id": "origin-overseas-video-los-angeles", "kind": "origin", "asn": ASN["overseas-video"],
              "metro": "los-angeles", "provider": "overseas-video"})
    national_peak = sum(carrier_peak.values())
    links.append(_link("pacific-transit-tokyo-otemachi", "pacific-transit-los-angeles", 10,
                       tags=["trans-pacific", "submarine"]))
    links.append(_link("origin-overseas-video-los-angeles", "pacific-transit-los-angeles", 10, rel="c2p", tags=["transit"]))
    for carrier in CARRIERS:
        links.append(_link(f"{carrier}-tokyo-otemachi", "pacific-transit-tokyo-otemachi", 10, rel="c2p", tags=["transit"]))

    used_asns = sorted({n["asn"] for n in nodes})
    by_asn = {v: k for k, v in ASN.items()}
    ases = {a: {"name": AS_INFO[by_asn[a]][0], "type": AS_INFO[by_asn[a]][1]} for a in used_asns}
    doc = {
        "name": "japan",
        "description": ("Japan: 47 prefecture metros, three national carriers (backbone hubs in ten regional hubs, "
                        "dual-homed access PoPs per prefecture), interconnection only in Tokyo (Otemachi) and "
                        "Osaka (Dojima), domestic content origins at the IXs, overseas video over a trans-Pacific link."),
        "metros": metros,
        "ases": ases,
        "nodes": nodes,
        "links": links,
    }
    total_subs = sum(n.get("subscribers", 0) for n in nodes)
    for c, st in stats.items():
        if st["through_access"]:
            raise AssertionError(f"{c}: shortest paths cross access PoPs {st['through_access']}; add long-haul links")
    # IX ports and the PNI are bundles of ports at one site: not cut in the N-1 pass
    loads = _size(doc, no_cut_tags={"ix", "pni"})
    header = _japan_header(total_pop, total_subs, national_peak, stats, loads, doc)
    return doc, header


def _sizing_text(indent: str = "  ") -> str:
    return f"""\
{indent}Sized by netsim itself (scripts/build_topologies.py -> netsim/analysis/sizing.py), as an operator
{indent}sizes for the busy hour: the expected demand of the shipped traffic model (the `mixed` generator
{indent}of the shipped traces: {MBPS_PER_SUBSCRIPTION_2024:.3f} Mbps per subscription on average = 38.9 Tbps (MIC, Nov 2024) /
{indent}43.8M, 90% content from the providers' nearest origins, 10% flows between access PoPs) times
{indent}the busy-hour factor {BUSY_HOUR_FACTOR:.3f} (the busy hour over the weekly mean of netsim's diurnal
{indent}curve; {PEAK_MBPS_PER_SUB:.3f} Mbps per subscription) is routed by netsim's router (latency IGP, single
{indent}path, valley-free) in normal operation and with each link cut in turn (N-1). Each link gets
{indent}max(normal load / {TARGET_UTIL}, worst N-1 load / {FAILURE_UTIL}) (assumptions: the busy hour at <= 60% leaves about a
{indent}year of 30%/yr growth before 80%; any single cut still fits), the larger direction of the duplex
{indent}link, rounded up to what is bought: 10G steps to 100G, then 100G steps. Upload is ~1/8 of
{indent}download (MIC, May 2022), so download sizes every link."""


def _japan_header(total_pop: int, total_subs: int, national_peak_gbps: float, stats: dict, loads, doc: dict) -> str:
    shares = ", ".join(f"{c} {s:.0%}" for c, s in CARRIER_SHARES.items())
    cap = {(lk["src"], lk["dst"]): lk["capacity_gbps"] for lk in doc["links"]}
    per_carrier = "\n".join(
        f"    {c}: busy hour {s['peak'] / 1000:.2f} Tbps; Tokyo-Nagoya {cap[(f'{c}-tokyo-otemachi', f'{c}-nagoya-hub')]:,} Gbps "
        f"(busy hour {_load_of(loads, f'{c}-tokyo-otemachi', f'{c}-nagoya-hub'):,.0f}), Tokyo-Osaka "
        f"{cap[(f'{c}-tokyo-otemachi', f'{c}-osaka-dojima')]:,} Gbps "
        f"(busy hour {_load_of(loads, f'{c}-tokyo-otemachi', f'{c}-osaka-dojima'):,.0f})"
        for c, s in stats.items())
    pacific = ("pacific-transit-tokyo-otemachi", "pacific-transit-los-angeles")
    return f"""\
Japan national topology. GENERATED by scripts/build_topologies.py from jp_prefectures.csv (2020
census); do not edit by hand: change the script and re-run it (a test checks the file is reproduced).

Places
  Metros: the 47 prefectural capitals (id = lowercase capital, region = lowercase prefecture,
  population = 2020 census, {total_pop:,} in all); the core metros tokyo-otemachi and
  osaka-dojima (core: true), where 98% of Japan's IX capacity sits (MIC Internet traffic study
  group, 2021; BBIX 2021: ~70% of IXs and traffic in Tokyo; western Japan's IXs cluster in
  Dojima); los-angeles (region overseas) for content served from abroad.

Subscribers
  {NATIONAL_SUBSCRIPTIONS:,} fixed broadband subscriptions (APNIC blog 2023-09-04: 36.6M FTTH,
  6.5M cable), split over prefectures in proportion to population (regional traffic is roughly
  proportional to population: Fukuda, Cho, Esaki, SIGCOMM CCR 2005) and over three fictional
  national carriers by assumed market shares ({shares}). Total here: {total_subs:,}.

Capacities (Gbps; duplex links, the same both ways)
{_sizing_text()}
  National busy hour {national_peak_gbps / 1000:.2f} Tbps.
  - access uplinks (tag access): each access PoP is dual-homed to its carrier's two nearest hubs
    (a PoP in a hub's own metro, or within 20 km of it, homes to that hub only); N-1 makes each
    uplink able to carry the PoP's busy hour alone. The script checks that no shortest path to
    another PoP crosses an access PoP in normal operation; with a long-haul link cut the IGP does
    route hub-to-hub traffic through a dual-homed PoP (Kobe, Nara, Aomori, Okayama), whose uplinks
    are sized for it.
  - long-haul links between hubs (tag long-haul; submarine for Naha): at least {BACKBONE_FLOOR_GBPS} Gbps.
{per_carrier}
  - IX ports (tag ix): carriers are members of jpix and bbix (Otemachi) and jpnap (Dojima); content
    origins (video, web, update, game) in Otemachi and Dojima are members too (their private
    interconnects are folded into these ports); carrier-a and carrier-b have a PNI in Otemachi.
    At least {IX_FLOOR_GBPS} Gbps; sized for normal operation only (a port is a bundle of members
    at one site: one member failing does not cut it), so the fabric the router does not use is at
    the floor.
  - transit (tag transit): the carriers buy transit in Otemachi from pacific-transit, which
    carries overseas video from Los Angeles over the trans-Pacific cable (tag trans-pacific,
    {cap[pacific]:,} Gbps for a busy hour of {_load_of(loads, *pacific):,.0f}).

Latencies
  Not written: netsim derives them from coordinates: great-circle km x route factor 1.5 (cable
  routes are 1.3-1.5x the straight line: docs/sources.md, e.g. Tokyo-Osaka 520 km of cable)
  x 0.005 ms/km (fibre 4.9 us/km at 1550 nm), floored at 0.01 ms inside a metro. So Tokyo-Osaka is
  ~3.0 ms one way (measured RTT ~10 ms includes equipment and indirect routes), Tokyo-Naha
  ~11.7 ms and Tokyo-Los Angeles ~66 ms (an upper estimate: submarine routes are straighter).

Naming
  Access PoPs <carrier>-<capital metro> (subscribers > 0). Backbone hubs <carrier>-<metro>-hub in
  Sapporo, Sendai, Niigata, Nagoya, Hiroshima, Takamatsu, Fukuoka, Naha (which share the metro with
  that prefecture's access PoP) and <carrier>-tokyo-otemachi / <carrier>-osaka-dojima in the core
  metros; IXs <ix>-<metro>; origins origin-<provider>-<metro>.
  Tags: backbone = a domestic inter-metro link reaching a core metro (docs/metrics.md);
  the trans-Pacific cable is tagged trans-pacific only.
ASNs are private (64512-65534); all AS names are fictional or marked as modelled."""


# ================================================================================================
# Tochigi
# ================================================================================================

def build_tochigi(prefs: list[dict]) -> tuple[dict, str]:
    total_pop = sum(p["population"] for p in prefs)
    tochigi_pop = next(p["population"] for p in prefs if p["prefecture"] == "Tochigi")
    subs_per_person = NATIONAL_SUBSCRIPTIONS / total_pop
    tochigi_subs = NATIONAL_SUBSCRIPTIONS * tochigi_pop / total_pop
    metros: dict[str, dict] = {}
    for m, (lat, lon, pop, region, name) in TOCHIGI_CITIES.items():
        metros[m] = {"lat": lat, "lon": lon, "region": region, "name": name, "population": pop}
    metros["tokyo-otemachi"] = dict(CORE_METROS["tokyo-otemachi"])
    metros["los-angeles"] = dict(LOS_ANGELES)

    nodes: list[dict] = []
    links: list[dict] = []
    isp_stats = {}
    for isp, spec in TOCHIGI_ISPS.items():
        asn = ASN[isp]
        subs_by_city = {}
        for city in spec["cities"]:
            subs = round(TOCHIGI_CITIES[city][2] * subs_per_person * spec["share"])
            subs_by_city[city] = subs
            nodes.append({"id": f"{isp}-{city}", "kind": "pop", "asn": asn, "metro": city, "subscribers": subs})
        nodes.append({"id": f"{isp}-tokyo-otemachi", "kind": "pop", "asn": asn, "metro": "tokyo-otemachi"})
        total = sum(subs_by_city.values())
        peak = _peak_gbps(total)
        # Metro ring through the ISP's PoPs: the shortest cycle (few PoPs: try every order); two PoPs: one link.
        cities = spec["cities"]
        first, rest = cities[0], cities[1:]
        ring = min(([first, *perm] for perm in itertools.permutations(rest)),
                   key=lambda r: (round(sum(_km(metros[r[i]], metros[r[(i + 1) % len(r)]]) for i in range(len(r))), 6), r))
        pairs = [(ring[i], ring[(i + 1) % len(ring)]) for i in range(len(ring))] if len(ring) > 2 else [(ring[0], ring[1])]
        for a, b in pairs:
            # A ring link carries the whole ISP's traffic when the ring is cut elsewhere.
            links.append(_link(f"{isp}-{a}", f"{isp}-{b}", 10, tags=["metro-ring"]))
        lines = [spec["main"]] + ([spec["second_upstream"]] if spec["second_upstream"] else [])
        for city in lines:
            links.append(_link(f"{isp}-{city}", f"{isp}-tokyo-otemachi", 10, tags=["upstream", "backbone"]))
        for carrier in spec["transit"]:
            links.append(_link(f"{isp}-tokyo-otemachi", f"{carrier}-tokyo-otemachi", 10, rel="c2p", tags=["transit"]))
        isp_stats[isp] = {"subs": total, "peak": peak, "lines": [f"{isp}-{c}" for c in lines],
                          "carriers": spec["transit"]}

    # National carriers in Otemachi (carrier-a also has an Utsunomiya PoP), the Tokyo IX, content.
    for carrier in ("carrier-a", "carrier-b"):
        nodes.append({"id": f"{carrier}-tokyo-otemachi", "kind": "pop", "asn": ASN[carrier], "metro": "tokyo-otemachi"})
    nodes.append({"id": "carrier-a-utsunomiya", "kind": "pop", "asn": ASN["carrier-a"], "metro": "utsunomiya"})
    links.append(_link("carrier-a-utsunomiya", "carrier-a-tokyo-otemachi", 400, tags=["backbone"]))
    nodes.append({"id": "jpix-tokyo-otemachi", "kind": "ix", "asn": ASN["jpix"], "metro": "tokyo-otemachi"})
    for carrier in ("carrier-a", "carrier-b"):
        links.append(_link(f"{carrier}-tokyo-otemachi", "jpix-tokyo-otemachi", TOCHIGI_CONTENT_GBPS, rel="p2p", tags=["ix"]))
    for provider in ("video", "web", "update", "game"):
        oid = f"origin-{provider}-tokyo-otemachi"
        nodes.append({"id": oid, "kind": "origin", "asn": ASN[provider], "metro": "tokyo-otemachi", "provider": provider})
        links.append(_link(oid, "jpix-tokyo-otemachi", TOCHIGI_CONTENT_GBPS, rel="p2p", tags=["ix"]))
    nodes.append({"id": "pacific-transit-tokyo-otemachi", "kind": "pop", "asn": ASN["pacific-transit"], "metro": "tokyo-otemachi"})
    nodes.append({"id": "pacific-transit-los-angeles", "kind": "pop", "asn": ASN["pacific-transit"], "metro": "los-angeles"})
    nodes.append({"id": "origin-overseas-video-los-angeles", "kind": "origin", "asn": ASN["overseas-video"],
                  "metro": "los-angeles", "provider": "overseas-video"})
    links.append(_link("pacific-transit-tokyo-otemachi", "pacific-transit-los-angeles", TOCHIGI_CONTENT_GBPS,
                       tags=["trans-pacific", "submarine"]))
    links.append(_link("origin-overseas-video-los-angeles", "pacific-transit-los-angeles", TOCHIGI_CONTENT_GBPS,
                       rel="c2p", tags=["transit"]))
    for carrier in ("carrier-a", "carrier-b"):
        links.append(_link(f"{carrier}-tokyo-otemachi", "pacific-transit-tokyo-otemachi", TOCHIGI_CONTENT_GBPS,
                           rel="c2p", tags=["transit"]))
    # The regional IX site exists but nobody is connected yet: designs connect members to it.
    nodes.append({"id": "tochigi-ix", "kind": "ix", "asn": ASN["tochigi-ix"], "metro": "utsunomiya"})

    used_asns = sorted({n["asn"] for n in nodes})
    by_asn = {v: k for k, v in ASN.items()}
    ases = {a: {"name": AS_INFO[by_asn[a]][0], "type": AS_INFO[by_asn[a]][1]} for a in used_asns}
    for isp, prof in TOCHIGI_ACCESS.items():
        ases[ASN[isp]]["access"] = copy.deepcopy(prof)   # no shared objects: YAML would write anchors
    doc = {
        "name": "tochigi",
        "description": ("Tochigi: four local ISPs in nine cities, each with its own upstream line(s) to Tokyo "
                        "(Otemachi) where it buys transit; content in Tokyo and overseas; the regional IX site "
                        "tochigi-ix in Utsunomiya is present but unconnected, so ISP-to-ISP traffic goes via Tokyo."),
        "metros": metros,
        "ases": ases,
        "nodes": nodes,
        "links": links,
    }
    # the Tokyo side is outside the study (far above the four ISPs' traffic): kept as drawn
    fixed = frozenset(frozenset((lk["src"], lk["dst"])) for lk in links
                      if lk["capacity_gbps"] >= 400 and "tokyo-otemachi" in lk["dst"])
    _size(doc, fixed=fixed)
    header = _tochigi_header(tochigi_pop, tochigi_subs, subs_per_person, isp_stats, doc)
    return doc, header


def _tochigi_header(tochigi_pop: int, tochigi_subs: float, subs_per_person: float, isp_stats: dict, doc: dict) -> str:
    total = sum(s["subs"] for s in isp_stats.values())
    cap = {(lk["src"], lk["dst"]): lk["capacity_gbps"] for lk in doc["links"]}

    def row(isp: str, s: dict) -> str:
        lines = " + ".join(f"{cap[(x, f'{isp}-tokyo-otemachi')]}" for x in s["lines"])
        transit = " + ".join(f"{cap[(f'{isp}-tokyo-otemachi', f'{c}-tokyo-otemachi')]} ({c})" for c in s["carriers"])
        return (f"    {isp}: {TOCHIGI_ISPS[isp]['share']:.0%} of {', '.join(TOCHIGI_ISPS[isp]['cities'])}; {s['subs']:,} subs, "
                f"busy hour {s['peak']:.1f} Gbps; upstream line(s) {lines} Gbps; transit {transit} Gbps")
    rows = "\n".join(row(isp, s) for isp, s in isp_stats.items())
    return f"""\
Tochigi prefecture case topology. GENERATED by scripts/build_topologies.py; do not edit by hand:
change the script and re-run it (a test checks the file is reproduced byte for byte).

The case: four local operators in Tochigi that could form an aggregated ISP with
joint upstream lines, a shared cache and the regional IX; today all their traffic, even
ISP-to-ISP, turns around in Tokyo.

Places
  Metros: nine Tochigi cities (coordinates and approximate 2020 populations: docs/sources.md "Tochigi"
  table), region = city cluster (kenoh: utsunomiya, kanuma, moka, nikko; kennan: oyama, tochigi,
  sano, ashikaga; kenpoku: nasushiobara); tokyo-otemachi (region tokyo, core: true) where the
  ISPs' upstream lines end, the national carriers sell transit and JPIX (Otemachi, 1997) is;
  los-angeles (region overseas) for content served from abroad.

Subscribers
  Tochigi has {tochigi_pop:,} people (2020 census) and ~{tochigi_subs / 1e6:.2f}M fixed broadband
  subscriptions (43.8M nationally, APNIC 2023, x Tochigi's population share: {subs_per_person:.4f} per
  person). Each ISP has an assumed share of the subscriptions in the cities it serves:
{rows}
  The four together: {total:,} subscriptions = {total / tochigi_subs:.1%} of Tochigi's. The national
  carriers' own Tochigi subscribers are not modelled (carrier-a-utsunomiya has none).

Capacities (Gbps; duplex)
{_sizing_text()}
  - upstream (tags upstream, backbone): each ISP's own line(s) from its main PoP to its router
    in Otemachi; isp-a has a second, diverse line from Moka (N-1: either carries the busy hour).
  - metro-ring: an ISP's PoPs form a ring (the shortest cycle; N-1: a cut reroutes around it).
  - transit (c2p, tag transit): in Otemachi from carrier-a/-b (isp-a buys from both: BGP uses one,
    N-1 sizes the other to carry all).
  - Tokyo side (outside the study, kept as drawn): carrier and content ports at JPIX, transit
    to pacific-transit and the trans-Pacific cable are {TOCHIGI_CONTENT_GBPS} Gbps; carrier-a's Utsunomiya
    PoP has a 400 Gbps line to Otemachi.

Access networks (ases[asn].access; the quality method's tiers, docs/quality.md)
  isp-a: cable, DOCSIS 3.1 service groups of 4 Gbps for 500 homes; isp-c: cable, DOCSIS 3.0
  (~1.2 Gbps per group of 700). isp-b, isp-d: FTTH on the NTT NGN, GE-PON (1 Gbps per 32) behind
  10G OLT uplinks (512 each); 60% (isp-b) and 40% (isp-d) of subscribers on PPPoE through a
  1 Gbps termination device shared by 650 (isp-b) or 500 (isp-d), the rest on IPoE via a VNE.
  Lines 1 Gbps; in-home limit 500 Mbps; access round trip 1 ms (FTTH), 4 ms (cable). The sharing
  ratios are assumptions (docs/quality.md): at the busy hour's ~1.36 Mbps per subscription they
  load the PPPoE devices to ~65-85% and isp-c's cable groups to ~75%.

Latencies
  Not written: great-circle km x route factor 1.5 x 0.005 ms/km (fibre 4.9 us/km; docs/sources.md),
  floored at 0.01 ms inside a metro: Utsunomiya-Otemachi (~97 km straight) is ~0.73 ms one way,
  Tokyo-Los Angeles ~66 ms (an upper estimate: submarine routes are straighter).

Interconnection
  The ISPs are not IX members; carrier-a, carrier-b and the content providers (video, web,
  update, game) are members of jpix-tokyo-otemachi (p2p). Overseas video comes from Los Angeles
  via pacific-transit (the carriers' transit provider). tochigi-ix (the TOCHIGIX analogue, opened
  Nov 2020 and run by a local cable TV company: docs/sources.md) is in Utsunomiya with no links: designs
  connect it. Key property (tested): no path between two ISPs avoids Tokyo.
ASNs are private (64512-65534); all names are fictional."""


def write_all(out_dir: Path, csv_path: Path = CSV_PATH) -> list[Path]:
    """Write japan/japan.yaml and tochigi/tochigi.yaml under ``out_dir``; return the paths written."""
    prefs = read_prefectures(csv_path)
    written = []
    for name, build in (("japan", build_japan), ("tochigi", build_tochigi)):
        doc, header = build(prefs)
        path = out_dir / name / f"{name}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        dump_yaml(doc, path, header=header)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=REPO / "topologies",
                    help="directory to write japan/japan.yaml and tochigi/tochigi.yaml into (default: the repo's topologies/)")
    ap.add_argument("--csv", type=Path, default=CSV_PATH, help="prefecture table (default: topologies/japan/jp_prefectures.csv)")
    args = ap.parse_args(argv)
    for p in write_all(args.out, args.csv):
        print(f"wrote {p}")


if __name__ == "__main__":
    main()
