"""Byte-capacity cache policies (LRU, FIFO, LFU, S3-FIFO, static top-k) over the compiled kernel.

Every policy is a thin wrapper over ``netsim._ext.cache.CacheCore`` (contents in C arrays, a
batch of requests is one call into compiled code) and is registered by name in
``CACHE_POLICIES``. Objects are identified by one ``uint64`` key per (provider, obj), made by
:func:`make_keys`.

Semantics shared by all policies (where they differ from libCacheSim 0.3.5, it is said here):

- Capacity is in bytes; an object occupies its size in bytes (no per-object metadata overhead,
  libCacheSim's default ``consider_obj_metadata=False``).
- A request is a hit when the key is resident *with the same size*. An object larger than the
  capacity is never admitted (it is a miss every time, and causes no eviction); an object of
  exactly the capacity is admitted, as in libCacheSim.
- **Changed size** (difference from libCacheSim): libCacheSim counts a request for a resident
  object with a different size as a hit and keeps the old size (its byte accounting then uses
  the stale size). netsim treats the object as changed: the request is a miss, the stale copy
  is dropped and the new size is admitted like any miss. With sizes fixed per object (every
  generated trace) both agree request for request.
- Counters (requests, hits, bytes requested, bytes hit, evictions) count the requested size, as
  libCacheSim's ``process_trace`` does for its byte miss ratio.
- TTLs do not exist (libCacheSim's default TTL of 300 days never expires on a trace shorter
  than that).
- Sizes must be > 0 bytes (ValueError); libCacheSim's trace readers skip size-0 requests.
- ``process(..., admit=mask)`` can make a request a pure lookup (no admission on a miss; used
  by resolution when no origin can fill the miss). libCacheSim has no counterpart; with the
  default (all admitted) the semantics are libCacheSim's.
- A cache is not thread-safe: ``process`` releases the GIL, so one cache must not be used
  from two threads at once (distinct caches may).

Verified request for request against libCacheSim 0.3.5 (the ``libcachesim`` Python package) in
``tests/cache/test_oracle.py``: Zipf streams with lognormal sizes, capacities from 10 bytes to
30 % of the catalogue, objects larger than the cache and than S3-FIFO's small queue.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from netsim._ext.cache import POLICY_CODES, CacheCore
from netsim.registry import Registry

__all__ = [
    "CACHE_POLICIES", "Cache", "CacheState", "CacheStats", "FIFOCache", "LFUCache", "LRUCache",
    "S3FIFOCache", "StaticCache", "make_cache", "make_keys", "popularity_order", "provider_hash",
    "scaled_capacity",
]

CACHE_POLICIES: Registry[type["Cache"]] = Registry("cache policy")

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mix64(x: np.ndarray) -> np.ndarray:
    # splitmix64 finaliser (a bijection on uint64); numpy uint64 arithmetic wraps modulo 2**64
    x = np.asarray(x, dtype=np.uint64)
    with np.errstate(over="ignore"):
        x = x ^ (x >> np.uint64(30))
        x = x * _M1
        x = x ^ (x >> np.uint64(27))
        x = x * _M2
        x = x ^ (x >> np.uint64(31))
    return x


def provider_hash(provider: str) -> int:
    """A stable 64-bit hash of a provider name (BLAKE2b of its UTF-8 bytes, 8-byte digest).

    Stable across processes and machines, unlike Python's ``hash``.

    Examples
    --------
    >>> provider_hash("video-a") == provider_hash("video-a")
    True
    >>> provider_hash("video-a") != provider_hash("video-b")
    True
    """
    return int.from_bytes(hashlib.blake2b(provider.encode("utf-8"), digest_size=8).digest(), "little")


def provider_hashes(providers) -> np.ndarray:
    """:func:`provider_hash` of each value of a polars Series of provider names (each distinct one hashed once).

    Examples
    --------
    >>> import polars as pl
    >>> h = provider_hashes(pl.Series(["a", "b", "a"]))
    >>> h.dtype, h[0] == h[2] == provider_hash("a")
    (dtype('uint64'), np.True_)
    """
    import polars as pl

    table = {u: provider_hash(str(u)) for u in providers.unique().to_list()}
    return providers.replace_strict(table, return_dtype=pl.UInt64).to_numpy()


def make_keys(providers, objs) -> np.ndarray:
    """One ``uint64`` cache key per (provider, obj) pair.

    ``key = mix64(provider_hash(provider) XOR mix64(obj))`` where ``mix64`` is the splitmix64
    finaliser, a bijection on 64-bit integers. For one provider, distinct objects therefore never
    share a key; keys of different providers collide with probability about n**2 / 2**65 for n
    distinct objects (≈ 3e-8 for a million objects).

    Parameters
    ----------
    providers : str or sequence of str (list, numpy array, polars Series)
        The provider of each request, or one provider for all.
    objs : sequence of non-negative int
        Object ids within the provider.

    Returns
    -------
    numpy.ndarray of uint64

    Examples
    --------
    >>> k = make_keys(["a", "a", "b"], [1, 2, 1])
    >>> k.dtype, len(set(k.tolist()))
    (dtype('uint64'), 3)
    >>> bool((make_keys("a", [1, 2]) == k[:2]).all())
    True
    >>> import polars as pl
    >>> bool((make_keys(pl.Series(["a", "a", "b"]), [1, 2, 1]) == k).all())  # a Series: the same keys, faster
    True
    """
    objs = np.asarray(objs)
    if objs.dtype.kind == "i" and objs.size and objs.min() < 0:
        raise ValueError("make_keys: object ids must be non-negative")
    objs = objs.astype(np.uint64, copy=False)
    if isinstance(providers, str):
        hp = np.full(objs.shape, provider_hash(providers), dtype=np.uint64)
    elif hasattr(providers, "replace_strict"):
        # a polars Series: hash each distinct provider once (np.unique of millions of strings took seconds)
        if len(providers) != objs.shape[0]:
            raise ValueError(f"make_keys: {len(providers)} providers for {objs.shape[0]} objects")
        hp = provider_hashes(providers)
    else:
        names = np.asarray(list(providers) if not isinstance(providers, np.ndarray) else providers, dtype=object)
        if names.shape != objs.shape:
            raise ValueError(f"make_keys: {names.shape[0]} providers for {objs.shape[0]} objects")
        uniq, inv = np.unique(names.astype(str), return_inverse=True)
        table = np.array([provider_hash(str(u)) for u in uniq], dtype=np.uint64)
        hp = table[inv.reshape(-1)] if uniq.size else np.empty(0, dtype=np.uint64)
    return _mix64(hp ^ _mix64(objs))


def scaled_capacity(capacity_bytes: int, sample_rate: float) -> int:
    """The capacity a cache gets when replaying a trace sampled at ``sample_rate`` (SHARDS-style).

    A spatially sampled trace keeps a fraction p of the objects, so a cache of p × capacity sees
    the same hit ratio as the full cache on the full stream. Rounded to whole bytes.

    Examples
    --------
    >>> scaled_capacity(10**12, 0.01)
    10000000000
    >>> scaled_capacity(1000, 1.0)
    1000
    """
    if not 0.0 < sample_rate <= 1.0:
        raise ValueError(f"sample_rate must be in (0, 1], got {sample_rate!r}")
    if capacity_bytes < 0:
        raise ValueError(f"capacity_bytes must be >= 0, got {capacity_bytes!r}")
    return int(round(int(capacity_bytes) * float(sample_rate)))


@dataclass(frozen=True)
class CacheStats:
    """Counters of one cache since creation or the last ``reset_stats``."""

    requests: int
    hits: int
    bytes_requested: int
    bytes_hit: int
    evictions: int

    @property
    def misses(self) -> int:
        return self.requests - self.hits

    @property
    def hit_ratio(self) -> float:
        return self.hits / self.requests if self.requests else 0.0

    @property
    def byte_hit_ratio(self) -> float:
        return self.bytes_hit / self.bytes_requested if self.bytes_requested else 0.0


@dataclass(frozen=True)
class CacheState:
    """A snapshot of a cache's contents (for a warm restart): arrays in eviction order per queue."""

    policy: str
    capacity_bytes: int
    keys: np.ndarray
    sizes: np.ndarray
    queue: np.ndarray
    freq: np.ndarray
    has_evicted: bool


