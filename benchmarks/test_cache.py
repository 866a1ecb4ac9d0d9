"""Cache policies: netsim's compiled kernels vs libCacheSim's ``process_trace`` on the same stream.

Stream: Zipf(0.9) over 1e6 objects, 1e7 requests (``NETSIM_BENCH_QUICK=1``: 1e4 objects, 1e5
requests, for CI; libCacheSim's fixed cost of allocating its 2**24-bucket hash table then dominates), lognormal
sizes (one per object), capacity 10 % of the catalogue bytes, seed 2024.

What is timed:
- netsim: ``Cache.process(keys, sizes)`` on in-memory numpy arrays, a fresh cache each round
  (the hit mask is allocated inside the timed call);
- libCacheSim: ``cache.process_trace(reader)`` on a fresh cache, where the reader is libCacheSim's
  C reader over an oracleGeneral binary file holding the same stream (written once before the
  timing, not timed; the file is in the page cache, so reading it is memory-bound). This is
  libCacheSim's fastest documented path: its reader and simulation loop both run in C.

Each test asserts identical request hit counts (and byte hit ratios) and reports
requests/s of both and the ratio in ``extra_info`` and on stdout; LRU must be >= 2x.

Run: ``PYTHONPATH=$PWD python -m pytest benchmarks/test_cache.py -m benchmark --benchmark-enable
-p no:cacheprovider -s``.
"""

import os
import time

import numpy as np
import pytest

from netsim.cache import make_cache

pytestmark = pytest.mark.benchmark
import libcachesim as lcs  # a test dependency (pyproject [test])

QUICK = os.environ.get("NETSIM_BENCH_QUICK", "") not in ("", "0")
# quick mode shrinks the catalogue too, so that the cache still evicts within 1e5 requests
N_OBJ = 10**4 if QUICK else 10**6
N_REQ = 10**5 if QUICK else 10**7
ROUNDS = 3 if QUICK else 1
ORACLES = {"lru": "LRU", "fifo": "FIFO", "lfu": "LFU", "s3fifo": "S3FIFO"}
MIN_RATIO = {"lru": 2.0}


@pytest.fixture(scope="module")
def stream(tmp_path_factory):
    rng = np.random.default_rng(2024)
    w = 1.0 / np.arange(1, N_OBJ + 1) ** 0.9
    cdf = np.cumsum(w)
    cdf /= cdf[-1]
    keys = np.searchsorted(cdf, rng.random(N_REQ)).astype(np.uint64)
    obj_sizes = np.maximum(1, rng.lognormal(9.0, 1.5, N_OBJ)).astype(np.int64)  # median ~8 kB
    obj_sizes = np.minimum(obj_sizes, 2**32 - 1)  # oracleGeneral stores sizes as uint32
    sizes = obj_sizes[keys]
    cap = int(obj_sizes.sum() * 0.10)
    rec = np.zeros(N_REQ, dtype=[("t", "<u4"), ("id", "<u8"), ("sz", "<u4"), ("nv", "<i8")])
    rec["id"], rec["sz"], rec["nv"] = keys, sizes, -1
    path = tmp_path_factory.mktemp("cache_bench") / "zipf.oracleGeneral"
    rec.tofile(path)
    del rec
    yield keys, sizes, cap, str(path)
    os.unlink(path)


@pytest.mark.parametrize("policy", ["lru", "fifo", "lfu", "s3fifo"])
def test_cache_vs_libcachesim(benchmark, stream, policy):
    keys, sizes, cap, path = stream
    benchmark.group = "cache"

    # libCacheSim, same stream, best of ROUNDS
    lcs_s, lcs_miss = np.inf, None
    for _ in range(ROUNDS):
        reader = lcs.TraceReader(path, lcs.TraceType.ORACLE_GENERAL_TRACE)
        cache = getattr(lcs, ORACLES[policy])(cap)
        t0 = time.perf_counter()
        lcs_miss = cache.process_trace(reader)
        lcs_s = min(lcs_s, time.perf_counter() - t0)

    result = {}

    def setup():
        return (make_cache(policy, capacity_bytes=cap),), {}

    def run(c):
        result["hits"] = c.process(keys, sizes)

    benchmark.pedantic(run, setup=setup, rounds=ROUNDS, iterations=1)
    ns_s = benchmark.stats.stats.min
    hits = result["hits"]

    hit_ratio = float(hits.mean())
    byte_hit_ratio = float(sizes[hits].sum() / sizes.sum())
    lcs_hit_ratio, lcs_byte_hit_ratio = 1 - lcs_miss[0], 1 - lcs_miss[1]
    info = {"requests": N_REQ, "capacity_bytes": cap, "netsim_req_per_s": N_REQ / ns_s,
            "libcachesim_req_per_s": N_REQ / lcs_s, "ratio": lcs_s / ns_s, "hit_ratio": hit_ratio,
            "libcachesim_hit_ratio": lcs_hit_ratio, "byte_hit_ratio": byte_hit_ratio,
            "libcachesim_byte_hit_ratio": lcs_byte_hit_ratio}
    benchmark.extra_info.update(info)
    print(f"\n[cache {policy}] n={N_REQ:.0e} netsim {info['netsim_req_per_s'] / 1e6:.2f} M req/s, "
          f"libCacheSim {info['libcachesim_req_per_s'] / 1e6:.2f} M req/s, ratio {info['ratio']:.2f}x; "
          f"hit ratio {hit_ratio:.6f} vs {lcs_hit_ratio:.6f}, byte hit ratio {byte_hit_ratio:.6f} vs "
          f"{lcs_byte_hit_ratio:.6f}")
    assert int(hits.sum()) == round(lcs_hit_ratio * N_REQ)
    assert abs(byte_hit_ratio - lcs_byte_hit_ratio) < 1e-9
    if not QUICK:
        assert info["ratio"] >= MIN_RATIO.get(policy, 1.0)
