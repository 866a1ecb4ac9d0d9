"""Che's approximation of an LRU cache's hit ratios (the theory the simulated caches are checked against).

Under the independent reference model (object i requested at rate ``λ_i``), an LRU cache of C bytes
keeps an object for about a *characteristic time* T, the same for every object: T solves
``Σ_i s_i (1 - exp(-λ_i T)) = C`` (the expected bytes resident fill the cache), and object i is a
hit with probability ``h_i = 1 - exp(-λ_i T)`` (Che, Tung and Wang, IEEE JSAC 2002; Fricker,
Robert and Roberts, ITC 2012, on why it is accurate for Zipf popularity). The request hit ratio
is ``Σ λ_i h_i / Σ λ_i`` and the byte hit ratio ``Σ λ_i s_i h_i / Σ λ_i s_i``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["CheResult", "che_lru"]


@dataclass(frozen=True)
class CheResult:
    """Predicted ``hit_ratio`` (requests), ``byte_hit_ratio`` and the characteristic time ``t_char`` (in the
    rates' time unit; inf when everything fits)."""

    hit_ratio: float
    byte_hit_ratio: float
    t_char: float


def che_lru(rates, sizes, capacity_bytes: float) -> CheResult:
    """Che's approximation for an LRU cache of ``capacity_bytes`` over objects of ``rates`` and ``sizes``.

    Examples
    --------
    Two equal objects, room for one: each is resident about half the time at equal rates.

    >>> r = che_lru([1.0, 1.0], [10, 10], 10)
    >>> round(r.hit_ratio, 6), round(r.byte_hit_ratio, 6)
    (0.5, 0.5)
    >>> che_lru([1.0, 2.0], [10, 10], 100).hit_ratio   # everything fits
    1.0
    """
    lam = np.asarray(rates, dtype=np.float64)
    s = np.asarray(sizes, dtype=np.float64)
    if lam.shape != s.shape or np.any(lam < 0) or np.any(s <= 0) or not capacity_bytes >= 0:
        raise ValueError("rates >= 0 and sizes > 0 of one length, capacity >= 0")
    keep = lam > 0
    lam, s = lam[keep], s[keep]
    if len(lam) == 0:
        return CheResult(float("nan"), float("nan"), float("inf"))
    if s.sum() <= capacity_bytes:
        return CheResult(1.0, 1.0, float("inf"))

    def filled(t: float) -> float:
        return float(np.dot(s, -np.expm1(-lam * t)))

    lo, hi = 0.0, 1.0 / lam.max()
    while filled(hi) < capacity_bytes:
        lo, hi = hi, hi * 2.0
    for _ in range(200):   # bisection on a monotone function: plenty for double precision
        mid = 0.5 * (lo + hi)
        if filled(mid) < capacity_bytes:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-12 * hi:
            break
    t = 0.5 * (lo + hi)
    h = -np.expm1(-lam * t)
    return CheResult(float(np.dot(lam, h) / lam.sum()), float(np.dot(lam * s, h) / np.dot(lam, s)), t)
