"""Cache policies: hand-computed sequences, invariants after every request, snapshots, keys."""

from collections import OrderedDict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsim.cache import (
    CACHE_POLICIES, FIFOCache, LFUCache, LRUCache, S3FIFOCache, StaticCache, make_cache, make_keys,
    popularity_order, provider_hash, scaled_capacity,
)

# (key, size) with: an object larger than the capacity (3@150), a changed size (4: 50 -> 20),
# an object of exactly the capacity (1@100)
SEQ = [(1, 40), (2, 30), (1, 40), (3, 150), (4, 50), (2, 30), (4, 50), (4, 20), (4, 20), (1, 100), (2, 30)]


def _run(cache, seq):
    hits, used = [], []
    for k, s in seq:
        hits.append(cache.request(k, s))
        used.append(cache.used_bytes)
    return hits, used


def test_lru_hand_computed():
    c = LRUCache(capacity_bytes=100)
    hits, used = _run(c, SEQ)
    assert hits == [False, False, True, False, False, False, True, False, True, False, False]
    assert used == [40, 70, 70, 70, 90, 80, 80, 50, 50, 100, 30]
    st_ = c.stats
    assert (st_.requests, st_.hits, st_.misses, st_.evictions) == (11, 3, 8, 5)
    assert st_.bytes_requested == sum(s for _, s in SEQ)
    assert st_.bytes_hit == 40 + 50 + 20
    assert c.contains(2) and not c.contains(1) and c.n_objects == 1


def test_fifo_hand_computed():
    c = FIFOCache(capacity_bytes=100)
    hits, used = _run(c, SEQ)
    # 2 survives the admission of 4 (FIFO evicts 1, the oldest, although 1 was just hit)
    assert hits == [False, False, True, False, False, True, True, False, True, False, False]
    assert used == [40, 70, 70, 70, 80, 80, 80, 50, 50, 100, 30]
    assert c.stats.evictions == 4


def test_lfu_hand_computed():
    seq = [(1, 40), (2, 30), (1, 40), (2, 30), (3, 30), (4, 20), (4, 20), (5, 20), (1, 40), (2, 30),
           (6, 500), (2, 10)]
    c = LFUCache(capacity_bytes=100)
    hits, used = _run(c, seq)
    # 6: evict 3 (the only freq-1 object); 8: all at freq 2, evict 1 (reached freq 2 first);
    # 9: evict 5 (freq 1); 12: 2 changed size -> miss, replaced by 2@10
    assert hits == [False, False, True, True, False, False, True, False, False, True, False, False]
    assert used == [40, 70, 70, 70, 100, 90, 90, 70, 90, 90, 90, 70]
    assert c.stats.evictions == 3
    s = c.state()
    assert dict(zip(s.keys.tolist(), s.freq.tolist())) == {1: 1, 2: 1, 4: 2}


def test_s3fifo_hand_computed():
    # capacity 40: small FIFO 4 bytes, main 36, ghost 36
    fill = [(k, 3) for k in range(10, 21)]
    seq = ([(1, 2), (2, 2), (3, 3), (1, 2), (1, 2), (2, 2)] + fill
           + [(5, 3), (2, 2), (3, 3), (11, 3), (6, 3), (10, 3), (5, 3), (11, 3), (12, 3), (7, 3), (13, 3)])
    c = S3FIFOCache(capacity_bytes=40)
    hits, used = _run(c, seq)
    expect = ([False, False, False, True, True, True] + [False] * 11
              + [False, False, False, True, False, False, False, True, True, False, False])
    assert hits == expect
    assert max(used) <= 40
    s = c.state()
    ghost = s.keys[s.queue == 2].tolist()
    small = s.keys[s.queue == 1].tolist()
    main = s.keys[s.queue == 0].tolist()
    assert small == [7, 13]
    assert ghost == [3, 6, 10]
    assert main == [14, 15, 16, 17, 18, 19, 20, 1, 2, 5, 11, 12]
    assert dict(zip(s.keys.tolist(), s.freq.tolist()))[11] == 1


def test_s3fifo_large_objects_not_admitted():
    c = S3FIFOCache(capacity_bytes=100)  # small FIFO: 10 bytes
    assert c.process([1, 1, 2, 2, 3, 3], [11, 11, 10, 10, 9, 9]).tolist() == [False, False, False, False, False, True]
    assert c.used_bytes == 9


def test_static_never_admits_and_fills_greedily():
    k, s = popularity_order([5, 6, 6, 7, 7, 7, 8], [50, 30, 30, 60, 60, 60, 10])
    assert k.tolist() == [7, 6, 5, 8]
    c = StaticCache(capacity_bytes=100, keys=k, sizes=s)  # 7 (60) + 6 (30) fit, 5 (50) skipped, 8 (10) fits
    assert [c.contains(x) for x in (5, 6, 7, 8)] == [False, True, True, True]
    assert c.used_bytes == 100
    assert c.process([5, 7, 5, 7], [50, 60, 50, 61]).tolist() == [False, True, False, False]
    assert c.used_bytes == 100 and c.stats.evictions == 0


@pytest.mark.parametrize("policy", ["lru", "fifo", "lfu", "s3fifo"])
def test_clear_is_cold_and_state_restores_warm(policy):
    rng = np.random.default_rng(5)
    keys = rng.zipf(1.3, 4000).astype(np.uint64) % 300
    sizes = (keys % 17 + 1).astype(np.int64) * 10
    a = make_cache(policy, capacity_bytes=3000)
    a.process(keys[:2000], sizes[:2000])
    snap = a.state()
    b = make_cache(policy, capacity_bytes=3000)
    b.load_state(snap)
    assert (b.used_bytes, b.n_objects) == (a.used_bytes, a.n_objects)
    ha = a.process(keys[2000:], sizes[2000:])
    hb = b.process(keys[2000:], sizes[2000:])
    assert np.array_equal(ha, hb)
    a.clear()
    assert a.used_bytes == 0 and a.n_objects == 0 and not a.contains(int(keys[-1]))
    assert a.stats.requests == 4000  # counters survive a restart
    with pytest.raises(ValueError):
        make_cache(policy, capacity_bytes=3001).load_state(snap)


