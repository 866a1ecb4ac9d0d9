"""Fixed-broadband quality (pillar 3): the throughput and RTT a subscriber would measure, by a defined method.

The measurement method
----------------------
Written as a measurement programme would publish it; docs/quality.md gives the sources of the
defaults and how to read a result.

*What is measured.* A download test (TCP, many parallel connections as common speed tests use, so
one connection's window is not the limit) from a **measurement server** to the subscribers of every
**access ISP** (an AS with access PoPs: ``pop`` nodes with ``subscribers > 0``), at every access PoP,
in every simulated bin. Samples are weighted by the PoP's subscribers (an ECMP split weights each
path by its fraction; subscribers on PPPoE and on IPoE are measured apart, by their share).

*Where the servers are* (``quality.placement``). ``regional``: one server in the client's region,
the same node for every ISP there (:func:`measurement_server`: a hub PoP before an access PoP, a
cache or an IX; a region with no other node falls back to Tokyo); ``tokyo``: one server in a core
metro, so every test crosses the backbone, as national speed-test servers do. Servers are fixed on
the first design's topology, so every design is measured against the same servers.

*When.* Every hour of the day; the **peak** is 21:00-23:00 (when Japanese networks peak: MIC), the
rest is off-peak, both in normal operation; bins with a failure in force are reported apart.

*What is reported.* Per design, ISP and hour: the median and 10th percentile of the throughput, the
median RTT and the share of tests with no route; per design and ISP, peak against off-peak (their
ratio is the evening slowdown) and **what limits the peak-hour tests** (the element that bounds most
of them). A campaign reports medians and a low percentile, not means: a few fast lines would hide
the congested majority.

*The model of one test.* The path is the network path server → PoP (links with capacity ``cₗ`` and
the engine's utilisation ``uₗ`` in the bin), then the PoP's **access network**
(:func:`access_profile`: topology ``ases[asn].access``, overridden per node): a list of shared
**tiers** (a PON tree, an OLT uplink, a PPPoE termination device or the IPoE path via a VNE, a
cable service group), each of capacity ``c`` shared by ``shared_by`` subscribers and loaded by their
traffic in the bin (the PoP's downstream per subscriber, the engine's ``access`` table, ×
``shared_by``; the load may exceed the capacity, as the engine does not model the access), and the
subscriber's line (``line_gbps``) and home (``cpe_mbps``: router, Wi-Fi, device). On each link and
tier, with ``ρ`` its load over capacity:

* **share** = ``max(c · (1 − min(ρ, 1)), c / (n + 1))``, ``n = ρ · c / flow_rate`` the typical flows
  (``flow_mbps``, 25 Mbps, a 4K stream) its load makes: processor sharing (a flow gets the idle
  capacity on average), and at least an equal share with the flows there when it is full. It is
  continuous in the load and never rises with it;
* **RTT** = ``2 × Σ latency_ms`` (propagation, return path taken as symmetric) + the access's own
  round trip (``latency_ms``: PON scheduling, the home network) + ``Σ queue``, ``queue =
  min(max_queue_ms, burst_packets · packet_bits / c · ρ/(1 − ρ))``: the mean wait of an M/M/1 queue
  whose arrivals come in bursts of ``burst_packets`` packets (M^X/M/1; TCP sends windows), capped at
  a buffer's worth;
* **loss** ``p = loss_at_full · ((ρ − loss_knee) / (1 − loss_knee))²`` above the knee (0.9), 0 below;
  path loss ``1 − Π (1 − p)``; **TCP bound** (Mathis et al. 1997), on a lossy path only:
  ``MSS · 8 / RTT · √(3/2) / √p``;
* **measured throughput** = the least of every share, the line, the home and the TCP bound; the
  **limit** is which one (a TCP-bound test is named after its lossiest element).

A topology without access profiles measures the line (the node's ``access_gbps``, default 1 Gbps)
and the network path only. Hours are of the bins' start (``ts_s`` from the trace start, taken as
midnight unless ``start_hour`` says otherwise). Paths come from the ``paths`` function given (the
base routes), or per bin from ``paths_for_bin`` (routes under that bin's failures); a test without a
path measures 0 Mbps and no RTT (``unreachable_share``), so the medians include failed tests, as a
campaign's would.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import networkx as nx
import numpy as np
import polars as pl

from netsim.settings import QualityMethod
from netsim.errors import InputError
from netsim.stats import weighted_quantile

__all__ = ["QualityMethod", "QualityResult", "empty_summary", "measure_quality", "measurement_server", "measurement_servers",
           "path_quality", "access_isps", "AccessProfile", "access_profile"]

PathsFn = Callable[[str, str], Sequence[tuple[Sequence[str], float]]]
_KIND_ORDER = {"pop": 0, "cache": 1, "ix": 2}


@dataclass
class QualityResult:
    """Samples, the hourly table and the peak/off-peak summary of a measurement campaign."""

    samples: pl.DataFrame   # design, asn, pop, server, bin, hour, weight, reachable, throughput_mbps, rtt_ms, loss,
    #                         path (all|pppoe|ipoe), limit (what bounds the test: a tier's name, network, line, ...)
    hourly: pl.DataFrame    # design, asn, name, hour, throughput_p50_mbps, throughput_p10_mbps, rtt_p50_ms,
    #                         unreachable_share, samples
    summary: pl.DataFrame   # design, asn, name, peak_/offpeak_/failure_ x (throughput_p50_mbps, throughput_p10_mbps,
    #                         rtt_p50_ms, unreachable_share), peak_to_offpeak


def access_isps(g: nx.DiGraph) -> dict[int, list[str]]:
    """Access PoPs (``pop`` with subscribers) per ASN, sorted.

    Examples
    --------
    >>> g = nx.DiGraph(); g.add_node("b", kind="pop", asn=2, subscribers=5); g.add_node("a", kind="pop", asn=2, subscribers=1)
    >>> g.add_node("t", kind="pop", asn=3, subscribers=0); access_isps(g)
    {2: ['a', 'b']}
    """
    out: dict[int, list[str]] = {}
    for n, d in g.nodes(data=True):
        if d.get("kind") == "pop" and d.get("subscribers", 0) > 0:
            out.setdefault(int(d["asn"]), []).append(str(n))
    return {a: sorted(v) for a, v in sorted(out.items())}


def measurement_server(g: nx.DiGraph, client: str, placement: str) -> str:
    """The measurement server node for ``client`` under ``placement`` (``regional`` or ``tokyo``).

    One server per region (or one for Tokyo), the same for every client there, and the same in
    every design as long as the node exists in each (designs add IX and cache nodes; PoPs stay):
    for ``regional``, a node linked to another node of the region before one whose links all
    leave it (a carrier PoP that only backhauls to Tokyo would send every test out of the region);
    then a ``pop`` over a ``cache`` over an ``ix``; among PoPs, one without subscribers (a hub or
    data-centre site, where measurement servers are hosted) over an access PoP; then the metro
    with the most subscribers in the region; then the lowest id. The client itself is never
    its own server (it takes the next in rank); ``regional`` falls back to ``tokyo`` when the
    region has no other node. ``tokyo`` looks in the core metros
    (``metros[m]['core']``) whose id starts with ``tokyo``, else in any core metro.

    Examples
    --------
    >>> g = nx.DiGraph(metros={"utsunomiya": {}, "tokyo-otemachi": {"core": True}})
    >>> g.add_node("c", kind="pop", region="tochigi", metro="utsunomiya", subscribers=10)
    >>> g.add_node("hub", kind="pop", region="tochigi", metro="utsunomiya", subscribers=0)
    >>> g.add_node("rix", kind="ix", region="tochigi", metro="utsunomiya")
    >>> g.add_node("jpix", kind="ix", region="tokyo", metro="tokyo-otemachi")
    >>> measurement_server(g, "c", "regional"), measurement_server(g, "c", "tokyo")
    ('hub', 'jpix')
    """
    if placement not in ("regional", "tokyo"):
        raise InputError(f"placement must be regional or tokyo, found {placement!r}", where="placement")
    metro_subs: dict = {}
    for _, d in g.nodes(data=True):
        metro_subs[d.get("metro")] = metro_subs.get(d.get("metro"), 0) + d.get("subscribers", 0)

    def rank(n):
        d = g.nodes[n]
        return (_KIND_ORDER[d["kind"]], 1 if d.get("subscribers", 0) > 0 else 0, -metro_subs.get(d.get("metro"), 0), str(n))

    if placement == "regional":
        region = g.nodes[client].get("region")
        cands = [n for n, d in g.nodes(data=True)
                 if d.get("region") == region and d.get("kind") in _KIND_ORDER and n != client]

        def local(n) -> int:
            # 0: the node has a link to another node of the region (a server there is reached inside the
            # region when the network allows it); 1: only links out of it (e.g. a carrier's PoP that
            # backhauls to Tokyo, through which every "regional" test would leave the region)
            return 0 if any(g.nodes[v].get("region") == region for v in g.successors(n)) else 1

        if cands:
            return min(cands, key=lambda n: (local(n),) + rank(n))
    core = {m for m, d in (g.graph.get("metros") or {}).items() if d.get("core")}
    cands = [n for n, d in g.nodes(data=True) if d.get("metro") in core and d.get("kind") in _KIND_ORDER]
    if not cands:
        raise InputError("no node in a core metro (metros[m].core) to host a Tokyo measurement server", where="placement")
    return min(cands, key=lambda n: (0 if str(g.nodes[n]["metro"]).startswith("tokyo") else 1,) + rank(n))


def measurement_servers(g: nx.DiGraph, placement: str) -> dict[str, str]:
    """The server of every access PoP (:func:`measurement_server`): compute it once on the baseline
    topology and pass it as ``servers=`` to :func:`measure_quality` for every design, so that all
    designs are measured against the same servers (a design that adds a hub PoP, e.g. an aggregated
    ISP's, would otherwise move the server).

    Examples
    --------
    >>> g = nx.DiGraph(metros={})
    >>> g.add_node("c", kind="pop", asn=1, region="r", metro="m", subscribers=10)
    >>> g.add_node("hub", kind="pop", asn=2, region="r", metro="m", subscribers=0)
    >>> measurement_servers(g, "regional")
    {'c': 'hub'}
    """
    return {pop: measurement_server(g, pop, placement) for pops in access_isps(g).values() for pop in pops}


def path_quality(capacity_gbps, latency_ms, utilisation, *, access_gbps: float,
                 method: QualityMethod | None = None, cpe_mbps: float | None = None, extra_rtt_ms: float = 0.0,
                 detail: bool = False):
    """Throughput (Mbps), RTT (ms) and loss of one path in every bin (and, with ``detail``, what limits it).

    Parameters
    ----------
    capacity_gbps, latency_ms : array (elements,)
        The path's links, then any access tiers (latency 0).
    utilisation : array (bins, elements)
        Offered load / capacity; above 1 for an overloaded access tier (the engine keeps links at or
        below 1): the fair share then counts every flow that wants through it.
    access_gbps : float
        The subscriber's line rate.
    cpe_mbps : float, optional
        The in-home limit (router, Wi-Fi, device).
    extra_rtt_ms : float
        Round trip the access adds (PON scheduling, the home network).
    detail : bool
        Also return, per bin, the index of the limiting element: ``0..k-1`` an element of the path
        (its fair share, or its loss when the TCP bound is the lowest: the lossiest element), ``k`` the
        line, ``k+1`` the home (CPE).

    Examples
    --------
    >>> thr, rtt, loss = path_quality([10.0, 10.0], [1.0, 2.0], [[0.3, 0.5], [0.3, 0.99]], access_gbps=1.0)
    >>> thr.round(1).tolist(), rtt.round(2).tolist(), loss.round(4).tolist()
    ([1000.0, 2.8], [7.71, 56.51], [0.0, 0.0081])
    >>> thr, _, _, limit = path_quality([1.0], [0.0], [[0.2], [0.8], [1.5]], access_gbps=1.0, cpe_mbps=500, detail=True)
    >>> thr.round(1).tolist(), limit.tolist()   # the home router; the shared tier; loss on the overloaded tier
    ([500.0, 200.0, 2.9], [2, 0, 0])
    """
    m = method or QualityMethod()
    c = np.asarray(capacity_gbps, dtype=np.float64) * 1e9
    lat = np.asarray(latency_ms, dtype=np.float64)
    u_load = np.maximum(np.atleast_2d(np.asarray(utilisation, dtype=np.float64)), 0.0)
    u = np.minimum(u_load, 1.0)
    flow = m.flow_mbps * 1e6
    # NOTE: the flows already there count at the load they offer, beyond capacity too, so the share keeps
    # falling as an overloaded tier's load grows (continuous and non-increasing in the load)
    n_flows = u_load * c / flow
    share = np.maximum(c * (1 - u), c / (n_flows + 1))
    service_ms = m.burst_packets * m.packet_bytes * 8 / c * 1e3
    with np.errstate(divide="ignore", invalid="ignore"):
        queue = np.where(u < 1, service_ms * u / (1 - u), np.inf)
    queue = np.minimum(queue, m.max_queue_ms)
    rtt = 2 * lat.sum() + queue.sum(axis=1) + float(extra_rtt_ms)
    p_link = np.where(u > m.loss_knee, m.loss_at_full * ((u - m.loss_knee) / (1 - m.loss_knee)) ** 2, 0.0)
    loss = 1 - np.prod(1 - p_link, axis=1)
    with np.errstate(divide="ignore"):
        mathis = np.where(loss > 0, m.mss_bytes * 8 / (rtt / 1e3) * math.sqrt(1.5) / np.sqrt(loss), np.inf)
    n = u.shape[0]
    fixed = np.column_stack([np.full(n, access_gbps * 1e9), np.full(n, (cpe_mbps or np.inf) * 1e6), mathis])
    bounds = np.hstack([share, fixed])
    limit = np.argmin(bounds, axis=1)
    thr = bounds[np.arange(n), limit]
    # a loss-bound test is limited by the element that loses the packets: name it, not "TCP"
    by_loss = (limit == share.shape[1] + 2) & (p_link.shape[1] > 0)
    if by_loss.any():
        limit = np.where(by_loss, np.argmax(p_link, axis=1) if p_link.shape[1] else limit, limit)
    if detail:
        return thr / 1e6, rtt, loss, limit
    return thr / 1e6, rtt, loss


#: what the limit codes of the samples name, besides an access tier's own name
LIMIT_NETWORK, LIMIT_LINE, LIMIT_CPE, LIMIT_TCP = "network", "line", "home (cpe)", "tcp (loss)"  # TCP: never left as such


@dataclass(frozen=True)
class AccessProfile:
    """A PoP's access network, resolved (see :func:`access_profile`)."""

    line_gbps: float
    cpe_mbps: float | None = None
    latency_ms: float = 0.0
    pppoe_share: float = 0.0
    tiers: tuple = ()   # dicts: name, gbps, shared_by, path

    def paths(self) -> list[tuple[str, float]]:
        """The subscriber groups measured apart, with their share: ``all`` when no tier depends on the
        path, else ``pppoe`` and ``ipoe`` by ``pppoe_share`` (a group with no share left out).

        Examples
        --------
        >>> AccessProfile(1.0).paths(), AccessProfile(1.0, pppoe_share=0.25, tiers=({"path": "pppoe"},)).paths()
        ([('all', 1.0)], [('pppoe', 0.25), ('ipoe', 0.75)])
        """
        if not any(t.get("path", "all") != "all" for t in self.tiers):
            return [("all", 1.0)]
        return [(k, w) for k, w in (("pppoe", self.pppoe_share), ("ipoe", 1.0 - self.pppoe_share)) if w > 0]

    def tiers_on(self, path: str) -> list[dict]:
        return [t for t in self.tiers if t.get("path", "all") in ("all", path)]


def access_profile(g: nx.DiGraph, pop: str, *, default_line_gbps: float = 1.0) -> AccessProfile:
    """The access network of access PoP ``pop``: the defaults, then its AS's profile (``ases[asn].access``,
    graph attribute ``as_access``), then the node's own ``access`` (field by field; a node's ``tiers``
    replace the AS's). The line rate without a profile is the node's ``access_gbps``, else
    ``default_line_gbps``. A topology without profiles measures line rate and the network path only.

    Examples
    --------
    >>> g = nx.DiGraph(as_access={1: {"pppoe_share": 0.5, "tiers": [{"name": "pon", "gbps": 1.0, "shared_by": 32}]}})
    >>> g.add_node("a", asn=1, subscribers=10, access={"line_gbps": 10.0}); g.add_node("b", asn=2, subscribers=5)
    >>> access_profile(g, "a").line_gbps, access_profile(g, "a").pppoe_share, len(access_profile(g, "a").tiers)
    (10.0, 0.5, 1)
    >>> access_profile(g, "b")
    AccessProfile(line_gbps=1.0, cpe_mbps=None, latency_ms=0.0, pppoe_share=0.0, tiers=())
    """
    d = g.nodes[pop]
    merged: dict = {}
    for part in ((g.graph.get("as_access") or {}).get(d.get("asn")) or {}, d.get("access") or {}):
        merged.update({k: v for k, v in part.items() if v is not None})
    line = merged.get("line_gbps") or d.get("access_gbps") or default_line_gbps
    return AccessProfile(line_gbps=float(line), cpe_mbps=merged.get("cpe_mbps"),
                         latency_ms=float(merged.get("latency_ms") or 0.0),
                         pppoe_share=float(merged.get("pppoe_share") or 0.0),
                         tiers=tuple(dict(t) for t in merged.get("tiers") or ()))


def _util_matrix(links_table: pl.DataFrame, *, design: str | None) -> tuple[dict[str, pl.DataFrame], int]:
    for col in ("bin", "src", "dst", "utilisation"):
        if col not in links_table.columns:
            raise InputError(f"the links table has no column {col!r}", where="links_table")
    if "design" not in links_table.columns:
        links_table = links_table.with_columns(pl.lit(design or "design").alias("design"))
    designs = links_table["design"].unique().sort().to_list()
    if design is not None:
        if design not in designs:
            raise InputError(f"design {design!r} is not in the links table (found {', '.join(designs)})")
        designs = [design]
    n_bins = int(links_table["bin"].max()) + 1 if links_table.height else 1
    return {d: links_table.filter(pl.col("design") == d) for d in designs}, n_bins


def measure_quality(g: nx.DiGraph, links_table: pl.DataFrame, paths: PathsFn, *, method: QualityMethod | None = None,
                    design: str | None = None, bin_s: float = 300.0, servers: Mapping[str, str] | None = None,
                    paths_for_bin: Callable[[int], PathsFn] | None = None,
                    failure_bins: Sequence[int] | None = None,
                    access_load: Mapping[str, np.ndarray] | None = None) -> QualityResult:
    """Run the measurement method (module docstring) over a run's per-bin link utilisation.

    Parameters
    ----------
    g : networkx.DiGraph
        The topology (of the design measured; links need ``capacity_gbps`` and ``latency_ms``).
    links_table : polars.DataFrame
        ``design, bin, src, dst, utilisation`` (the engine's links table; ``ts_s`` not needed).
    paths : callable
        ``paths(src, dst) -> [(node list, fraction), ...]`` (the routing core's ``routes.paths``).
    method : QualityMethod
        Placement and parameters.
    design : str, optional
        Only this design's rows (default: every design in the table, each on ``g``).
    bin_s : float
        Bin length, to tell each bin's hour of day.
    servers : mapping, optional
        Measurement server per client PoP (overrides the placement rule; see
        :func:`measurement_servers`). A server that is not in ``g`` (a design removed it) falls
        back to the rule; the ``server`` column of the samples says which was used.
    paths_for_bin : callable, optional
        ``paths_for_bin(bin) -> paths`` function in force in that bin (e.g. the engine's routes
        under that bin's failure state); overrides ``paths``. Bins that get the same function
        object are computed together. A test with no path (``[]``) fails: 0 Mbps, no RTT,
        counted in ``unreachable_share``.
    failure_bins : sequence of int, optional
        Bins with a failure in force. The summary's peak and off-peak figures are then of normal
        operation only (as a campaign reports its busy hours), and its ``failure_`` columns are
        of these bins (every hour); the hourly table keeps every bin.
    access_load : mapping, optional
        Per access PoP, its subscribers' downstream traffic in bps per bin (the engine's ``access``
        table): what loads the PoP's access tiers (:func:`access_profile`). Without it the tiers are idle.

    Examples
    --------
    >>> g = nx.DiGraph(metros={"m": {"core": True}})
    >>> g.add_node("s", kind="ix", asn=9, region="r", metro="m")
    >>> g.add_node("c", kind="pop", asn=1, region="r", metro="m", subscribers=100, access_gbps=1.0)
    >>> g.add_edge("s", "c", capacity_gbps=10.0, latency_ms=1.0)
    >>> lt = pl.DataFrame({"design": "d", "bin": [0, 1], "src": "s", "dst": "c", "utilisation": [0.2, 0.995]})
    >>> q = measure_quality(g, lt, lambda s, d: [(nx.shortest_path(g, s, d), 1.0)], bin_s=3600)
    >>> [(h, round(t, 1)) for h, t in q.hourly.select("hour", "throughput_p50_mbps").rows()]  # access-bound, then TCP-bound
    [(0, 1000.0), (1, 2.9)]
    """
    m = method or QualityMethod()
    per_design, n_bins = _util_matrix(links_table, design=design)
    isps = access_isps(g)
    if not isps:
        raise InputError("the topology has no access PoPs (pop nodes with subscribers > 0)")
    hours = np.floor(((np.arange(n_bins) * bin_s / 3600.0) + m.start_hour) % 24).astype(np.int64)
    rows = []
    for dname, table in per_design.items():
        util_of: dict[tuple[str, str], np.ndarray] = {}
        for (src, dst), part in table.group_by(["src", "dst"]):
            arr = np.zeros(n_bins)
            arr[part["bin"].to_numpy()] = part["utilisation"].to_numpy()
            util_of[(str(src), str(dst))] = arr
        zeros = np.zeros(n_bins)
        groups: dict[int, tuple[PathsFn, list[int]]] = {}
        for b in range(n_bins):
            pf = paths if paths_for_bin is None else paths_for_bin(b)
            groups.setdefault(id(pf), (pf, []))[1].append(b)
        for asn, pops in isps.items():
            for pop in pops:
                server = (servers or {}).get(pop)
                if server is None or server not in g:
                    server = measurement_server(g, pop, m.placement)
                prof = access_profile(g, pop, default_line_gbps=m.access_gbps)
                subs = float(g.nodes[pop]["subscribers"])
                per_sub = np.zeros(n_bins)
                if access_load is not None and pop in access_load:
                    load = np.asarray(access_load[pop], dtype=np.float64)
                    per_sub[:min(len(load), n_bins)] = load[:n_bins] / subs
                for pf, bins in groups.values():
                    bins = np.asarray(bins)
                    found = list(pf(server, pop))
                    if not found:  # no route (e.g. during a failure): the test fails
                        for kind, share in prof.paths():
                            rows.append(_sample_frame(dname, asn, pop, server, bins, hours[bins], subs * share,
                                                      np.zeros(len(bins)), np.full(len(bins), np.nan),
                                                      np.ones(len(bins)), reachable=False, path=kind,
                                                      limit=np.full(len(bins), LIMIT_NETWORK, dtype=object)))
                        continue
                    for nodes, frac in found:
                        nodes = list(nodes)
                        edges = list(zip(nodes[:-1], nodes[1:]))
                        for e in edges:
                            if not g.has_edge(*e):
                                raise InputError(f"path {server} -> {pop} uses {e[0]} -> {e[1]}, which is not a link")
                        cap = [g.edges[e]["capacity_gbps"] for e in edges]
                        lat = [g.edges[e].get("latency_ms", 0.0) for e in edges]
                        util = (np.stack([util_of.get((str(u), str(v)), zeros)[bins] for u, v in edges], axis=1)
                                if edges else np.zeros((len(bins), 0)))
                        for kind, share in prof.paths():
                            tiers = prof.tiers_on(kind)
                            # a tier's load: its sharers' traffic, each subscriber at the PoP's mean in the bin
                            t_util = (np.stack([per_sub[bins] * t["shared_by"] / (t["gbps"] * 1e9) for t in tiers], axis=1)
                                      if tiers else np.zeros((len(bins), 0)))
                            thr, rtt, loss, lim = path_quality(
                                cap + [t["gbps"] for t in tiers], lat + [0.0] * len(tiers), np.hstack([util, t_util]),
                                access_gbps=prof.line_gbps, cpe_mbps=prof.cpe_mbps, extra_rtt_ms=prof.latency_ms,
                                method=m, detail=True)
                            names = np.array([LIMIT_NETWORK] * len(edges) + [t["name"] for t in tiers]
                                             + [LIMIT_LINE, LIMIT_CPE, LIMIT_TCP], dtype=object)
                            rows.append(_sample_frame(dname, asn, pop, server, bins, hours[bins], subs * float(frac) * share,
                                                      thr, rtt, loss, reachable=True, path=kind, limit=names[lim]))
    samples = (pl.concat(rows) if rows else _sample_frame("", 0, "", "", np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64),
                                                          0.0, *([np.zeros(0)] * 3), reachable=True, path="all",
                                                          limit=np.zeros(0, dtype=object))).sort(
        ["design", "asn", "pop", "bin", "path"], maintain_order=True)
    names = g.graph.get("as_names", {}) or {}
    return QualityResult(samples, _hourly(samples, names), _summary(samples, names, m.peak_hours, failure_bins))


