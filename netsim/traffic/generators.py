"""Synthetic traces from a topology: content requests (Zipf catalogues) and gravity-model flows.

Defaults are calibrated on public Japanese figures (docs/sources.md):

- Average fixed-broadband download per subscription: 38.9 Tbps national download (MIC, November
  2024) / 43.8M fixed subscriptions (APNIC blog 2023-09-04) = 0.89 Mbps (34.5 Tbps in 2023:
  0.79 Mbps). Growth 20–40% a year (MIC); default 25% for ``year`` other than 2024.
- Upload is about 1/8 of download (MIC, May 2022): the generators model download (requests
  served toward subscribers) and symmetric subscriber-to-subscriber flows.
- Video is about 65% of bytes (Sandvine 2023); the other shares are *approximate* defaults.
- Zipf popularity, alpha 0.6–1.0 (web) and 0.8–1.2 (video) (Breslau et al. 1999; Cha et al. 2007);
  default 0.8.
- Diurnal/weekly shape and surge: :mod:`netsim.traffic.timeshape` (MIC).
- Regional traffic is roughly proportional to regional population (Fukuda, Cho, Esaki, SIGCOMM
  CCR 2005): requests come from access PoPs in proportion to their subscribers.

``sample_rate`` p: the trace is a spatial sample (SHARDS: an object is in or out by a hash of
(provider, obj), see :mod:`netsim.traffic.sampling`), flows are thinned at p, and the trace
metadata records ``scale = 1/p``. Within the kept objects popularity is the catalogue's Zipf law;
the kept objects' request rate is normalised so the expected bytes are exactly p times the
full load (as SHARDS-adj corrects a sample's total), so ``bytes * scale`` is the full load.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Callable, Iterator, Mapping, Sequence

import networkx as nx
import numpy as np
import polars as pl
from scipy.special import ndtri

from netsim.errors import InputError
from netsim.registry import Registry
from netsim.topology.build import great_circle_km
from netsim.traffic.sampling import in_sample, object_unit
from netsim.traffic.schema import SCHEMA, SERVICES
from netsim.traffic.timeshape import Surge, shape

__all__ = [
    "GENERATORS", "GeneratedTrace", "ObjectProfile", "FlowProfile", "FlashCrowd", "UpdateDay", "Surge",
    "CONTENT_PROFILES", "FLOW_PROFILES", "MBPS_PER_SUBSCRIPTION_2024", "content", "gravity", "mixed",
    "access_pops", "topology_providers", "Popularity", "popularity", "expected_demand",
]

#: Mean download per fixed subscription, Mbps: 38.9 Tbps (MIC, Nov 2024) / 43.8M subscriptions (APNIC 2023).
MBPS_PER_SUBSCRIPTION_2024 = 38.9e6 / 43.8e6
#: Share of bytes in subscriber-to-subscriber flows (p2p, voice, game, other) in ``mixed``: *approximate*.
FLOW_SHARE = 0.10
_STEP_S = 60.0  # the rate curve is evaluated per minute; arrivals are uniform within a minute


@dataclass(frozen=True)
class _LognormalSizes:
    """Sizes lognormal(median_bytes, sigma)."""

    median_bytes: float
    sigma: float

    @property
    def mean_bytes(self) -> float:
        return self.median_bytes * math.exp(self.sigma ** 2 / 2)


@dataclass(frozen=True)
class ObjectProfile(_LognormalSizes):
    """A service's catalogue: object sizes lognormal(median_bytes, sigma), ``catalogue`` objects,
    ``byte_share`` of request bytes, ``new_per_day`` new releases a day (churn)."""

    catalogue: int
    byte_share: float
    new_per_day: float


#: Per-service catalogues of content requests (*approximate* defaults; video share: Sandvine 2023).
CONTENT_PROFILES: dict[str, ObjectProfile] = {
    "video": ObjectProfile(median_bytes=20e6, sigma=1.0, catalogue=1_000_000, byte_share=0.65, new_per_day=2000),
    "web": ObjectProfile(median_bytes=200e3, sigma=1.5, catalogue=2_000_000, byte_share=0.18, new_per_day=20000),
    "game": ObjectProfile(median_bytes=2e6, sigma=1.5, catalogue=100_000, byte_share=0.04, new_per_day=100),
    "update": ObjectProfile(median_bytes=100e6, sigma=1.0, catalogue=10_000, byte_share=0.05, new_per_day=20),
    "other": ObjectProfile(median_bytes=500e3, sigma=1.5, catalogue=500_000, byte_share=0.08, new_per_day=2000),
}


@dataclass(frozen=True)
class FlowProfile(_LognormalSizes):
    """Subscriber-to-subscriber flows of one service: sizes lognormal(median_bytes, sigma), ``byte_share`` of flow bytes."""

    byte_share: float


#: Flow services (*approximate* defaults).
FLOW_PROFILES: dict[str, FlowProfile] = {
    "p2p": FlowProfile(median_bytes=5e6, sigma=1.5, byte_share=0.5),
    "voice": FlowProfile(median_bytes=2e6, sigma=1.0, byte_share=0.15),
    "game": FlowProfile(median_bytes=1e6, sigma=1.2, byte_share=0.15),
    "other": FlowProfile(median_bytes=5e5, sigma=1.5, byte_share=0.2),
}


@dataclass(frozen=True)
class FlashCrowd:
    """One new object requested by a share of one region's subscribers: linear ramp then exponential decay.

    The event object is kept in every sample (its id is chosen so) and its requests are thinned
    at the sample rate, so ``bytes * scale`` is its full load.
    """

    region: str
    start_s: float
    audience_share: float = 0.3
    ramp_s: float = 600.0
    decay_s: float = 3600.0
    provider: str | None = None
    size_bytes: float = 500e6


@dataclass(frozen=True)
class UpdateDay:
    """A software update released at ``start_s``: ``adoption`` of all subscribers fetch one object,
    at a rate decaying exponentially (``decay_s``). Default size 5 GB (a large OS/game update, *approximate*)."""

    start_s: float = 10 * 3600.0
    size_bytes: float = 5e9
    adoption: float = 0.3
    decay_s: float = 6 * 3600.0
    provider: str | None = None


GENERATORS: Registry[Callable[..., "GeneratedTrace"]] = Registry("trace generator")


@dataclass
class GeneratedTrace:
    """A synthetic trace made chunk by chunk (``chunk_s`` of time each): stream it, collect it or write it."""

    meta: dict
    n_chunks: int
    _make: Callable[[], Iterator[pl.DataFrame]] = field(repr=False)

    def chunks(self) -> Iterator[pl.DataFrame]:
        """The trace in time order, one chunk at a time (deterministic given the seed)."""
        return self._make()

    def collect(self) -> pl.DataFrame:
        """The whole trace as one frame."""
        parts = list(self.chunks())
        return pl.concat(parts) if parts else pl.DataFrame(schema=SCHEMA)

    def write(self, path, *, on_chunk: Callable[[int], None] | None = None, compression: str = "zstd") -> int:
        """Write to Parquet/CSV with the metadata (``scale``...); ``on_chunk(rows)`` after each chunk (progress)."""
        from netsim.traffic.io import write_trace

        def it():
            for df in self.chunks():
                yield df
                if on_chunk is not None:
                    on_chunk(df.height)

        return write_trace(it(), path, meta=self.meta, compression=compression)


# ---------------------------------------------------------------------------------------------
# topology inputs


def access_pops(g: nx.DiGraph) -> list[str]:
    """Access PoPs (kind pop with subscribers > 0), sorted by id.

    Examples
    --------
    >>> from netsim.topology import load_topology
    >>> access_pops(load_topology("examples/two_as"))
    ['a1', 'a2', 'a3']
    """
    return sorted(str(n) for n, a in g.nodes(data=True) if a.get("kind") == "pop" and (a.get("subscribers") or 0) > 0)


def topology_providers(g: nx.DiGraph) -> list[str]:
    """Content providers of the topology's origin nodes, sorted (empty if it has none).

    Examples
    --------
    >>> from netsim.topology import load_topology
    >>> topology_providers(load_topology("tochigi"))
    ['game', 'overseas-video', 'update', 'video', 'web']
    """
    return sorted({str(a["provider"]) for _, a in g.nodes(data=True) if a.get("kind") == "origin" and a.get("provider")})


#: Providers used when the topology has no origin nodes (e.g. the small examples).
DEFAULT_PROVIDERS = ("game", "update", "video", "web")


def provider_service(provider: str) -> str:
    """The service class of a provider name: a service named in it (``overseas-video`` -> video), else ``other``.

    Examples
    --------
    >>> provider_service("overseas-video"), provider_service("cdn-x")
    ('video', 'other')
    """
    parts = provider.lower().replace("_", "-").split("-")
    for s in ("video", "web", "game", "update"):
        if s in parts:
            return s
    return "other"


class _Alias:
    """An alias table over weights: O(1) draws (compiled kernel)."""

    def __init__(self, weights: np.ndarray):
        from netsim._ext.traffic import alias_build

        w = np.ascontiguousarray(weights, dtype=np.float64)
        n = len(w)
        self.prob = np.empty(n, dtype=np.float64)
        self.alias = np.empty(n, dtype=np.int64)
        alias_build(w, self.prob, self.alias, np.empty(n, dtype=np.int64))

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        from netsim._ext.traffic import alias_draw

        out = np.empty(n, dtype=np.int64)
        alias_draw(self.prob, self.alias, rng.random(n), out)
        return out


class _Pops:
    def __init__(self, g: nx.DiGraph):
        self.ids = access_pops(g)
        if not self.ids:
            raise InputError("the topology has no access PoP (a pop node with subscribers > 0) to make traffic for",
                             source=g.graph.get("source"))
        self.subs = np.array([float(g.nodes[n]["subscribers"]) for n in self.ids])
        self.region = [str(g.nodes[n].get("region") or g.nodes[n].get("metro") or "") for n in self.ids]
        self.lat = np.array([float(g.nodes[n].get("lat", np.nan)) for n in self.ids])
        self.lon = np.array([float(g.nodes[n].get("lon", np.nan)) for n in self.ids])
        self.sampler = _Alias(self.subs)


class _Out:
    """The rows of one chunk as code arrays (-1 = null), filled stream by stream at given positions."""

    def __init__(self, n: int):
        self.src = np.empty(n, dtype=np.int32)
        self.dst = np.full(n, -1, dtype=np.int32)
        self.prov = np.full(n, -1, dtype=np.int32)
        self.obj = np.full(n, -1, dtype=np.int64)
        self.nbytes = np.empty(n, dtype=np.int64)
        self.service = np.empty(n, dtype=np.int8)


class _Stream:
    """A Poisson stream of rows: ``rate`` (rows/s of the sampled trace) per minute, ``fill`` draws its rows."""

    def prepare(self, t0: float, t1: float) -> None:
        """Chunk-level state (e.g. popularity with this hour's new releases)."""

    def rate(self, t_mid: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def fill(self, out: _Out, idx: np.ndarray, rng: np.random.Generator) -> None:
        raise NotImplementedError


class _Catalogue:
    """One provider's objects as the rank slots of one Zipf law, shared by the catalogue and its new releases.

    At any time the provider's request probabilities are exactly Zipf(``alpha``) over rank slots
    1, 2, ...: slot k draws ``k**-alpha / H``, so they sum to one. New releases *take* slots from the
    catalogue instead of adding popularity on top of it: a release enters at a popular nominal rank
    (log-uniform in 1..1000) and drifts down, its nominal rank growing as ``r0 * exp(age / (alpha *
    decay))`` so that its popularity fades as ``exp(-age / decay)``; catalogue object j keeps nominal
    rank j + 1. Objects are ranked by nominal rank, and the k-th takes slot k. The releases' share of
    requests is what the slots they hold draw (measured and documented in :data:`CONTENT_PROFILES`).

    Only the sampled objects are drawn, but every release (sampled or not) takes its slot, so the
    kept objects' popularity is the full catalogue's.
    """

    def __init__(self, provider: str, prof: ObjectProfile, *, alpha: float, rate: float, duration_s: float,
                 new_per_day: float, decay_days: float, history_days: float, rng: np.random.Generator):
        self.provider = provider
        self.alpha = float(alpha)
        n = prof.catalogue
        self.n_catalogue = n
        ids = np.arange(n, dtype=np.int64)
        keep = in_sample(provider, ids, rate)
        if not keep.any():  # NOTE: an empty sample would drop the provider; keep its lowest-hash object
            keep[np.argmin(object_unit(provider, ids))] = True
        self.base_ids = ids[keep]
        # churn: releases over [-history, duration), each entering at a popular nominal rank
        n_rel = int(rng.poisson(new_per_day * (duration_s / 86400.0 + history_days)))
        self.all_rel_t = rng.uniform(-history_days * 86400.0, duration_s, n_rel)
        self.all_rel_r0 = np.exp(rng.uniform(0.0, math.log(1000.0), n_rel))  # log-uniform in [1, 1000]
        rel_ids = n + np.arange(n_rel, dtype=np.int64)
        self.rel_keep = np.flatnonzero(in_sample(provider, rel_ids, rate))
        self.rel_ids = rel_ids[self.rel_keep]
        self.drift_s = max(decay_days, 1e-9) * 86400.0 * self.alpha
        ids_all = np.concatenate((self.base_ids, self.rel_ids))
        u = np.clip(object_unit(provider, ids_all, salt=1), 1e-12, 1 - 1e-12)
        sizes = np.exp(math.log(prof.median_bytes) + prof.sigma * ndtri(u))
        self.sizes = np.maximum(np.rint(sizes), 1).astype(np.int64)
        self.sizes_f = self.sizes.astype(np.float64)
        self.ids = ids_all
        self.n_base = len(self.base_ids)

    def slots(self, t_s: float) -> tuple[np.ndarray, np.ndarray]:
        """(slot of every kept object at time t (inf: a release not out yet), live releases' share of all requests)."""
        alive = self.all_rel_t <= t_s
        r = self.all_rel_r0[alive] * np.exp((t_s - self.all_rel_t[alive]) / self.drift_s)
        rs = np.sort(r)
        # catalogue object j (nominal rank j + 1) comes after every release of smaller nominal rank
        slot_base = self.base_ids + 1.0 + np.searchsorted(rs, self.base_ids + 1.0, side="left")
        # a release comes after the releases and the catalogue objects of smaller nominal rank
        slot_rel = np.full(len(self.rel_ids), np.inf)
        kept_alive = alive[self.rel_keep]
        rk = self.all_rel_r0[self.rel_keep][kept_alive] * np.exp(
            (t_s - self.all_rel_t[self.rel_keep][kept_alive]) / self.drift_s)
        ahead_cat = np.clip(np.ceil(rk) - 1.0, 0.0, float(self.n_catalogue))
        slot_rel[kept_alive] = np.searchsorted(rs, rk, side="left") + 1.0 + ahead_cat
        # releases' share of the full stream: the slots they hold, over all slots
        m = len(rs)
        rel_slots = np.arange(m) + 1.0 + np.clip(np.ceil(rs) - 1.0, 0.0, float(self.n_catalogue))
        total = _zipf_sum(self.n_catalogue + m, self.alpha)
        share = float(np.sum(rel_slots ** -self.alpha) / total) if m else 0.0
        return np.concatenate((slot_base, slot_rel)), share


@dataclass(frozen=True)
class Popularity:
    """One provider's sampled objects at one time: ``obj`` ids, ``sizes`` (bytes) and request
    probabilities ``p`` (summing to one over the sampled objects), and the share of the full stream's
    requests that go to new releases (``release_share``)."""

    obj: np.ndarray
    sizes: np.ndarray
    p: np.ndarray
    release_share: float


def popularity(provider: str, *, service: str | None = None, zipf_alpha: float = 0.8, sample_rate: float = 1e-3,
               t_s: float = 0.0, duration_s: float = 86400.0, new_objects_per_day: float | None = None,
               new_release_decay_days: float = 2.0, seed: int = 0) -> Popularity:
    """The popularity :func:`content` draws a provider's requests from at time ``t_s`` (same catalogue,
    sample and releases for the same arguments and seed): the input of Che's approximation
    (:func:`netsim.cache.che.che_lru`) and of what-if cache sizing.

    Examples
    --------
    >>> pop = popularity("video", sample_rate=0.01, new_objects_per_day=0)
    >>> round(float(pop.p.sum()), 12), pop.release_share
    (1.0, 0.0)
    """
    prof = CONTENT_PROFILES[service or provider_service(provider)]
    npd = prof.new_per_day if new_objects_per_day is None else new_objects_per_day
    cat = _Catalogue(provider, prof, alpha=zipf_alpha, rate=sample_rate, duration_s=duration_s, new_per_day=npd,
                     decay_days=new_release_decay_days, history_days=7.0, rng=np.random.default_rng(seed))
    slot, share = cat.slots(t_s)
    live = np.isfinite(slot)
    w = slot[live] ** -zipf_alpha
    return Popularity(obj=cat.ids[live], sizes=cat.sizes[live], p=w / w.sum(), release_share=share)


def _zipf_sum(n: int, alpha: float) -> float:
    """sum_{k=1..n} k**-alpha: exact to 10,000 terms, then the Euler-Maclaurin tail."""
    m = min(n, 10_000)
    head = float(np.sum(np.arange(1, m + 1, dtype=np.float64) ** -alpha))
    if n <= m:
        return head
    a = float(alpha)
    if abs(a - 1.0) < 1e-12:
        tail = math.log(n / m)
    else:
        tail = (n ** (1 - a) - m ** (1 - a)) / (1 - a)
    return head + tail + 0.5 * (n ** -a - m ** -a)


class _TimeFactor:
    def __init__(self, start_weekday: int, surge: Surge | None, offset_s: float = 0.0):
        self.start_weekday, self.surge, self.offset_s = start_weekday, surge, offset_s

    def __call__(self, t: np.ndarray) -> np.ndarray:
        t = t + self.offset_s  # clock time since midnight of day 0; events stay in trace time
        f = shape(t, start_weekday=self.start_weekday)
        return f * self.surge.factor(t, start_weekday=self.start_weekday) if self.surge is not None else f


class _ProviderStream(_Stream):
    def __init__(self, cat: _Catalogue, *, pcode: int, scode: int, bytes_per_s: float, pops: _Pops, factor: _TimeFactor):
        self.cat, self.pcode, self.scode, self.bytes_per_s, self.pops, self.factor = cat, pcode, scode, bytes_per_s, pops, factor

    def prepare(self, t0: float, t1: float) -> None:
        # the popularity of the chunk's middle (slots move by about exp(1 h / (alpha * decay)): < 3 % an hour)
        slot, self.release_share = self.cat.slots((t0 + t1) / 2)
        w = np.where(np.isfinite(slot), slot, 1.0) ** -self.cat.alpha
        w[~np.isfinite(slot)] = 0.0
        self.sampler = _Alias(w)
        self.req_per_s = self.bytes_per_s * float(w.sum()) / float(np.dot(w, self.cat.sizes_f))

    def rate(self, t_mid: np.ndarray) -> np.ndarray:
        return self.req_per_s * self.factor(t_mid)

    def fill(self, out: _Out, idx: np.ndarray, rng: np.random.Generator) -> None:
        n = len(idx)
        k = self.sampler.draw(rng, n)
        out.src[idx] = self.pops.sampler.draw(rng, n)
        out.prov[idx] = self.pcode
        out.obj[idx] = self.cat.ids[k]
        out.nbytes[idx] = self.cat.sizes[k]
        out.service[idx] = self.scode


def _provider_shares(providers: list[str], weights: Mapping[str, float] | None) -> tuple[list[str], np.ndarray]:
    """Each provider's service and share of the content bytes: a service's share split among its providers by
    weight (default: evenly), renormalised over the services present."""
    services = [provider_service(p) for p in providers]
    w = np.array([float((weights or {}).get(p, 1.0)) for p in providers])
    per_service = {s: sum(wk for wk, sk in zip(w, services) if sk == s) for s in set(services)}
    share = np.array([CONTENT_PROFILES[s].byte_share * wk / per_service[s] for wk, s in zip(w, services)])
    return services, share / share.sum()


def _content_streams_for(pops: _Pops, providers: list[str], *, byte_rate_bps: float, rate: float, alpha: float,
                         duration_s: float, factor: _TimeFactor, new_per_day: float | None, decay_days: float,
                         rng: np.random.Generator, weights: Mapping[str, float] | None = None) -> list[_Stream]:
    services, share = _provider_shares(providers, weights)
    out: list[_Stream] = []
    for k, (p, s, sh) in enumerate(zip(providers, services, share)):
        prof = CONTENT_PROFILES[s]
        npd = prof.new_per_day if new_per_day is None else new_per_day
        cat = _Catalogue(p, prof, alpha=alpha, rate=rate, duration_s=duration_s, new_per_day=npd,
                         decay_days=decay_days, history_days=7.0, rng=rng)
        out.append(_ProviderStream(cat, pcode=k, scode=SERVICES.index(s), bytes_per_s=rate * byte_rate_bps * sh,
                                   pops=pops, factor=factor))
    return out


class _PairSampler:
    def __init__(self, pops: _Pops, *, local_affinity: float, distance_exponent: float, min_distance_km: float):
        n = len(pops.ids)
        if n < 2:
            raise InputError("gravity flows need at least two access PoPs", where="topology")
        lat, lon = np.nan_to_num(pops.lat), np.nan_to_num(pops.lon)
        ii, jj = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
        d = np.asarray(great_circle_km(lat[ii.ravel()], lon[ii.ravel()], lat[jj.ravel()], lon[jj.ravel()])).reshape(n, n)
        grav = np.outer(pops.subs, pops.subs) * (d + min_distance_km) ** -distance_exponent
        np.fill_diagonal(grav, 0.0)
        region = np.array(pops.region)
        same = (region[:, None] == region[None, :]) & ~np.eye(n, dtype=bool)
        local = np.where(same, grav, 0.0)
        row = grav.sum(1, keepdims=True)
        lrow = local.sum(1, keepdims=True)
        g_part = grav / row
        with np.errstate(invalid="ignore", divide="ignore"):
            l_part = np.where(lrow > 0, local / np.where(lrow > 0, lrow, 1.0), g_part)  # no regional peer: by gravity
        # each source sends in proportion to its subscribers; local_affinity of it stays in its region
        p = (pops.subs / pops.subs.sum())[:, None] * (local_affinity * l_part + (1 - local_affinity) * g_part)
        self.n, self.p = n, p
        self.sampler = _Alias(p.ravel())


class _FlowStream(_Stream):
    def __init__(self, pairs: _PairSampler, *, scode: int, prof: FlowProfile, flows_per_s: float, factor: _TimeFactor):
        self.pairs, self.scode, self.prof, self.flows_per_s, self.factor = pairs, scode, prof, flows_per_s, factor

    def rate(self, t_mid: np.ndarray) -> np.ndarray:
        return self.flows_per_s * self.factor(t_mid)

    def fill(self, out: _Out, idx: np.ndarray, rng: np.random.Generator) -> None:
        pair = self.pairs.sampler.draw(rng, len(idx))
        out.src[idx] = pair // self.pairs.n
        out.dst[idx] = pair % self.pairs.n
        size = rng.lognormal(math.log(self.prof.median_bytes), self.prof.sigma, len(idx))
        out.nbytes[idx] = np.maximum(np.rint(size), 1)
        out.service[idx] = self.scode


def _flow_streams_for(pops: _Pops, *, byte_rate_bps: float, rate: float, local_affinity: float, distance_exponent: float,
                      min_distance_km: float, factor: _TimeFactor) -> list[_Stream]:
    pairs = _PairSampler(pops, local_affinity=local_affinity, distance_exponent=distance_exponent,
                         min_distance_km=min_distance_km)
    return [_FlowStream(pairs, scode=SERVICES.index(s), prof=prof,
                        flows_per_s=rate * byte_rate_bps * prof.byte_share / prof.mean_bytes, factor=factor)
            for s, prof in FLOW_PROFILES.items()]


def _event_object(provider: str, rate: float, first: int) -> int:
    """The first id >= ``first`` whose object is in the sample (so an event is never sampled away)."""
    ids = np.arange(first, first + 1_000_000, dtype=np.int64)
    hit = np.flatnonzero(in_sample(provider, ids, rate))
    return int(ids[hit[0]]) if len(hit) else first


class _EventStream(_Stream):
    """One object requested with a time profile (flash crowd, update): ``total`` requests of the sampled trace."""

    def __init__(self, *, pcode: int, scode: int, obj: int, size: int, total: float, src_weights: np.ndarray,
                 start_s: float, ramp_s: float, decay_s: float):
        self.pcode, self.scode, self.obj, self.size, self.total = pcode, scode, obj, size, total
        self.src = _Alias(src_weights)
        self.start_s, self.ramp_s, self.decay_s = start_s, ramp_s, decay_s
        self.norm = ramp_s / 2 + decay_s

    def rate(self, t_mid: np.ndarray) -> np.ndarray:
        a = t_mid - self.start_s
        up = np.clip(a / self.ramp_s, 0, 1) if self.ramp_s > 0 else np.ones_like(a)
        down = np.exp(-np.maximum(a - self.ramp_s, 0) / self.decay_s)
        return self.total * np.where(a >= 0, np.where(a < self.ramp_s, up, down), 0.0) / self.norm

    def fill(self, out: _Out, idx: np.ndarray, rng: np.random.Generator) -> None:
        out.src[idx] = self.src.draw(rng, len(idx))
        out.prov[idx] = self.pcode
        out.obj[idx] = self.obj
        out.nbytes[idx] = self.size
        out.service[idx] = self.scode


def _pick_provider(providers: list[str], wanted: str | None, service: str, what: str) -> str:
    if wanted is not None:
        if wanted not in providers:
            raise InputError(f"{what}: unknown provider {wanted!r}; known: {', '.join(providers)}", where=what)
        return wanted
    for p in providers:
        if provider_service(p) == service:
            return p
    return providers[0]


# ---------------------------------------------------------------------------------------------
# one chunk: the superposed Poisson process of all streams, times sorted by construction


def _chunk(streams: list[_Stream], rng: np.random.Generator, t0: float, t1: float) -> tuple[np.ndarray, _Out]:
    from netsim._ext.traffic import poisson_rows

    starts = np.arange(t0, t1, _STEP_S)
    lens = np.minimum(_STEP_S, t1 - starts)
    mids = starts + lens / 2
    if len(streams) > 127:
        raise InputError(f"at most 127 streams (providers + flow services + events), found {len(streams)}")
    for s in streams:
        s.prepare(t0, t1)
    lam = np.maximum(np.stack([s.rate(mids) for s in streams]), 0.0) * lens  # (streams, minutes)
    lam_m = lam.sum(0)
    n_m = rng.poisson(lam_m).astype(np.int64)
    n = int(n_m.sum())
    # NOTE: times come sorted from partial sums of exponential spacings (Devroye, Non-Uniform Random
    # Variate Generation, V.2), so there is no sort; each arrival's stream is categorical with the
    # streams' shares of its minute (Poisson superposition). Both in one compiled pass.
    share = np.ascontiguousarray(np.cumsum(lam / np.where(lam_m > 0, lam_m, 1.0), axis=0).T)  # (minutes, streams)
    share[:, -1] = 1.0
    ts = np.empty(n, dtype=np.float64)
    label = np.empty(n, dtype=np.int8)
    poisson_rows(n_m, starts, lens, rng.standard_exponential(n + len(starts)), rng.random(n), share, ts, label)
    out = _Out(n)
    for k, s in enumerate(streams):
        idx = np.flatnonzero(label == k)
        if len(idx):
            s.fill(out, idx, rng)
    return ts, out


def _frame(ts: np.ndarray, out: _Out, names: pl.Series, providers: pl.Series) -> pl.DataFrame:
    codes = pl.DataFrame({"dst": out.dst, "prov": out.prov, "obj": out.obj})
    nulled = codes.select(pl.when(pl.col("dst") >= 0).then(pl.col("dst")).alias("dst"),
                          pl.when(pl.col("prov") >= 0).then(pl.col("prov")).alias("prov"),
                          pl.when(pl.col("obj") >= 0).then(pl.col("obj").cast(pl.UInt64)).alias("obj"))
    return pl.DataFrame({
        "ts": ts,
        "src": names.gather(out.src),
        "dst": names.gather(nulled["dst"]),
        "provider": providers.gather(nulled["prov"]) if len(providers) else pl.Series([None] * len(ts), dtype=pl.String),
        "obj": nulled["obj"],
        "bytes": out.nbytes,
        "service": pl.Series(SERVICES, dtype=pl.String).gather(out.service),
    }, schema=SCHEMA)


def _build(g: nx.DiGraph, *, name: str, seed: int, duration_s: float, sample_rate: float, start_weekday: int,
           start_hour: float, chunk_s: float, surge: Surge | None, params: dict, make_streams) -> GeneratedTrace:
    if not duration_s > 0:
        raise InputError(f"duration must be > 0 s, found {duration_s!r}", where="duration_s")
    if not 0 < sample_rate <= 1:
        raise InputError(f"sample_rate must be in (0, 1], found {sample_rate!r}", where="sample_rate")
    if start_weekday not in range(7):
        raise InputError(f"start_weekday must be 0 (Monday) .. 6 (Sunday), found {start_weekday!r}", where="start_weekday")
    if not 0 <= start_hour < 24:
        raise InputError(f"start_hour must be in [0, 24), found {start_hour!r}", where="start_hour")
    if not chunk_s > 0:
        raise InputError(f"chunk_s must be > 0, found {chunk_s!r}", where="chunk_s")
    pops = _Pops(g)
    meta = {"format": "netsim-trace", "version": 1, "generator": name, "seed": int(seed),
            "topology": g.graph.get("name"), "duration_s": float(duration_s), "sample_rate": float(sample_rate),
            "scale": 1.0 / sample_rate, "start_weekday": int(start_weekday), "start_hour": float(start_hour), "params": params}
    n_chunks = int(math.ceil(duration_s / chunk_s))
    factor = _TimeFactor(start_weekday, surge, start_hour * 3600.0)

    def make() -> Iterator[pl.DataFrame]:
        rng = np.random.default_rng(seed)
        streams, providers = make_streams(pops, rng, factor)
        names = pl.Series(pops.ids, dtype=pl.String)
        provs = pl.Series(providers, dtype=pl.String)
        for c in range(n_chunks):
            t0, t1 = c * chunk_s, min((c + 1) * chunk_s, duration_s)
            ts, out = _chunk(streams, rng, t0, t1)
            yield _frame(ts, out, names, provs)

    return GeneratedTrace(meta=meta, n_chunks=n_chunks, _make=make)


def _jsonable(v):
    if isinstance(v, (FlashCrowd, UpdateDay, Surge)):
        d = asdict(v)
        return {"type": type(v).__name__, **{k: (None if isinstance(x, float) and math.isinf(x) else x) for k, x in d.items()}}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    return v


def _providers(g: nx.DiGraph, providers: Sequence[str] | None) -> list[str]:
    if providers is not None:
        out = sorted({str(p) for p in providers})
        if not out:
            raise InputError("providers is empty; expected at least one provider name", where="providers")
        return out
    return topology_providers(g) or list(DEFAULT_PROVIDERS)


def _byte_rate_bps(pops: _Pops, mbps_per_subscriber: float, year: int, growth_per_year: float) -> float:
    """Full-load mean download, bytes per second, for all access PoPs."""
    if not mbps_per_subscriber > 0:
        raise InputError(f"mbps_per_subscriber must be > 0, found {mbps_per_subscriber!r}", where="mbps_per_subscriber")
    return float(pops.subs.sum()) * mbps_per_subscriber * 1e6 / 8 * (1 + growth_per_year) ** (year - 2024)


def _check_weights(providers: list[str], weights: Mapping[str, float] | None) -> dict[str, float] | None:
    if weights is None:
        return None
    out = {}
    for p, v in sorted(weights.items()):
        if p not in providers:
            raise InputError(f"unknown provider {p!r}; known: {', '.join(providers)}", where=f"provider_weights.{p}")
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0:
            raise InputError(f"expected a weight > 0, found {v!r}", where=f"provider_weights.{p}")
        out[p] = float(v)
    return out


def _content_streams(pops, rng, factor, *, providers, share, sample_rate, zipf_alpha, duration_s,
                     new_objects_per_day, new_release_decay_days, flash_crowds, update_days, byte_rate,
                     provider_weights=None) -> list[_Stream]:
    if not 0.3 <= zipf_alpha <= 2.0:
        raise InputError(f"zipf_alpha must be in [0.3, 2] (measured: 0.6–1.2), found {zipf_alpha!r}", where="zipf_alpha")
    if new_objects_per_day is not None and not (math.isfinite(new_objects_per_day) and new_objects_per_day >= 0):
        raise InputError(f"new_objects_per_day must be >= 0, found {new_objects_per_day!r}", where="new_objects_per_day")
    if not (math.isfinite(new_release_decay_days) and new_release_decay_days > 0):
        raise InputError(f"new_release_decay_days must be > 0, found {new_release_decay_days!r}",
                         where="new_release_decay_days")
    if not 0.0 <= share <= 1.0:
        raise InputError(f"byte_share must be in [0, 1], found {share!r}", where="byte_share")
    streams = _content_streams_for(pops, providers, byte_rate_bps=byte_rate * share, rate=sample_rate, alpha=zipf_alpha,
                                   duration_s=duration_s, factor=factor, new_per_day=new_objects_per_day,
                                   decay_days=new_release_decay_days, rng=rng, weights=provider_weights)
    pidx = {p: i for i, p in enumerate(providers)}
    regions = sorted(set(pops.region))
    for k, fc in enumerate(flash_crowds):
        if fc.region not in regions:
            raise InputError(f"flash crowd: no access PoP in region {fc.region!r}; regions: {', '.join(regions)}",
                             where=f"flash_crowds[{k}].region")
        p = _pick_provider(providers, fc.provider, "video", f"flash_crowds[{k}].provider")
        w = np.array([r == fc.region for r in pops.region], dtype=float) * pops.subs
        streams.append(_EventStream(pcode=pidx[p], scode=SERVICES.index(provider_service(p)),
                                    obj=_event_object(p, sample_rate, 2 ** 40 + 1000 * k), size=int(fc.size_bytes),
                                    total=fc.audience_share * w.sum() * sample_rate, src_weights=w,
                                    start_s=fc.start_s, ramp_s=fc.ramp_s, decay_s=fc.decay_s))
    for k, up in enumerate(update_days):
        p = _pick_provider(providers, up.provider, "update", f"update_days[{k}].provider")
        streams.append(_EventStream(pcode=pidx[p], scode=SERVICES.index("update"),
                                    obj=_event_object(p, sample_rate, 2 ** 41 + 1000 * k), size=int(up.size_bytes),
                                    total=up.adoption * pops.subs.sum() * sample_rate, src_weights=pops.subs,
                                    start_s=up.start_s, ramp_s=0.0, decay_s=up.decay_s))
    return streams


@GENERATORS.register("content")
def content(topology: nx.DiGraph, *, duration_s: float = 86400.0, seed: int = 0, sample_rate: float = 1e-3,
            start_weekday: int = 0, start_hour: float = 0.0, mbps_per_subscriber: float = MBPS_PER_SUBSCRIPTION_2024,
            year: int = 2024,
            growth_per_year: float = 0.25, byte_share: float = 1.0 - FLOW_SHARE, zipf_alpha: float = 0.8,
            providers: Sequence[str] | None = None, new_objects_per_day: float | None = None,
            new_release_decay_days: float = 2.0, surge: Surge | None = None, flash_crowds: Sequence[FlashCrowd] = (),
            update_days: Sequence[UpdateDay] = (), chunk_s: float = 3600.0,
            provider_weights: Mapping[str, float] | None = None) -> GeneratedTrace:
    """Content requests from access PoPs to providers' Zipf catalogues.

    Each provider's request rate per subscriber is its share of the calibrated bytes divided by
    its catalogue's mean object size: about 0.03 requests/s per subscription at the defaults (a
    week on ``tochigi`` at p = 0.001: 0.028 web, 0.0023 video, 0.0008 game, 0.00006 update),
    times the diurnal shape.

    Parameters
    ----------
    topology : the graph; requests come from its access PoPs (``subscribers`` > 0) in proportion to
        subscribers, for the ``provider`` of its origin nodes (or :data:`DEFAULT_PROVIDERS` if none).
    duration_s, start_weekday, start_hour : length of the trace; weekday (0 = Monday) and hour (JST) of
        ts 0. Event times (``start_s``) are in trace time.
    seed : the only source of randomness (numpy Generator).
    sample_rate : spatial sample rate p; the trace stands for 1/p times its bytes (metadata ``scale``).
    mbps_per_subscriber, year, growth_per_year : mean download per subscription (default 0.89 Mbps:
        MIC 38.9 Tbps Nov 2024 / 43.8M subscriptions), grown by ``growth_per_year`` (MIC: 20–40%) from 2024.
    byte_share : share of that download carried by content requests (the rest: flows in ``mixed``).
    zipf_alpha : popularity exponent of every catalogue (Breslau 1999, Cha 2007: 0.6–1.2).
    providers : override the provider names; their service is the service word in the name.
    provider_weights : relative weight of a provider within its service (default 1 each: a service's
        bytes split evenly), e.g. ``{"overseas-video": 0.18}`` puts 0.18/1.18 of video bytes on the
        overseas provider (the shipped topologies assume 10 of video's 65 points are overseas).
    new_objects_per_day, new_release_decay_days : catalogue churn (default per service, see
        :data:`CONTENT_PROFILES`); a release starts at a popular rank (log-uniform in 1..1000) and
        fades exponentially with this time constant.
    surge, flash_crowds, update_days : events (:class:`Surge`, :class:`FlashCrowd`, :class:`UpdateDay`).
    chunk_s : time generated per chunk (bounds memory).

    Examples
    --------
    >>> from netsim.topology import load_topology
    >>> t = content(load_topology("examples/two_as"), duration_s=600, seed=1, sample_rate=0.01).collect()
    >>> t["obj"].null_count(), sorted(t["src"].unique().to_list())
    (0, ['a1', 'a2', 'a3'])
    """
    provs = _providers(topology, providers)
    weights = _check_weights(provs, provider_weights)
    params = {"byte_share": byte_share, "zipf_alpha": zipf_alpha, "mbps_per_subscriber": mbps_per_subscriber,
              "year": year, "growth_per_year": growth_per_year, "providers": provs,
              "new_objects_per_day": new_objects_per_day, "new_release_decay_days": new_release_decay_days,
              "surge": _jsonable(surge), "flash_crowds": _jsonable(list(flash_crowds)),
              "update_days": _jsonable(list(update_days)), "chunk_s": chunk_s}
    if weights is not None:
        params["provider_weights"] = weights

    def streams(pops, rng, factor):
        br = _byte_rate_bps(pops, mbps_per_subscriber, year, growth_per_year)
        return _content_streams(pops, rng, factor, providers=provs, share=byte_share, sample_rate=sample_rate,
                                zipf_alpha=zipf_alpha, duration_s=duration_s, new_objects_per_day=new_objects_per_day,
                                new_release_decay_days=new_release_decay_days, flash_crowds=flash_crowds,
                                update_days=update_days, byte_rate=br, provider_weights=weights), provs

    return _build(topology, name="content", seed=seed, duration_s=duration_s, sample_rate=sample_rate,
                  start_weekday=start_weekday, start_hour=start_hour, chunk_s=chunk_s, surge=surge, params=params,
                  make_streams=streams)


@GENERATORS.register("gravity")
def gravity(topology: nx.DiGraph, *, duration_s: float = 86400.0, seed: int = 0, sample_rate: float = 1e-3,
            start_weekday: int = 0, start_hour: float = 0.0, mbps_per_subscriber: float = MBPS_PER_SUBSCRIPTION_2024,
            year: int = 2024,
            growth_per_year: float = 0.25, byte_share: float = FLOW_SHARE, local_affinity: float = 0.3,
            distance_exponent: float = 1.0, min_distance_km: float = 10.0, surge: Surge | None = None,
            chunk_s: float = 3600.0) -> GeneratedTrace:
    """Flows between access PoPs by a gravity model: subscribers × subscribers × distance decay.

    Flow (i, j) carries a share proportional to ``s_i s_j (d_ij + min_distance_km)^-distance_exponent``;
    ``local_affinity`` of each PoP's flows go only to PoPs of its own region (regional services,
    gaming, video calls), the rest by gravity over all PoPs. Services and sizes: :data:`FLOW_PROFILES`.
    ``byte_share`` of the calibrated download (default 10%, *approximate*) is carried as flows; the
    other parameters are those of :func:`content`. Flows are thinned at ``sample_rate``.

    Examples
    --------
    >>> from netsim.topology import load_topology
    >>> t = gravity(load_topology("examples/two_as"), duration_s=600, seed=1, sample_rate=0.01).collect()
    >>> t["dst"].null_count(), bool((t["src"] != t["dst"]).all())
    (0, True)
    """
    if not 0 <= local_affinity <= 1:
        raise InputError(f"local_affinity must be in [0, 1], found {local_affinity!r}", where="local_affinity")
    params = {"byte_share": byte_share, "local_affinity": local_affinity, "distance_exponent": distance_exponent,
              "min_distance_km": min_distance_km, "mbps_per_subscriber": mbps_per_subscriber, "year": year,
              "growth_per_year": growth_per_year, "surge": _jsonable(surge), "chunk_s": chunk_s}

    def streams(pops, rng, factor):
        br = _byte_rate_bps(pops, mbps_per_subscriber, year, growth_per_year)
        return _flow_streams_for(pops, byte_rate_bps=br * byte_share, rate=sample_rate, local_affinity=local_affinity,
                                 distance_exponent=distance_exponent, min_distance_km=min_distance_km,
                                 factor=factor), []

    return _build(topology, name="gravity", seed=seed, duration_s=duration_s, sample_rate=sample_rate,
                  start_weekday=start_weekday, start_hour=start_hour, chunk_s=chunk_s, surge=surge, params=params,
                  make_streams=streams)


@GENERATORS.register("mixed")
def mixed(topology: nx.DiGraph, *, duration_s: float = 86400.0, seed: int = 0, sample_rate: float = 1e-3,
          start_weekday: int = 0, start_hour: float = 0.0, mbps_per_subscriber: float = MBPS_PER_SUBSCRIPTION_2024,
          year: int = 2024,
          growth_per_year: float = 0.25, flow_share: float = FLOW_SHARE, zipf_alpha: float = 0.8,
          providers: Sequence[str] | None = None, new_objects_per_day: float | None = None,
          new_release_decay_days: float = 2.0, local_affinity: float = 0.3, distance_exponent: float = 1.0,
          min_distance_km: float = 10.0, surge: Surge | None = None, flash_crowds: Sequence[FlashCrowd] = (),
          update_days: Sequence[UpdateDay] = (), chunk_s: float = 3600.0,
          provider_weights: Mapping[str, float] | None = None) -> GeneratedTrace:
    """Content requests (``1 - flow_share`` of the bytes) plus gravity flows (``flow_share``): the default trace.

    Parameters are those of :func:`content` and :func:`gravity`.

    Examples
    --------
    >>> from netsim.topology import load_topology
    >>> t = mixed(load_topology("examples/two_as"), duration_s=600, seed=1, sample_rate=0.01).collect()
    >>> 0 < t["obj"].null_count() < t.height
    True
    """
    if not 0 <= flow_share <= 1:
        raise InputError(f"flow_share must be in [0, 1], found {flow_share!r}", where="flow_share")
    if not 0 <= local_affinity <= 1:
        raise InputError(f"local_affinity must be in [0, 1], found {local_affinity!r}", where="local_affinity")
    provs = _providers(topology, providers)
    weights = _check_weights(provs, provider_weights)
    params = {"flow_share": flow_share, "zipf_alpha": zipf_alpha, "mbps_per_subscriber": mbps_per_subscriber,
              "year": year, "growth_per_year": growth_per_year, "providers": provs,
              "new_objects_per_day": new_objects_per_day, "new_release_decay_days": new_release_decay_days,
              "local_affinity": local_affinity, "distance_exponent": distance_exponent,
              "min_distance_km": min_distance_km, "surge": _jsonable(surge),
              "flash_crowds": _jsonable(list(flash_crowds)), "update_days": _jsonable(list(update_days)),
              "chunk_s": chunk_s}
    if weights is not None:
        params["provider_weights"] = weights

    def streams(pops, rng, factor):
        br = _byte_rate_bps(pops, mbps_per_subscriber, year, growth_per_year)
        out = _content_streams(pops, rng, factor, providers=provs, share=1 - flow_share, sample_rate=sample_rate,
                               zipf_alpha=zipf_alpha, duration_s=duration_s, new_objects_per_day=new_objects_per_day,
                               new_release_decay_days=new_release_decay_days, flash_crowds=flash_crowds,
                               update_days=update_days, byte_rate=br, provider_weights=weights)
        if flow_share > 0 and len(pops.ids) > 1:
            out += _flow_streams_for(pops, byte_rate_bps=br * flow_share, rate=sample_rate,
                                     local_affinity=local_affinity, distance_exponent=distance_exponent,
                                     min_distance_km=min_distance_km, factor=factor)
        return out, provs

    return _build(topology, name="mixed", seed=seed, duration_s=duration_s, sample_rate=sample_rate,
                  start_weekday=start_weekday, start_hour=start_hour, chunk_s=chunk_s, surge=surge, params=params,
                  make_streams=streams)


def expected_demand(topology: nx.DiGraph, *, mbps_per_subscriber: float = MBPS_PER_SUBSCRIPTION_2024, year: int = 2024,
                    growth_per_year: float = 0.25, flow_share: float = FLOW_SHARE, providers: Sequence[str] | None = None,
                    provider_weights: Mapping[str, float] | None = None, local_affinity: float = 0.3,
                    distance_exponent: float = 1.0, min_distance_km: float = 10.0) -> pl.DataFrame:
    """The expected full-load rates of :func:`mixed` at its weekly mean (the diurnal shape's mean is 1).

    One row per (access PoP, provider) for content (``src`` the PoP, ``dst`` null: the bytes come
    from the provider's origin to the PoP) and one per ordered pair of access PoPs for flows
    (``provider`` null), with ``bytes_per_s`` the expected rate; the rows sum to the calibrated
    download of all subscribers. Times :func:`netsim.traffic.timeshape.busy_hour_factor` it is the
    busy-hour demand a network is sized for (:mod:`netsim.topology.sizing`). Events (flash
    crowds, update days, surges) are not in it.

    Examples
    --------
    >>> from netsim.topology import load_topology
    >>> g = load_topology("tochigi")
    >>> d = expected_demand(g, provider_weights={"overseas-video": 0.18})
    >>> subs = sum(g.nodes[n]["subscribers"] for n in access_pops(g))
    >>> round(d["bytes_per_s"].sum() * 8 / 1e6 / subs, 3)  # Mbps per subscription
    0.888
    """
    if not 0 <= flow_share <= 1:
        raise InputError(f"flow_share must be in [0, 1], found {flow_share!r}", where="flow_share")
    pops = _Pops(topology)
    provs = _providers(topology, providers)
    _, share = _provider_shares(provs, _check_weights(provs, provider_weights))
    br = _byte_rate_bps(pops, mbps_per_subscriber, year, growth_per_year)
    frac = pops.subs / pops.subs.sum()
    n, k = len(pops.ids), len(provs)
    content = pl.DataFrame({
        "src": np.repeat(pops.ids, k), "dst": pl.Series([None] * (n * k), dtype=pl.String),
        "provider": np.tile(provs, n), "bytes_per_s": np.outer(frac, share).ravel() * br * (1 - flow_share),
    }, schema={"src": pl.String, "dst": pl.String, "provider": pl.String, "bytes_per_s": pl.Float64})
    if not flow_share > 0 or n < 2:
        return content
    p = _PairSampler(pops, local_affinity=local_affinity, distance_exponent=distance_exponent,
                     min_distance_km=min_distance_km).p
    i, j = np.nonzero(p > 0)
    flows = pl.DataFrame({"src": [pops.ids[x] for x in i], "dst": [pops.ids[x] for x in j],
                          "provider": pl.Series([None] * len(i), dtype=pl.String),
                          "bytes_per_s": p[i, j] / p.sum() * br * flow_share},
                         schema=content.schema)
    return pl.concat([content, flows])