def _as_batch(keys, sizes) -> tuple[np.ndarray, np.ndarray]:
    k = np.ascontiguousarray(keys, dtype=np.uint64)
    s = np.ascontiguousarray(sizes, dtype=np.int64)
    if k.ndim != 1 or s.shape != k.shape:
        raise ValueError(f"keys and sizes must be 1-D of one length, got {k.shape} and {s.shape}")
    if s.size and s.min() <= 0:
        raise ValueError("object sizes must be > 0 bytes")
    return k, s


class Cache:
    """A byte-capacity cache (base class of the registered policies).

    Parameters
    ----------
    capacity_bytes : int
        Capacity in bytes (>= 0; a cache of 0 bytes never holds anything).
    """

    policy: ClassVar[str] = ""

    def __init__(self, *, capacity_bytes: int):
        capacity_bytes = int(capacity_bytes)
        if capacity_bytes < 0:
            raise ValueError(f"capacity_bytes must be >= 0, got {capacity_bytes}")
        self._core = self._make_core(capacity_bytes)

    def _make_core(self, capacity_bytes: int) -> CacheCore:
        return CacheCore(POLICY_CODES[self.policy], capacity_bytes)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(capacity_bytes={self.capacity_bytes}, used_bytes={self.used_bytes}, "
                f"n_objects={self.n_objects})")

    # -- batch
    def process(self, keys, sizes, *, admit=None) -> np.ndarray:
        """Process requests in order; return the hit mask (bool array).

        Parameters
        ----------
        keys : array of uint64
            Keys from :func:`make_keys`.
        sizes : array of int
            Object sizes in bytes (> 0).
        admit : array of bool, optional
            False makes a request a pure lookup: a miss admits nothing (used for misses that
            cannot be fetched because no origin is reachable).

        Examples
        --------
        >>> c = LRUCache(capacity_bytes=100)
        >>> c.process([1, 2, 1, 3, 2], [60, 40, 60, 50, 40]).tolist()
        [False, False, True, False, False]
        """
        k, s = _as_batch(keys, sizes)
        out = np.zeros(k.shape[0], dtype=np.bool_)
        adm = None
        if admit is not None:
            adm = np.ascontiguousarray(admit, dtype=np.bool_)
            if adm.shape != k.shape:
                raise ValueError("admit must have one entry per request")
            adm = adm.view(np.uint8)
        self._core.process(k, s, out.view(np.uint8), adm)
        return out

    def request(self, key: int, size: int) -> bool:
        """One request (hit: promote; miss: admit as the policy does). Same as ``process`` of one."""
        return bool(self.process([key], [size])[0])

    # -- single operations
    def get(self, key: int) -> bool:
        """Look up a key as a hit would (promotion, counted as a request); never admits."""
        return bool(self._core.get(int(key)))

    def insert(self, key: int, size: int) -> bool:
        """Admit an object as after a miss (evicting as the policy does); return whether it is resident."""
        if int(size) <= 0:
            raise ValueError("object sizes must be > 0 bytes")
        return bool(self._core.insert(int(key), int(size)))

    def contains(self, key: int) -> bool:
        """Whether the key is resident; touches no metadata."""
        return bool(self._core.contains(int(key)))

    def __contains__(self, key: int) -> bool:
        return self.contains(key)

    # -- state
    @property
    def capacity_bytes(self) -> int:
        return int(self._core.capacity_bytes)

    @property
    def used_bytes(self) -> int:
        return int(self._core.used_bytes)

    @property
    def n_objects(self) -> int:
        return int(self._core.n_objects)

    @property
    def stats(self) -> CacheStats:
        c = self._core
        return CacheStats(requests=int(c.n_requests), hits=int(c.n_hits), bytes_requested=int(c.bytes_requested),
                          bytes_hit=int(c.bytes_hit), evictions=int(c.n_evictions))

    def reset_stats(self) -> None:
        self._core.reset_counters()

    def clear(self) -> None:
        """Drop all contents (a cold restart). Counters are kept."""
        self._core.clear()

    def state(self) -> CacheState:
        """Snapshot the contents (a warm restart restores it with :meth:`load_state`).

        Examples
        --------
        >>> c = LRUCache(capacity_bytes=10)
        >>> _ = c.process([1, 2], [4, 4])
        >>> s = c.state(); c.clear(); c.used_bytes
        0
        >>> c.load_state(s); c.used_bytes, c.contains(2)
        (8, True)
        """
        keys, sizes, queue, freq = self._core.export()
        return CacheState(policy=self.policy, capacity_bytes=self.capacity_bytes, keys=keys, sizes=sizes,
                          queue=queue, freq=freq, has_evicted=bool(self._core.has_evicted))

    def load_state(self, state: CacheState) -> None:
        """Replace the contents by a snapshot taken from a cache of the same policy and capacity."""
        if state.policy != self.policy or state.capacity_bytes != self.capacity_bytes:
            raise ValueError(f"state of a {state.policy} cache of {state.capacity_bytes} bytes cannot be loaded "
                             f"into a {self.policy} cache of {self.capacity_bytes} bytes")
        self._core.restore(np.ascontiguousarray(state.keys, dtype=np.uint64),
                           np.ascontiguousarray(state.sizes, dtype=np.int64),
                           np.ascontiguousarray(state.queue, dtype=np.int8),
                           np.ascontiguousarray(state.freq, dtype=np.int64), bool(state.has_evicted))


