#!/usr/bin/env python
"""Generate the shipped topologies ``topologies/japan/japan.yaml`` and ``topologies/tochigi/tochigi.yaml``.

Deterministic (no randomness): re-running it reproduces the committed files byte for byte, which
``tests/topology/test_shipped.py`` checks. Inputs are ``topologies/japan/jp_prefectures.csv``
(2020 census populations and prefectural-capital coordinates) and the figures in the constants
below, each cited to its source in docs/sources.md (copied into the file headers).

Usage::

    PYTHONPATH=. python scripts/build_topologies.py            # rewrite the shipped files
    PYTHONPATH=. python scripts/build_topologies.py --out DIR  # write DIR/japan/japan.yaml, DIR/tochigi/tochigi.yaml
"""

from __future__ import annotations

import argparse
import csv
import heapq
import itertools
import math
from pathlib import Path

from netsim.yamlio import dump_yaml

REPO = Path(__file__).resolve().parent.parent
CSV_PATH = REPO / "topologies" / "japan" / "jp_prefectures.csv"

# --- traffic and subscriber figures (docs/sources.md) ----------------------------------------
#: Fixed-broadband subscriptions in Japan, 2023 (APNIC blog 2023-09-04: 36.6M FTTH + 6.5M cable + other).
NATIONAL_SUBSCRIPTIONS = 43_800_000
#: Average fixed-broadband download traffic, November 2024 (MIC traffic statistics).
NATIONAL_AVG_DOWNLOAD_TBPS = 38.9
#: Busy hour (21-23h) over the monthly average; MIC says networks are dimensioned for the night peak.
#: Assumed 2.0 (the upper end of the 1.5-2x range; netsim's calibrated diurnal shape has a weekday
#: 5-minute peak-to-mean of about 2.1, traces/README.md): 77.8 Tbps national peak.
PEAK_OVER_AVERAGE = 2.0
#: Peak download per subscription, Mbps: 38.9e12 * 2.0 / 43.8e6 = 1.776 Mbps.
PEAK_MBPS_PER_SUB = NATIONAL_AVG_DOWNLOAD_TBPS * 1e6 * PEAK_OVER_AVERAGE / NATIONAL_SUBSCRIPTIONS

#: Headroom: an access uplink alone carries its PoP's whole peak at <= 67% (the other may fail;
#: sampled traces are burstier than the full load in 5-minute bins).
ACCESS_HEADROOM = 1.5
#: Headroom on computed backbone loads: about one year of 20-40%/year growth (MIC) plus margin.
BACKBONE_HEADROOM = 1.5
#: Smallest long-haul link (a protection path that carries little at the normal peak).
BACKBONE_FLOOR_GBPS = 400

#: Content mix of peak download traffic. Video is ~65% of traffic (Sandvine 2023): 55% from
#: domestic video origins + 10% overseas video. The rest is an assumption of this file.
CONTENT_SHARES = {"video": 0.55, "web": 0.20, "update": 0.10, "game": 0.05, "overseas-video": 0.10}
#: Subscriber-to-subscriber traffic between carriers (p2p, voice, other): assumed 10% of peak
#: (netsim's traces put 10% of bytes in flows between access PoPs, most of them between carriers).
INTER_CARRIER_SHARE = 0.10

# --- places -------------------------------------------------------------------------------------
CORE_METROS = {
    # Otemachi (Tokyo) and Dojima (Osaka): where JPIX, JPNAP, BBIX and the carriers interconnect.
    "tokyo-otemachi": {"lat": 35.6867, "lon": 139.7660, "region": "tokyo", "name": "Tokyo (Otemachi)", "core": True},
    "osaka-dojima": {"lat": 34.6960, "lon": 135.4950, "region": "osaka", "name": "Osaka (Dojima)", "core": True},
}
LOS_ANGELES = {"lat": 34.0522, "lon": -118.2437, "region": "overseas", "name": "Los Angeles (USA)"}

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


