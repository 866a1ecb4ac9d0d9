"""A flow trace from a measured demand matrix (SNDlib, topohub), so a network can be replayed with its own demands.

Each demand ``(src, dst, value)`` is a mean rate (``value × unit``, bit/s). Over the trace it follows the
generators' diurnal shape (:func:`netsim.traffic.timeshape.shape`: the evening peak of MIC's
statistics), scaled so that the mean over the trace is the demand (a day: the busy hour is about 1.5
times it). The rate
is carried by flows of ``flow_mb`` megabytes (an assumption: a video segment or a web page's objects
add up to that order) whose arrivals in each hour are Poisson, thinned by ``sample_rate`` (each row
then stands for ``1 / sample_rate`` flows: the trace's ``scale``). Flows are rows without an
object (``obj`` null): the engine routes them between the two PoPs; caches do not see them.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import polars as pl

from netsim.errors import InputError

__all__ = ["UNITS", "flows_from_demands"]

#: bit/s of one unit of a demand value
UNITS = {"bps": 1.0, "kbps": 1e3, "Mbps": 1e6, "Gbps": 1e9}


def flows_from_demands(demands: Sequence[tuple[str, str, float]], *, unit: str, duration_s: float = 86400.0,
                       sample_rate: float = 0.01, flow_mb: float = 25.0, start_hour: float = 0.0,
                       start_weekday: int = 0, seed: int = 0, service: str = "other") -> tuple[pl.DataFrame, dict]:
    """The flow trace (trace schema, sorted by ``ts``) and its metadata.

    Examples
    --------
    >>> df, meta = flows_from_demands([("a", "b", 100.0)], unit="Mbps", duration_s=86400, sample_rate=0.1, seed=1)
    >>> rate = df["bytes"].sum() * 8 * meta["scale"] / 86400    # the day's mean: the demand, within sampling noise
    >>> abs(rate / 1e6 - 100) < 5, meta["scale"], df.columns     # 4,320 rows: 1.5 % noise
    (True, 10.0, ['ts', 'src', 'dst', 'provider', 'obj', 'bytes', 'service'])
    """
    from netsim.traffic.timeshape import shape

    if unit not in UNITS:
        raise InputError(f"expected a unit of {', '.join(UNITS)}, found {unit!r}", where="--unit")
    for name, v in (("duration", duration_s), ("flow size", flow_mb)):
        if not (math.isfinite(v) and v > 0):
            raise InputError(f"expected a {name} > 0, found {v}", where=f"--{name.replace(' size', '-mb')}")
    if not 0 < sample_rate <= 1:
        raise InputError(f"expected a sample rate in (0, 1], found {sample_rate}", where="--sample-rate")
    pairs = sorted((str(s), str(d), float(v)) for s, d, v in demands if s != d and v > 0)
    if not pairs:
        raise InputError("no demand between two different nodes with a value > 0", where="demands")
    if any(not math.isfinite(v) for _, _, v in pairs):
        raise InputError("demand values must be finite", where="demands")
    flow_bytes = flow_mb * 1e6
    edges = np.arange(0.0, duration_s, 3600.0)
    lengths = np.minimum(edges + 3600.0, duration_s) - edges
    mid = edges + lengths / 2 + start_hour * 3600.0
    level = shape(mid, start_weekday=start_weekday)
    level = level / (np.sum(level * lengths) / np.sum(lengths))   # the trace's mean rate is the demand
    rates = np.array([v for _, _, v in pairs]) * UNITS[unit]                       # bit/s, per pair
    lam = rates[:, None] * level[None, :] * lengths[None, :] / 8 / flow_bytes * sample_rate
    rng = np.random.default_rng(seed)
    counts = rng.poisson(lam)                                                        # (pairs, hours)
    n = int(counts.sum())
    if n > 50_000_000:
        raise InputError(f"the trace would have {n:,} rows; lower --sample-rate", where="--sample-rate")
    pair_idx = np.repeat(np.repeat(np.arange(len(pairs)), counts.shape[1]), counts.ravel())
    hour_idx = np.repeat(np.tile(np.arange(counts.shape[1]), len(pairs)), counts.ravel())
    ts = edges[hour_idx] + rng.random(n) * lengths[hour_idx]
    order = np.lexsort((pair_idx, ts))
    src = np.array([s for s, _, _ in pairs], dtype=object)[pair_idx[order]]
    dst = np.array([d for _, d, _ in pairs], dtype=object)[pair_idx[order]]
    df = pl.DataFrame({"ts": ts[order], "src": pl.Series(src, dtype=pl.Utf8), "dst": pl.Series(dst, dtype=pl.Utf8),
                       "provider": pl.Series([None] * n, dtype=pl.Utf8), "obj": pl.Series([None] * n, dtype=pl.UInt64),
                       "bytes": np.full(n, int(round(flow_bytes)), dtype=np.int64),
                       "service": pl.Series([service] * n, dtype=pl.Utf8)})
    meta = {"generator": "from-demands", "scale": 1.0 / sample_rate, "sample_rate": sample_rate,
            "duration_s": float(duration_s), "start_hour": float(start_hour), "start_weekday": int(start_weekday),
            "seed": int(seed), "demands": len(pairs), "demand_unit": unit, "flow_mb": float(flow_mb)}
    return df, meta