def _sample_frame(design, asn, pop, server, bins, hours, weight, thr, rtt, loss, *, reachable: bool, path: str,
                  limit) -> pl.DataFrame:
    return pl.DataFrame({"design": pl.Series([design] * len(bins), dtype=pl.Utf8),
                         "asn": pl.Series([asn] * len(bins), dtype=pl.Int64),
                         "pop": pl.Series([pop] * len(bins), dtype=pl.Utf8),
                         "server": pl.Series([str(server)] * len(bins), dtype=pl.Utf8),
                         "bin": pl.Series(bins, dtype=pl.Int64), "hour": pl.Series(hours, dtype=pl.Int64),
                         "weight": pl.Series(np.full(len(bins), weight), dtype=pl.Float64),
                         "reachable": pl.Series([reachable] * len(bins), dtype=pl.Boolean),
                         "throughput_mbps": pl.Series(thr, dtype=pl.Float64), "rtt_ms": pl.Series(rtt, dtype=pl.Float64),
                         "loss": pl.Series(loss, dtype=pl.Float64),
                         "path": pl.Series([path] * len(bins), dtype=pl.Utf8),
                         "limit": pl.Series(list(limit), dtype=pl.Utf8)})


def _stats(part: pl.DataFrame) -> dict:
    w = part["weight"].to_numpy()
    thr = part["throughput_mbps"].to_numpy()
    ok = part["reachable"].to_numpy()
    rtt = part["rtt_ms"].to_numpy()
    limit, limit_share = _weighted_mode(part["limit"].to_list() if "limit" in part.columns else [], w)
    return {"throughput_p50_mbps": weighted_quantile(thr, w, 0.5), "throughput_p10_mbps": weighted_quantile(thr, w, 0.1),
            "rtt_p50_ms": weighted_quantile(rtt[ok], w[ok], 0.5),
            "unreachable_share": float(w[~ok].sum() / w.sum()) if w.sum() > 0 else float("nan"),
            "limit": limit, "limit_share": limit_share}


