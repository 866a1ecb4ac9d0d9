"""How a cache's hit ratios depend on its size, for a trace: simulated, and by Che's approximation.

:func:`size_curve` replays a trace's content requests through one cache (as if it served every
client), at each size of a ladder, in the trace's own sampled space (the cache runs at
``sample_rate × size``, as the engine runs it), and puts Che's prediction beside each point, from
the trace's per-object request counts taken as rates (the independent reference model; a trace
whose popularity drifts hits a little less than Che predicts). Requests for objects no cache may
store (:mod:`netsim.cache.cacheability`) bypass the cache and count as misses in the offload.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from netsim.errors import InputError

__all__ = ["size_curve", "parse_bytes"]

_UNITS = {"": 1, "B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12, "PB": 1e15}


def parse_bytes(text: str, *, where: str = "--sizes") -> float:
    """``"10TB"`` -> 1e13 (decimal units B, KB, MB, GB, TB, PB; a bare number is bytes).

    Examples
    --------
    >>> parse_bytes("10TB"), parse_bytes("500 GB"), parse_bytes("1e6")
    (10000000000000.0, 500000000000.0, 1000000.0)
    """
    t = str(text).strip().upper().replace(" ", "")
    num = t.rstrip("KMGTPB")
    unit = t[len(num):]
    try:
        v = float(num) * _UNITS[unit]
    except (ValueError, KeyError):
        raise InputError(f"{text!r} is not a size; expected a number with B, KB, MB, GB, TB or PB", where=where) from None
    if not v > 0:
        raise InputError(f"sizes must be > 0, found {text!r}", where=where)
    return v


def size_curve(trace, sizes_bytes, *, policy: str = "lru", cacheable: dict[str, float] | None = None) -> pl.DataFrame:
    """One row per size: ``size_bytes``, simulated ``hit_ratio`` and ``byte_hit_ratio`` (of the cacheable
    requests), ``offload`` (of all content bytes), and Che's ``che_hit_ratio`` / ``che_byte_hit_ratio``.

    Examples
    --------
    >>> c = size_curve("tochigi-1d@0.001", [1e12, 10e12])  # the shipped day at a quick sample rate
    >>> c["byte_hit_ratio"][0] < c["byte_hit_ratio"][1]
    True
    """
    from netsim.cache import make_cache, make_keys, scaled_capacity
    from netsim.cache.cacheability import cacheable_rows
    from netsim.cache.che import che_lru
    from netsim.traffic import read_trace, trace_meta

    rate = float(trace_meta(trace).get("sample_rate", 1.0))
    req = (read_trace(trace).filter(pl.col("obj").is_not_null())
           .select("provider", "obj", "bytes", "service").collect())
    if req.height == 0:
        raise InputError("the trace has no content requests (rows with obj)", source=str(trace))
    ok = cacheable_rows(req, cacheable)
    keys = make_keys(req["provider"], req["obj"].to_numpy())[ok]
    sizes = req["bytes"].to_numpy()[ok]
    all_bytes = float(req["bytes"].sum())
    per_obj = (pl.DataFrame({"k": keys, "s": sizes}).group_by("k")
               .agg(pl.len().alias("n"), pl.col("s").last()))
    rows = []
    for size in sizes_bytes:
        cap = scaled_capacity(int(size), rate)
        hits = make_cache(policy, capacity_bytes=cap).process(keys, sizes) if len(keys) else np.zeros(0, bool)
        che = che_lru(per_obj["n"].to_numpy().astype(float), per_obj["s"].to_numpy().astype(float), cap) \
            if per_obj.height else None
        hit_b = float((sizes * hits).sum())
        rows.append({"size_bytes": float(size), "hit_ratio": float(hits.mean()) if len(hits) else float("nan"),
                     "byte_hit_ratio": hit_b / float(sizes.sum()) if len(sizes) else float("nan"),
                     "offload": hit_b / all_bytes,
                     "che_hit_ratio": che.hit_ratio if che else float("nan"),
                     "che_byte_hit_ratio": che.byte_hit_ratio if che else float("nan")})
    return pl.DataFrame(rows)
