"""Monthly cost of a design, per member AS: lines, IX ports, cache sites and 95th-percentile transit;
and the economics of an aggregated ISP's joint procurement.

Cost items of a design (:func:`design_cost`), each paid by one AS:

* **line** — every duplex link (its two directed edges counted once, at the larger capacity):
  its own ``cost`` attribute if set (the monthly cost of the duplex link; the builder copies it to
  both directions, so it is not doubled), else ``capacity_gbps × route km × line price per
  Gbps-km``. Route km = ``latency_ms / 0.005`` (fibre, 0.005 ms/km, as the topology's default
  latencies are made), at least ``line_min_km``. Paid by: the customer of a ``c2p`` link, the
  member (non-IX end) of an IX link, the owner of an ``internal`` link; a direct ``p2p`` link
  between two ASes is split half and half.
* **ix_port** — one port per IX membership (a link between a member and an ``ix`` node): the IX
  node's ``cost`` attribute if set (its monthly port fee, as the topology schema documents),
  else the price of the smallest port tier that holds the link's capacity (several top-tier
  ports above it).
* **cache_site** — each ``cache`` node: its ``cost`` attribute if set, else the default site
  price plus its capacity (TB) × the storage price per TB (0 by default); paid by the cache's ASN
  (a shared cache's operator).
* **transit** — each ``c2p`` link ``u → v`` (``u`` buys transit from ``v``; when the topology
  tags any link ``transit``, only the ``c2p`` links so tagged: e.g. a member's line to an
  aggregated ISP is ``c2p`` but not transit): the 95th percentile
  of the 5-minute samples of the link's load, the larger of the two directions (as transit is
  commonly billed), × the transit price per Mbps. A run shorter than a month is repeated to fill
  the month's 8,640 samples (each day alike; the 95th percentile of a repeated day equals the
  day's own); a run's bins longer than 5 minutes are repeated into 5-minute samples (which hides
  peaks shorter than a bin), shorter ones are averaged.
* **shared** — for an aggregated ISP (``aggregators=``), everything its own AS pays (the joint
  upstream line, the joint transit contract) split among its members (default: in proportion to
  each member's 95th percentile on its links to the aggregated ISP).

**Joint procurement** (:func:`joint_procurement`): an aggregated ISP buys one upstream line
sized on the peak of its members' *summed* traffic and one transit contract billed on the 95th
percentile of the sum, instead of one each. What always holds, for any series:

* ``peak(Σ xᵢ) ≤ Σ peak(xᵢ)`` (the max is subadditive), so the joint line is never larger,
  also after rounding up to whole circuits (``ceil`` is subadditive);
* but ``p95(Σ xᵢ) ≤ Σ p95(xᵢ)`` is **not** always true: a percentile is not subadditive. Two
  members whose bursts (each ≤ 5 % of the month, so discarded in their own bills) fall at
  different times make a sum that is high 10 % of the time, and the joint bill is *higher* than
  the two separate ones. For real traffic with a common evening peak it is rarely so, but the
  code does not assume it. What holds instead (a union bound) is ``p95(Σ xᵢ) ≤ Σ q(xᵢ)`` with
  ``q`` the value at the ``1 − 5 %/k`` position of each member's ``k`` (top
  ``⌊5 % N / k⌋`` samples discarded per member).

Hence the joint line cost is never above the separate ones, while the joint transit bill (and
the total) can be; a member's saving can be negative.

Prices (:class:`Prices`) are scenario inputs (``prices:``); the defaults come from old or
foreign public figures (docs/sources.md, "Prices") and are meant to be overridden.
"""

from __future__ import annotations

import math
from typing import Literal, Mapping, Sequence

import networkx as nx
import numpy as np
import polars as pl

from netsim.settings import Prices
from netsim.errors import InputError
from netsim.stats import percentile_95

__all__ = [
    "Prices", "transit_bill", "to_five_minute_samples", "design_cost", "CostBreakdown",
    "joint_procurement", "JointProcurement", "union_bound_p95", "member_upstream_series",
]

SAMPLE_S = 300.0
SAMPLES_PER_MONTH = 8640  # 30 days of 5-minute samples
MS_PER_KM = 0.005         # fibre, as netsim.topology.build uses for default latencies


