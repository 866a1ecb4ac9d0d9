"""Shared benchmark helpers: quick mode and the same-run ratio guard.

* ``NETSIM_BENCH_QUICK=1`` (or ``--bench-quick``): small inputs and generous bounds, for CI (< 1 min).
* ``ratio_guard(name, value, bound, higher_is_better=False)``: records a netsim/reference figure
  measured in the same run, prints all of them at the end, and fails the test when the figure is
  on the wrong side of its bound (``--no-ratio-guard`` only reports). Ratios survive noisy
  machines; absolute times do not.
"""

from __future__ import annotations

import os
import time

import pytest

_RESULTS: list[tuple[str, float, float, bool, bool]] = []


def pytest_addoption(parser):
    group = parser.getgroup("netsim benchmarks")
    group.addoption("--bench-quick", action="store_true", default=False,
                    help="small inputs and generous bounds (same as NETSIM_BENCH_QUICK=1)")
    group.addoption("--no-ratio-guard", action="store_true", default=False,
                    help="report netsim/reference ratios without failing on their bounds")


@pytest.fixture(scope="session")
def quick(request) -> bool:
    """True in quick mode (CI): benchmarks shrink their inputs and loosen their bounds."""
    return request.config.getoption("--bench-quick") or os.environ.get("NETSIM_BENCH_QUICK", "") not in ("", "0")


@pytest.fixture
def ratio_guard(request):
    """``ratio_guard(name, value, bound, higher_is_better=False)``: record, and assert unless disabled."""
    enforce = not request.config.getoption("--no-ratio-guard")

    def check(name: str, value: float, bound: float, *, higher_is_better: bool = False) -> None:
        ok = value >= bound if higher_is_better else value <= bound
        _RESULTS.append((name, float(value), float(bound), higher_is_better, ok))
        if enforce:
            side = ">=" if higher_is_better else "<="
            assert ok, f"{name}: {value:.3g} is not {side} {bound:.3g} (measured in this run)"

    return check


def best_time(fn, *, repeat: int = 3) -> float:
    """Minimum wall time of ``repeat`` calls of ``fn()`` (seconds)."""
    out = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out = min(out, time.perf_counter() - t0)
    return out


@pytest.fixture
def timer():
    """The :func:`best_time` helper as a fixture (benchmark modules cannot import conftest)."""
    return best_time


def pytest_terminal_summary(terminalreporter):
    if not _RESULTS:
        return
    terminalreporter.section("netsim / reference figures (same run)")
    for name, value, bound, hib, ok in _RESULTS:
        side = ">=" if hib else "<="
        terminalreporter.write_line(f"{'ok  ' if ok else 'FAIL'} {name:<58} {value:10.3g}  (bound {side} {bound:g})")