def _round_up_gbps(gbps: float, *, floor: int = 10) -> int:
    """Round a needed capacity up to what is bought: 10G steps to 100G, then 100G steps."""
    step = 10 if gbps <= 100 else 100
    return max(floor, int(math.ceil(gbps / step - 1e-9)) * step)


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

    core_demand: dict[tuple[str, str], float] = {}  # (carrier, core metro) -> peak Gbps served from that core
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
        load = {frozenset((u, v)): 0.0 for u, v, _ in edges}
        through_access: set[str] = set()
        for pop_id, peak in demand.items():
            c = min(CORE_METROS, key=lambda k: (from_core[k][0][pop_id], k))
            core_demand[(carrier, c)] = core_demand.get((carrier, c), 0.0) + peak
            prev, v = from_core[c][1], pop_id
            while v != hub_id(carrier, c):
                if v != pop_id and v in demand:
                    through_access.add(v)  # a shortest path crossing an access PoP: a missing long-haul link
                load[frozenset((prev[v], v))] += peak
                v = prev[v]
        peak_total = sum(demand.values())
        core_link = frozenset((hub_id(carrier, "tokyo-otemachi"), hub_id(carrier, "osaka-dojima")))
        # Tokyo-Osaka also carries content one core lacks and an origin site's failover: >= 20% of peak.
        load[core_link] = max(load[core_link], 0.2 * peak_total)
        for u, v, base in edges:
            if "access" in base:
                # Either uplink alone carries the PoP's whole peak (no other PoP's path crosses it: checked below).
                cap = _round_up_gbps(demand[u] * ACCESS_HEADROOM)
            else:
                cap = _round_up_gbps(load[frozenset((u, v))] * BACKBONE_HEADROOM, floor=BACKBONE_FLOOR_GBPS)
            links.append(_link(u, v, cap, tags=tags_for(u, v, base)))
        carrier_peak[carrier] = peak_total
        stats[carrier] = {"peak": peak_total, "tokyo": core_demand.get((carrier, "tokyo-otemachi"), 0.0),
                          "osaka": core_demand.get((carrier, "osaka-dojima"), 0.0),
                          "through_access": sorted(through_access)}

    # --- IXs, content, transit ------------------------------------------------------------------
    ixs = {"tokyo-otemachi": ["jpix", "bbix"], "osaka-dojima": ["jpnap"]}
    for core, names in ixs.items():
        for ix in names:
            add_node({"id": f"{ix}-{core}", "kind": "ix", "asn": ASN[ix], "metro": core})
    domestic_share = 1.0 - CONTENT_SHARES["overseas-video"]
    for core, names in ixs.items():
        for ix in names:
            for carrier in CARRIERS:
                # Every port of a Tokyo IX can carry all of the carrier's Tokyo content alone (the two
                # fabrics back each other up); plus the inter-carrier share.
                need = core_demand[(carrier, core)] * (domestic_share + INTER_CARRIER_SHARE) * ACCESS_HEADROOM
                links.append(_link(f"{carrier}-{core}", f"{ix}-{core}", _round_up_gbps(need, floor=100), rel="p2p",
                                   tags=["ix"]))
    # A direct PNI between the two biggest carriers in Otemachi (inter-carrier traffic).
    pni = INTER_CARRIER_SHARE * min(carrier_peak["carrier-a"], carrier_peak["carrier-b"]) * ACCESS_HEADROOM
    links.append(_link("carrier-a-tokyo-otemachi", "carrier-b-tokyo-otemachi", _round_up_gbps(pni, floor=100),
                       rel="p2p", tags=["pni"]))
    for provider in ("video", "web", "update", "game"):
        for core, names in ixs.items():
            oid = f"origin-{provider}-{core}"
            add_node({"id": oid, "kind": "origin", "asn": ASN[provider], "metro": core, "provider": provider})
            served = sum(core_demand[(c, core)] for c in CARRIERS)
            need = CONTENT_SHARES[provider] * served * ACCESS_HEADROOM
            for ix in names:
                links.append(_link(oid, f"{ix}-{core}", _round_up_gbps(need, floor=10), rel="p2p", tags=["ix"]))
    # Overseas: a trans-Pacific transit carrier (Tokyo <-> Los Angeles) sells transit to the carriers;
    # the overseas video provider is its customer in Los Angeles.
    add_node({"id": "pacific-transit-tokyo-otemachi", "kind": "pop", "asn": ASN["pacific-transit"], "metro": "tokyo-otemachi"})
    add_node({"id": "pacific-transit-los-angeles", "kind": "pop", "asn": ASN["pacific-transit"], "metro": "los-angeles"})
    add_node({"id": "origin-overseas-video-los-angeles", "kind": "origin", "asn": ASN["overseas-video"],
              "metro": "los-angeles", "provider": "overseas-video"})
    national_peak = sum(carrier_peak.values())
    overseas = CONTENT_SHARES["overseas-video"] * national_peak * ACCESS_HEADROOM
    links.append(_link("pacific-transit-tokyo-otemachi", "pacific-transit-los-angeles", _round_up_gbps(overseas),
                       tags=["trans-pacific", "submarine"]))
    links.append(_link("origin-overseas-video-los-angeles", "pacific-transit-los-angeles", _round_up_gbps(overseas),
                       rel="c2p", tags=["transit"]))
    for carrier in CARRIERS:
        need = CONTENT_SHARES["overseas-video"] * carrier_peak[carrier] * ACCESS_HEADROOM
        links.append(_link(f"{carrier}-tokyo-otemachi", "pacific-transit-tokyo-otemachi", _round_up_gbps(need),
                           rel="c2p", tags=["transit"]))

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
    header = _japan_header(total_pop, total_subs, national_peak, stats)
    return doc, header


