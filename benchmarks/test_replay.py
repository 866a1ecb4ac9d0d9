"""Group ``replay``: end-to-end replay (routing, caches, congestion, metrics) vs the bare read-and-aggregate floor.

The reference does the least any replay must do with the same trace: stream it bin by bin and sum
bytes per (src, dst) pair (polars). The ratio netsim / reference says how much the simulation
(cache resolution, assignment, congestion, metric tables) costs on top of reading the data.

* tochigi-1d (the shipped day: 10M rows at its sample rate 0.03; in quick mode the same recipe at
  0.001, ``tochigi-1d@0.001``, ~0.3M rows in 288 small bins: the fixed cost per bin) through the
  ``regional_ix+shared_cache`` design;
* a generated Tochigi day of ~10M rows (0.9M in quick mode) through the same design;
* ``-m big``: peak RSS of subprocesses replaying ~5M- and ~50M-row traces.

Targets: full mode >= 5M rows/s and within 2.5x the floor on 10M rows, >= 0.8M rows/s on tochigi-1d;
peak RSS at 50M rows <= 1 GiB and about the RSS at 5M. The quick-mode (CI) bounds are twice the
ratios measured when the columnar engine landed (tochigi-1d 2.3-2.7x, generated 1.5-1.7x), so a 2x
regression fails CI; the per-item Python engine before it (19.8x / 13.2x) fails them too.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import polars as pl
import pytest

from netsim.scenario import Scenario
from netsim.sim.run import run
from netsim.traffic import bins

pytestmark = pytest.mark.benchmark(group="replay")

DESIGN = [{"name": "cache", "transforms": [
    {"regional_ix": {"ix": "tochigi-ix", "members": [65001, 65002, 65003, 65004]}},
    {"shared_cache": {"host": "isp-a-utsunomiya", "ix": "tochigi-ix", "capacity_tb": 10, "link_gbps": 400}}]}]


#: netsim / floor time; (which, quick) -> bound. Full mode: the issue's targets.
_RATIO_BOUND = {("tochigi-1d", True): 5.0, ("generated", True): 3.5, ("tochigi-1d", False): 5.0,
                ("generated", False): 2.5}
#: rows/s (absolute: machine-dependent, so loose in quick mode; the old engine's 0.16M / 0.45M fail them)
_RATE_BOUND = {("tochigi-1d", True): 0.3e6, ("generated", True): 0.6e6, ("tochigi-1d", False): 0.8e6,
               ("generated", False): 5e6}


def _scenario(trace: str) -> Scenario:
    # the replay only: no fast N-1 pass (analysis after the replay, like the forecast the scenario leaves out)
    return Scenario.model_validate({"name": "bench", "topology": "tochigi", "traffic": {"trace": trace},
                                    "designs": DESIGN, "seed": 1, "resilience": {"n1": False}})


def _reference(trace) -> int:
    n = 0
    for _, df in bins(trace, 300, validate=False):
        df.group_by(["src", "dst"]).agg(pl.col("bytes").sum())
        n += df.height
    return n


def _rows(trace) -> int:
    from netsim.traffic import read_trace

    return read_trace(trace, validate=False).select(pl.len()).collect().item()


@pytest.fixture(scope="module")
def big_trace(tmp_path_factory, quick):
    from netsim.topology import load_topology
    from netsim.traffic.generators import mixed

    rate = 0.003 if quick else 0.03  # ~1M / ~10M rows for one Tochigi day
    p = tmp_path_factory.mktemp("replay") / "big.parquet"
    mixed(load_topology("tochigi"), duration_s=86400, seed=7, sample_rate=rate).write(p)
    return p


@pytest.mark.parametrize("which", ["tochigi-1d", "generated"])
def test_replay_rows_per_second(benchmark, which, big_trace, ratio_guard, timer, quick):
    trace = ("tochigi-1d@0.001" if quick else "tochigi-1d") if which == "tochigi-1d" else str(big_trace)
    rows = _rows(trace)
    sc = _scenario(trace)
    t_ref = timer(lambda: _reference(trace), repeat=2)
    t_sim = benchmark.pedantic(lambda: run(sc), rounds=1, iterations=1)  # noqa: F841
    t_sim = benchmark.stats.stats.min
    rate = rows / t_sim
    print(f"\nreplay {which}: {rows:,} rows; netsim {rate / 1e6:.2f}M rows/s ({t_sim:.2f} s); "
          f"read+aggregate floor {rows / t_ref / 1e6:.2f}M rows/s ({t_ref:.2f} s); ratio {t_sim / t_ref:.1f}x")
    benchmark.extra_info.update(rows=rows, rows_per_s=rate, reference_s=t_ref, ratio=t_sim / t_ref)
    ratio_guard(f"replay {which}: netsim time / read+aggregate time", t_sim / t_ref, _RATIO_BOUND[which, quick])
    ratio_guard(f"replay {which}: rows/s", rate, _RATE_BOUND[which, quick], higher_is_better=True)


@pytest.mark.big   # opt-in (50M rows, minutes): pytest benchmarks -m big --benchmark-enable
def test_replay_peak_rss_50m_rows(tmp_path, ratio_guard):
    """Peak RSS of a replay does not grow with the trace: ~5M and ~50M rows of one Tochigi day."""
    from netsim.topology import load_topology
    from netsim.traffic.generators import mixed

    rss = {}
    for rate in (0.015, 0.15):
        p = tmp_path / f"day-{rate}.parquet"
        mixed(load_topology("tochigi"), duration_s=86400, seed=7, sample_rate=rate).write(p)
        code = textwrap.dedent(f"""
            import resource
            from netsim.scenario import Scenario
            from netsim.sim.run import run
            run(Scenario.model_validate({{"name": "b", "topology": "tochigi", "traffic": {{"trace": {str(p)!r}}},
                                          "designs": {DESIGN!r}}}))
            # NOTE: VmHWM is this process's own peak (a new address space at exec); ru_maxrss is kept across
            # execve, so it reported the parent pytest's RSS at fork (1.1 GiB after generating 52M rows)
            try:
                peak_kib = int(next(l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM:")))
            except (OSError, StopIteration):
                peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            print(peak_kib)
        """)
        out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
        rss[_rows(p)] = int(out.split()[-1]) / 1024
        p.unlink()
    (small, rss_small), (big, rss_big) = sorted(rss.items())
    print(f"\npeak RSS replaying {small:,} rows: {rss_small:.0f} MiB; {big:,} rows: {rss_big:.0f} MiB")
    ratio_guard("replay 50M rows: peak RSS MiB", rss_big, 1024.0)
    ratio_guard("replay peak RSS 50M rows / 5M rows", rss_big / rss_small, 1.5)