def to_five_minute_samples(values, *, bin_s: float, month: bool = True) -> np.ndarray:
    """Per-bin rates as 5-minute samples: bins shorter than 5 min averaged, longer ones repeated;
    with ``month``, a run shorter than 30 days repeated to fill 8,640 samples.

    Examples
    --------
    >>> to_five_minute_samples([1.0, 3.0, 5.0, 7.0], bin_s=150, month=False)
    array([2., 6.])
    >>> to_five_minute_samples([1.0, 2.0], bin_s=600, month=False)
    array([1., 1., 2., 2.])
    >>> len(to_five_minute_samples(np.ones(288), bin_s=300))
    8640
    """
    v = np.asarray(values, dtype=np.float64)
    if bin_s <= 0:
        raise ValueError("bin_s must be > 0")
    if bin_s < SAMPLE_S:
        k = SAMPLE_S / bin_s
        if abs(k - round(k)) > 1e-9:
            raise ValueError(f"bin_s ({bin_s:g} s) must divide 300 s or be a multiple of it")
        k = int(round(k))
        m = len(v) // k * k
        v = v[:m].reshape(-1, k).mean(axis=1) if m else v[:0]
    elif bin_s > SAMPLE_S:
        k = bin_s / SAMPLE_S
        if abs(k - round(k)) > 1e-9:
            raise ValueError(f"bin_s ({bin_s:g} s) must divide 300 s or be a multiple of it")
        v = np.repeat(v, int(round(k)))
    if month and 0 < len(v) < SAMPLES_PER_MONTH:
        v = np.resize(v, SAMPLES_PER_MONTH)
    return v


def transit_bill(samples_bps, *, price_per_mbps_month: float) -> tuple[float, float]:
    """95th-percentile transit bill of a month of 5-minute samples: (billed Mbps, monthly cost).

    The samples are sorted, the top 5 % discarded (432 of 8,640), the highest left is billed
    (:func:`netsim.stats.percentile_95`).

    Examples
    --------
    >>> x = np.full(8640, 2e9); x[::20] = 9e9   # 432 spikes of 9 Gbps over a 2 Gbps base
    >>> transit_bill(x, price_per_mbps_month=1.0)
    (2000.0, 2000.0)
    """
    s = np.asarray(samples_bps, dtype=np.float64)
    if len(s) == 0:
        return 0.0, 0.0
    mbps = percentile_95(s) / 1e6
    return mbps, mbps * price_per_mbps_month


class CostBreakdown:
    """The items of a design's monthly cost, per member and in total.

    Attributes
    ----------
    items : polars.DataFrame
        ``asn, item (line|ix_port|cache_site|transit), element, detail, cost`` (one row per item
        and payer; a shared p2p line has two rows at half cost each).
    by_member : polars.DataFrame
        ``asn, name, line, ix_port, cache_site, transit, total`` for the members counted.
    total : float
    currency : str
    """

    def __init__(self, items: pl.DataFrame, by_member: pl.DataFrame, currency: str):
        self.items, self.by_member, self.currency = items, by_member, currency
        self.total = float(by_member["total"].sum()) if by_member.height else 0.0

    def __repr__(self) -> str:
        return f"CostBreakdown(total={self.total:,.0f} {self.currency}/month, members={self.by_member.height})"


def _route_km(d: dict, prices: Prices) -> float:
    return max(float(d.get("latency_ms", 0.0)) / MS_PER_KM, prices.line_min_km)


