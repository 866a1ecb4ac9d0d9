"""The topology file schema (pydantic) and its conversion to and from a networkx.DiGraph.

In memory a topology is a ``networkx.DiGraph``. Node attributes: ``kind`` (pop, ix, cache, origin),
``asn``, ``metro``, ``region``, ``lat``, ``lon``, ``subscribers`` (access PoPs), ``name``; caches
also ``capacity_bytes``, ``policy``, ``serves`` (ASNs), ``providers``, ``parent``; origins
``provider``. Edge attributes: ``capacity_gbps``, ``latency_ms``, ``rel`` (internal, c2p, p2c, p2p),
``cost`` (per month), ``tags`` (a sorted tuple of strings), and optionally ``igp_metric``.
Graph attributes: ``name``, ``description``, ``as_names`` (asn -> name), ``metros`` (metro ->
{lat, lon, region}).
"""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator

from netsim.yamlio import no_bool_numbers

__all__ = [
    "NODE_KINDS", "RELS", "REVERSE_REL", "CACHE_POLICIES_KNOWN", "MAX_GBPS", "MAX_COUNT", "MAX_BYTES", "MAX_LATENCY_MS",
    "MAX_KM", "MAX_COST", "MAX_METRIC",
    "NodeModel", "LinkModel", "MetroModel", "ASModel", "TopologyModel", "AccessModel", "AccessTierModel",
]

NODE_KINDS = ("pop", "ix", "cache", "origin")
RELS = ("internal", "c2p", "p2c", "p2p")
REVERSE_REL = {"internal": "internal", "c2p": "p2c", "p2c": "c2p", "p2p": "p2p"}
#: Upper bounds of a topology's numbers: far above any real network (a link of 1 Ebit/s, ten billion
#: subscribers, a cache of 1 EB, a one-way latency of 100 s, a route longer than 25 times round the Earth)
MAX_GBPS = 1e9
MAX_COUNT = 10_000_000_000
MAX_BYTES = 10**18
MAX_LATENCY_MS = 1e5
MAX_KM = 1e6
MAX_COST = 1e15
MAX_METRIC = 1e9
#: Policies a cache node may name; netsim.cache registers their implementations.
CACHE_POLICIES_KNOWN = ("lru", "fifo", "lfu", "s3fifo", "static")


class _Strict(BaseModel):
    # NOTE: no infinite or NaN number anywhere in a topology (an infinite capacity passed the check and broke the report),
    # no boolean for a number (`asn: yes` was AS1), and upper bounds far above any real network (MAX_*) that keep
    # every product of them (bytes per bin, subscribers x rates) finite: 1e300 Gbps passed the check and overflowed in
    # the run. The validators name their fields: one on every field of 1e5 nodes would cost a second.
    model_config = ConfigDict(extra="forbid", frozen=False, str_strip_whitespace=True, allow_inf_nan=False)

    _bools = no_bool_numbers("lat", "lon", "population", "gbps", "shared_by", "line_gbps", "cpe_mbps", "latency_ms",
                             "pppoe_share", "asn", "subscribers", "access_gbps", "capacity_bytes", "serves", "cost",
                             "capacity_gbps", "igp_metric", "distance_km", "ases")


class MetroModel(_Strict):
    """A place: coordinates that nodes in it inherit, and the region it belongs to."""

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    region: Optional[str] = None
    name: Optional[str] = None
    population: Optional[int] = Field(default=None, ge=0, le=MAX_COUNT)
    core: bool = False  # a core metro (Tokyo, Osaka): inter-metro links reaching it are backbone
    overseas: bool = False  # abroad: bytes sent from its nodes are "overseas" in pairs.served_from