@CACHE_POLICIES.register("lru")
class LRUCache(Cache):
    """Least recently used: a hit moves the object to the MRU end; evict from the LRU end.

    Same hits as libCacheSim ``LRU`` request for request (see the module notes for a changed
    object size, the one difference).

    Examples
    --------
    >>> c = LRUCache(capacity_bytes=100)
    >>> c.process([1, 2, 1, 3, 1, 2], [50, 50, 50, 50, 50, 50]).tolist()
    [False, False, True, False, True, False]
    """

    policy = "lru"


@CACHE_POLICIES.register("fifo")
class FIFOCache(Cache):
    """First in, first out: hits change nothing; evict the oldest admitted object.

    Same hits as libCacheSim ``FIFO`` request for request (module notes: changed size).

    Examples
    --------
    >>> c = FIFOCache(capacity_bytes=100)
    >>> c.process([1, 2, 1, 3, 1], [50, 50, 50, 50, 50]).tolist()
    [False, False, True, False, False]
    """

    policy = "fifo"


@CACHE_POLICIES.register("lfu")
class LFUCache(Cache):
    """Least frequently used, O(1) per request with frequency buckets.

    An admitted object has frequency 1; each hit adds 1. Eviction takes the lowest frequency;
    **tie-break**: among equal frequencies, the object that reached that frequency first
    (within a bucket objects queue in the order they entered it, so this is LRU among equals).
    Frequencies are forgotten on eviction (no history). This is libCacheSim's ``LFU``
    (``LFU.c``: ``freq_node`` lists, append on entry, evict the first), and the hits agree
    request for request (module notes: changed size).

    Examples
    --------
    >>> c = LFUCache(capacity_bytes=3)
    >>> c.process([1, 2, 3, 2, 1, 3, 4, 2], [1] * 8).tolist()
    [False, False, False, True, True, True, False, False]
    """

    policy = "lfu"