def design_cost(g: nx.DiGraph, links_table: pl.DataFrame | None, *, prices: Prices | None = None, bin_s: float = 300.0,
                design: str | None = None, members: Sequence[int] | None = None,
                aggregators: Mapping[int, Sequence[int]] | None = None,
                split: Literal["p95", "equal", "peak"] = "p95") -> CostBreakdown:
    """Monthly cost of a design: lines, IX ports, cache sites and 95th-percentile transit, per member AS.

    Parameters
    ----------
    g : networkx.DiGraph
        The design's topology.
    links_table : polars.DataFrame or None
        The engine's links table (``design, bin, ts_s, src, dst, bps, ...``); only the rows of
        ``design`` are used when given. ``None``: no traffic (transit costs 0).
    prices : Prices
    bin_s : float
        The run's bin length (turned into 5-minute samples, see the module docstring).
    design : str, optional
        Which design's rows to use; required when the table holds several.
    members : sequence of int, optional
        ASNs whose costs are counted (default: the ASes with access PoPs, i.e. a node with
        ``subscribers > 0``; carriers' own networks are what they sell, not the members' cost).
    aggregators : mapping of int to list of int, optional
        Aggregated ISPs (their ASN → their member ASNs, as the ``aggregated_isp`` design
        transform's ``asn`` and ``members``): every item the aggregated ISP pays (its joint lines,
        its transit) is shared among its members by ``split`` and shows in their ``shared``
        column, so the members' totals include it (the aggregator's own row is not a member row).
    split : {"p95", "equal", "peak"}
        How an aggregator's costs are shared: by each member's 95th percentile of its traffic on
        its links to the aggregator (both directions summed), equally, or by its peak there.

    Returns
    -------
    CostBreakdown

    Examples
    --------
    >>> g = nx.DiGraph()
    >>> g.add_node("a", kind="pop", asn=1, subscribers=10, name="a")
    >>> g.add_node("t", kind="pop", asn=2, subscribers=0, name="t")
    >>> for u, v, rel in (("a", "t", "c2p"), ("t", "a", "p2c")):
    ...     g.add_edge(u, v, capacity_gbps=10.0, latency_ms=0.5, rel=rel, tags=("transit",))
    >>> links = pl.DataFrame({"design": "d", "bin": [0, 1], "ts_s": [0.0, 300.0], "src": "t", "dst": "a",
    ...                       "bps": [1e9, 3e9]})
    >>> c = design_cost(g, links, prices=Prices())
    >>> c.by_member.select("asn", "line", "transit", "total").row(0)  # 10 Gbps x 100 km x 0.1; p95 = 3000 Mbps
    (1, 100.0, 3000.0, 3100.0)
    """
    prices = prices or Prices()
    if split not in ("p95", "equal", "peak"):
        raise InputError(f"split must be p95, equal or peak, found {split!r}", where="split")
    asn = {n: d["asn"] for n, d in g.nodes(data=True)}
    if members is None:
        members = sorted({asn[n] for n, d in g.nodes(data=True) if d.get("subscribers", 0) > 0})
    members = sorted(set(int(m) for m in members))
    transit_edges = _transit_edges(g)
    series = _link_series(links_table, design=design) if (transit_edges or aggregators) else {}

    def samples_of(e):
        s = series.get((str(e[0]), str(e[1])))
        return to_five_minute_samples(s, bin_s=bin_s) if s is not None else np.zeros(0)

    items = _line_and_port_items(g, asn, prices) + _cache_site_items(g, asn, prices)
    items += _transit_items(transit_edges, asn, samples_of, prices)
    for agg, agg_members in sorted((aggregators or {}).items()):
        items += _shared_items(g, asn, items, agg, agg_members, samples_of, split)
    items_df = pl.DataFrame(items, schema={"asn": pl.Int64, "item": pl.Utf8, "element": pl.Utf8, "detail": pl.Utf8,
                                           "cost": pl.Float64}, orient="row")
    by_member = _by_member(items_df, members, g.graph.get("as_names", {}) or {})
    return CostBreakdown(items_df.filter(pl.col("asn").is_in(members)), by_member, prices.currency)


#: The cost items of a design, in the order of the by-member columns.
COST_ITEMS = ("line", "ix_port", "cache_site", "transit", "shared")


def _line_payers(g: nx.DiGraph, u, v, asn: dict) -> list[tuple[int, float]]:
    """Who pays a (non-IX) line and what share: the customer of c2p, the owner of an internal
    link, each AS half of a direct link between two ASes."""
    rel = g.edges[u, v].get("rel", "internal")
    if rel == "c2p":
        return [(asn[u], 1.0)]
    if rel == "p2c":
        return [(asn[v], 1.0)]
    if asn[u] == asn[v]:
        return [(asn[u], 1.0)]
    return [(asn[u], 0.5), (asn[v], 0.5)]


