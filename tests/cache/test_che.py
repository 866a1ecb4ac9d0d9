"""The simulated LRU cache on a generated stream against Che's approximation of the generator's popularity.

A stationary catalogue (no new releases) is the independent reference model Che's approximation
assumes; the cache replays a generated day of one provider's requests (the first half warms it),
and its hit ratios over the second half must be within 2 percentage points of the prediction, over
a curve of cache sizes and for two Zipf exponents.
"""

import numpy as np
import pytest

from netsim.cache import LRUCache, make_keys, scaled_capacity
from netsim.cache.che import che_lru
from netsim.topology import load_topology
from netsim.traffic.generators import content, popularity

RATE = 0.01


@pytest.fixture(scope="module")
def tochigi():
    return load_topology("tochigi")


@pytest.mark.parametrize("alpha", [0.8, 1.0])
def test_lru_on_the_generated_stream_matches_che(tochigi, alpha):
    t = content(tochigi, duration_s=86400, seed=3, sample_rate=RATE, zipf_alpha=alpha, providers=["video"],
                new_objects_per_day=0).collect()
    keys = make_keys(t["provider"].to_numpy(), t["obj"].to_numpy())
    sizes = t["bytes"].to_numpy()
    half = len(keys) // 2
    pop = popularity("video", zipf_alpha=alpha, sample_rate=RATE, new_objects_per_day=0, seed=3)
    assert pop.release_share == 0.0
    for tb in (1, 3, 10):
        cap = scaled_capacity(int(tb * 1e12), RATE)
        cache = LRUCache(capacity_bytes=cap)
        hits = cache.process(keys, sizes)
        h, bh = hits[half:].mean(), (sizes[half:] * hits[half:]).sum() / sizes[half:].sum()
        che = che_lru(pop.p, pop.sizes, cap)
        assert abs(h - che.hit_ratio) < 0.02, (alpha, tb, h, che.hit_ratio)
        assert abs(bh - che.byte_hit_ratio) < 0.02, (alpha, tb, bh, che.byte_hit_ratio)


def test_che_is_monotone_in_size_and_bounded():
    rng = np.random.default_rng(1)
    p = np.arange(1, 5001, dtype=float) ** -0.8
    s = rng.integers(1, 100, 5000).astype(float)
    prev = 0.0
    for c in (10, 100, 1_000, 10_000, 100_000):
        r = che_lru(p, s, c)
        assert 0.0 <= r.hit_ratio <= 1.0 and r.byte_hit_ratio >= prev - 1e-12
        prev = r.byte_hit_ratio
    assert che_lru(p, s, s.sum()).byte_hit_ratio == 1.0


def test_che_by_hand_on_a_uniform_catalogue():
    """Equal popularity and size: every object has the same hit probability 1 - exp(-t / N), and the cache holds
    C of the N objects on average, so the hit ratio is C / N and the characteristic time t = N ln(N / (N - C)):
    1000 objects, a cache of 100: 0.1 and 1000 x ln(10 / 9) = 105.361 requests."""
    r = che_lru(np.full(1000, 1 / 1000), np.ones(1000), 100)
    assert r.hit_ratio == pytest.approx(0.1, abs=1e-9) and r.byte_hit_ratio == pytest.approx(0.1, abs=1e-9)
    assert float(r.t_char) == pytest.approx(105.361, abs=1e-3)
    # five-byte objects in a 500-byte cache: the same 100 objects
    assert che_lru(np.full(1000, 1 / 1000), np.full(1000, 5.0), 500).hit_ratio == pytest.approx(0.1, abs=1e-9)
