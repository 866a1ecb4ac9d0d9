"""Congestion: cut demands max-min fairly (progressive filling) so that no link carries more than its capacity.

A demand k offers ``demand[k]`` (bytes in a bin, or a rate — any unit shared with ``capacity``)
and uses link l with fraction ``f[k, l]`` (ECMP splits give fractions below 1). Progressive
filling raises every unfrozen demand's rate at one common level; a demand freezes when it is met
or when a link it uses saturates. The result is the max-min fair allocation: no demand can get
more without taking from a demand that has no more. Only links loaded above capacity can
saturate (rates never exceed demands), so callers pass just the demands that cross overloaded
links; every other demand is delivered in full.

The kernel is ``netsim._ext.congestion``; :func:`max_min_rates_reference` is the same algorithm
in plain Python, the oracle of the tests.
"""

from __future__ import annotations

import numpy as np

__all__ = ["max_min_rates", "max_min_rates_reference", "incidence_csr"]

_EPS = 1e-12


def incidence_csr(dem: np.ndarray, link: np.ndarray, frac: np.ndarray, n_demands: int, n_links: int):
    """Demand-major and link-major CSR arrays from (demand, link, fraction) triples."""
    dem = np.asarray(dem, dtype=np.int64)
    link = np.asarray(link, dtype=np.int64)
    frac = np.asarray(frac, dtype=np.float64)
    order = np.lexsort((link, dem))
    d_sorted, l_sorted, f_sorted = dem[order], link[order], frac[order]
    indptr = np.zeros(n_demands + 1, dtype=np.int32)
    np.cumsum(np.bincount(d_sorted, minlength=n_demands), out=indptr[1:])
    lorder = np.lexsort((dem, link))
    lptr = np.zeros(n_links + 1, dtype=np.int32)
    np.cumsum(np.bincount(link[lorder], minlength=n_links), out=lptr[1:])
    return (indptr, l_sorted.astype(np.int32), f_sorted, lptr, dem[lorder].astype(np.int32), frac[lorder])


def _check(demand, capacity, dem, link, frac):
    demand = np.ascontiguousarray(demand, dtype=np.float64)
    capacity = np.ascontiguousarray(capacity, dtype=np.float64)
    dem = np.asarray(dem, dtype=np.int64)
    link = np.asarray(link, dtype=np.int64)
    frac = np.asarray(frac, dtype=np.float64)
    if not (dem.shape == link.shape == frac.shape):
        raise ValueError("dem, link and frac must have the same length")
    if len(dem) and (dem.min() < 0 or dem.max() >= len(demand)):
        raise ValueError("demand index out of range")
    if len(link) and (link.min() < 0 or link.max() >= len(capacity)):
        raise ValueError("link index out of range")
    if np.any(demand < 0) or np.any(capacity < 0) or np.any(frac < 0):
        raise ValueError("demands, capacities and fractions must be >= 0")
    return demand, capacity, dem, link, frac


def max_min_rates(demand, capacity, dem, link, frac, *, rel_eps: float = 1e-12) -> tuple[np.ndarray, np.ndarray]:
    """Max-min fair rates for demands over capacitated links.

    Parameters
    ----------
    demand : (K,) offered volume per demand.
    capacity : (L,) capacity per link, same unit.
    dem, link, frac : the incidence as triples: demand ``dem[i]`` puts ``frac[i]`` of its rate on ``link[i]``.

    Returns
    -------
    rate : (K,) delivered volume per demand (≤ demand).
    load : (L,) load per link after congestion (≤ capacity up to rounding).

    Examples
    --------
    Two demands share a 10-unit link; one also crosses a 3-unit link:

    >>> rate, load = max_min_rates([8, 8], [10, 3], dem=[0, 1, 1], link=[0, 0, 1], frac=[1, 1, 1])
    >>> rate.tolist(), load.tolist()
    ([7.0, 3.0], [10.0, 3.0])
    """
    from netsim._ext.congestion import max_min_fill

    demand, capacity, dem, link, frac = _check(demand, capacity, dem, link, frac)
    indptr, links, f, lptr, ldem, lfrac = incidence_csr(dem, link, frac, len(demand), len(capacity))
    rate = np.zeros(len(demand))
    load = np.zeros(len(capacity))
    max_min_fill(demand, indptr, links, f, capacity, lptr, ldem, lfrac, rel_eps, rate, load)
    return rate, load


def max_min_rates_reference(demand, capacity, dem, link, frac, *, rel_eps: float = 1e-12):
    """Plain-Python progressive filling (the oracle for :func:`max_min_rates`)."""
    demand, capacity, dem, link, frac = _check(demand, capacity, dem, link, frac)
    uses: dict[int, list[tuple[int, float]]] = {k: [] for k in range(len(demand))}
    for k, l, f in zip(dem.tolist(), link.tolist(), frac.tolist()):
        uses[k].append((l, f))
    rate = [0.0] * len(demand)
    load = [0.0] * len(capacity)
    active = {k for k in range(len(demand)) if demand[k] > 0}
    saturated: set[int] = set()
    level = 0.0
    while active:
        slope = [0.0] * len(capacity)
        for k in active:
            for l, f in uses[k]:
                slope[l] += f
        steps = [demand[k] - level for k in active]
        steps += [(capacity[l] - load[l]) / slope[l] for l in range(len(capacity)) if slope[l] > _EPS and l not in saturated]
        step = max(0.0, min(steps))
        level += step
        for l in range(len(capacity)):
            if slope[l] > _EPS:
                load[l] += slope[l] * step
        for k in active:
            rate[k] = level
        for k in sorted(active):
            if demand[k] - level <= rel_eps * demand[k]:
                rate[k] = float(demand[k])
                active.discard(k)
        for l in range(len(capacity)):
            if l not in saturated and capacity[l] - load[l] <= rel_eps * capacity[l]:
                saturated.add(l)
                active -= {k for k in active if any(ll == l for ll, _ in uses[k])}
    return np.array(rate), np.array(load)