def _line_and_port_items(g: nx.DiGraph, asn: dict, prices: Prices) -> list[tuple]:
    """``line`` items (each duplex pair once, at the larger capacity) and ``ix_port`` items (one per
    IX membership); see the module docstring."""
    kind = {n: d.get("kind", "pop") for n, d in g.nodes(data=True)}
    items: list[tuple] = []
    seen = set()
    for u, v in sorted(g.edges, key=lambda e: (str(e[0]), str(e[1]))):
        key = tuple(sorted((str(u), str(v))))
        if key in seen:
            continue
        seen.add(key)
        d = g.edges[u, v]
        back = g.edges[v, u] if g.has_edge(v, u) else None
        cap = max(d["capacity_gbps"], back["capacity_gbps"] if back else 0.0)
        own_cost = [x.get("cost") for x in (d, back) if x is not None and x.get("cost") is not None]
        elem = f"{u}<->{v}" if back else f"{u}->{v}"
        if own_cost:
            line, detail = float(max(own_cost)), "cost attribute"
        else:
            km = _route_km(d, prices)
            line, detail = cap * km * prices.line_per_gbps_km_month, f"{cap:g} Gbps x {km:,.0f} km"
        ix_end = u if kind[u] == "ix" else v if kind[v] == "ix" else None
        if ix_end is not None and kind[u] != kind[v]:
            member = v if ix_end == u else u
            payers = [(asn[member], 1.0)]
            fee = g.nodes[ix_end].get("cost")
            port, pdesc = (float(fee), "IX's port fee (cost attribute)") if fee is not None else prices.ix_port(cap)
            items.append((asn[member], "ix_port", f"{member}@{ix_end}", pdesc, port))
        else:
            payers = _line_payers(g, u, v, asn)
        for a, share in payers:
            items.append((a, "line", elem, detail + ("" if share == 1 else " (half)"), line * share))
    return items


def _cache_site_items(g: nx.DiGraph, asn: dict, prices: Prices) -> list[tuple]:
    """One ``cache_site`` item per cache node, paid by its ASN."""
    items = []
    for n in sorted(g.nodes, key=str):
        if g.nodes[n].get("kind", "pop") == "cache":
            c = g.nodes[n].get("cost")
            tb = float(g.nodes[n].get("capacity_bytes", 0)) / 1e12
            if c is not None:
                items.append((asn[n], "cache_site", str(n), "cost attribute", float(c)))
            elif prices.cache_per_tb_month:
                items.append((asn[n], "cache_site", str(n), f"default site + {tb:g} TB",
                              prices.cache_site_per_month + tb * prices.cache_per_tb_month))
            else:
                items.append((asn[n], "cache_site", str(n), "default site", prices.cache_site_per_month))
    return items


def _transit_edges(g: nx.DiGraph) -> list[tuple]:
    """The billed c2p links: all of them, or only those tagged ``transit`` when the topology uses that tag."""
    tagged = any("transit" in d.get("tags", ()) for _, _, d in g.edges(data=True))
    return sorted(((u, v) for u, v, d in g.edges(data=True)
                   if d.get("rel") == "c2p" and (not tagged or "transit" in d.get("tags", ()))),
                  key=lambda e: (str(e[0]), str(e[1])))


def _transit_items(transit_edges: list[tuple], asn: dict, samples_of, prices: Prices) -> list[tuple]:
    """One ``transit`` item per billed link: the 95th percentile of its 5-minute samples, larger direction."""
    items = []
    for u, v in transit_edges:
        bills = [transit_bill(samples_of(e), price_per_mbps_month=prices.transit_per_mbps_month) for e in ((u, v), (v, u))]
        mbps, cost = max(bills)
        items.append((asn[u], "transit", f"{u}->{v}", f"p95 {mbps:,.1f} Mbps", cost))
    return items


