"""Allocation failure in the compiled kernels is a MemoryError, never a crash or a corrupt state.

Each case runs in a child process whose address space is capped (RLIMIT_AS) a little above what
it already uses, then asks a kernel for more: the cache's entry pool, hash table and LFU buckets
grow until an allocation fails. Before the allocations were checked, a failed LFU bucket made the
kernel index ``buckets[-1]`` (a crash or silent corruption).
"""

import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS is Linux behaviour")

CHILD = textwrap.dedent(
    """
    import resource
    import numpy as np
    from netsim._ext.cache import POLICY_CODES, CacheCore

    POLICY = POLICY_CODES["{policy}"]
    cache = CacheCore(POLICY, 1 << 60)  # never full: every miss is a new entry
    keys = np.arange(1, 200_001, dtype=np.uint64)
    sizes = np.ones(keys.size, dtype=np.int64)
    out = np.empty(keys.size, dtype=np.uint8)
    cache.process(keys, sizes, out)  # warm: the allocator's arenas exist before the cap
    with open("/proc/self/statm") as f:
        vm = int(f.read().split()[0]) * resource.getpagesize()
    resource.setrlimit(resource.RLIMIT_AS, (vm + (64 << 20), resource.RLIM_INFINITY))
    start, failed = 200_001, False
    while start < 10**9:
        # LFU: request each new key a different number of times so the frequency buckets grow too
        k = np.arange(start, start + 1_000_000, dtype=np.uint64)
        reps = np.repeat(k, 1 + (k % 3).astype(np.int64)) if "{policy}" == "lfu" else k
        try:
            cache.process(reps, np.ones(reps.size, dtype=np.int64), np.empty(reps.size, dtype=np.uint8))
        except MemoryError:
            failed = True
            break
        start += 1_000_000
    resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    assert failed, "the cap never bit"
    # still consistent: the early keys are resident and hit, a new key is admitted
    n = cache.n_objects
    assert cache.contains(1) and cache.get(1)
    cache.process(np.array([1 << 40], dtype=np.uint64), np.ones(1, dtype=np.int64), np.empty(1, dtype=np.uint8))
    assert cache.n_objects == n + 1 and cache.contains(1 << 40)
    print("ok", n)
    """
)


@pytest.mark.parametrize("policy", ["lru", "lfu", "s3fifo"])
def test_a_cache_that_cannot_grow_raises_memory_error_and_stays_usable(policy, tmp_path):
    # NOTE: cwd elsewhere: `python -c` puts the working directory first on sys.path, and the repository root
    # holds the source tree without its compiled kernels
    proc = subprocess.run([sys.executable, "-c", CHILD.format(policy=policy)], capture_output=True,
                          text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-2000:])
    assert proc.stdout.startswith("ok ")


RESTORE = textwrap.dedent(
    """
    import resource
    import numpy as np
    from netsim._ext.cache import POLICY_CODES, CacheCore

    n = 4_000_000
    keys = np.arange(1, n + 1, dtype=np.uint64)
    ones = np.ones(n, dtype=np.int64)
    queue = np.zeros(n, dtype=np.int8)
    freq = np.arange(1, n + 1, dtype=np.int64)  # every entry its own LFU bucket
    results = []
    for extra_mb in {caps}:
        cache = CacheCore(POLICY_CODES["lfu"], 1 << 60)
        with open("/proc/self/statm") as f:
            vm = int(f.read().split()[0]) * resource.getpagesize()
        resource.setrlimit(resource.RLIMIT_AS, (vm + (extra_mb << 20), resource.RLIM_INFINITY))
        try:
            cache.restore(keys, ones, queue, freq, False)
            results.append("fit")
        except MemoryError:
            results.append("MemoryError")
        resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        cache.clear()
        cache.restore(keys[:3], ones[:3], queue[:3], freq[:3], False)  # usable after the failure
        out = np.empty(3, dtype=np.uint8)
        cache.process(keys[:3], ones[:3], out)
        assert out.tolist() == [1, 1, 1] and cache.n_objects == 3
    print(" ".join(results))
    """
)


def test_an_lfu_restore_whose_buckets_cannot_grow_raises_memory_error(tmp_path):
    # caps between 8 and 120 MB above the current size: some fail while the entry pool grows,
    # some while the bucket array does (its doublings fall between the pool's)
    caps = list(range(8, 121, 8))
    proc = subprocess.run([sys.executable, "-c", RESTORE.format(caps=caps)], capture_output=True,
                          text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-2000:])
    assert "MemoryError" in proc.stdout.split()
