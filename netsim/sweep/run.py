"""Run a sweep's tasks on Dask distributed, write each result as it arrives, combine, and find the worst cases.

Output directory::

    OUTDIR/sweep.json               the grid: scenario, options, every task's key and parameters
    OUTDIR/tasks/<key>.json         one finished task (written to a temp name, then renamed)
    OUTDIR/results.parquet          one row per task: parameters + summary metrics
    OUTDIR/link_peaks.parquet       one row per task and link: the link's worst bin in that task
    OUTDIR/regions.parquet          one row per task and region: availability of its survivors (subscribers
                                    whose own PoP is up), availability_all (all its subscribers)
    OUTDIR/worst_links.parquet      per design, growth and link: the worst failure (see netsim.sweep.worst)
    OUTDIR/worst_regions.parquet    per design, growth and region: the worst failure
    OUTDIR/sweep.html               the worst-case tables as a small self-contained report section

A task's file exists only once its result is complete, so re-running the same sweep submits only
the tasks without a file: an interrupted sweep resumes where it stopped. The client (not the
workers) writes the files, so workers need no access to OUTDIR; they need the scenario's topology
and trace files at the same paths (a shared file system or the same checkout).

A script that calls :func:`run_sweep` without ``client``/``scheduler`` starts worker processes
(``spawn``): guard it with ``if __name__ == "__main__":`` as multiprocessing requires.

Tasks are per design (not all designs of a scenario in one task): more, smaller tasks spread
better over workers, and a design added to the scenario later reuses the others' results.
"""

from __future__ import annotations

import json
import os
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import polars as pl

from netsim.errors import InputError
from netsim.scenario import Scenario, load_scenario
from netsim.sweep.grid import Task, expand_grid
from netsim.sweep.task import SUMMARY_FIELDS, run_task, task_payload
from netsim.sweep.worst import worst_links, worst_regions

__all__ = ["SweepResult", "run_sweep", "combine", "write_atomic"]


@dataclass
class SweepResult:
    """A finished sweep: the tasks, the combined tables, and how many tasks ran now vs. were found on disk."""

    out_dir: Path
    tasks: list[Task]
    results: pl.DataFrame
    link_peaks: pl.DataFrame
    regions: pl.DataFrame
    worst_links: pl.DataFrame
    worst_regions: pl.DataFrame
    ran: list[str] = field(default_factory=list)  # keys computed in this call
    skipped: list[str] = field(default_factory=list)  # keys whose file already existed


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a unique temp name beside ``path``, then rename it over ``path``.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "x.json"
    >>> write_atomic(p, "{}")
    >>> p.read_text(), sorted(q.name for q in p.parent.iterdir())
    ('{}', ['x.json'])
    """
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _write_parquet(frame: pl.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    frame.write_parquet(tmp, statistics=False)
    os.replace(tmp, path)


_PARAM_SCHEMA = {"task": pl.Utf8, "order": pl.Int64, "design": pl.Utf8, "failure": pl.Utf8, "failed": pl.Int64,
                 "growth": pl.Float64, "seed": pl.Int64}
_LINK_SCHEMA = {"src": pl.Utf8, "dst": pl.Utf8, "backbone": pl.Boolean, "capacity_gbps": pl.Float64, "bin": pl.Int64,
                "ts_s": pl.Float64, "demand_utilisation": pl.Float64, "utilisation": pl.Float64,
                "demand_bps": pl.Float64, "bps": pl.Float64, "dropped_bytes": pl.Float64,
                "network_offered_bps": pl.Float64}
_REGION_SCHEMA = {"region": pl.Utf8, "offered_bytes": pl.Float64, "delivered_bytes": pl.Float64,
                  "unreachable_bytes": pl.Float64, "survivor_offered_bytes": pl.Float64,
                  "survivor_delivered_bytes": pl.Float64, "availability": pl.Float64, "availability_all": pl.Float64}


def combine(records: list[dict]) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(results, link_peaks, regions) frames from task records in grid order, parameters as columns.

    Examples
    --------
    >>> rec = {"params": {"task": "k", "design": "d", "failure": "none", "failed": 0, "growth": 1.0, "seed": 0},
    ...        "summary": {"availability": 1.0}, "links": [], "regions": [{"region": "r", "availability": 1.0}]}
    >>> res, links, regions = combine([rec])
    >>> res.select("task", "order", "availability").rows(), links.height, regions["region"].to_list()
    ([('k', 0, 1.0)], 0, ['r'])
    """
    rows, link_rows, region_rows = [], [], []
    for i, rec in enumerate(records):
        p = {**rec["params"], "order": i}
        p = {k: p[k] for k in _PARAM_SCHEMA}
        peak = max((r["demand_utilisation"] for r in rec["links"] if r.get("demand_utilisation") is not None), default=None)
        rows.append({**p, **{k: rec["summary"].get(k) for k in SUMMARY_FIELDS}, "peak_demand_utilisation": peak})
        link_rows += [{**p, **{k: r.get(k) for k in _LINK_SCHEMA}} for r in rec["links"]]
        region_rows += [{**p, **{k: r.get(k) for k in _REGION_SCHEMA}} for r in rec["regions"]]
    res_schema = {**_PARAM_SCHEMA, **{k: pl.Float64 for k in SUMMARY_FIELDS}, "peak_demand_utilisation": pl.Float64}
    return (pl.DataFrame(rows, schema=res_schema, orient="row") if rows else pl.DataFrame(schema=res_schema),
            pl.DataFrame(link_rows, schema={**_PARAM_SCHEMA, **_LINK_SCHEMA}),
            pl.DataFrame(region_rows, schema={**_PARAM_SCHEMA, **_REGION_SCHEMA}))


