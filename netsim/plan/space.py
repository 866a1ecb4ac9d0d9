"""What ``netsim plan`` may build: regional-IX sites, IX member sets, cache hosts and sizes.

A :class:`Candidate` is one design on top of the scenario's first design (its baseline): at most
one regional IX (an existing ``ix`` node outside the core metros, or a new one in a metro where two
or more member ASes have PoPs) with a set of members, and at most one shared cache (a host PoP of a
member and a size from a ladder). With an IX the cache serves every member on it (the consortium's
shared cache); without one it serves its host's AS. Joint line procurement (``aggregated_isp``) and
access changes are not searched: they are contracts, not placements, and stay hand-written.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import networkx as nx
from pydantic import BaseModel, ConfigDict, Field, field_validator

from netsim.errors import InputError

__all__ = ["Candidate", "CandidateSpace", "Space", "DEFAULT_SIZES_TB", "NEW_IX_ASN"]

#: The cache size ladder searched by default (TB): 1 to 100 TB in roughly x3 steps.
DEFAULT_SIZES_TB = (1.0, 3.0, 10.0, 30.0, 100.0)
#: The ASN given to a new IX's route server (a private ASN, RFC 6996; an assumption, override with ix_asn).
NEW_IX_ASN = 64999


@dataclass(frozen=True)
class Candidate:
    """One design: ``ix`` (node id, or None), its ``members`` (sorted ASNs), a cache ``host`` and ``size_tb``."""

    ix: str | None = None
    members: tuple[int, ...] = ()
    host: str | None = None
    size_tb: float | None = None

    @property
    def key(self) -> str:
        """A stable id (also the design's name in best.yaml, shortened there)."""
        parts = []
        if self.ix:
            parts.append(f"ix={self.ix}[{'+'.join(str(m) for m in self.members)}]")
        if self.host:
            parts.append(f"cache={self.host}:{self.size_tb:g}TB")
        return ",".join(parts) or "baseline"

    @property
    def label(self) -> str:
        out = []
        if self.ix:
            out.append(f"IX {self.ix} ({len(self.members)} members)")
        if self.host:
            out.append(f"{self.size_tb:g} TB cache at {self.host}")
        return " + ".join(out) or "as the baseline"


class CandidateSpace(BaseModel):
    """The ``--candidates`` file (YAML): what the search may choose from. Every key is optional."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    ix: list[str] | None = Field(None, description="IX sites: existing ix node ids, or metro:NAME for a new IX "
                                 "there; default every ix node outside the core metros and every non-core metro "
                                 "where two or more member ASes have PoPs")
    members: list[int] | None = Field(None, description="ASes that may join the IX; default every AS with subscribers")
    min_members: int = Field(2, ge=2, description="Fewest members on an IX")
    hosts: list[str] | None = Field(None, description="Cache host PoPs; default every access PoP of the members")
    sizes_tb: list[float] = Field(list(DEFAULT_SIZES_TB), min_length=1,
                                  description="Cache sizes (TB) searched, the ladder of size moves")
    policy: str = Field("lru", description="Cache policy of the planned caches")
    ix_asn: int = Field(NEW_IX_ASN, ge=0, le=4294967295, description="ASN of a new IX's route server (assumption)")

    @field_validator("policy")
    @classmethod
    def _known_policy(cls, v: str) -> str:
        # NOTE: here, so a typo is named at the file's `policy` key, not at the design built from it
        from netsim.cache.policies import CACHE_POLICIES

        try:
            CACHE_POLICIES[v]
        except KeyError as e:   # the registry's own line: unknown cache policy 'arc'; known: ...
            raise ValueError(e.args[0]) from None
        return v


class Space:
    """The candidates of one topology, and the moves of the local search between them."""

    def __init__(self, g: nx.DiGraph, spec: CandidateSpace | None = None, *, source: str | None = None):
        spec = spec or CandidateSpace()
        self.spec = spec
        core = {m for m, d in (g.graph.get("metros") or {}).items() if d.get("core")}
        access = sorted({int(d["asn"]) for _, d in g.nodes(data=True) if d.get("subscribers", 0) > 0})
        members = sorted(set(spec.members)) if spec.members is not None else access
        for i, a in enumerate(members):
            if a not in access:
                raise InputError(f"AS{a} has no access PoP (no node with subscribers)", source=source,
                                 where=f"members[{i}]")
        self.members = tuple(members)
        pops_of = {a: sorted(str(n) for n, d in g.nodes(data=True)
                             if d.get("subscribers", 0) > 0 and int(d["asn"]) == a) for a in members}
        # IX sites: existing regional IX nodes, and metros where >= 2 members have PoPs
        self.new_ix_metro: dict[str, str] = {}
        if spec.ix is None:
            sites = sorted(str(n) for n, d in g.nodes(data=True) if d.get("kind") == "ix" and d.get("metro") not in core)
            by_metro: dict[str, set] = {}
            for a in members:
                for p in pops_of[a]:
                    by_metro.setdefault(str(g.nodes[p].get("metro")), set()).add(a)
            taken = {g.nodes[s].get("metro") for s in sites}
            for m, asns in sorted(by_metro.items()):
                if m not in core and m not in taken and len(asns) >= spec.min_members:
                    self.new_ix_metro[f"plan-ix-{m}"] = m
            sites += sorted(self.new_ix_metro)
        else:
            sites = []
            for i, s in enumerate(spec.ix):
                if s.startswith("metro:"):
                    m = s.removeprefix("metro:")
                    if m not in (g.graph.get("metros") or {}):
                        raise InputError(f"metro {m!r} is not in the topology's metros", source=source, where=f"ix[{i}]")
                    self.new_ix_metro[f"plan-ix-{m}"] = m
                    sites.append(f"plan-ix-{m}")
                elif s not in g or g.nodes[s].get("kind") != "ix":
                    raise InputError(f"{s!r} is not an ix node of the topology (write metro:NAME for a new IX)",
                                     source=source, where=f"ix[{i}]")
                else:
                    sites.append(s)
        self.ix_sites = tuple(sites)
        if spec.hosts is None:
            hosts = sorted(p for a in members for p in pops_of[a])
        else:
            hosts = []
            for i, h in enumerate(spec.hosts):
                d = g.nodes[h] if h in g else None
                if d is None or d.get("kind", "pop") != "pop":
                    raise InputError(f"{h!r} is not a PoP of the topology", source=source, where=f"hosts[{i}]")
                hosts.append(h)
        self.hosts = tuple(sorted(set(hosts)))
        self.host_asn = {h: int(g.nodes[h]["asn"]) for h in self.hosts}
        self.sizes = tuple(sorted(set(float(s) for s in spec.sizes_tb)))
        if any(not 0 < s <= 1e6 for s in self.sizes):
            raise InputError("cache sizes must be > 0 and at most 1e6 TB", source=source, where="sizes_tb")
        if len(self.members) < spec.min_members:
            self.ix_sites = ()

    # -- the candidate set ------------------------------------------------------------------------
    def member_sets(self) -> list[tuple[int, ...]]:
        n = len(self.members)
        return [c for k in range(self.spec.min_members, n + 1) for c in itertools.combinations(self.members, k)]

    def valid(self, c: Candidate) -> bool:
        """A cache without an IX serves its host's AS; with one, its host must be a member."""
        if c.host is not None and c.ix is not None and self.host_asn[c.host] not in c.members:
            return False
        return True

    def all(self) -> list[Candidate]:
        """Every candidate (for an exhaustive search)."""
        ixs = [(None, ())] + [(s, m) for s in self.ix_sites for m in self.member_sets()]
        caches = [(None, None)] + [(h, z) for h in self.hosts for z in self.sizes]
        out = [Candidate(i, m, h, z) for (i, m), (h, z) in itertools.product(ixs, caches)]
        return [c for c in out if self.valid(c)]

    def count(self) -> int:
        return len(self.all())

    def neighbours(self, c: Candidate) -> list[Candidate]:
        """One move away: another IX site (all members), no IX, a member added or removed, another cache
        host, the next size up or down, a cache added (at the middle of the ladder) or removed."""
        out: set[Candidate] = set()
        mid = self.sizes[len(self.sizes) // 2]
        for s in self.ix_sites:
            if s != c.ix:
                out.add(Candidate(s, self.members, c.host, c.size_tb))
        if c.ix is not None:
            out.add(Candidate(None, (), c.host, c.size_tb))
            for a in self.members:
                m = set(c.members) ^ {a}
                if len(m) >= self.spec.min_members:
                    out.add(Candidate(c.ix, tuple(sorted(m)), c.host, c.size_tb))
        for h in self.hosts:
            if h != c.host:
                out.add(Candidate(c.ix, c.members, h, c.size_tb if c.size_tb is not None else mid))
        if c.host is not None:
            out.add(Candidate(c.ix, c.members, None, None))
            i = self.sizes.index(c.size_tb) if c.size_tb in self.sizes else self.sizes.index(mid)
            for j in (i - 1, i + 1):
                if 0 <= j < len(self.sizes):
                    out.add(Candidate(c.ix, c.members, c.host, self.sizes[j]))
        return sorted((x for x in out if self.valid(x)), key=lambda x: x.key)

    # -- as design transforms -----------------------------------------------------------------------
    def transforms(self, c: Candidate, *, ports: dict[int, float] | None = None, cache_link_gbps: float = 100.0,
                   port_gbps: float = 100.0) -> list[dict]:
        """The design transforms of ``c`` (netsim.topology.designs), with the given port and link sizes."""
        out: list[dict] = []
        if c.ix is not None:
            ix = {"ix": c.ix, "members": list(c.members), "port_gbps": float(port_gbps)}
            if ports:
                ix["ports"] = {int(a): float(v) for a, v in sorted(ports.items())}
            if c.ix in self.new_ix_metro:
                ix["metro"], ix["asn"] = self.new_ix_metro[c.ix], int(self.spec.ix_asn)
            out.append({"regional_ix": ix})
        if c.host is not None:
            cache = {"host": c.host, "capacity_tb": float(c.size_tb), "policy": self.spec.policy,
                     "link_gbps": float(cache_link_gbps)}
            if c.ix is not None:
                cache["ix"] = c.ix
            out.append({"shared_cache": cache})
        return out
