"""Designs: named, declarative transforms of a topology (registered by name, keyword-only parameters).

A scenario's design is a list of transforms applied in order to a copy of the topology; the
design's name is what the outputs call it. ``baseline`` is the topology as drawn.
"""

from __future__ import annotations

import functools
import inspect
import math
from dataclasses import dataclass

import networkx as nx

from netsim.errors import InputError
from netsim.registry import Registry
from netsim.topology.schema import CACHE_POLICIES_KNOWN, REVERSE_REL

__all__ = ["DESIGNS", "apply_design", "PrefetchSettings"]

DESIGNS: Registry = Registry("design transform")


@DESIGNS.register("baseline")
def baseline(g: nx.DiGraph) -> nx.DiGraph:
    """The topology as drawn."""
    return g


def apply_design(g: nx.DiGraph, name: str, transforms: list[dict], *, source: str | None = None,
                 where: str = "designs") -> nx.DiGraph:
    """Apply a design's transforms (``[{transform_name: {param: value}}, ...]``) to a copy of ``g``.

    A design with no transforms whose name is a registered transform applies that transform with
    its defaults (so ``designs: [baseline]`` works). Unknown transforms or parameters raise an
    InputError naming the place in the scenario file.

    Examples
    --------
    >>> from netsim import load_topology
    >>> g = load_topology("examples/two_as")
    >>> apply_design(g, "baseline", []).number_of_edges() == g.number_of_edges()
    True
    >>> apply_design(g, "x", [{"nope": {}}])
    Traceback (most recent call last):
    ...
    netsim.errors.InputError: designs.transforms[0]: unknown design transform 'nope'; known: access, aggregated_isp, baseline, prefetch, regional_ix, shared_cache
    """
    out = g.copy()
    steps = transforms or ([{name: {}}] if name in DESIGNS else None)
    if steps is None:
        raise InputError(f"design {name!r} has no transforms and is not a known transform; known: {', '.join(DESIGNS.names())}",
                         source=source, where=where)
    for i, step in enumerate(steps):
        at = f"{where}.transforms[{i}]"
        if not isinstance(step, dict) or len(step) != 1:
            raise InputError("expected one {transform: {parameters}} mapping", source=source, where=at)
        (tname, params), = step.items()
        if tname not in DESIGNS:
            raise InputError(f"unknown design transform {tname!r}; known: {', '.join(DESIGNS.names())}", source=source, where=at)
        fn = DESIGNS[tname]
        params = params or {}
        if not isinstance(params, dict):
            raise InputError(f"parameters of {tname} must be a mapping", source=source, where=f"{at}.{tname}")
        allowed = [p for p in inspect.signature(fn).parameters.values() if p.kind is inspect.Parameter.KEYWORD_ONLY]
        unknown = sorted(set(params) - {p.name for p in allowed})
        if unknown:
            raise InputError(f"unknown parameter {unknown[0]!r} of {tname}; expected one of: {', '.join(p.name for p in allowed) or 'none'}",
                             source=source, where=f"{at}.{tname}.{unknown[0]}")
        missing = [p.name for p in allowed if p.default is inspect.Parameter.empty and p.name not in params]
        if missing:   # it was a TypeError
            raise InputError(f"{tname} needs the parameter(s) {', '.join(missing)}", source=source, where=f"{at}.{tname}")
        params = {k: _coerce(fn, k, v, source=source, where=f"{at}.{tname}.{k}") for k, v in params.items()}
        try:
            out = fn(out, **params)
        except InputError as e:
            raise e.located(source=source, where_prefix=f"{at}.{tname}") from None
    out.graph["design"] = name
    return out


#: The largest number a transform parameter may be (a port of 1 Ebit/s, ...): 1e300 Gbps overflowed in the run
MAX_PARAM = 1e9


@functools.lru_cache(maxsize=None)
def _param_types(fn) -> dict:
    import typing

    return typing.get_type_hints(fn)


