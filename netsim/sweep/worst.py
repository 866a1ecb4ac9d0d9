"""Worst-case tables as planners read them, and the bound checks of ``netsim check``.

*Demand utilisation* is the traffic routed onto a link divided by its capacity, before congestion
drops anything (``(load_bytes + dropped_bytes) / capacity``): it says how much capacity a failure
would need, and can exceed 1. ``utilisation`` is what the link carried (at most 1).
"""

from __future__ import annotations

import polars as pl

__all__ = ["worst_links", "worst_regions", "link_violations", "region_violations"]

_GROUP = ["design", "growth"]


def worst_links(link_peaks: pl.DataFrame) -> pl.DataFrame:
    """Per design, growth factor and link: the highest demand utilisation over every failure set and seed,
    the failure that causes it, the traffic then, and the link's value with no failure.

    Ties go to the smaller failure set, then to the earlier task in the grid (column ``order``).
    Sorted by demand utilisation, highest first.

    Examples
    --------
    >>> f = pl.DataFrame({"design": ["d"] * 3, "growth": [1.0] * 3, "seed": [0] * 3, "order": [0, 1, 2],
    ...                   "failure": ["none", "metro a", "metro b"], "failed": [0, 1, 1],
    ...                   "src": ["x"] * 3, "dst": ["y"] * 3, "demand_utilisation": [0.5, 0.9, 0.7]})
    >>> worst_links(f).select("failure", "demand_utilisation", "no_failure_demand_utilisation").rows()
    [('metro a', 0.9, 0.5)]
    """
    keys = _GROUP + ["src", "dst"]
    if link_peaks.height == 0:
        return link_peaks.with_columns(pl.lit(None, dtype=pl.Float64).alias("no_failure_demand_utilisation"))
    worst = (link_peaks.sort(keys + ["demand_utilisation", "failed", "order"],
                             descending=[False] * len(keys) + [True, False, False], nulls_last=True)
             .unique(subset=keys, keep="first", maintain_order=True))
    base = (link_peaks.filter(pl.col("failed") == 0).group_by(keys)
            .agg(pl.col("demand_utilisation").max().alias("no_failure_demand_utilisation")))
    return (worst.join(base, on=keys, how="left")
            .sort(["demand_utilisation"] + keys, descending=[True] + [False] * len(keys), nulls_last=True))


def worst_regions(regions: pl.DataFrame) -> pl.DataFrame:
    """Per design, growth factor and region: the lowest availability over every failure set and seed, the
    failure that causes it, and the region's availability with no failure. Sorted worst first.

    Examples
    --------
    >>> f = pl.DataFrame({"design": ["d"] * 3, "growth": [1.0] * 3, "seed": [0] * 3, "order": [0, 1, 2],
    ...                   "failure": ["none", "metro a", "metro b"], "failed": [0, 1, 1],
    ...                   "region": ["r"] * 3, "availability": [1.0, 0.4, 0.8]})
    >>> worst_regions(f).select("failure", "availability", "no_failure_availability").rows()
    [('metro a', 0.4, 1.0)]
    """
    keys = _GROUP + ["region"]
    if regions.height == 0:
        return regions.with_columns(pl.lit(None, dtype=pl.Float64).alias("no_failure_availability"))
    worst = (regions.sort(keys + ["availability", "failed", "order"], nulls_last=True)
             .unique(subset=keys, keep="first", maintain_order=True))
    base = (regions.filter(pl.col("failed") == 0).group_by(keys)
            .agg(pl.col("availability").min().alias("no_failure_availability")))
    return worst.join(base, on=keys, how="left").sort(["availability"] + keys, nulls_last=True)


def link_violations(link_peaks: pl.DataFrame, max_util: float) -> pl.DataFrame:
    """Every (task, link) whose demand utilisation exceeds ``max_util``, highest first.

    Examples
    --------
    >>> f = pl.DataFrame({"design": ["d", "d"], "growth": [1.0, 1.0], "seed": [0, 0], "order": [0, 1],
    ...                   "failure": ["none", "metro a"], "src": ["x", "x"], "dst": ["y", "y"],
    ...                   "demand_utilisation": [0.5, 0.9]})
    >>> link_violations(f, 0.8).select("failure", "demand_utilisation").rows()
    [('metro a', 0.9)]
    """
    return (link_peaks.filter(pl.col("demand_utilisation") > max_util)
            .sort(["demand_utilisation", "order", "src", "dst"], descending=[True, False, False, False]))


def region_violations(regions: pl.DataFrame, min_availability: float) -> pl.DataFrame:
    """Every (task, region) whose availability is below ``min_availability``, lowest first.

    Examples
    --------
    >>> f = pl.DataFrame({"design": ["d"], "growth": [1.0], "seed": [0], "order": [0], "failure": ["metro a"],
    ...                   "region": ["r"], "availability": [0.5]})
    >>> region_violations(f, 0.99).height
    1
    """
    return (regions.filter(pl.col("availability") < min_availability)
            .sort(["availability", "order", "region"]))
