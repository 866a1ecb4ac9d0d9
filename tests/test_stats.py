"""netsim.stats against independent references: numpy's inverted-CDF percentiles (weighted and not), polars' group_by."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from netsim.stats import group_sums, percentile_95, weighted_quantile, weighted_quantiles


def test_percentile_95_is_numpy_s_inverted_cdf_at_every_length():
    """The billing rule (sort, discard the top 5 %, take the highest left) is the inverted-CDF 95th percentile:
    the smallest sample with at least 95 % of the samples at or below it. Every length up to 3,000 (where
    0.95 x n is a whole number, a rounding error in the count discarded would show)."""
    rng = np.random.default_rng(19)
    for n in range(1, 3001):
        x = rng.permutation(n).astype(np.float64)   # distinct values: the index picked is visible
        assert percentile_95(x) == float(np.percentile(x, 95, method="inverted_cdf")), n
    # by hand: 20 samples 1..20, the top 5 % (one sample) discarded: 19; 8,640 samples: 432 discarded
    assert percentile_95(np.arange(1.0, 21.0)) == 19.0
    assert percentile_95(np.arange(8640.0)) == 8640 - 432 - 1
    assert np.isnan(percentile_95([]))


def test_weighted_quantiles_equal_numpy_s_weighted_inverted_cdf():
    rng = np.random.default_rng(3)
    for trial in range(500):
        n = int(rng.integers(1, 40))
        v = rng.integers(0, 8, n).astype(np.float64) if trial % 2 else rng.normal(size=n)   # ties, then none
        w = rng.uniform(0.0, 5.0, n)
        w[rng.random(n) < 0.2] = 0.0
        if not (w > 0).any():
            assert np.isnan(weighted_quantile(v, w, 0.5))
            continue
        qs = [0.01, 0.1, 0.5, 0.9, 0.95, 0.99]
        want = [float(np.percentile(v, 100 * q, weights=w, method="inverted_cdf")) for q in qs]
        assert [weighted_quantile(v, w, q) for q in qs] == want, (v, w)
        assert weighted_quantiles(v, w, qs) == want


def test_integer_weights_are_repetitions():
    # by hand: 1 (weight 1), 2 (weight 1), 10 (weight 2) is the sample 1, 2, 10, 10: its median (lower) is 2
    assert weighted_quantile([10.0, 1.0, 2.0], [2, 1, 1], 0.5) == 2.0
    rng = np.random.default_rng(5)
    v = rng.normal(size=30)
    w = rng.integers(0, 6, 30)
    rep = np.repeat(v, w)
    for q in (0.1, 0.25, 0.5, 0.8, 0.95):
        assert weighted_quantile(v, w, q) == float(np.quantile(rep, q, method="inverted_cdf"))


def test_group_sums_equal_polars_group_by():
    rng = np.random.default_rng(11)
    n = 5000
    f = pl.DataFrame({"design": rng.choice(["b", "a", "c"], n).tolist(),
                      "bin": rng.integers(0, 50, n),
                      "region": [None if r < 0.1 else s for r, s in zip(rng.random(n), rng.choice(["x", "y"], n))],
                      "bytes": rng.uniform(0, 1e9, n), "n": rng.integers(0, 100, n).astype(np.float64)})
    keys = ["design", "bin", "region"]
    got = group_sums(f, keys, ["bytes", "n"])
    want = f.group_by(keys).agg(pl.col("bytes").sum(), pl.col("n").sum()).sort(keys, nulls_last=False)
    assert got.select(keys).rows() == want.select(keys).rows()
    np.testing.assert_allclose(got["bytes"].to_numpy(), want["bytes"].to_numpy(), rtol=1e-12)
    assert got["n"].to_list() == want["n"].to_list()
    assert group_sums(f.head(0), keys, ["bytes"]).height == 0


@pytest.mark.parametrize("q", [0.5, 0.95])
def test_zero_weights_are_left_out(q):
    # a value with weight 0 is no sample: 100 never comes out, whatever q
    assert weighted_quantile([1.0, 100.0, 2.0], [1.0, 0.0, 1.0], q) == (1.0 if q == 0.5 else 2.0)