@CACHE_POLICIES.register("s3fifo")
class S3FIFOCache(Cache):
    """S3-FIFO (Yang et al., SOSP 2023) with libCacheSim's parameters and its current variant.

    A small FIFO (``small_size_ratio`` = 10 % of the bytes), a main FIFO (the rest) run as a
    2-bit clock, and a ghost FIFO of keys (``ghost_size_ratio`` = 90 % of the capacity, counted
    in the evicted objects' bytes; it holds no data). As libCacheSim ``S3FIFO.c``:

    - a miss whose key is in the ghost is admitted to main, otherwise to small; before the first
      eviction ever, once small is full, new objects go to main (libCacheSim's current version);
    - a hit adds 1 to the object's counter (unbounded in small; main uses min(freq, 3));
    - eviction: from main if main holds more than its share or small is empty, else from small;
      small's head moves to main (counter reset to 0) if its counter >= ``move_to_main_threshold``
      (default 2), else leaves for the ghost; main's head with counter f >= 1 is reinserted at
      the tail with min(f, 3) - 1, else evicted;
    - objects larger than the small FIFO are never admitted, and an object of exactly the small
      FIFO's size triggers the evictions but is then refused (libCacheSim does the same);
    - small = int(capacity × 0.1), main = capacity - small, ghost = int(capacity × 0.9) bytes;
      the ghost admits an evicted key if its size fits the ghost's bytes, evicting FIFO.

    Differences: libCacheSim refuses (aborts) a cache whose small FIFO would be 0 bytes
    (capacity < 10); netsim accepts it, and such a cache admits nothing. A changed size: see
    the module notes.

    The hits agree with libCacheSim ``S3FIFO`` request for request (module notes: changed size).

    Examples
    --------
    >>> c = S3FIFOCache(capacity_bytes=1000)
    >>> c.process([1, 1, 2], [50, 50, 100]).tolist()
    [False, True, False]
    """

    policy = "s3fifo"

    def __init__(self, *, capacity_bytes: int, small_size_ratio: float = 0.1, ghost_size_ratio: float = 0.9,
                 move_to_main_threshold: int = 2):
        if not 0.0 < small_size_ratio < 1.0:
            raise ValueError(f"small_size_ratio must be in (0, 1), got {small_size_ratio}")
        if ghost_size_ratio < 0.0:
            raise ValueError(f"ghost_size_ratio must be >= 0, got {ghost_size_ratio}")
        if move_to_main_threshold < 1:
            raise ValueError(f"move_to_main_threshold must be >= 1, got {move_to_main_threshold}")
        self._params = (float(small_size_ratio), float(ghost_size_ratio), int(move_to_main_threshold))
        super().__init__(capacity_bytes=capacity_bytes)

    def _make_core(self, capacity_bytes: int) -> CacheCore:
        return CacheCore(POLICY_CODES["s3fifo"], capacity_bytes, *self._params)


