"""``netsim cache curve``: hit ratios against cache size, simulated and by Che's approximation."""

import pytest

from netsim.cache.curve import parse_bytes, size_curve
from netsim.errors import InputError


def test_curve_rises_with_size_and_follows_che():
    c = size_curve("tochigi-1d@0.001", [1e12, 3e12, 10e12, 30e12])
    bh = c["byte_hit_ratio"].to_list()
    assert bh == sorted(bh) and 0 < bh[0] < bh[-1] < 1
    # offload counts the bytes no cache may store as misses: never above the byte hit ratio
    assert all(o <= b + 1e-12 for o, b in zip(c["offload"], c["byte_hit_ratio"]))
    # where the day is long against the cache's characteristic time, Che's IRM prediction is close
    for sim, che in zip(c["byte_hit_ratio"][:3], c["che_byte_hit_ratio"][:3]):
        assert abs(sim - che) < 0.03
    every = size_curve("tochigi-1d@0.001", [10e12], cacheable={s: 1.0 for s in ("video", "web", "game", "update", "other")})
    assert every["offload"][0] == pytest.approx(every["byte_hit_ratio"][0])


def test_bad_sizes_are_one_line_and_exit_2(cli):
    with pytest.raises(InputError, match="not a size"):
        parse_bytes("ten TB")
    p = cli("cache", "curve", "tochigi-1d@0.001", "--sizes", "-1TB")
    assert p.returncode == 2 and p.stderr.strip().count("\n") == 0 and "--sizes" in p.stderr
    ok = cli("cache", "curve", "tochigi-1d@0.001", "--sizes", "1TB,10TB")
    assert ok.returncode == 0 and "10 TB" in ok.stdout