def _read_record(path: Path, *, warn: bool = False) -> dict | None:
    """A finished task's record, or None when it has no usable file (the task is then run again; with ``warn``, a
    file that is there but damaged is said: its record went into the combined tables and broke them)."""
    if not path.is_file():
        return None
    try:
        rec = json.loads(path.read_text(encoding="utf-8"))
        problem = _record_problem(rec)
    except (OSError, ValueError, RecursionError) as e:
        problem = f"not readable JSON ({' '.join(str(e).split())[:80]})"
    if problem is None:
        return rec
    if warn:
        warnings.warn(f"{path}: damaged task file ({problem}); the task is run again", SweepWarning, stacklevel=2)
    return None


class SweepWarning(UserWarning):
    """Something a sweep found on disk and worked around (a damaged task file, run again)."""


_TYPES = {pl.Utf8: (str,), pl.Float64: (int, float), pl.Int64: (int,), pl.Boolean: (bool,)}


def _record_problem(rec) -> str | None:
    """What is wrong with a task record's shape (None: nothing): the fields :func:`combine` reads, with their types."""
    if not isinstance(rec, dict):
        return f"a JSON {type(rec).__name__}, expected an object"
    if not isinstance(rec.get("summary"), dict):
        return "no summary object"
    for k in SUMMARY_FIELDS:
        v = rec["summary"].get(k)
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
            return f"summary.{k} is {v!r:.40}, expected a number or null"
    for key, schema in (("links", _LINK_SCHEMA), ("regions", _REGION_SCHEMA)):
        rows = rec.get(key)
        if not isinstance(rows, list):
            return f"no {key} list"
        for i, r in enumerate(rows):
            if not isinstance(r, dict):
                return f"{key}[{i}] is not an object"
            for col, dtype in schema.items():
                v = r.get(col)
                ok = _TYPES[dtype]
                if v is not None and (not isinstance(v, ok) or (isinstance(v, bool) and bool not in ok)):
                    return f"{key}[{i}].{col} is {v!r:.40}"
    return None


def _make_client(*, workers: int | None, scheduler: str | None):
    """(client, cluster-or-None): a client of an existing scheduler, or of a new LocalCluster of processes."""
    from dask.distributed import Client

    if scheduler:
        try:
            return Client(scheduler, timeout="10s"), None
        except (OSError, TimeoutError, ValueError) as e:
            raise InputError(f"cannot connect to the Dask scheduler {scheduler!r}: {e}", where="--scheduler") from None
    n = workers or os.cpu_count() or 1
    return Client(cluster := local_cluster(n)), cluster