def _weighted_mode(labels: list, w: np.ndarray) -> tuple[str | None, float]:
    """The label with the most weight and its share of the weight (ties: the first in sorted order).

    Examples
    --------
    >>> _weighted_mode(["line", "pppoe-nte", "line"], np.array([1.0, 3.0, 1.0]))
    ('pppoe-nte', 0.6)
    """
    if not len(labels) or w.sum() <= 0:
        return None, float("nan")
    tot: dict = {}
    for lab, x in zip(labels, w):
        tot[lab] = tot.get(lab, 0.0) + float(x)
    best = min(tot, key=lambda k: (-tot[k], str(k)))
    return best, tot[best] / float(w.sum())


def _hourly(samples: pl.DataFrame, names) -> pl.DataFrame:
    rows = []
    if samples.height:
        for (d, a, h), part in sorted(samples.group_by(["design", "asn", "hour"]), key=lambda x: x[0]):
            rows.append({"design": d, "asn": a, "name": str(names.get(a, a)), "hour": h, **_stats(part),
                         "samples": part.height})
    return pl.DataFrame(rows, schema={"design": pl.Utf8, "asn": pl.Int64, "name": pl.Utf8, "hour": pl.Int64,
                                      "throughput_p50_mbps": pl.Float64, "throughput_p10_mbps": pl.Float64,
                                      "rtt_p50_ms": pl.Float64, "unreachable_share": pl.Float64,
                                      "limit": pl.Utf8, "limit_share": pl.Float64, "samples": pl.Int64})


