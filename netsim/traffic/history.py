"""Synthetic measurement history: hourly traffic counters per access ISP, the input of a forecast.

An operator plans from its own counters (SNMP, flow totals): weeks of traffic per ISP or per
link. Where a study has none yet (or to try the forecast on a known answer), :func:`synth_history`
makes them from a topology, with the same calibration as the trace generators:

* level: each access AS's subscribers × ``mbps_per_subscriber`` (default 0.89 Mbps, MIC's 38.9
  Tbps / 43.8M subscriptions, November 2024; docs/sources.md) — the weekly mean at the history's end;
* shape: the MIC-calibrated diurnal and weekly curve of :mod:`netsim.traffic.timeshape` (peak
  21–23h every day, more daytime at weekends);
* growth: ``growth_per_year`` compounded, so the level ``t`` seconds before the end is
  ``(1 + g) ** (−t / year)`` of the end level (MIC: 20–40 % a year);
* noise: multiplicative, ``exp(e)`` with ``e`` an AR(1) series per ISP (lag-one correlation
  ``noise_corr``, marginal standard deviation ``noise``): an hour busier than usual tends to be
  followed by another.

The series are named ``AS<asn>`` (what a scenario's ``forecast.history`` maps to the AS's links)
and end at ``end`` (exclusive), by default 2024-01-01 00:00, a Monday: the wall-clock time
netsim gives ``ts_s = 0`` of a run, so the history ends where the simulated day starts.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from pathlib import Path

import networkx as nx
import numpy as np
import polars as pl

from netsim.errors import InputError
from netsim.traffic.generators import MBPS_PER_SUBSCRIPTION_2024
from netsim.traffic.timeshape import shape

__all__ = ["synth_history", "write_history", "HISTORY_END"]

#: ``ts_s = 0`` of a run as wall-clock time (netsim.analysis.forecast.series_from_run uses the same).
HISTORY_END = datetime(2024, 1, 1)
_YEAR_S = 365.25 * 86400.0


def synth_history(g: nx.DiGraph, *, weeks: int = 8, growth_per_year: float = 0.3, noise: float = 0.05,
                  noise_corr: float = 0.6, seed: int = 0, step_s: float = 3600.0,
                  mbps_per_subscriber: float = MBPS_PER_SUBSCRIPTION_2024,
                  end: datetime = HISTORY_END) -> pl.DataFrame:
    """Hourly download counters of every access AS of ``g`` over the ``weeks`` before ``end``.

    Returns a frame ``timestamp, series, bps`` (the shape ``netsim forecast`` reads), sorted by
    series then time. Deterministic given ``seed``. ``end`` must be a Monday 00:00 (the weekly
    shape is anchored there, as in the trace generators, whose ``ts_s = 0`` is a Monday).

    Examples
    --------
    >>> import networkx as nx
    >>> g = nx.DiGraph()
    >>> g.add_node("a", kind="pop", asn=7, subscribers=1000)
    >>> h = synth_history(g, weeks=2, noise=0.0)
    >>> h.height, h["series"][0], round(h["bps"].mean() / 1e6)   # 2 weeks hourly; mean below 0.89 Gbps: growth
    (336, 'AS7', 884)
    """
    if not isinstance(weeks, int) or weeks < 1:
        raise InputError(f"weeks must be a whole number >= 1, found {weeks!r}", where="weeks")
    if not growth_per_year > -1:
        raise InputError(f"growth_per_year must be > -1, found {growth_per_year!r}", where="growth_per_year")
    if noise < 0 or not 0 <= noise_corr < 1:
        raise InputError("noise must be >= 0 and noise_corr in [0, 1)", where="noise")
    if not 0 < step_s <= 86400 or 86400 % step_s:
        raise InputError(f"step_s must divide a day, found {step_s!r}", where="step_s")
    if end.weekday() != 0 or (end.hour, end.minute, end.second, end.microsecond) != (0, 0, 0, 0):
        raise InputError(f"end must be a Monday 00:00, found {end.isoformat()}", where="end")
    subs: dict[int, float] = {}
    for n, d in sorted(g.nodes(data=True), key=lambda x: str(x[0])):
        if d.get("kind", "pop") == "pop" and d.get("subscribers", 0) > 0:
            subs[int(d["asn"])] = subs.get(int(d["asn"]), 0.0) + float(d["subscribers"])
    if not subs:
        raise InputError("the topology has no access PoP (a pop node with subscribers > 0)", source=g.graph.get("source"))
    n = int(weeks * 7 * 86400 // step_s)
    t = np.arange(n) * step_s                      # from the history's start, a Monday 00:00
    span = n * step_s
    base = shape(t + step_s / 2, start_weekday=0) * (1.0 + growth_per_year) ** ((t + step_s / 2 - span) / _YEAR_S)
    rng = np.random.default_rng(seed)
    start = end - timedelta(seconds=span)
    stamps = [start + timedelta(seconds=float(x)) for x in t]
    parts = []
    for asn in sorted(subs):
        e = np.zeros(n)
        if noise > 0:
            z = rng.standard_normal(n)
            innov = noise * math.sqrt(1 - noise_corr ** 2)
            e[0] = noise * z[0]
            for i in range(1, n):
                e[i] = noise_corr * e[i - 1] + innov * z[i]
            e -= noise ** 2 / 2                    # mean of exp(e) = 1
        bps = subs[asn] * mbps_per_subscriber * 1e6 * base * np.exp(e)
        parts.append(pl.DataFrame({"timestamp": stamps, "series": f"AS{asn}", "bps": bps}))
    return pl.concat(parts).with_columns(pl.col("timestamp").cast(pl.Datetime("us")))


def write_history(frame: pl.DataFrame, path: str | Path) -> Path:
    """Write a history frame as the CSV ``netsim forecast`` reads (ISO 8601 timestamps, bps rounded to whole bits/s).

    Examples
    --------
    >>> import tempfile, os
    >>> f = pl.DataFrame({"timestamp": [datetime(2024, 1, 1)], "series": ["AS1"], "bps": [1.6]})
    >>> p = write_history(f, os.path.join(tempfile.mkdtemp(), "h.csv"))
    >>> p.read_text().splitlines()
    ['timestamp,series,bps', '2024-01-01T00:00:00,AS1,2']
    """
    path = Path(path)
    out = frame.select(pl.col("timestamp").dt.strftime("%Y-%m-%dT%H:%M:%S"), "series",
                       pl.col("bps").round(0).cast(pl.Int64))
    out.write_csv(path)
    return path
