"""Sweeps on a real Dask LocalCluster (2 worker processes): same numbers as sequential runs, resume
without recomputing, and a worker killed mid-task costs nothing but time."""

from __future__ import annotations

import functools
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

import cloudpickle
import polars as pl
import pytest

from netsim.scenario import load_scenario
from netsim.sim.run import run
from netsim.sweep import run_sweep
from netsim.sweep.task import run_task, task_scenario

# the task wrappers below live in this test module, which worker processes cannot import by name
cloudpickle.register_pickle_by_value(sys.modules[__name__])


def counted_task(payload, *, marker_dir, delay_s=0.0):
    """run_task, leaving a marker per start (and its worker pid) so tests can count executions."""
    import os as _os
    import time as _time
    import uuid as _uuid

    from netsim.sweep.task import run_task as _run_task

    key = payload["params"]["task"]
    Path(marker_dir, f"{key}.{_os.getpid()}.{_uuid.uuid4().hex}.start").write_text(str(_os.getpid()))
    _time.sleep(delay_s)
    return _run_task(payload)


def starts(marker_dir) -> dict[str, int]:
    out: dict[str, int] = {}
    for p in Path(marker_dir).glob("*.start"):
        k = p.name.split(".")[0]
        out[k] = out.get(k, 0) + 1
    return out


def test_results_equal_sequential_runs(tri, tmp_path, cluster):
    # through --scheduler's path: a client of an existing cluster, by address
    res = run_sweep(tri, tmp_path / "out", failures="n-1-link", growth=[1.0, 1.5], scheduler=cluster.scheduler_address)
    sc = load_scenario(tri)
    assert len(res.tasks) == 5 * 2 and len(res.ran) == 10 and res.results.height == 10
    for t in res.tasks:
        seq = run(task_scenario(sc, design=t.design, failure=t.failure, growth=t.growth, seed=t.seed))
        row = res.results.filter(pl.col("task") == t.key).row(0, named=True)
        for k in ("offered_bytes", "delivered_bytes", "dropped_bytes", "unreachable_bytes", "availability",
                  "backbone_peak_bps", "peak_utilisation"):
            assert row[k] == seq.summary[0][k], (t.label, k)
        # each link's worst bin: the sequential run's maximum demand over the bins
        peaks = res.link_peaks.filter(pl.col("task") == t.key)
        seq_links = seq.links.with_columns(demand=pl.col("load_bytes") + pl.col("dropped_bytes"))
        expect = seq_links.group_by("src", "dst").agg(pl.col("demand").max() * 8 / 300, pl.col("utilisation").max())
        got = peaks.select("src", "dst", "demand_bps", "utilisation").sort("src", "dst")
        assert got.rows() == expect.sort("src", "dst").rows()
    # the same failure written by hand in a scenario file gives the same numbers
    text = Path(tri).read_text() + "failures:\n  schedule:\n    - {at: 0, duration: 1d, link: [t1, a1]}\n"
    Path(tri).with_name("hand.yaml").write_text(text)
    hand = run(load_scenario(Path(tri).with_name("hand.yaml")))
    row = res.results.filter((pl.col("failure") == "link a1<->t1") & (pl.col("growth") == 1.0)).row(0, named=True)
    assert row["delivered_bytes"] == hand.summary[0]["delivered_bytes"]
    assert row["peak_demand_utilisation"] == pytest.approx(0.96)  # both PoPs' 48% over the surviving uplink
    w = res.worst_links.filter((pl.col("growth") == 1.0) & (pl.col("src") == "t1") & (pl.col("dst") == "a2")).row(0, named=True)
    assert w["failure"] == "link a1<->t1" and w["demand_utilisation"] == pytest.approx(0.96)
    assert w["no_failure_demand_utilisation"] == pytest.approx(0.48)
    # the on-disk combined table is the returned one
    assert pl.read_parquet(tmp_path / "out" / "results.parquet").equals(res.results)


