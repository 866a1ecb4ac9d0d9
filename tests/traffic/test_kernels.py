"""The compiled sampling kernels against plain numpy references (hypothesis)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from netsim._ext.traffic import alias_build, alias_draw, poisson_rows


def _alias(w):
    n = len(w)
    prob, alias = np.empty(n), np.empty(n, dtype=np.int64)
    alias_build(np.ascontiguousarray(w, dtype=np.float64), prob, alias, np.empty(n, dtype=np.int64))
    return prob, alias


@settings(max_examples=200, deadline=None)
@given(arrays(np.float64, st.integers(1, 60), elements=st.floats(0.0, 1e6)).filter(lambda w: w.sum() > 1e-3))
def test_alias_table_implies_exactly_the_weights(w):
    prob, alias = _alias(w)
    n = len(w)
    assert ((prob >= 0) & (prob <= 1 + 1e-12)).all() and ((alias >= 0) & (alias < n)).all()
    implied = prob.copy()
    np.add.at(implied, alias, 1.0 - prob)
    np.testing.assert_allclose(implied / n, w / w.sum(), atol=1e-9)


def test_alias_draws_follow_the_weights():
    w = np.array([5.0, 0.0, 1.0, 3.0, 1.0])
    prob, alias = _alias(w)
    out = np.empty(400_000, dtype=np.int64)
    alias_draw(prob, alias, np.random.default_rng(0).random(len(out)), out)
    freq = np.bincount(out, minlength=5) / len(out)
    np.testing.assert_allclose(freq, w / w.sum(), atol=0.003)
    assert freq[1] == 0


def _poisson_rows_reference(counts, starts, lens, expo, u, share):
    n = int(counts.sum())
    ts, label = np.empty(n), np.empty(n, dtype=np.int8)
    row = e = 0
    for m, c in enumerate(counts):
        seg = expo[e:e + c + 1]
        ts[row:row + c] = starts[m] + np.cumsum(seg)[:c] / seg.sum() * lens[m]
        label[row:row + c] = np.minimum(np.searchsorted(share[m], u[row:row + c], side="right"), share.shape[1] - 1)
        row, e = row + c, e + c + 1
    return ts, label


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 8), st.integers(1, 5), st.integers(0, 2**32 - 1))
def test_poisson_rows_matches_numpy(n_min, n_streams, seed):
    rng = np.random.default_rng(seed)
    counts = rng.integers(0, 30, n_min).astype(np.int64)
    starts = np.arange(n_min) * 60.0
    lens = np.full(n_min, 60.0)
    lens[-1] = rng.uniform(1, 60)
    n = int(counts.sum())
    expo, u = rng.standard_exponential(n + n_min), rng.random(n)
    share = np.cumsum(rng.random((n_min, n_streams)) * (rng.random((n_min, n_streams)) > 0.3), axis=1)
    share = np.ascontiguousarray(share / np.where(share[:, -1:] > 0, share[:, -1:], 1.0))
    share[:, -1] = 1.0
    ts, label = np.empty(n), np.empty(n, dtype=np.int8)
    poisson_rows(counts, starts, lens, expo, u, share, ts, label)
    ts_ref, label_ref = _poisson_rows_reference(counts, starts, lens, expo, u, share)
    np.testing.assert_allclose(ts, ts_ref, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(label, label_ref)
    assert (np.diff(ts) >= 0).all()
    m_of = np.repeat(np.arange(n_min), counts)
    assert ((ts >= starts[m_of]) & (ts < starts[m_of] + lens[m_of])).all()
