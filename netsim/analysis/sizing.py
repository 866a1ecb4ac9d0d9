"""Size a network's links for its expected busy-hour demand, routed by netsim's own router.

An operator buys each link for the busy hour with headroom, and so that the busy hour still fits
when any one link is cut (the traffic moves to the other paths). This module does the same with
the parts the replay engine uses, so a network it sizes carries the traffic netsim then replays:

1. The demand: a frame of expected rates (``src``, ``dst``, ``provider``, ``bytes_per_s``; e.g.
   :func:`netsim.traffic.generators.expected_demand`, the generators' weekly mean) times the
   busy-hour factor (:data:`netsim.traffic.timeshape.BUSY_HOUR_FACTOR`, 1.53).
2. Content rows (``provider`` set, ``dst`` null) are served by the provider's nearest origin, as the
   engine's cache system picks it (no caches: a network is sized for its traffic without them);
   flows go from ``src`` to ``dst``.
3. The demands are routed with :mod:`netsim.routing` (the scenario's IGP weight and multipath)
   in normal operation and with each duplex link cut in turn (N-1).
4. A link's need is the larger of its normal busy-hour load over ``target`` (default 0.6: the busy
   hour at <= 60 %, about a year of 30 %/yr growth before it passes 80 %) and its worst N-1 load
   over ``failure_target`` (default 0.9); both directions of a duplex link get the larger need,
   rounded up to what is bought (:func:`line_size`). Both targets are assumptions (docs/sources.md).
"""

from __future__ import annotations

import math
from typing import Iterable, Mapping

import networkx as nx
import numpy as np
import polars as pl

from netsim.errors import InputError
from netsim.traffic.timeshape import BUSY_HOUR_FACTOR

__all__ = ["TARGET_UTIL", "FAILURE_UTIL", "line_size", "busy_hour_loads", "size_links"]

#: Busy-hour utilisation a link is bought for in normal operation (assumption: at 30 %/yr growth it
#: passes 80 % in about a year, when the next upgrade is due).
TARGET_UTIL = 0.6
#: Busy-hour utilisation allowed with any one link cut (assumption: the traffic fits, with 10 % margin).
FAILURE_UTIL = 0.9


def line_size(gbps: float, *, floor: int = 10) -> int:
    """What is bought for a need of ``gbps``: 10G steps up to 100G, then 100G steps (n x 100G), at least ``floor``.

    Examples
    --------
    >>> line_size(3.2), line_size(96.0), line_size(101.0), line_size(0.0, floor=400)
    (10, 100, 200, 400)
    """
    if not math.isfinite(gbps) or gbps < 0:
        raise ValueError(f"line_size: need must be finite and >= 0, found {gbps!r}")
    step = 10 if gbps <= 100 else 100
    return max(int(floor), int(math.ceil(gbps / step - 1e-9)) * step)


def _pairs(system, demand: pl.DataFrame, routes) -> tuple[list, list, np.ndarray, float]:
    """(sources, destinations, bytes/s, unreachable bytes/s) of the demand in one network state."""

    flows = demand.filter(pl.col("provider").is_null())
    content = demand.filter(pl.col("provider").is_not_null())
    src, dst, vol = list(flows["src"]), list(flows["dst"]), flows["bytes_per_s"].to_numpy()
    lost = 0.0
    if content.height:
        r = system.resolve(content.select("src", "provider", pl.lit(0, pl.UInt64).alias("obj"),
                                          pl.lit(1, pl.Int64).alias("bytes"), "bytes_per_s"),
                           distance=routes.distance_function())
        lost += float(r.filter(pl.col("unreachable"))["bytes_per_s"].sum())
        ok = r.filter(~pl.col("unreachable"))
        src += list(ok["served_by"])
        dst += list(ok["src"])
        vol = np.concatenate([vol, ok["bytes_per_s"].to_numpy()])
    return src, dst, vol, lost


def _state_loads(g: nx.DiGraph, system, demand: pl.DataFrame, *, igp_weight: str, multipath: bool) -> tuple[dict, float]:
    from netsim import routing

    net = routing.compile(g, igp_weight=igp_weight)
    routes = net.route(multipath=multipath)
    src, dst, vol, lost = _pairs(system, demand, routes)
    loads, unreach = routes.assign(src, dst, vol, return_unreachable=True)
    lost += float(vol[unreach].sum())
    return dict(zip(net.links, loads.tolist())), lost