def _coerce(fn, name: str, value, *, source: str | None, where: str):
    """A transform parameter as its annotation says (YAML 1.1 reads ``1e2`` as a string; ``port_gbps: 1e2`` was a
    TypeError): numbers parsed, finite, at most :data:`MAX_PARAM` and never a boolean; unannotated ones as given."""
    from pydantic import ConfigDict, TypeAdapter, ValidationError

    from netsim.yamlio import bool_as_number

    ann = _param_types(fn).get(name)
    if ann is None:
        return value
    if bool_as_number(ann, value) == "":
        raise InputError(f"expected a number, found {value!r} (true, false, yes, no are booleans)", source=source, where=where)
    try:
        out = TypeAdapter(ann, config=ConfigDict(allow_inf_nan=False, coerce_numbers_to_str=True)).validate_python(value)
    except ValidationError as e:
        msg = e.errors()[0]["msg"]
        raise InputError(f"{msg[0].lower() + msg[1:]}, found {value!r:.60}", source=source, where=where) from None
    if isinstance(out, float) and abs(out) > MAX_PARAM:
        raise InputError(f"expected at most {MAX_PARAM:g} in magnitude, found {value!r:.60}", source=source, where=where)
    return out


def _core_metros(g: nx.DiGraph) -> set:
    return {m for m, d in g.graph.get("metros", {}).items() if d.get("core")}


def _need_node(g: nx.DiGraph, node: str, param: str, *, kind: str | None = None) -> dict:
    if node not in g:
        raise InputError(f"node {node!r} is not in the topology", where=param)
    d = g.nodes[node]
    if kind is not None and d["kind"] != kind:
        raise InputError(f"node {node!r} is a {d['kind']}; expected {'an' if kind[0] in 'aeiou' else 'a'} {kind} node", where=param)
    return d


def _asns(g: nx.DiGraph) -> set:
    return {d["asn"] for _, d in g.nodes(data=True)}


def _check_members(g: nx.DiGraph, members, param: str = "members") -> list[int]:
    if not members:
        raise InputError("expected a non-empty list of member ASNs", where=param)
    known = _asns(g)
    out = []
    for i, m in enumerate(members):
        if isinstance(m, bool) or not isinstance(m, int):
            raise InputError(f"expected an ASN (integer), found {m!r}", where=f"{param}[{i}]")
        if m not in known:
            raise InputError(f"AS{m} has no node in the topology", where=f"{param}[{i}]")
        out.append(m)
    return sorted(set(out))


def _nearest_pop(g: nx.DiGraph, asn: int, to: dict, *, avoid_metros: set) -> str:
    """The member's PoP nearest to a site: same metro first, then great-circle distance, then the most
    link capacity (a site's core router rather than its access PoP), then id."""
    from netsim.topology.build import great_circle_km

    cands = [n for n, d in g.nodes(data=True) if d["asn"] == asn and d["kind"] == "pop" and d["metro"] not in avoid_metros]
    if not cands:
        raise InputError(f"AS{asn} has no PoP outside the core metros to connect")

    def key(n):
        d = g.nodes[n]
        same = d["metro"] != to["metro"]
        km = float(great_circle_km(d["lat"], d["lon"], to["lat"], to["lon"])) if "lat" in d and "lat" in to else 0.0
        # among PoPs of one site, the core router (most link capacity) rather than an access PoP
        cap = sum(e["capacity_gbps"] for _, _, e in g.out_edges(n, data=True))
        return (same, round(km, 3), -cap, str(n))

    return min(cands, key=key)


def _link(g: nx.DiGraph, u: str, v: str, *, capacity_gbps: float, rel: str, tags: tuple, latency_ms: float | None = None) -> None:
    if latency_ms is None:
        from netsim.topology.build import default_latency_ms, great_circle_km

        a, b = g.nodes[u], g.nodes[v]
        latency_ms = default_latency_ms(float(great_circle_km(a["lat"], a["lon"], b["lat"], b["lon"]))) if "lat" in a and "lat" in b else 0.1
    attrs = {"capacity_gbps": float(capacity_gbps), "latency_ms": float(latency_ms), "tags": tuple(sorted(tags))}
    g.add_edge(u, v, rel=rel, **attrs)
    g.add_edge(v, u, rel=REVERSE_REL[rel], **attrs)


