"""Caches: byte-capacity policies over compiled kernels, and request resolution through a topology's caches."""

from netsim.cache.policies import (
    CACHE_POLICIES,
    Cache,
    CacheState,
    CacheStats,
    FIFOCache,
    LFUCache,
    LRUCache,
    S3FIFOCache,
    StaticCache,
    make_cache,
    make_keys,
    popularity_order,
    provider_hash,
    scaled_capacity,
)
from netsim.cache.resolve import CacheSystem, Distance, latency_distance

__all__ = [
    "CACHE_POLICIES", "Cache", "CacheState", "CacheStats", "CacheSystem", "Distance", "FIFOCache", "LFUCache",
    "LRUCache", "S3FIFOCache", "StaticCache", "latency_distance", "make_cache", "make_keys", "popularity_order",
    "provider_hash", "scaled_capacity",
]