def _shared_items(g: nx.DiGraph, asn: dict, items: list[tuple], agg: int, agg_members, samples_of,
                  split: str) -> list[tuple]:
    """An aggregated ISP's own costs (every item it pays so far) shared among its member ASes by
    ``split`` of each member's traffic on its links to the aggregator."""
    agg_members = sorted(set(int(m) for m in agg_members))
    agg_total = float(sum(it[4] for it in items if it[0] == agg))
    weights = []
    for m in agg_members:
        edges = sorted(((u, v) for u, v in g.edges
                        if (asn[u] == m and asn[v] == agg) or (asn[u] == agg and asn[v] == m)),
                       key=lambda e: (str(e[0]), str(e[1])))
        if not edges:
            raise InputError(f"AS{m} has no link to the aggregated ISP AS{agg}", where="aggregators")
        xs = [x for x in (samples_of(e) for e in edges) if len(x)]
        tot = np.sum(xs, axis=0) if xs else np.zeros(1)
        weights.append({"p95": percentile_95(tot), "peak": float(tot.max()), "equal": 1.0}[split])
    w = np.asarray(weights, dtype=np.float64)
    share = w / w.sum() if w.sum() > 0 else np.full(len(w), 1.0 / len(w))
    return [(m, "shared", f"AS{agg}", f"{sh:.1%} ({split}) of {agg_total:,.0f}", float(sh * agg_total))
            for m, sh in zip(agg_members, share)]


def _by_member(items_df: pl.DataFrame, members: list[int], names: Mapping) -> pl.DataFrame:
    """Per member AS, each item's sum and the total."""
    rows = []
    for a in members:
        mine = items_df.filter(pl.col("asn") == a)
        row = {"asn": a, "name": str(names.get(a, a))}
        for it in COST_ITEMS:
            row[it] = float(mine.filter(pl.col("item") == it)["cost"].sum())
        row["total"] = sum(row[it] for it in COST_ITEMS)
        rows.append(row)
    return pl.DataFrame(rows, schema={"asn": pl.Int64, "name": pl.Utf8, **{k: pl.Float64 for k in COST_ITEMS},
                                      "total": pl.Float64})


def _link_series(links_table: pl.DataFrame | None, *, design: str | None) -> dict[tuple[str, str], np.ndarray]:
    """Per directed link, its bps per bin (bins with no row count as 0)."""
    if links_table is None or links_table.height == 0:
        return {}
    for col in ("bin", "src", "dst", "bps"):
        if col not in links_table.columns:
            raise InputError(f"the links table has no column {col!r}", where="links_table")
    f = links_table
    if "design" in f.columns:
        designs = f["design"].unique().sort().to_list()
        if design is None:
            if len(designs) > 1:
                raise InputError(f"the links table holds designs {', '.join(designs)}: say which (design=...)")
        else:
            if design not in designs:
                raise InputError(f"design {design!r} is not in the links table (found {', '.join(designs)})")
            f = f.filter(pl.col("design") == design)
    n_bins = int(f["bin"].max()) + 1
    out = {}
    for (src, dst), part in f.group_by(["src", "dst"]):
        arr = np.zeros(n_bins)
        arr[part["bin"].to_numpy()] = part["bps"].to_numpy()
        out[(str(src), str(dst))] = arr
    return out