@DESIGNS.register("regional_ix")
def regional_ix(g: nx.DiGraph, *, ix: str, members: list, port_gbps: float = 100.0, metro: str | None = None,
                asn: int | None = None, ports: dict | None = None) -> nx.DiGraph:
    """Connect listed ISPs to a regional IX: each member's PoP nearest to the IX gets a ``p2p`` port.

    The IX is a route server: its members peer with each other (routes learned there are peer
    routes), so traffic between members turns around at the IX instead of going through Tokyo.
    ``ix`` names an existing ``ix`` node (e.g. ``tochigi-ix``), or a new one created in ``metro``
    (coordinates from the topology's metros) with the operator's ``asn``. ``ports`` sizes some
    members' ports differently (``{asn: Gbps}``; e.g. the host of a shared cache, whose port
    carries the cache's traffic to the other members).

    Examples
    --------
    >>> from netsim import load_topology
    >>> g = regional_ix(load_topology("tochigi"), ix="tochigi-ix", members=[65001, 65002], port_gbps=40)
    >>> sorted(v for v in g.successors("tochigi-ix"))
    ['isp-a-utsunomiya', 'isp-b-utsunomiya']
    >>> g.edges["isp-a-utsunomiya", "tochigi-ix"]["rel"], g.edges["isp-a-utsunomiya", "tochigi-ix"]["capacity_gbps"]
    ('p2p', 40.0)
    """
    if not port_gbps > 0:
        raise InputError(f"expected a port capacity > 0, found {port_gbps!r}", where="port_gbps")
    checked = _check_members(g, members)
    if ports is not None and not isinstance(ports, dict):
        raise InputError(f"expected a mapping of member ASN to port Gbps, e.g. {{65001: 200}}, found {ports!r}",
                         where="ports")
    given, ports = dict(ports or {}), {}
    for a, cap in given.items():
        # NOTE: a scenario written back as JSON-compatible YAML has string keys ('65001')
        asn = int(a) if isinstance(a, str) and a.strip().isdigit() else a
        if isinstance(asn, bool) or not isinstance(asn, int) or asn not in checked:
            raise InputError(f"{a!r} is not one of the members", where=f"ports.{a}")
        if isinstance(cap, bool) or not isinstance(cap, (int, float)) or not math.isfinite(cap) or not cap > 0:
            raise InputError(f"expected a port capacity > 0 (Gbps), found {cap!r}", where=f"ports.{a}")
        ports[asn] = float(cap)
    if ix not in g:
        if metro is None or asn is None:
            raise InputError(f"IX {ix!r} is not in the topology; give metro and asn to create it", where="ix")
        if not 0 <= asn <= 4294967295:
            raise InputError(f"expected an AS number 0..4294967295, found {asn!r:.40}", where="asn")
        m = g.graph.get("metros", {}).get(metro)
        if m is None:
            raise InputError(f"metro {metro!r} is not in the topology's metros", where="metro")
        g.add_node(ix, kind="ix", asn=int(asn), metro=metro, region=m.get("region") or metro, lat=m["lat"], lon=m["lon"])
    site = _need_node(g, ix, "ix", kind="ix")
    core = _core_metros(g)
    for i, member in enumerate(checked):
        try:
            pop = _nearest_pop(g, member, site, avoid_metros=core - {site["metro"]})
        except InputError as e:
            raise e.located(where_prefix=f"members[{i}]") from None
        _link(g, pop, ix, capacity_gbps=float(ports.get(member, port_gbps)), rel="p2p", tags=("ix", "regional-ix"))
    return g


@DESIGNS.register("shared_cache")
def shared_cache(g: nx.DiGraph, *, host: str, capacity_tb: float, policy: str = "lru", serves: list | None = None,
                 ix: str | None = None, providers: list | None = None, link_gbps: float = 100.0,
                 id: str | None = None) -> nx.DiGraph:
    """Add a shared cache beside a host PoP (operated in the host's AS, filled through its upstream).

    ``serves`` lists the ASNs it may serve; default: the host's AS and, with ``ix``, every AS
    with a PoP connected to that IX (the consortium). Other members reach it over the IX
    (peer routes to the host's AS). ``providers`` limits the content it holds (default: all).

    Examples
    --------
    >>> from netsim import load_topology
    >>> g = regional_ix(load_topology("tochigi"), ix="tochigi-ix", members=[65001, 65002])
    >>> g = shared_cache(g, host="isp-a-utsunomiya", capacity_tb=10, ix="tochigi-ix")
    >>> d = g.nodes["cache-isp-a-utsunomiya"]
    >>> d["kind"], d["capacity_bytes"], d["serves"], d["policy"]
    ('cache', 10000000000000, (65001, 65002), 'lru')
    """
    hd = _need_node(g, host, "host", kind="pop")
    if not 0 < capacity_tb <= 1e6:   # 1e6 TB = 1 EB: the largest cache a topology may hold
        raise InputError(f"expected a capacity > 0 and at most 1e6 (TB), found {capacity_tb!r}", where="capacity_tb")
    if policy not in CACHE_POLICIES_KNOWN:
        raise InputError(f"unknown cache policy {policy!r}; known: {', '.join(CACHE_POLICIES_KNOWN)}", where="policy")
    node = id or f"cache-{host}"
    if node in g:
        raise InputError(f"node {node!r} already exists", where="id")
    if serves is None:
        asns = {hd["asn"]}
        if ix is not None:
            _need_node(g, ix, "ix", kind="ix")
            asns |= {g.nodes[v]["asn"] for v in g.successors(ix)}
        serves_t = tuple(sorted(asns))
    else:
        serves_t = tuple(_check_members(g, serves, "serves"))
    attrs = {k: hd[k] for k in ("metro", "region", "lat", "lon") if k in hd}
    g.add_node(node, kind="cache", asn=hd["asn"], capacity_bytes=int(round(capacity_tb * 1e12)), policy=policy,
               serves=serves_t, providers=None if providers is None else tuple(sorted(providers)), parent=None, **attrs)
    _link(g, node, host, capacity_gbps=link_gbps, rel="internal", tags=("cache",), latency_ms=0.01)
    return g


