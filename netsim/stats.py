"""Statistics shared by the engine, the analyses and the summary: weighted quantiles, the 95th
percentile of billing, grouped sums of per-bin tables, JSON-safe floats.

This module sits below both ``netsim.sim`` and ``netsim.analysis`` and imports nothing from netsim,
so either can use it without importing the other (tests/test_layering.py keeps it so).
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl

__all__ = ["weighted_quantile", "weighted_quantiles", "percentile_95", "finite_or_none", "group_sums"]


def finite_or_none(x):
    """``x`` with every NaN or infinite float replaced by None, inside dicts and lists too (JSON has neither,
    and a reader's parser may reject them).

    Examples
    --------
    >>> finite_or_none({"a": float("nan"), "b": [1.5, float("inf")], "c": "x"})
    {'a': None, 'b': [1.5, None], 'c': 'x'}
    """
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {k: finite_or_none(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [finite_or_none(v) for v in x]
    return x


def weighted_quantile(values, weights, q: float) -> float:
    """The q-quantile of ``values`` weighted by ``weights`` (lower value at a tie); NaN if all weights are 0.

    Examples
    --------
    >>> weighted_quantile([1.0, 2.0, 10.0], [1, 1, 2], 0.5)
    2.0
    >>> weighted_quantile([1.0, 2.0, 10.0], [1, 1, 2], 0.95)
    10.0
    """
    v = np.asarray(values, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    keep = w > 0
    if not keep.any():
        return float("nan")
    v, w = v[keep], w[keep]
    order = np.argsort(v, kind="stable")
    v, w = v[order], w[order]
    cum = np.cumsum(w) / w.sum()
    return float(v[min(np.searchsorted(cum, q - 1e-12), len(v) - 1)])


def weighted_quantiles(values, weights, qs) -> list[float]:
    """:func:`weighted_quantile` at several ``qs`` with one sort.

    Examples
    --------
    >>> weighted_quantiles([1.0, 2.0, 10.0], [1, 1, 2], [0.5, 0.95])
    [2.0, 10.0]
    """
    v = np.asarray(values, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    keep = w > 0
    if not keep.any():
        return [float("nan")] * len(qs)
    v, w = v[keep], w[keep]
    order = np.argsort(v, kind="stable")
    v, w = v[order], w[order]
    cum = np.cumsum(w) / w.sum()
    return [float(v[min(np.searchsorted(cum, q - 1e-12), len(v) - 1)]) for q in qs]


def percentile_95(samples) -> float:
    """95th percentile as transit is billed: sort the samples, discard the top 5 %, take the highest left.

    Examples
    --------
    >>> percentile_95(list(range(1, 101)))  # 100 samples: the top 5 are discarded
    95.0
    """
    s = np.sort(np.asarray(samples, dtype=np.float64))
    if len(s) == 0:
        return float("nan")
    keep = int(np.ceil(len(s) * 0.95))
    return float(s[max(keep - 1, 0)])


def group_sums(frame: pl.DataFrame, keys: list[str], values: list[str]) -> pl.DataFrame:
    """Sum float columns per group, sorted by the keys (nulls first), in a fixed order of addition.

    polars' multi-threaded group_by adds floats in an order that varies from run to run (last-bit
    differences), which would break byte-identical outputs; here each key column becomes dense
    integer codes (its sort order), and numpy's bincount adds the rows of a group in row order.

    Examples
    --------
    >>> f = pl.DataFrame({"k": ["b", "a", "b"], "x": [1.0, 2.0, 3.0]})
    >>> group_sums(f, ["k"], ["x"]).rows()
    [('a', 2.0), ('b', 4.0)]
    """
    if frame.height == 0:
        return frame.select(keys + values).clear()
    codes = np.zeros(frame.height, dtype=np.int64)
    for k in keys:
        r = frame[k].rank("dense").fill_null(0).to_numpy().astype(np.int64)
        codes = codes * (int(r.max()) + 1) + r
    uniq, first, inverse = np.unique(codes, return_index=True, return_inverse=True)
    out = {k: frame[k].gather(first) for k in keys}
    for v in values:
        out[v] = np.bincount(inverse.reshape(-1), weights=frame[v].to_numpy().astype(np.float64), minlength=len(uniq))
    return pl.DataFrame(out)
