"""Which content a cache may store: a share of each service's objects (overridable per provider).

Not every byte is cacheable by every cache. Live streams, personalised or dynamic pages, voice,
VPN and peer-to-peer traffic are not, and HTTPS content is stored only by appliances its provider
operates or has keys for (docs/sources.md: Google Global Cache serves 70–90 % of *Google's cacheable*
traffic from inside an ISP; Netflix says up to 100 % of its catalogue can be served from embedded
caches; Akamai targets > 95 % offload of *cacheable* resources). So an offload figure is always
"of the cacheable part", and the whole-mix offload of a shared cache is the cacheable share times
that.

An object is cacheable or not for good (:func:`cacheable_mask`: a low-discrepancy sequence over its
id, offset by its provider), so the share of objects, and of requests and bytes, is close to the
configured one, the same in every run and at every sample rate. A request for
an object that is not cacheable consults no cache: it is served by the provider's nearest origin.

The defaults below are **assumptions**: no published per-service figure for Japanese ISPs was
found. Override them under ``caches.cacheable`` (per service) or ``caches.cacheable_providers``
(per provider) in a scenario.
"""

from __future__ import annotations

import numpy as np

__all__ = ["CACHEABLE", "Cacheability", "cacheable_mask", "cacheable_rows"]

#: Share of each service's objects a cache may store (assumptions; see the module docstring).
#: video: video on demand is cacheable, live streams are not (assumed 10 % of video bytes);
#: web: about half of web bytes are static objects a provider's CDN caches (assumed);
#: game and update: downloads and patches are static files distributed through CDNs (assumed 90 %, 100 %);
#: other: mostly dynamic or encrypted end-to-end (assumed 30 %); p2p and voice: never.
CACHEABLE: dict[str, float] = {"video": 0.9, "web": 0.5, "game": 0.9, "update": 1.0, "other": 0.3, "p2p": 0.0,
                               "voice": 0.0}

_PHI = (5 ** 0.5 - 1) / 2


def cacheable_mask(prov_hash: np.ndarray, obj: np.ndarray, share: np.ndarray) -> np.ndarray:
    """True where object ``obj[i]`` of the provider with hash ``prov_hash[i]`` is cacheable at ``share[i]``.

    The test is ``frac(obj * φ + c) < share`` (φ the golden ratio, c from the provider's hash): a Weyl
    sequence, so among any run of consecutive object ids (the generators number a catalogue by
    popularity rank) the cacheable fraction is the share within about 1/run, and the share of
    *requests* (weighted by a Zipf law) is close to it too, which a random hash per object is not
    (whether the few top objects were drawn cacheable moved a web share of 0.5 to 0.74).

    Examples
    --------
    >>> h = np.full(1000, 12345, dtype=np.uint64)
    >>> m = cacheable_mask(h, np.arange(1000), np.full(1000, 0.5))
    >>> int(m.sum()), int(m[:10].sum())
    (500, 5)
    """
    c = (np.asarray(prov_hash, dtype=np.uint64) >> np.uint64(11)).astype(np.float64) * (1.0 / 2.0 ** 53)
    x = np.asarray(obj, dtype=np.float64) * _PHI + c
    return (x - np.floor(x)) < np.asarray(share, dtype=np.float64)


def cacheable_rows(requests, shares: dict[str, float] | None = None) -> np.ndarray:
    """:func:`cacheable_mask` of a frame of requests (``provider``, ``obj``, ``service``), at the default shares
    (:data:`CACHEABLE`) updated with ``shares``; a service without a share is cacheable.

    Examples
    --------
    >>> import polars as pl
    >>> f = pl.DataFrame({"provider": ["p2p-x", "video"], "obj": [1, 1], "service": ["p2p", "update"]})
    >>> cacheable_rows(f).tolist()
    [False, True]
    """
    import polars as pl

    from netsim.cache.policies import provider_hashes

    by_service = {**CACHEABLE, **(shares or {})}
    return cacheable_mask(provider_hashes(requests["provider"]),
                          requests["obj"].to_numpy(),
                          requests["service"].replace_strict(by_service, default=1.0, return_dtype=pl.Float64).to_numpy())


class Cacheability:
    """A run's cacheable shares by service code, with per-provider overrides, for coded requests.

    ``services`` are the run's service names in code order; ``caches`` the run's CacheSystem (its
    provider vocabulary grows as the trace is read, so the per-provider array follows it).
    """

    def __init__(self, by_service: dict[str, float], by_provider: dict[str, float], *, services: list[str], caches):
        self.svc_share = np.array([float(by_service.get(s, 1.0)) for s in services], dtype=np.float64)
        self.by_provider = dict(by_provider)
        self.caches = caches
        self._prov = np.zeros(0)
        self.everything = bool((self.svc_share >= 1.0).all()) and all(v >= 1.0 for v in by_provider.values())

    def mask(self, prov: np.ndarray, obj: np.ndarray, svc: np.ndarray) -> np.ndarray | None:
        """Cacheable per request (None: every object is)."""
        if self.everything:
            return None
        share = self.svc_share[svc]
        if self.by_provider:
            provs = self.caches.providers
            if len(self._prov) != len(provs):
                self._prov = np.array([self.by_provider.get(p, np.nan) for p in provs], dtype=np.float64)
            ov = self._prov[prov]
            share = np.where(np.isnan(ov), share, ov)
        return cacheable_mask(self.caches._prov_hash[prov], obj, share)