def member_upstream_series(g: nx.DiGraph, links_table: pl.DataFrame, *, design: str | None = None, bin_s: float = 300.0,
                           members: Sequence[int] | None = None,
                           direction: Literal["in", "out", "max"] = "max") -> dict[str, np.ndarray]:
    """Each member's upstream traffic (its ``c2p`` links summed) as a month of 5-minute samples,
    the input of :func:`joint_procurement`.

    Use the run of the design where members buy separately (e.g. the baseline). ``direction``:
    ``in`` = provider → member (downloads), ``out``, or ``max`` = the larger of the two per sample.
    Keys are the AS names (``as_names``), or the ASN as a string where there is none.

    Examples
    --------
    >>> g = nx.DiGraph(as_names={1: "A"})
    >>> g.add_node("a", asn=1, subscribers=5); g.add_node("t", asn=2)
    >>> g.add_edge("a", "t", rel="c2p"); g.add_edge("t", "a", rel="p2c")
    >>> lt = pl.DataFrame({"bin": [0, 0], "src": ["t", "a"], "dst": ["a", "t"], "bps": [8e9, 1e9]})
    >>> s = member_upstream_series(g, lt)
    >>> list(s), len(s["A"]), float(s["A"][0])
    (['A'], 8640, 8000000000.0)
    """
    if direction not in ("in", "out", "max"):
        raise InputError(f"direction must be in, out or max, found {direction!r}", where="direction")
    asn = {n: d["asn"] for n, d in g.nodes(data=True)}
    if members is None:
        members = sorted({asn[n] for n, d in g.nodes(data=True) if d.get("subscribers", 0) > 0})
    series = _link_series(links_table, design=design)
    n_bins = max((len(v) for v in series.values()), default=0)
    names = g.graph.get("as_names", {}) or {}
    out: dict[str, np.ndarray] = {}
    for a in sorted(set(int(m) for m in members)):
        inb, outb = np.zeros(n_bins), np.zeros(n_bins)
        for u, v, d in sorted(g.edges(data=True), key=lambda e: (str(e[0]), str(e[1]))):
            if d.get("rel") == "c2p" and asn[u] == a:
                outb += series.get((str(u), str(v)), 0.0)
                inb += series.get((str(v), str(u)), 0.0)
        per_bin = {"in": inb, "out": outb, "max": np.maximum(inb, outb)}[direction]
        key = str(names.get(a, a))
        out[key if key not in out else str(a)] = to_five_minute_samples(per_bin, bin_s=bin_s)
    return out


# --------------------------------------------------------------------------------------------- joint procurement
class JointProcurement:
    """Separate vs joint procurement of an aggregated ISP (see :func:`joint_procurement`).

    Attributes
    ----------
    members : polars.DataFrame
        Per member: ``member, peak_bps, p95_bps, line_gbps, line_cost, transit_cost,
        separate_cost, share, joint_cost, saving`` (``joint_cost`` = share × joint total;
        ``saving`` = separate − joint, may be negative).
    separate : dict
        ``line_gbps`` (Σ of each member's line), ``line_cost``, ``transit_mbps`` (Σ p95),
        ``transit_cost``, ``total``.
    joint : dict
        The same keys for one line sized on the peak of the sum and one bill on the p95 of the sum.
    split : str
    """

    def __init__(self, members: pl.DataFrame, separate: dict, joint: dict, split: str, currency: str):
        self.members, self.separate, self.joint, self.split, self.currency = members, separate, joint, split, currency

    @property
    def saving(self) -> float:
        """Separate total − joint total (negative if the joint transit bill rose more than the line saved)."""
        return self.separate["total"] - self.joint["total"]

    def __repr__(self) -> str:
        return (f"JointProcurement(separate={self.separate['total']:,.0f}, joint={self.joint['total']:,.0f} "
                f"{self.currency}/month, split={self.split})")


def _line_gbps(peak_bps: float, headroom: float, step_gbps: float | None) -> float:
    need = peak_bps * headroom / 1e9
    if step_gbps:
        # NOTE: a relative tolerance (float noise at whole circuits); an absolute one gave a member with a
        # few bps no circuit at all while the joint line of the same traffic got one
        x = need / step_gbps
        return math.ceil(x - 1e-9 * x) * step_gbps
    return need


