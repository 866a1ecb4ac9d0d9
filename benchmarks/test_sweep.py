"""Sweep benchmark (group ``sweep``): N-1 metro failures on a Japan scenario, 2 Dask workers vs 1.

The scenario is the shipped ``japan`` topology (50 metros with nodes) with the shipped ``japan-1h``
recipe at sample rate 1e-4 (``japan-1h@0.0001``: the national evening peak, 1.2M rows; the shipped
rate 1e-3 makes 9M rows, tasks of ~8 s) in 5-minute bins: 51 tasks (every metro + the no-failure
reference), about 2 s each. Quick mode fails the first 9 metros only (10 tasks). (With the per-item
engine, quick mode covered only the first 20 minutes; the columnar engine made the tasks so short
that Dask's own overheads dominated that, so quick mode now replays the whole hour too.)

Figures (all in the same run). Both clusters are started and their workers warmed up before
timing, so the figures are the sweep itself, not process start-up; 1-worker and 2-worker sweeps
alternate for several rounds and the best of each is kept, so a burst of load from other jobs
hits both alike. The machine's own 2-vs-1 speed-up is measured the same way on a trivial
CPU-bound loop in 1 and 2 processes: on a shared machine it is the ceiling for the sweep.

=====================================================  ======  ============  =============
figure                                                  target  bound (full)  bound (quick)
=====================================================  ======  ============  =============
speed-up, 2 workers vs 1 worker (wall time)             >= 1.7  >= 1.2        >= 1.15
speed-up / the machine's 2-vs-1 speed-up (efficiency)   --      >= 0.8        >= 0.55
Dask overhead, 1 worker vs in-process loop of tasks     --      <= 1.3        <= 1.4
=====================================================  ======  ============  =============

The bounds are below the target because the machine is shared (2 cores, other jobs running):
the guard catches a sweep that stops parallelising; the printed figures are what to compare
with the target. Measured in quick mode with the columnar engine: speed-up 1.36x, efficiency 0.70,
overhead 1.11. A task is now ~0.5 s and uses more than one core by itself (the trace is read and
decoded on a second thread, polars decodes on its pool), so two workers on two cores cannot double
the speed of one any more. Before netsim's LocalCluster kept the allocator settings of
netsim._alloc, Dask's ``MALLOC_TRIM_THRESHOLD_=65536`` made every task ~30 % slower on a worker than
in process (overhead 1.30-1.66); the overhead bound catches that.

Run: ``PYTHONPATH=$PWD python -m pytest benchmarks/test_sweep.py -m benchmark --benchmark-enable -p no:cacheprovider -s``
"""

from __future__ import annotations

import shutil
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.benchmark


@pytest.fixture(scope="module")
def japan(tmp_path_factory, quick):
    """(scenario path, --failures argument) of the Japan N-1 metro sweep."""
    from netsim.scenario import load_scenario
    from netsim.sweep.grid import expand_failures
    from netsim.topology import load_topology

    d = tmp_path_factory.mktemp("japan")
    bin_s = 300
    duration = "1h"   # the trace has 1.2M rows an hour (sample rate 1e-4)
    (d / "japan.yaml").write_text(textwrap.dedent(f"""\
        name: japan-n1
        topology: japan
        traffic: {{trace: japan-1h@0.0001}}
        bin_s: {bin_s}
        duration: {duration}
        seed: 1
        designs: [baseline]
        """))
    if not quick:
        return str(d / "japan.yaml"), "n-1-metro"
    load_scenario(d / "japan.yaml")
    sets = expand_failures(load_topology("japan"), "n-1-metro")[1:10]
    (d / "failures.yaml").write_text("".join(f"- {{metro: {fs[0][1]}}}\n" for fs in sets))
    return str(d / "japan.yaml"), str(d / "failures.yaml")


def _cluster(n):
    from dask.distributed import Client

    from netsim.sweep.run import local_cluster

    cluster = local_cluster(n)   # the cluster netsim sweep starts
    client = Client(cluster)
    client.wait_for_workers(n, timeout=120)
    client.run(lambda: __import__("netsim.sweep.task") and __import__("netsim.sim.run"))  # warm imports
    return cluster, client


