"""Group ``replay``: end-to-end replay (routing, caches, congestion, metrics) vs the bare read-and-aggregate floor.

The reference does the least any replay must do with the same trace: stream it bin by bin and sum
bytes per (src, dst) pair (polars). The ratio netsim / reference says how much the simulation
(cache resolution, assignment, congestion, metric tables) costs on top of reading the data.

* tochigi-1d (the shipped day, ~0.3M rows) through the ``regional_ix+shared_cache`` design;
* a generated Tochigi day of ~10M rows (1M in quick mode) through the same design;
* ``NETSIM_BENCH_BIG=1``: peak RSS of a subprocess replaying a ~50M-row trace (target <= 1 GiB).
Targets (issue 6): >= 3M trace rows/s end to end; peak RSS at 50M rows <= 1 GiB.
"""

from __future__ import annotations

import os
import resource
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


def _scenario(trace: str) -> Scenario:
    return Scenario.model_validate({"name": "bench", "topology": "tochigi", "traffic": {"trace": trace},
                                    "designs": DESIGN, "seed": 1})


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
    trace = "tochigi-1d" if which == "tochigi-1d" else str(big_trace)
    rows = _rows(trace)
    sc = _scenario(trace)
    t_ref = timer(lambda: _reference(trace), repeat=2)
    t_sim = benchmark.pedantic(lambda: run(sc), rounds=1, iterations=1)  # noqa: F841
    t_sim = benchmark.stats.stats.min
    rate = rows / t_sim
    print(f"\nreplay {which}: {rows:,} rows; netsim {rate / 1e6:.2f}M rows/s ({t_sim:.2f} s); "
          f"read+aggregate floor {rows / t_ref / 1e6:.2f}M rows/s ({t_ref:.2f} s); ratio {t_sim / t_ref:.1f}x")
    benchmark.extra_info.update(rows=rows, rows_per_s=rate, reference_s=t_ref, ratio=t_sim / t_ref)
    ratio_guard(f"replay {which}: netsim time / read+aggregate time", t_sim / t_ref, 200.0 if quick else 100.0)
    ratio_guard(f"replay {which}: rows/s", rate, 2e4 if quick else 1e5, higher_is_better=True)


@pytest.mark.skipif(os.environ.get("NETSIM_BENCH_BIG", "") in ("", "0"), reason="set NETSIM_BENCH_BIG=1 (50M rows, minutes)")
def test_replay_peak_rss_50m_rows(tmp_path, ratio_guard):
    from netsim.topology import load_topology
    from netsim.traffic.generators import mixed

    p = tmp_path / "huge.parquet"
    mixed(load_topology("tochigi"), duration_s=86400, seed=7, sample_rate=0.15).write(p)
    code = textwrap.dedent(f"""
        from netsim.scenario import Scenario
        from netsim.sim.run import run
        run(Scenario.model_validate({{"name": "b", "topology": "tochigi", "traffic": {{"trace": {str(p)!r}}},
                                      "designs": {DESIGN!r}}}))
    """)
    subprocess.run([sys.executable, "-c", code], check=True)
    rss_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"\npeak RSS replaying {_rows(p):,} rows: {rss_mib:.0f} MiB")
    ratio_guard("replay 50M rows: peak RSS MiB", rss_mib, 1024.0)