def joint_procurement(member_series: Mapping[str, np.ndarray], *, headroom: float = 1.25, prices: Prices | None = None,
                      line_km: float = 150.0, line_step_gbps: float | None = 10.0,
                      split: Literal["p95", "equal", "peak"] = "p95") -> JointProcurement:
    """Compare buying upstream line + transit separately per member with buying them jointly.

    Parameters
    ----------
    member_series : mapping of str to array
        Each member's upstream traffic (bps), 5-minute samples over the same times (a month:
        8,640; shorter series are billed as they are).
    headroom : float
        A line is sized at peak × ``headroom``.
    prices : Prices
    line_km : float
        Route length of the upstream line (default 150 km: Utsunomiya–Otemachi is about 100 km in
        a straight line, × 1.5 route factor; docs/sources.md).
    line_step_gbps : float or None
        Lines are bought in whole circuits of this size (default 10G); ``None``: any capacity.
    split : {"p95", "equal", "peak"}
        How the joint total is shared: proportional to each member's own 95th percentile
        (default: what it would have been billed on), equally, or proportional to its own peak.
        If every weight is 0 the split is equal.

    Examples
    --------
    >>> t = np.arange(8640)
    >>> evening = lambda shift: 1e9 * (1 + np.sin(2 * np.pi * (t - shift) / 288))
    >>> jp = joint_procurement({"a": evening(0), "b": evening(144)}, line_step_gbps=None)
    >>> jp.joint["line_gbps"] < jp.separate["line_gbps"], round(jp.members["share"].sum(), 9)
    (True, 1.0)
    """
    prices = prices or Prices()
    if split not in ("p95", "equal", "peak"):
        raise InputError(f"split must be p95, equal or peak, found {split!r}", where="split")
    if headroom < 1:
        raise InputError(f"headroom must be >= 1, found {headroom}", where="headroom")
    if not member_series:
        raise InputError("no members", where="member_series")
    names = sorted(member_series)
    arrs = [np.asarray(member_series[m], dtype=np.float64) for m in names]
    lengths = {len(a) for a in arrs}
    if len(lengths) != 1 or 0 in lengths:
        raise InputError(f"member series must have the same non-zero length, found {sorted(lengths)}", where="member_series")
    for m, a in zip(names, arrs):
        if not np.all(np.isfinite(a)) or np.any(a < 0):
            raise InputError(f"member {m!r}: traffic must be finite and >= 0", where="member_series")
    per_km = line_km * prices.line_per_gbps_km_month
    peaks = np.array([a.max() for a in arrs])
    p95s = np.array([percentile_95(a) for a in arrs])
    line_g = np.array([_line_gbps(p, headroom, line_step_gbps) for p in peaks])
    line_c = line_g * per_km
    transit_c = p95s / 1e6 * prices.transit_per_mbps_month
    sep_cost = line_c + transit_c
    total = np.sum(arrs, axis=0)
    j_peak, j_p95 = float(total.max()), percentile_95(total)
    j_line_g = _line_gbps(j_peak, headroom, line_step_gbps)
    joint = {"line_gbps": j_line_g, "line_cost": j_line_g * per_km, "transit_mbps": j_p95 / 1e6,
             "transit_cost": j_p95 / 1e6 * prices.transit_per_mbps_month}
    joint["total"] = joint["line_cost"] + joint["transit_cost"]
    separate = {"line_gbps": float(line_g.sum()), "line_cost": float(line_c.sum()), "transit_mbps": float(p95s.sum() / 1e6),
                "transit_cost": float(transit_c.sum())}
    separate["total"] = separate["line_cost"] + separate["transit_cost"]
    w = {"p95": p95s, "peak": peaks, "equal": np.ones(len(names))}[split].astype(np.float64)
    share = w / w.sum() if w.sum() > 0 else np.full(len(names), 1.0 / len(names))
    joint_each = share * joint["total"]
    members = pl.DataFrame({"member": names, "peak_bps": peaks, "p95_bps": p95s, "line_gbps": line_g, "line_cost": line_c,
                            "transit_cost": transit_c, "separate_cost": sep_cost, "share": share,
                            "joint_cost": joint_each, "saving": sep_cost - joint_each})
    return JointProcurement(members, separate, joint, split, prices.currency)


def union_bound_p95(member_series: Mapping[str, np.ndarray]) -> float:
    """An upper bound on ``p95(Σ xᵢ)`` that always holds: Σ of each member's value with its top
    ``⌊5 % N / k⌋`` samples discarded (``k`` members, ``N`` samples). See the module docstring.

    Examples
    --------
    >>> a = np.zeros(100); a[:5] = 100.0   # each member's own p95 is 0 ...
    >>> b = np.zeros(100); b[5:10] = 100.0
    >>> percentile_95(a) + percentile_95(b), percentile_95(a + b), union_bound_p95({"a": a, "b": b})
    (0.0, 100.0, 200.0)
    """
    arrs = [np.sort(np.asarray(v, dtype=np.float64)) for _, v in sorted(member_series.items())]
    n, k = len(arrs[0]), len(arrs)
    drop = (n * 5 // 100) // k
    return float(sum(a[n - drop - 1] for a in arrs))