@DESIGNS.register("aggregated_isp")
def aggregated_isp(g: nx.DiGraph, *, members: list, site: str, asn: int, transit: str,
                   line_gbps: float | None = None, headroom: float = 1.25, peak_mbps_per_subscriber: float | None = None,
                   core_metro: str = "tokyo-otemachi", name: str = "aggregated ISP") -> nx.DiGraph:
    """The Tochigi model: members keep their access networks but share one upstream.

    The members' own Tokyo routers and upstream lines go; a common PoP ``agg-<site>`` (AS ``asn``,
    whose customers the members become, each from its PoP nearest the site) reaches its Tokyo
    router ``agg-<core_metro>`` over jointly procured lines, and buys transit from one provider
    (``transit``, a PoP in the core metro). The joint line is sized on the peak of the *sum* of the
    members' traffic: ``headroom × Σ subscribers × peak_mbps_per_subscriber`` (default 1.36 Mbps: the
    38.9 Tbps average / 43.8M subscriptions × the busy-hour factor 1.53 of netsim's diurnal curve,
    docs/sources.md), not on the sum of each member's separately dimensioned lines; ``line_gbps``
    overrides it.

    Examples
    --------
    >>> from netsim import load_topology
    >>> g = aggregated_isp(load_topology("tochigi"), members=[65001, 65002, 65003, 65004], site="utsunomiya",
    ...                    asn=65200, transit="carrier-b-tokyo-otemachi")
    >>> round(g.edges["agg-utsunomiya", "agg-tokyo-otemachi"]["capacity_gbps"], 1)
    182.8
    >>> "isp-a-tokyo-otemachi" in g, g.edges["isp-d-tochigi", "agg-utsunomiya"]["rel"]
    (False, 'c2p')
    """
    mem = _check_members(g, members)
    m = g.graph.get("metros", {}).get(site)
    if m is None:
        raise InputError(f"metro {site!r} is not in the topology's metros", where="site")
    cm = g.graph.get("metros", {}).get(core_metro)
    if cm is None:
        raise InputError(f"metro {core_metro!r} is not in the topology's metros", where="core_metro")
    td = _need_node(g, transit, "transit")
    if td["metro"] != core_metro:
        raise InputError(f"transit PoP {transit!r} is in {td['metro']!r}; expected a PoP in {core_metro!r}", where="transit")
    if not 0 <= asn <= 4294967295:
        raise InputError(f"expected an AS number 0..4294967295, found {asn!r:.40}", where="asn")
    if asn in _asns(g):
        raise InputError(f"AS{asn} already exists; the aggregated ISP needs a new ASN", where="asn")
    if not headroom > 0:
        raise InputError(f"expected headroom > 0, found {headroom!r}", where="headroom")
    subs = sum(d.get("subscribers", 0) for _, d in g.nodes(data=True) if d["asn"] in mem)
    if peak_mbps_per_subscriber is None:
        from netsim.traffic.generators import MBPS_PER_SUBSCRIPTION_2024
        from netsim.traffic.timeshape import BUSY_HOUR_FACTOR

        peak_mbps_per_subscriber = MBPS_PER_SUBSCRIPTION_2024 * BUSY_HOUR_FACTOR
    if not peak_mbps_per_subscriber > 0:
        raise InputError(f"expected a rate > 0 (Mbps), found {peak_mbps_per_subscriber!r}", where="peak_mbps_per_subscriber")
    if line_gbps is None:
        line_gbps = headroom * subs * peak_mbps_per_subscriber / 1000.0
    if not line_gbps > 0:
        raise InputError(f"expected a line capacity > 0, found {line_gbps!r}", where="line_gbps")
    # each member's old uplink capacity to Tokyo: it becomes its access line to the common PoP
    old_up = {a: 0.0 for a in mem}
    for u, v, d in g.edges(data=True):
        if "upstream" in d.get("tags", ()) and g.nodes[u]["asn"] in mem and g.nodes[u]["metro"] != core_metro:
            old_up[g.nodes[u]["asn"]] += d["capacity_gbps"]
    gone = [n for n, d in g.nodes(data=True) if d["asn"] in mem and d["metro"] == core_metro]
    g.remove_nodes_from(gone)
    here, tokyo = f"agg-{site}", f"agg-{core_metro}"
    g.add_node(here, kind="pop", asn=asn, metro=site, region=m.get("region") or site, lat=m["lat"], lon=m["lon"], subscribers=0)
    g.add_node(tokyo, kind="pop", asn=asn, metro=core_metro, region=cm.get("region") or core_metro, lat=cm["lat"],
               lon=cm["lon"], subscribers=0)
    g.graph.setdefault("as_names", {})[asn] = name
    # who the aggregated ISP's costs are shared among (netsim.analysis.cost)
    g.graph.setdefault("aggregators", {})[asn] = list(mem)
    for a in mem:
        pop = _nearest_pop(g, a, g.nodes[here], avoid_metros=_core_metros(g))
        _link(g, pop, here, capacity_gbps=max(old_up[a], line_gbps / len(mem)), rel="c2p", tags=("aggregation",))
    _link(g, here, tokyo, capacity_gbps=line_gbps, rel="internal", tags=("backbone", "upstream", "joint"))
    _link(g, tokyo, transit, capacity_gbps=line_gbps, rel="c2p", tags=("transit",))
    return g