def empty_summary() -> pl.DataFrame:
    """The (empty) summary table of a design nothing could be measured in (no measurement server).

    Examples
    --------
    >>> empty_summary().height, empty_summary().columns[:3]
    (0, ['design', 'asn', 'name'])
    """
    return _summary(pl.DataFrame(), {}, ())


def _summary(samples: pl.DataFrame, names, peak_hours: Sequence[int], failure_bins: Sequence[int] | None = None) -> pl.DataFrame:
    rows = []
    nan = float("nan")
    empty = {"throughput_p50_mbps": nan, "throughput_p10_mbps": nan, "rtt_p50_ms": nan, "unreachable_share": nan,
             "limit": None, "limit_share": nan}
    if samples.height:
        peak = pl.col("hour").is_in(list(peak_hours))
        failed = pl.col("bin").is_in(pl.Series(sorted(set(int(b) for b in (failure_bins or ()))), dtype=pl.Int64).implode())
        for (d, a), part in sorted(samples.group_by(["design", "asn"]), key=lambda x: x[0]):
            calm, fail = part.filter(~failed), part.filter(failed)
            pk, off = calm.filter(peak), calm.filter(~peak)
            sp = _stats(pk) if pk.height else empty
            so = _stats(off) if off.height else empty
            sf = _stats(fail) if fail.height else empty
            rows.append({"design": d, "asn": a, "name": str(names.get(a, a)),
                         **{f"peak_{k}": v for k, v in sp.items()}, **{f"offpeak_{k}": v for k, v in so.items()},
                         "peak_to_offpeak": sp["throughput_p50_mbps"] / so["throughput_p50_mbps"]
                         if so["throughput_p50_mbps"] else nan,
                         **{f"failure_{k}": v for k, v in sf.items()}})
    cols = {"throughput_p50_mbps": pl.Float64, "throughput_p10_mbps": pl.Float64, "rtt_p50_ms": pl.Float64,
            "unreachable_share": pl.Float64, "limit": pl.Utf8, "limit_share": pl.Float64}
    schema = {"design": pl.Utf8, "asn": pl.Int64, "name": pl.Utf8, **{f"peak_{c}": t for c, t in cols.items()},
              **{f"offpeak_{c}": t for c, t in cols.items()}, "peak_to_offpeak": pl.Float64,
              **{f"failure_{c}": t for c, t in cols.items()}}
    return pl.DataFrame(rows, schema=schema)
