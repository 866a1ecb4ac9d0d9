"""Spatial sampling (as SHARDS does): an object is in or out of a sample by a hash of (provider, obj).

Keeping whole objects keeps each kept object's full request sequence, so a cache run at
``rate`` times its capacity sees the hit ratio of the full stream (Waldspurger et al., "Efficient
MRC Construction with SHARDS", FAST 2015). Flows carry no cache state and are thinned row by row.
The hash is splitmix64 over FNV-1a of the provider name xor the object id: stable across
platforms and library versions, so a sample is reproducible anywhere.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from netsim.errors import InputError

__all__ = ["object_hash", "object_unit", "in_sample", "sample_trace", "provider_key"]

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLD = np.uint64(0x9E3779B97F4A7C15)


def provider_key(provider: str) -> np.uint64:
    """FNV-1a 64-bit hash of a provider name.

    Examples
    --------
    >>> int(provider_key("video")) == int(provider_key("video"))
    True
    """
    h = 0xCBF29CE484222325
    for b in provider.encode():
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return np.uint64(h)


def _mix(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        z = x + _GOLD
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        return z ^ (z >> np.uint64(31))


def object_hash(provider: str, obj, *, salt: int = 0) -> np.ndarray:
    """64-bit hash of (provider, obj) for an array of object ids (``salt`` gives independent hashes).

    Examples
    --------
    >>> object_hash("video", [1, 2]).dtype
    dtype('uint64')
    """
    o = np.asarray(obj, dtype=np.uint64)
    key = provider_key(provider) ^ _mix(np.asarray([salt], dtype=np.uint64))[0]
    return _mix(o ^ key)


def object_unit(provider: str, obj, *, salt: int = 0) -> np.ndarray:
    """A uniform number in [0, 1) per (provider, obj): 53 bits of :func:`object_hash`.

    Examples
    --------
    >>> u = object_unit("web", [1, 2, 3])
    >>> bool(((u >= 0) & (u < 1)).all()), bool(u[0] == object_unit("web", [1])[0])
    (True, True)
    """
    return (object_hash(provider, obj, salt=salt) >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)


def in_sample(provider: str, obj, rate: float) -> np.ndarray:
    """Whether each object of one provider is in a spatial sample at ``rate`` (0 < rate <= 1).

    Examples
    --------
    >>> m = in_sample("video", np.arange(100_000), 0.1)
    >>> bool(0.09 < m.mean() < 0.11)
    True
    """
    return object_unit(provider, obj) < rate


def sample_trace(frame: pl.DataFrame, rate: float, *, seed: int = 0) -> pl.DataFrame:
    """Spatially sample a trace: requests by object hash (whole objects kept), flows row by row.

    The result stands for the full trace with ``scale = 1 / rate`` (record it with
    ``write_trace(..., meta={"scale": 1/rate, "sample_rate": rate})``). This is plain SHARDS: the
    expected bytes are ``rate`` times the full trace's, but a realised sample's total varies with
    which popular objects fall in it (the generators instead normalise the kept objects' rate,
    as SHARDS-adj does, so their ``bytes * scale`` matches the calibrated load).

    Examples
    --------
    >>> df = pl.DataFrame({"ts": [0.0, 1.0, 2.0], "src": ["a"] * 3, "dst": [None] * 3, "provider": ["video"] * 3,
    ...                    "obj": [1, 2, 1], "bytes": [10, 20, 10], "service": ["video"] * 3},
    ...                   schema_overrides={"obj": pl.UInt64, "dst": pl.String})
    >>> sample_trace(df, 1.0).height
    3
    """
    if not 0 < rate <= 1:
        raise InputError(f"sample rate must be in (0, 1], found {rate!r}", where="rate")
    if rate == 1:
        return frame
    keep = np.zeros(frame.height, dtype=bool)
    is_req = frame["obj"].is_not_null().to_numpy()
    prov = frame["provider"]
    obj = frame["obj"].fill_null(0).to_numpy().astype(np.uint64)
    for name in prov.drop_nulls().unique().sort().to_list():
        rows = np.flatnonzero((prov == name).fill_null(False).to_numpy() & is_req)
        keep[rows] = in_sample(name, obj[rows], rate)
    flows = np.flatnonzero(~is_req)
    keep[flows] = np.random.default_rng(seed).random(len(flows)) < rate
    return frame.filter(pl.Series(keep))
