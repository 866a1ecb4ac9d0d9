"""Max-min fair congestion: the kernel equals the plain-Python reference and satisfies max-min fairness."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsim.sim.congestion import max_min_rates, max_min_rates_reference


def test_hand_computed_shared_bottleneck():
    # three demands on one 9-unit link: 2 is met, the other two split the rest equally
    rate, load = max_min_rates([2, 10, 10], [9], dem=[0, 1, 2], link=[0, 0, 0], frac=[1, 1, 1])
    assert rate.tolist() == [2.0, 3.5, 3.5]
    assert load.tolist() == [9.0]


def test_ecmp_fractions_count_half():
    # demand 0 splits 50/50 over links 0 and 1; demand 1 uses link 1 only (cap 3)
    rate, load = max_min_rates([10, 10], [100, 3], dem=[0, 0, 1], link=[0, 1, 1], frac=[0.5, 0.5, 1.0])
    # link 1 saturates when 0.5 r + r = 3 -> r = 2 for both
    assert rate == pytest.approx([2.0, 2.0])
    assert load == pytest.approx([1.0, 3.0])


def test_no_congestion_delivers_everything_and_zero_demands():
    rate, load = max_min_rates([1, 0, 2], [10, 10], dem=[0, 1, 2], link=[0, 0, 1], frac=[1, 1, 1])
    assert rate.tolist() == [1.0, 0.0, 2.0] and load.tolist() == [1.0, 2.0]


def test_bad_input():
    with pytest.raises(ValueError, match="same length"):
        max_min_rates([1], [1], dem=[0], link=[0, 0], frac=[1])
    with pytest.raises(ValueError, match="link index out of range"):
        max_min_rates([1], [1], dem=[0], link=[3], frac=[1])


@st.composite
def problems(draw):
    k = draw(st.integers(1, 12))
    n_links = draw(st.integers(1, 8))
    demand = draw(st.lists(st.floats(0, 100, allow_nan=False), min_size=k, max_size=k))
    capacity = draw(st.lists(st.floats(0.5, 60, allow_nan=False), min_size=n_links, max_size=n_links))
    dem, link, frac = [], [], []
    for d in range(k):
        used = draw(st.lists(st.integers(0, n_links - 1), min_size=1, max_size=min(4, n_links), unique=True))
        parts = draw(st.sampled_from([1, 2, 4]))
        for l in used:
            dem.append(d)
            link.append(l)
            frac.append(1.0 / parts)
    return demand, capacity, dem, link, frac


@settings(max_examples=200, deadline=None)
@given(problems())
def test_kernel_equals_reference_and_is_max_min_fair(p):
    demand, capacity, dem, link, frac = p
    rate, load = max_min_rates(demand, capacity, dem, link, frac)
    ref_rate, ref_load = max_min_rates_reference(demand, capacity, dem, link, frac)
    np.testing.assert_allclose(rate, ref_rate, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(load, ref_load, rtol=1e-9, atol=1e-9)
    demand, capacity = np.array(demand), np.array(capacity)
    dem, link, frac = np.array(dem), np.array(link), np.array(frac)
    # feasibility
    assert np.all(rate <= demand * (1 + 1e-9) + 1e-12)
    recomputed = np.bincount(link, weights=frac * rate[dem], minlength=len(capacity))
    np.testing.assert_allclose(load, recomputed, rtol=1e-9, atol=1e-9)
    assert np.all(load <= capacity * (1 + 1e-9))
    # max-min: every unmet demand crosses a saturated link on which no demand gets more than it
    for k in range(len(demand)):
        if rate[k] < demand[k] * (1 - 1e-9):
            bottleneck = False
            for l in set(link[dem == k].tolist()):
                if load[l] >= capacity[l] * (1 - 1e-9):
                    others = rate[dem[link == l]]
                    if np.all(others <= rate[k] * (1 + 1e-9) + 1e-12):
                        bottleneck = True
            assert bottleneck, f"demand {k} is cut without a bottleneck"