def test_registry_and_validation():
    assert CACHE_POLICIES.names() == ["fifo", "lfu", "lru", "s3fifo", "static"]
    with pytest.raises(KeyError, match="known: fifo, lfu, lru, s3fifo, static"):
        make_cache("arc", capacity_bytes=10)
    with pytest.raises(ValueError):
        LRUCache(capacity_bytes=-1)
    with pytest.raises(ValueError):
        LRUCache(capacity_bytes=10).process([1, 2], [1])
    with pytest.raises(ValueError):
        LRUCache(capacity_bytes=10).process([1], [0])
    with pytest.raises(TypeError):
        LRUCache(100)  # keyword-only


def test_get_insert_contains():
    c = LRUCache(capacity_bytes=10)
    assert not c.get(1)
    assert c.insert(1, 6) and c.insert(2, 4)
    assert c.get(1)                     # 1 becomes MRU
    assert c.insert(3, 4)               # evicts 2
    assert c.contains(1) and not c.contains(2) and 3 in c
    assert not c.insert(4, 11)          # larger than the capacity
    st_ = c.stats
    assert st_.requests == 2 and st_.hits == 1


def test_admit_false_is_a_pure_lookup():
    c = LRUCache(capacity_bytes=10)
    assert c.process([1, 1, 2, 1], [5, 5, 5, 5], admit=[False, True, True, True]).tolist() == [False, False, False, True]
    assert c.used_bytes == 10


def test_make_keys_and_scaled_capacity():
    k = make_keys(np.array(["a", "b", "a"], dtype=object), np.array([7, 7, 8], dtype=np.uint64))
    assert k.dtype == np.uint64 and len(set(k.tolist())) == 3
    assert make_keys("a", [7]).tolist() == [k[0]]
    # stable across runs and processes (no Python hash randomisation)
    assert provider_hash("video") == 0xFDE209A1556C5F26
    assert make_keys(["x"] * 100000, np.arange(100000)).size == len(np.unique(make_keys(["x"] * 100000, np.arange(100000))))
    with pytest.raises(ValueError):
        make_keys(["a"], [1, 2])
    with pytest.raises(ValueError):
        make_keys(["a"], [-1])
    assert scaled_capacity(10**9, 0.001) == 10**6
    with pytest.raises(ValueError):
        scaled_capacity(10, 0.0)


# ---------------------------------------------------------------- references and invariants

def _ref_lru_fifo(seq, cap, lru):
    """Plain-Python LRU/FIFO with netsim's semantics (a changed size is a miss that replaces)."""
    d: OrderedDict = OrderedDict()
    used = 0
    out = []
    for k, s in seq:
        if k in d and d[k] == s:
            out.append(True)
            if lru:
                d.move_to_end(k)
            continue
        out.append(False)
        if k in d:
            used -= d.pop(k)
        if s > cap:
            continue
        while used + s > cap:
            _, v = d.popitem(last=False)
            used -= v
        d[k] = s
        used += s
    return out


streams = st.lists(st.tuples(st.integers(0, 12), st.integers(1, 40)), min_size=1, max_size=120)


@settings(max_examples=60, deadline=None)
@given(seq=streams, cap=st.integers(0, 120), policy=st.sampled_from(["lru", "fifo", "lfu", "s3fifo", "static"]))
def test_invariants_after_every_request(seq, cap, policy):
    c = make_cache(policy, capacity_bytes=cap)
    if policy == "static":
        c.fill([k for k, _ in seq[:5]], [s for _, s in seq[:5]])
    hits = 0
    for i, (k, s) in enumerate(seq, 1):
        hits += c.request(k, s)
        assert 0 <= c.used_bytes <= cap
        snap = c.state()
        resident = snap.queue != 2
        assert int(snap.sizes[resident].sum()) == c.used_bytes
        assert int(resident.sum()) == c.n_objects
        st_ = c.stats
        assert st_.requests == i and st_.hits == hits and st_.hits + st_.misses == st_.requests
        if c.contains(k) and policy != "static":  # a resident copy is the requested size
            assert int(snap.sizes[snap.keys == k][0]) == s


@settings(max_examples=60, deadline=None)
@given(seq=streams, cap=st.integers(0, 120), lru=st.booleans())
def test_lru_fifo_match_python_reference(seq, cap, lru):
    c = make_cache("lru" if lru else "fifo", capacity_bytes=cap)
    got = c.process([k for k, _ in seq], [s for _, s in seq]).tolist()
    assert got == _ref_lru_fifo(seq, cap, lru)


@settings(max_examples=30, deadline=None)
@given(seq=streams, cap=st.integers(1, 120), policy=st.sampled_from(["lru", "fifo", "lfu", "s3fifo"]))
def test_batch_equals_single_requests(seq, cap, policy):
    a, b = make_cache(policy, capacity_bytes=cap), make_cache(policy, capacity_bytes=cap)
    batch = a.process([k for k, _ in seq], [s for _, s in seq]).tolist()
    single = [b.request(k, s) for k, s in seq]
    assert batch == single and a.state().keys.tolist() == b.state().keys.tolist()
