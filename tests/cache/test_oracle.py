"""libCacheSim as the oracle: request-for-request identical hits on Zipf streams with varied sizes."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsim.cache import make_cache

from netsim_testing import zipf_stream

import libcachesim as lcs  # a test dependency (pyproject [test]): missing is a failure, not a skip

ORACLES = {"lru": "LRU", "fifo": "FIFO", "lfu": "LFU", "s3fifo": "S3FIFO"}


def oracle_hits(policy, cap, keys, sizes):
    cache = getattr(lcs, ORACLES[policy])(int(cap))
    req = lcs.Request()
    req.valid = True
    out = np.zeros(len(keys), dtype=bool)
    for i, (k, s) in enumerate(zip(keys.tolist(), sizes.tolist())):
        req.obj_id = k
        req.obj_size = s
        out[i] = cache.get(req)
    return out, cache.get_occupied_byte(), cache.get_n_obj()


@pytest.mark.parametrize("policy", ["lru", "fifo", "lfu", "s3fifo"])
@pytest.mark.parametrize("seed,cap_frac", [(1, 0.1), (2, 0.01), (3, 0.3)])
def test_identical_hits_on_zipf(policy, seed, cap_frac):
    keys, sizes, obj_sizes = zipf_stream(3000, 40000, 0.9, seed)
    cap = int(obj_sizes.sum() * cap_frac)
    ref, ref_bytes, ref_n = oracle_hits(policy, cap, keys, sizes)
    c = make_cache(policy, capacity_bytes=cap)
    got = c.process(keys, sizes)
    diff = np.nonzero(got != ref)[0]
    assert diff.size == 0, f"first differing request {diff[:5]}"
    assert (c.used_bytes, c.n_objects) == (ref_bytes, ref_n)
    assert 0.05 < got.mean() < 0.95  # the stream exercises hits and evictions


@pytest.mark.parametrize("policy", ["lru", "fifo", "lfu", "s3fifo"])
def test_identical_hits_in_batches(policy):
    """The engine calls process once per bin: splitting the stream changes nothing."""
    keys, sizes, obj_sizes = zipf_stream(2000, 20000, 1.0, 11)
    cap = int(obj_sizes.sum() * 0.05)
    ref, _, _ = oracle_hits(policy, cap, keys, sizes)
    c = make_cache(policy, capacity_bytes=cap)
    got = np.concatenate([c.process(keys[a:b], sizes[a:b]) for a, b in [(0, 7), (7, 5000), (5000, 20000)]])
    assert np.array_equal(got, ref)


@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_obj=st.integers(1, 60), cap=st.integers(10, 4000),
       policy=st.sampled_from(["lru", "fifo", "lfu", "s3fifo"]), alpha=st.floats(0.0, 1.5))
def test_identical_hits_random_small(seed, n_obj, cap, policy, alpha):
    """Small caches: many objects larger than the cache (or than S3-FIFO's small queue).

    Capacities start at 10 bytes: libCacheSim aborts on an S3-FIFO whose small queue is 0 bytes
    (netsim accepts it; such a cache admits nothing).
    """
    keys, sizes, _ = zipf_stream(n_obj, 400, alpha, seed, log_mean=5.0, log_sigma=1.5)
    ref, ref_bytes, _ = oracle_hits(policy, cap, keys, sizes)
    c = make_cache(policy, capacity_bytes=cap)
    assert c.process(keys, sizes).tolist() == ref.tolist()
    assert c.used_bytes == ref_bytes


def test_process_trace_ratios_match(tmp_path):
    """The benchmark's path: libCacheSim's process_trace on an oracleGeneral file of the same stream."""
    keys, sizes, obj_sizes = zipf_stream(5000, 50000, 0.9, 4)
    cap = int(obj_sizes.sum() * 0.1)
    rec = np.zeros(len(keys), dtype=[("t", "<u4"), ("id", "<u8"), ("sz", "<u4"), ("nv", "<i8")])
    rec["id"], rec["sz"], rec["nv"] = keys, sizes, -1
    path = tmp_path / "trace.oracleGeneral"
    rec.tofile(path)
    for policy in ORACLES:
        reader = lcs.TraceReader(str(path), lcs.TraceType.ORACLE_GENERAL_TRACE)
        miss, byte_miss = getattr(lcs, ORACLES[policy])(cap).process_trace(reader)
        hits = make_cache(policy, capacity_bytes=cap).process(keys, sizes)
        assert hits.sum() == round((1 - miss) * len(keys))
        assert abs((sizes[hits].sum() / sizes.sum()) - (1 - byte_miss)) < 1e-9