@DESIGNS.register("access")
def access(g: nx.DiGraph, *, members: list | None = None, pops: list | None = None, set: dict | None = None) -> nx.DiGraph:
    """Change the access network (the quality method's tiers, netsim.analysis.quality.access_profile): the
    fields of ``set`` (any of ``line_gbps, cpe_mbps, latency_ms, pppoe_share, tiers``) replace those of
    each member AS's profile (``members``: ASNs) and of each listed access PoP's own (``pops``), e.g. an
    aggregated ISP moving its members' subscribers from PPPoE to IPoE (``set: {pppoe_share: 0.1}``) or a
    larger OLT uplink. A PoP's own setting of a field would hide its AS's new one, so for ``members``
    the field is also cleared on their PoPs."""
    from pydantic import ValidationError

    from netsim.topology.schema import AccessModel

    if not members and not pops:
        raise InputError("name the member ASNs and/or the access PoPs to change", where="members")
    if not set:
        raise InputError("expected the fields to change, e.g. set: {pppoe_share: 0.1}", where="set")
    try:
        fields = AccessModel.model_validate(set).model_dump(exclude_none=True)
    except ValidationError as e:
        err = e.errors()[0]
        loc = ".".join(str(x) for x in err["loc"])
        raise InputError(f"{err['msg']}, found {err.get('input')!r}", where=f"set.{loc}") from None
    if not fields:
        raise InputError("expected at least one field with a value", where="set")
    as_access = {a: dict(v) for a, v in (g.graph.get("as_access") or {}).items()}
    for a in _check_members(g, members) if members else []:
        as_access[a] = {**as_access.get(a, {}), **fields}
        for n, d in g.nodes(data=True):
            if d.get("asn") == a and d.get("access"):
                d["access"] = {k: v for k, v in d["access"].items() if k not in fields}
    g.graph["as_access"] = as_access
    for i, node in enumerate(pops or []):
        d = _need_node(g, node, f"pops[{i}]", kind="pop")
        if not d.get("subscribers"):
            raise InputError(f"node {node!r} has no subscribers; expected an access PoP", where=f"pops[{i}]")
        d["access"] = {**(d.get("access") or {}), **fields}
    return g


@dataclass(frozen=True)
class PrefetchSettings:
    """What the ``prefetch`` transform records for the engine (``g.graph["prefetch"]``), validated:
    clock second of the daily push, its window (s), the share of each cache's capacity, the caches,
    the popularity half-life (s) and the history trace (or None)."""

    at_s: float
    window_s: float
    share: float
    caches: tuple[str, ...]
    half_life_s: float
    history: str | None = None