def local_cluster(n: int):
    """A LocalCluster of ``n`` single-threaded worker processes whose allocator keeps the replay's large
    per-bin arrays in the heap (netsim._alloc; Dask's default ``MALLOC_TRIM_THRESHOLD_=65536`` made a
    Japan task 30 % slower on a worker than in process)."""
    import dask
    from dask.distributed import LocalCluster

    from netsim._alloc import ALLOCATOR_ENV

    import signal
    import threading

    env = {**dask.config.get("distributed.nanny.pre-spawn-environ", default={}), **ALLOCATOR_ENV}
    # NOTE: the worker processes ignore SIGINT and SIGTERM (inherited while they are spawned): a Ctrl-C, or a
    # signal sent to the process group by a script or a job scheduler, reaches them too, and a worker killed by it
    # printed tracebacks; the sweep process alone handles it, cancels what is left and closes them (gracefully,
    # through the nanny; a worker that does not stop is killed)
    sigs = (signal.SIGINT, signal.SIGTERM)
    old = {s: signal.signal(s, signal.SIG_IGN) for s in sigs} if threading.current_thread() is threading.main_thread() else {}
    try:
        with dask.config.set({"distributed.nanny.pre-spawn-environ": env}):
            return LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                                scheduler_port=0, silence_logs=40)
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def run_sweep(scenario: Scenario | str | Path, out_dir: str | Path, *, failures: str = "none",
              growth: list[float] | None = None, seeds: int = 1, workers: int | None = None,
              scheduler: str | None = None, client=None, retries: int = 1,
              task_fn: Callable[[dict], dict] | None = None,
              on_progress: Callable[[int, int], None] | None = None) -> SweepResult:
    """Run every task of a sweep that has no result file yet, on Dask, then combine and analyse all of them.

    Parameters
    ----------
    scenario : a Scenario, a scenario file or a shipped scenario name
    out_dir : the output directory (created; tasks found in ``out_dir/tasks`` are not recomputed)
    failures, growth, seeds : the grid (see :func:`netsim.sweep.grid.expand_grid`)
    workers : processes of the LocalCluster started when neither ``scheduler`` nor ``client`` is given
        (default: the number of CPUs); one thread each (the engine is CPU-bound Python)
    scheduler : address of an existing Dask scheduler (``tcp://host:8786``)
    client : an existing ``dask.distributed.Client`` (not closed here)
    retries : extra attempts of a task that raised (a task whose worker died is resubmitted by the
        scheduler regardless, up to ``distributed.scheduler.allowed-failures`` times)
    task_fn : the function run per task (default :func:`netsim.sweep.task.run_task`; tests wrap it)
    on_progress : called with (tasks done, tasks in the grid) after each task is written

    Returns
    -------
    SweepResult
        Also written to ``out_dir`` (see the module docstring). A task that raises stops the sweep:
        the remaining tasks are cancelled and the error is raised; finished tasks stay on disk.
    """
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    out = Path(out_dir)
    tasks = expand_grid(sc, failures=failures, growth=growth, seeds=seeds)
    tdir = out / "tasks"
    tdir.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "sweep.json", json.dumps({
        "scenario": sc.name, "source": sc.source, "failures": failures, "growth": growth or [1.0], "seeds": seeds,
        "tasks": [t.params() for t in tasks]}, indent=1, sort_keys=True) + "\n")
    todo, skipped = [], []
    for t in tasks:
        (skipped if _read_record(tdir / f"{t.key}.json", warn=True) else todo).append(t)
    ran: list[str] = []
    own = None
    made = bool(todo) and client is None
    if made:  # connect (or start the cluster) before the first progress report: a bad address is one error line
        client, own = _make_client(workers=workers, scheduler=scheduler)
    try:
        if on_progress is not None:
            on_progress(len(skipped), len(tasks))
        if todo:
            ran = _execute(sc, todo, tdir, client, done_before=len(skipped), total=len(tasks), retries=retries,
                           task_fn=task_fn or run_task, on_progress=on_progress)
    finally:
        if made:
            client.close(timeout=10)
        if own is not None:
            own.close(timeout=10)
    records = []
    for t in tasks:
        rec = _read_record(tdir / f"{t.key}.json")
        if rec is None:  # pragma: no cover - only if a file vanished under us
            raise InputError(f"task {t.key} ({t.design.name}, {t.label}) has no result file", source=str(tdir))
        rec["params"] = t.params()  # the grid's own parameters (the file's are the same by construction)
        records.append(rec)
    results, link_peaks, regions = combine(records)
    wl, wr = worst_links(link_peaks), worst_regions(regions)
    for name, frame in (("results", results), ("link_peaks", link_peaks), ("regions", regions),
                        ("worst_links", wl), ("worst_regions", wr)):
        _write_parquet(frame, out / f"{name}.parquet")
    from netsim.sweep.report import render_html

    write_atomic(out / "sweep.html", render_html(scenario=sc.name, failures=failures, results=results,
                                                 worst_links=wl, worst_regions=wr))
    return SweepResult(out_dir=out, tasks=tasks, results=results, link_peaks=link_peaks, regions=regions,
                       worst_links=wl, worst_regions=wr, ran=ran, skipped=[t.key for t in skipped])


def _execute(sc, todo: list[Task], tdir: Path, client, *, done_before: int, total: int, retries: int, task_fn,
             on_progress) -> list[str]:
    from dask.distributed import as_completed

    import uuid

    ran: list[str] = []
    futures = []
    # NOTE: a Dask key is unique per submission: resubmitting the key of a task cancelled a moment
    # ago (an interrupted sweep resumed at once) can wait forever on the scheduler's release.
    attempt = uuid.uuid4().hex[:8]
    try:
        by_key = {}
        for t in todo:
            fut = client.submit(task_fn, task_payload(sc, t), key=f"netsim-sweep-{t.key}-{attempt}", pure=False,
                                retries=retries)
            by_key[fut.key] = t
            futures.append(fut)
        done = done_before
        for fut in as_completed(futures):
            t = by_key[fut.key]
            rec = fut.result()  # re-raises the task's exception
            write_atomic(tdir / f"{t.key}.json", json.dumps(rec, sort_keys=True) + "\n")
            ran.append(t.key)
            fut.release()
            done += 1
            if on_progress is not None:
                on_progress(done, total)
    finally:
        pending = [f for f in futures if not f.done()]
        if pending:
            client.cancel(pending)
    return ran