def _japan_header(total_pop: int, total_subs: int, national_peak_gbps: float, stats: dict) -> str:
    shares = ", ".join(f"{c} {s:.0%}" for c, s in CARRIER_SHARES.items())
    mix = ", ".join(f"{k} {v:.0%}" for k, v in CONTENT_SHARES.items())
    per_carrier = "\n".join(
        f"    {c}: peak {s['peak'] / 1000:.2f} Tbps, served from Tokyo {s['tokyo'] / 1000:.2f} / Osaka {s['osaka'] / 1000:.2f} Tbps"
        for c, s in stats.items())
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
  Peak download per subscription = {NATIONAL_AVG_DOWNLOAD_TBPS} Tbps national average download
  (MIC, November 2024) x {PEAK_OVER_AVERAGE} busy-hour factor (the 21-23h peak; assumed) /
  {NATIONAL_SUBSCRIPTIONS / 1e6:.1f}M = {PEAK_MBPS_PER_SUB:.3f} Mbps ({national_peak_gbps / 1000:.2f} Tbps national peak).
  Upload is ~1/8 of download (MIC, May 2022), so download sizes every link.
  Purchases are rounded up: 10G steps to 100G, then 100G steps.
  - access uplinks (tag access): each access PoP is dual-homed to its carrier's two nearest hubs
    (a PoP in a hub's own metro, or within 20 km of it, homes to that hub only); each uplink
    alone carries the PoP's whole peak at <= 80% ({ACCESS_HEADROOM}x peak). The script checks that no
    shortest path to another PoP crosses an access PoP.
  - long-haul links between hubs (tag long-haul; submarine for Naha): every access PoP's peak is
    routed from the nearer core (content origins and IXs are in both) along the carrier's
    shortest path in km (what netsim's default latency is proportional to); capacity =
    {BACKBONE_HEADROOM}x the resulting load (about a year of 20-40%/year growth, MIC), at least
    {BACKBONE_FLOOR_GBPS} Gbps (protection paths). Tokyo-Osaka carries >= 20% of the carrier's peak.
{per_carrier}
  - IX ports (tag ix): carriers are members of jpix and bbix (Otemachi) and jpnap (Dojima);
    every port carries the carrier's content demand at that core ({1 - CONTENT_SHARES['overseas-video']:.0%} domestic
    content + {INTER_CARRIER_SHARE:.0%} inter-carrier) x {ACCESS_HEADROOM}, so one Tokyo fabric can carry all of it.
    (Content providers' private interconnects are folded into these ports, hence their size.)
    carrier-a and carrier-b also have a PNI in Otemachi ({INTER_CARRIER_SHARE:.0%} of the smaller peak x {ACCESS_HEADROOM}).
  - content origins (video, web, update, game) in Otemachi and Dojima are IX members; each
    port carries the provider's share of the demand served from that core x {ACCESS_HEADROOM}.
    Content mix of peak traffic: {mix}. Video is ~65% of traffic (Sandvine 2023: here 55% domestic
    + 10% overseas); the other shares are assumptions.
  - transit (tag transit): the carriers buy transit in Otemachi from pacific-transit, which
    carries overseas video from Los Angeles over the trans-Pacific cable (tag trans-pacific);
    sized for the overseas share of peak x {ACCESS_HEADROOM}.

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
  Tags: backbone = a domestic inter-metro link reaching a core metro (DESIGN.md's definition);
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
        upstream = _round_up_gbps(peak * ACCESS_HEADROOM)
        # Metro ring through the ISP's PoPs: the shortest cycle (few PoPs: try every order); two PoPs: one link.
        cities = spec["cities"]
        first, rest = cities[0], cities[1:]
        ring = min(([first, *perm] for perm in itertools.permutations(rest)),
                   key=lambda r: (round(sum(_km(metros[r[i]], metros[r[(i + 1) % len(r)]]) for i in range(len(r))), 6), r))
        pairs = [(ring[i], ring[(i + 1) % len(ring)]) for i in range(len(ring))] if len(ring) > 2 else [(ring[0], ring[1])]
        for a, b in pairs:
            # A ring link carries the whole ISP's traffic when the ring is cut elsewhere.
            links.append(_link(f"{isp}-{a}", f"{isp}-{b}", upstream, tags=["metro-ring"]))
        lines = [spec["main"]] + ([spec["second_upstream"]] if spec["second_upstream"] else [])
        for city in lines:
            links.append(_link(f"{isp}-{city}", f"{isp}-tokyo-otemachi", upstream, tags=["upstream", "backbone"]))
        transit_each = _round_up_gbps(peak * ACCESS_HEADROOM / len(spec["transit"]))
        for carrier in spec["transit"]:
            links.append(_link(f"{isp}-tokyo-otemachi", f"{carrier}-tokyo-otemachi", transit_each, rel="c2p",
                               tags=["transit"]))
        isp_stats[isp] = {"subs": total, "peak": peak, "upstream": upstream, "lines": len(lines),
                          "transit": transit_each, "carriers": spec["transit"]}

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
    header = _tochigi_header(tochigi_pop, tochigi_subs, subs_per_person, isp_stats)
    return doc, header


def _tochigi_header(tochigi_pop: int, tochigi_subs: float, subs_per_person: float, isp_stats: dict) -> str:
    total = sum(s["subs"] for s in isp_stats.values())
    rows = "\n".join(
        f"    {isp}: {TOCHIGI_ISPS[isp]['share']:.0%} of {', '.join(TOCHIGI_ISPS[isp]['cities'])}; {s['subs']:,} subs, "
        f"peak {s['peak']:.1f} Gbps; {s['lines']} upstream line(s) of {s['upstream']} Gbps; transit "
        f"{s['transit']} Gbps from {' and '.join(s['carriers'])}"
        for isp, s in isp_stats.items())
    return f"""\
Tochigi prefecture case topology. GENERATED by scripts/build_topologies.py; do not edit by hand:
change the script and re-run it (a test checks the file is reproduced byte for byte).

The case (DESIGN.md): four local operators in Tochigi that could form an aggregated ISP with
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
  Peak download per subscription {PEAK_MBPS_PER_SUB:.3f} Mbps = 38.9 Tbps national average (MIC, Nov 2024)
  x 1.5 busy-hour factor (assumed) / 43.8M. Purchases rounded up in 10G steps (100G steps above 100G).
  - upstream (tags upstream, backbone): each ISP's own line(s) from its main PoP to its router
    in Otemachi; each line carries the ISP's whole peak at <= 80% ({ACCESS_HEADROOM}x peak). isp-a has a
    second, diverse line from Moka.
  - metro-ring: an ISP's PoPs form a ring (the shortest cycle); each ring link = the upstream size.
  - transit (c2p, tag transit): in Otemachi from carrier-a/-b, {ACCESS_HEADROOM}x peak (split if two carriers).
  - Tokyo side (not the bottleneck of this study): carrier and content ports at JPIX, transit
    to pacific-transit and the trans-Pacific cable are {TOCHIGI_CONTENT_GBPS} Gbps; carrier-a's Utsunomiya
    PoP has a 400 Gbps line to Otemachi.

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