@DESIGNS.register("prefetch")
def prefetch(g: nx.DiGraph, *, at="03:00", window="2h", share: float = 0.8, caches: list | None = None,
             half_life="1d", history: str | None = None) -> nx.DiGraph:
    """Fill caches off-peak, every day, with the objects a popularity forecast ranks first for the next day.

    Records the validated parameters as the graph attribute ``prefetch`` (:class:`PrefetchSettings`) and changes
    nothing else; the engine (netsim.sim.engine) does the pushes. Each day at ``at`` every selected
    cache that is up gets the candidates of :func:`netsim.analysis.forecast.prefetch_candidates`
    ranked from the requests its clients made (``history`` and the run so far), up to ``share`` ×
    its capacity (objects already in the cache count), and the pushed bytes flow from the fill
    source (parent cache or nearest origin) to the cache, spread over ``[at, at + window)``.

    Parameters
    ----------
    at : clock time
        When the push starts each day (``HH:MM`` on the trace clock, or seconds / a duration
        below one day); default 03:00, the trough of residential traffic.
    window : duration
        How long the push is spread over (its bytes go evenly into the bins of
        ``[at, at + window)``); default 2h; > 0 and at most 1d.
    share : float
        Fraction of each cache's capacity to fill with candidates, in (0, 1]; default 0.8 (room
        is left for what the day brings).
    caches : list of str, optional
        Cache node ids to push to; default every cache of the design.
    half_life : duration
        Half-life of a past request's weight in the popularity forecast; default 1d.
    history : str, optional
        A trace (shipped name or path) of requests *before* the run, e.g. the previous day; its
        ``ts`` are shifted to end at the run's start (by minus its span rounded up to whole days).
        Without it the first push ranks only the run's requests so far.

    Examples
    --------
    >>> from netsim import load_topology
    >>> g = prefetch(load_topology("examples/ix_and_cache"), at="04:00", share=0.5)
    >>> p = g.graph["prefetch"]
    >>> p.at_s, p.window_s, p.share, p.caches, p.half_life_s, p.history
    (14400.0, 7200.0, 0.5, ('cache-shared-utsunomiya',), 86400.0, None)
    >>> prefetch(load_topology("examples/ix_and_cache"), share=1.5)
    Traceback (most recent call last):
    ...
    netsim.errors.InputError: share: expected a fraction in (0, 1], found 1.5
    """
    from netsim.units import parse_clock_s, parse_duration_s

    try:
        at_s = parse_clock_s(at)
    except ValueError as e:
        raise InputError(str(e), where="at") from None
    if not 0 <= at_s < 86400:
        raise InputError(f"expected a time of day (00:00 to 23:59:59), found {at!r}", where="at")
    try:
        window_s = parse_duration_s(window)
    except ValueError as e:
        raise InputError(str(e), where="window") from None
    if not 0 < window_s <= 86400:
        raise InputError(f"expected a window > 0 and at most 1d, found {window!r}", where="window")
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 < share <= 1:
        raise InputError(f"expected a fraction in (0, 1], found {share!r}", where="share")
    try:
        half_life_s = parse_duration_s(half_life)
    except ValueError as e:
        raise InputError(str(e), where="half_life") from None
    if not half_life_s > 0:
        raise InputError(f"expected a half-life > 0, found {half_life!r}", where="half_life")
    all_caches = sorted(str(n) for n, d in g.nodes(data=True) if d.get("kind") == "cache")
    if caches is None:
        if not all_caches:
            raise InputError("the design has no cache to prefetch into (add one first, e.g. with shared_cache)",
                             where="caches")
        chosen = all_caches
    else:
        if not isinstance(caches, (list, tuple)) or not caches:
            raise InputError(f"expected a non-empty list of cache node ids, found {caches!r}", where="caches")
        for i, c in enumerate(caches):
            if not isinstance(c, str):
                raise InputError(f"expected a cache node id, found {c!r}", where=f"caches[{i}]")
            _need_node(g, c, f"caches[{i}]", kind="cache")
        chosen = sorted(set(caches))
    if history is not None and (not isinstance(history, str) or not history.strip()):
        raise InputError(f"expected a trace name or path, found {history!r}", where="history")
    g.graph["prefetch"] = PrefetchSettings(at_s=float(at_s), window_s=float(window_s), share=float(share),
                                           caches=tuple(chosen), half_life_s=float(half_life_s), history=history)
    return g