@CACHE_POLICIES.register("static")
class StaticCache(Cache):
    """A static cache pre-filled with the most popular objects; it never admits on a miss.

    Fill it with :meth:`fill` from a popularity list or a forecast (most popular first): each
    object is admitted if it still fits, else skipped (greedy top-k by bytes). Hits change
    nothing; a request with a changed size is a miss. libCacheSim has no counterpart.

    Parameters
    ----------
    capacity_bytes : int
    keys, sizes : arrays, optional
        A popularity list to :meth:`fill` from at construction.

    Examples
    --------
    >>> c = StaticCache(capacity_bytes=100, keys=[7, 8, 9], sizes=[60, 50, 40])
    >>> sorted(k for k in (7, 8, 9) if c.contains(k))
    [7, 9]
    >>> c.process([7, 8, 8], [60, 50, 50]).tolist()
    [True, False, False]
    """

    policy = "static"

    def __init__(self, *, capacity_bytes: int, keys=None, sizes=None):
        super().__init__(capacity_bytes=capacity_bytes)
        if keys is not None or sizes is not None:
            if keys is None or sizes is None:
                raise ValueError("StaticCache: give both keys and sizes, or neither")
            self.fill(keys, sizes)

    def fill(self, keys, sizes) -> int:
        """Admit objects in the given order (most popular first) while they fit; return how many."""
        k, s = _as_batch(keys, sizes)
        n = 0
        for key, size in zip(k.tolist(), s.tolist()):
            n += bool(self._core.insert(key, size))
        return n


def popularity_order(keys, sizes) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (key, size) of a request stream, most requested first (ties: first seen first).

    Feed the result to :meth:`StaticCache.fill`. The size of a key is its last requested size.

    Examples
    --------
    >>> k, s = popularity_order([5, 6, 6, 7, 5, 6], [1, 2, 2, 3, 1, 2])
    >>> k.tolist(), s.tolist()
    ([6, 5, 7], [2, 1, 3])
    """
    k, s = _as_batch(keys, sizes)
    uniq, first, inv, counts = np.unique(k, return_index=True, return_inverse=True, return_counts=True)
    last = np.zeros(uniq.shape[0], dtype=np.int64)
    last[inv.reshape(-1)] = np.arange(k.shape[0])
    order = np.lexsort((first, -counts))
    return uniq[order], s[last[order]]


def make_cache(policy: str, *, capacity_bytes: int) -> Cache:
    """A cache of a registered policy with default parameters.

    Examples
    --------
    >>> make_cache("s3fifo", capacity_bytes=1000)
    S3FIFOCache(capacity_bytes=1000, used_bytes=0, n_objects=0)
    >>> make_cache("arc", capacity_bytes=1)
    Traceback (most recent call last):
    ...
    KeyError: "unknown cache policy 'arc'; known: fifo, lfu, lru, s3fifo, static"
    """
    return CACHE_POLICIES[policy](capacity_bytes=capacity_bytes)