class AccessTierModel(_Strict):
    """One shared resource of the access network: every subscriber behind it shares ``gbps`` with
    ``shared_by - 1`` others (a PON tree, an OLT uplink, a PPPoE termination device, a cable service
    group). ``path``: which subscribers' traffic crosses it (``all``, or only those on ``pppoe`` or
    ``ipoe``)."""

    name: str = Field(min_length=1, max_length=64)
    gbps: float = Field(gt=0, le=1e6)
    shared_by: int = Field(ge=1, le=10_000_000)
    path: Literal["all", "pppoe", "ipoe"] = "all"


class AccessModel(_Strict):
    """The access network between an ISP's PoP and its subscribers (netsim.analysis.quality uses it).

    Every field is optional in a file; a profile given on an AS (``ases[asn].access``) applies to its
    access PoPs, and one on a node (``nodes[i].access``) overrides it field by field.
    """

    line_gbps: Optional[float] = Field(default=None, gt=0, le=1e4)     # the subscriber's line rate
    cpe_mbps: Optional[float] = Field(default=None, gt=0, le=1e7)      # in-home limit: router, Wi-Fi, device
    latency_ms: Optional[float] = Field(default=None, ge=0, le=1e4)    # round trip the access adds
    pppoe_share: Optional[float] = Field(default=None, ge=0, le=1)     # subscribers whose traffic takes PPPoE
    tiers: Optional[list[AccessTierModel]] = None


class ASModel(_Strict):
    """Descriptive facts about an AS (all optional), and its access network (``access``)."""

    name: Optional[str] = None
    type: Optional[str] = None  # e.g. carrier, regional-isp, cable, content, transit, ix-operator
    access: Optional[AccessModel] = None


class NodeModel(_Strict):
    id: str = Field(min_length=1)
    kind: Literal["pop", "ix", "cache", "origin"]
    asn: int = Field(ge=0, le=4294967295)
    metro: str = Field(min_length=1)
    region: Optional[str] = None
    lat: Optional[float] = Field(default=None, ge=-90, le=90)
    lon: Optional[float] = Field(default=None, ge=-180, le=180)
    name: Optional[str] = None
    subscribers: int = Field(default=0, ge=0, le=MAX_COUNT)
    access_gbps: Optional[float] = Field(default=None, gt=0, le=MAX_GBPS)  # subscriber line speed (quality); access.line_gbps wins
    access: Optional[AccessModel] = None                     # overrides the AS's access profile (access PoPs)
    # caches
    capacity_bytes: Optional[int] = Field(default=None, gt=0, le=MAX_BYTES)
    policy: Optional[Literal["lru", "fifo", "lfu", "s3fifo", "static"]] = None
    serves: Optional[list[int]] = None
    providers: Optional[list[str]] = None
    parent: Optional[str] = None
    # origins
    provider: Optional[str] = None
    cost: Optional[float] = Field(default=None, ge=0, le=MAX_COST)  # per month (a cache site, an IX port fee...)


class LinkModel(_Strict):
    src: str = Field(min_length=1)
    dst: str = Field(min_length=1)
    capacity_gbps: float = Field(gt=0, le=MAX_GBPS)
    latency_ms: Optional[float] = Field(default=None, gt=0, le=MAX_LATENCY_MS)
    rel: Optional[Literal["internal", "c2p", "p2c", "p2p"]] = None
    cost: Optional[float] = Field(default=None, ge=0, le=MAX_COST)
    tags: list[str] = Field(default_factory=list)
    duplex: bool = True
    igp_metric: Optional[float] = Field(default=None, gt=0, le=MAX_METRIC)
    distance_km: Optional[float] = Field(default=None, ge=0, le=MAX_KM)

    @field_validator("tags")
    @classmethod
    def _tags_sorted(cls, v: list[str]) -> list[str]:
        return sorted(set(v))


class TopologyModel(_Strict):
    name: str = "topology"
    description: Optional[str] = None
    metros: dict[str, MetroModel] = Field(default_factory=dict)
    ases: dict[int, ASModel] = Field(default_factory=dict)
    nodes: list[NodeModel]
    links: list[LinkModel] = Field(default_factory=list)