def test_resume_does_not_recompute_finished_tasks(tri, tmp_path, client):
    out, marks = tmp_path / "out", tmp_path / "marks"
    marks.mkdir()
    fn = functools.partial(counted_task, marker_dir=str(marks))

    class Interrupt(Exception):
        pass

    def stop_after_two(done, total):
        if done >= 2:
            raise Interrupt

    with pytest.raises(Interrupt):
        run_sweep(tri, out, failures="n-1-metro", client=client, task_fn=fn, on_progress=stop_after_two)
    first = {p.name: p.stat().st_mtime_ns for p in (out / "tasks").glob("*.json")}
    assert len(first) >= 2
    assert not list((out / "tasks").glob(".*tmp"))  # nothing half-written
    time.sleep(0.05)
    # The resumed sweep counts its starts in a directory of its own: Dask's cancel is fire-and-forget,
    # so a task of the interrupted sweep may still start (and leave a marker) after it returned. That
    # raced with clearing one shared directory here (a full-suite failure that passed alone).
    marks2 = tmp_path / "marks2"
    marks2.mkdir()
    fn2 = functools.partial(counted_task, marker_dir=str(marks2))
    res = run_sweep(tri, out, failures="n-1-metro", client=client, task_fn=fn2)
    assert len(res.tasks) == 4 and res.results.height == 4
    assert sorted(res.skipped) == sorted(n.removesuffix(".json") for n in first)
    assert sorted(res.ran) == sorted(t.key for t in res.tasks if f"{t.key}.json" not in first)
    assert starts(marks2) == {k: 1 for k in res.ran}  # only the missing tasks ran, once each
    assert {n: (out / "tasks" / n).stat().st_mtime_ns for n in first} == first  # finished files untouched
    # a third run finds everything
    again = run_sweep(tri, out, failures="n-1-metro", client=client, task_fn=fn2)
    assert again.ran == [] and len(again.skipped) == 4 and again.results.equals(res.results)


def test_killed_worker_task_is_retried_and_every_task_lands_once(tri, tmp_path, client):
    out, marks = tmp_path / "out", tmp_path / "marks"
    marks.mkdir()
    fn = functools.partial(counted_task, marker_dir=str(marks), delay_s=1.5)
    killed: list[int] = []

    def killer():
        deadline = time.time() + 60
        while time.time() < deadline and not killed:
            found = list(marks.glob("*.start"))
            if found:
                pid = int(found[0].read_text())
                os.kill(pid, signal.SIGKILL)  # the worker process itself, mid-task (during the delay)
                killed.append(pid)
            time.sleep(0.05)

    th = threading.Thread(target=killer, daemon=True)
    th.start()
    res = run_sweep(tri, out, failures="n-1-metro", client=client, task_fn=fn)
    th.join(5)
    assert killed, "no task started"
    keys = [t.key for t in res.tasks]
    assert sorted(res.ran) == sorted(keys) and len(res.ran) == len(set(res.ran))
    assert sorted(res.results["task"].to_list()) == sorted(keys)  # every task exactly once
    assert sorted(p.name for p in (out / "tasks").iterdir()) == sorted(f"{k}.json" for k in keys)
    n = starts(marks)
    assert sum(n.values()) > len(keys)  # the killed task was started again
    assert max(n.values()) == 2
    # the retried task's numbers are the sequential ones
    sc = load_scenario(tri)
    again = next(t for t in res.tasks if n.get(t.key) == 2)
    rec = json.loads((out / "tasks" / f"{again.key}.json").read_text())
    seq = run(task_scenario(sc, design=again.design, failure=again.failure, growth=again.growth, seed=again.seed))
    assert rec["summary"]["delivered_bytes"] == seq.summary[0]["delivered_bytes"]
    assert rec["meta"]["pid"] not in killed


def test_run_task_is_plain_data(tri):
    from netsim.sweep.grid import expand_grid
    from netsim.sweep.task import task_payload

    sc = load_scenario(tri)
    t = expand_grid(sc, failures="n-1-node")[1]
    payload = json.loads(json.dumps(task_payload(sc, t)))  # survives JSON: no live objects
    rec = run_task(payload)
    assert json.loads(json.dumps(rec))["params"]["failure"] == "node a1"
    r1 = {r["region"]: r for r in rec["regions"]}["r1"]
    # a1's clients are cut off: 0 % of all of them, and none of them is a survivor (their own PoP is down)
    assert r1["availability_all"] == 0.0 and r1["availability"] is None and r1["survivor_offered_bytes"] == 0.0