def _timed_sweep(scenario, failures, client) -> tuple[float, object]:
    from netsim.sweep import run_sweep

    out = Path(tempfile.mkdtemp(prefix="netsim-bench-sweep-"))
    try:
        t0 = time.perf_counter()
        res = run_sweep(scenario, out, failures=failures, client=client)
        return time.perf_counter() - t0, res
    finally:
        shutil.rmtree(out, ignore_errors=True)


def _machine_speedup(client1, client2, n: int = 3_000_000) -> float:
    """Wall time of 4 CPU-bound loops on 1 worker / on 2 workers (what the machine gives 2 processes now)."""
    from dask.distributed import wait

    def timed(client):
        t0 = time.perf_counter()
        # NOTE: a builtin over a range: a function defined in this module would be pickled by
        # reference, and the worker processes cannot import the benchmark module
        wait([client.submit(sum, range(10 * (n + i)), pure=False) for i in range(4)])
        return time.perf_counter() - t0

    return timed(client1) / timed(client2)


@pytest.mark.benchmark(group="sweep")
def test_n1_metro_sweep_speedup(benchmark, japan, quick, ratio_guard):
    from netsim.scenario import load_scenario
    from netsim.sweep.grid import expand_grid
    from netsim.sweep.task import run_task, task_payload

    scenario, failures = japan
    rounds = 2 if quick else 3
    # reference 1: the same tasks in a plain in-process loop (no Dask)
    sc = load_scenario(scenario)
    tasks = expand_grid(sc, failures=failures)
    run_task(task_payload(sc, tasks[0]))  # warm imports and caches like the workers'
    t0 = time.perf_counter()
    loop = [run_task(task_payload(sc, t)) for t in tasks]
    t_loop = time.perf_counter() - t0
    (c1, client1), (c2, client2) = _cluster(1), _cluster(2)
    one, two, machine = [], [], []
    try:
        _timed_sweep(scenario, failures, client2)  # every worker parses the topology once, as in a long sweep
        _timed_sweep(scenario, failures, client1)
        for r in range(rounds):  # alternate (1, 2), (2, 1), ... so load from other jobs hits both alike
            for n in ((1, 2) if r % 2 == 0 else (2, 1)):
                if n == 1:
                    t, res_one = _timed_sweep(scenario, failures, client1)
                    one.append(t)
                else:
                    # netsim: two Dask workers (pytest-benchmark records the last round)
                    res_two = benchmark.pedantic(lambda: _timed_sweep(scenario, failures, client2), rounds=1,
                                                 iterations=1) if r == rounds - 1 else _timed_sweep(scenario, failures, client2)
                    two.append(res_two[0])
                    res_two = res_two[1]
            machine.append(_machine_speedup(client1, client2))
    finally:
        for client, cluster in ((client1, c1), (client2, c2)):
            client.close()
            cluster.close()
    assert res_two.results.drop("order").equals(res_one.results.drop("order"))
    assert [r["summary"]["delivered_bytes"] for r in loop] == res_two.results["delivered_bytes"].to_list()
    t_one, t_two, m = min(one), min(two), max(machine)
    speedup, overhead = t_one / t_two, t_one / t_loop
    print(f"\nsweep {len(tasks)} tasks ({failures}), best of {rounds} rounds: in-process loop {t_loop:.1f} s, "
          f"1 worker {t_one:.1f} s (all: {', '.join(f'{x:.1f}' for x in one)}), 2 workers {t_two:.1f} s "
          f"(all: {', '.join(f'{x:.1f}' for x in two)}); speed-up 2 vs 1 workers {speedup:.2f}x (target >= 1.7); "
          f"machine 2-vs-1 speed-up on a CPU-bound loop {m:.2f}x (all: {', '.join(f'{x:.2f}' for x in machine)}); "
          f"efficiency {speedup / m:.2f}; Dask overhead 1 worker / loop {overhead:.2f}")
    ratio_guard("sweep N-1 metro: speed-up 2 workers vs 1 (x)", speedup, 1.15 if quick else 1.2, higher_is_better=True)
    ratio_guard("sweep N-1 metro: speed-up / machine 2-vs-1 speed-up", speedup / m, 0.55 if quick else 0.8,
                higher_is_better=True)
    ratio_guard("sweep N-1 metro: 1 Dask worker / in-process loop", overhead, 1.4 if quick else 1.3)