def busy_hour_loads(g: nx.DiGraph, demand: pl.DataFrame, *, busy_hour: float = BUSY_HOUR_FACTOR,
                    igp_weight: str = "latency_ms", multipath: bool = False,
                    cuts: Iterable[tuple[str, str]] | None = None) -> pl.DataFrame:
    """Busy-hour load of every link (Gbps) in normal operation and its worst with one link cut (N-1).

    ``cuts``: the duplex links cut one at a time (default: every link; ``()``: normal operation
    only). Leave out links that are bundles of ports at one site (an IX port of several 100G
    members loses a member, not the link), or the N-1 need is that of a failure that does not happen.

    Returns one row per directed link: ``src``, ``dst``, ``capacity_gbps`` (as the graph has it),
    ``normal_gbps``, ``failure_gbps`` (the largest load over the cuts, at least the normal load)
    and ``failure`` (the cut link giving it, ``u|v``, or null). Demand with no route in normal
    operation is an error (a network that cannot carry its own traffic).

    Examples
    --------
    >>> from netsim.topology import load_topology
    >>> from netsim.traffic.generators import expected_demand
    >>> g = load_topology("tochigi")
    >>> t = busy_hour_loads(g, expected_demand(g))
    >>> bool((t["failure_gbps"] >= t["normal_gbps"] - 1e-9).all()), t["normal_gbps"].sum() > 0
    (True, True)
    """
    if not (math.isfinite(busy_hour) and busy_hour > 0):
        raise InputError(f"busy_hour must be > 0, found {busy_hour!r}", where="busy_hour")
    need = {"src", "dst", "provider", "bytes_per_s"}
    if not need <= set(demand.columns):
        raise InputError(f"the demand needs columns {', '.join(sorted(need))}; found {', '.join(demand.columns)}")
    from netsim.cache.resolve import CacheSystem

    to_gbps = 8e-9 * busy_hour
    system = CacheSystem(g)
    normal, lost = _state_loads(g, system, demand, igp_weight=igp_weight, multipath=multipath)
    if lost > 1e-9 * max(1.0, float(demand["bytes_per_s"].sum())):
        raise InputError(f"{lost * to_gbps:.3f} Gbps of the busy-hour demand has no route in normal operation",
                         source=g.graph.get("source"))
    worst = dict(normal)
    cause: dict = {e: None for e in normal}
    seen = set()
    for u, v in sorted(g.edges) if cuts is None else sorted(cuts):
        key = frozenset((u, v))
        if key in seen:
            continue
        if not g.has_edge(u, v):
            raise InputError(f"cut {u} -> {v}: no such link", where="cuts")
        seen.add(key)
        h = g.copy()
        h.remove_edges_from([(u, v), (v, u)])
        loads, _ = _state_loads(h, system, demand, igp_weight=igp_weight, multipath=multipath)
        for e, x in loads.items():
            if x > worst[e] + 1e-9:
                worst[e], cause[e] = x, f"{u}|{v}"
    links = sorted(normal)
    return pl.DataFrame({
        "src": [u for u, _ in links], "dst": [v for _, v in links],
        "capacity_gbps": [float(g.edges[e]["capacity_gbps"]) for e in links],
        "normal_gbps": [normal[e] * to_gbps for e in links],
        "failure_gbps": [worst[e] * to_gbps for e in links],
        "failure": [cause[e] for e in links],
    }, schema={"src": pl.String, "dst": pl.String, "capacity_gbps": pl.Float64, "normal_gbps": pl.Float64,
               "failure_gbps": pl.Float64, "failure": pl.String})


def size_links(loads: pl.DataFrame, *, target: float = TARGET_UTIL, failure_target: float = FAILURE_UTIL,
               floors: Mapping[tuple[str, str], int] | None = None, fixed: Iterable[tuple[str, str]] = ()) -> dict:
    """Capacity to buy per duplex link, ``{(u, v): Gbps}`` for both directions, from :func:`busy_hour_loads`.

    The need is ``max(normal / target, failure / failure_target)`` over both directions, rounded
    up by :func:`line_size` with the link's floor (``floors``, either direction's key; default 10).
    Links in ``fixed`` keep their capacity (e.g. ports outside the study that are far above it).

    Examples
    --------
    >>> t = pl.DataFrame({"src": ["a", "b"], "dst": ["b", "a"], "capacity_gbps": [1.0, 1.0],
    ...                   "normal_gbps": [30.0, 3.0], "failure_gbps": [30.0, 50.0]})
    >>> size_links(t)  # 30 / 0.6 = 50 < 50 / 0.9 = 55.6 -> 60
    {('a', 'b'): 60, ('b', 'a'): 60}
    """
    if not (0 < target <= 1 and 0 < failure_target <= 1):
        raise InputError(f"targets must be in (0, 1], found {target!r}, {failure_target!r}")
    floors = dict(floors or {})
    fixed = {frozenset(e) for e in fixed}
    need: dict[frozenset, float] = {}
    cap: dict[frozenset, float] = {}
    for r in loads.iter_rows(named=True):
        key = frozenset((r["src"], r["dst"]))
        x = max(r["normal_gbps"] / target, r["failure_gbps"] / failure_target)
        need[key] = max(need.get(key, 0.0), x)
        cap[key] = max(cap.get(key, 0.0), r["capacity_gbps"])
    out = {}
    for r in loads.iter_rows(named=True):
        u, v = r["src"], r["dst"]
        key = frozenset((u, v))
        if key in fixed:
            out[(u, v)] = int(cap[key]) if float(cap[key]).is_integer() else cap[key]
        else:
            out[(u, v)] = line_size(need[key], floor=floors.get((u, v), floors.get((v, u), 10)))
    return out
