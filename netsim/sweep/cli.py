"""``netsim sweep`` (what-if grids on Dask) and ``netsim check`` (the CI gate on worst-case bounds)."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from typing import Optional

import polars as pl
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from netsim.errors import InputError

__all__ = ["sweep_command", "check_command"]

_FAILURES_HELP = ("n-1-link (every duplex link), n-1-node (every non-origin node), n-1-metro (every metro), "
                  "n-2-metro:K (K sampled pairs of metros), none, or a YAML file listing failure sets.")


def _pct(v):
    return "-" if v is None else f"{100 * v:.1f}%"


_DESIGN_HELP = "Only this design (repeat for several; default: every design of the scenario)."


def _only_designs(scenario, names: list[str] | None):
    """The scenario (loaded) with only the named designs, in the scenario's order; an unknown name is an error
    that lists the designs there are."""
    from netsim.scenario import Scenario, load_scenario

    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    if not names:
        return sc
    have = [d.name for d in sc.designs]
    unknown = [n for n in names if n not in have]
    if unknown:
        raise InputError(f"no design {unknown[0]!r} in the scenario (it has {', '.join(have)})", source=sc.source,
                         where="--design")
    return sc.model_copy(update={"designs": [d for d in sc.designs if d.name in set(names)]})


def _run(scenario, output, *, failures, growth, seeds, workers, scheduler, designs=None):
    from netsim.sweep.grid import parse_growth
    from netsim.sweep.run import run_sweep

    if workers is not None and workers < 1:
        raise InputError(f"expected --workers >= 1, found {workers}", where="--workers")
    if workers is not None and scheduler:
        raise InputError("give either --workers (a local cluster) or --scheduler (an existing one), not both",
                         where="--scheduler")
    factors = parse_growth(growth)
    console = Console(stderr=True)
    # the bar starts with the first report (after the grid is expanded and checked), so bad input
    # prints its one-line error alone
    progress = Progress(TextColumn("sweep"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        TimeRemainingColumn(), console=console, transient=False)
    bar = None

    def on_progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            progress.start()
            bar = progress.add_task("tasks", total=total)
        progress.update(bar, completed=done, total=total)

    import signal
    import threading

    def on_term(signum, frame):   # SIGTERM (a job scheduler, `kill`): stop as Ctrl-C does, tasks done kept
        raise KeyboardInterrupt

    old_term = signal.signal(signal.SIGTERM, on_term) if threading.current_thread() is threading.main_thread() else None
    try:
        res = run_sweep(_only_designs(scenario, designs), output, failures=failures, growth=factors, seeds=seeds, workers=workers,
                        scheduler=scheduler, on_progress=on_progress)
    except KeyboardInterrupt:
        if bar is not None:
            progress.stop()
            bar = None
        typer.echo(f"interrupted: the tasks already done are kept in {output}/tasks; run the same command to resume",
                   err=True)
        raise typer.Exit(130) from None
    finally:
        if bar is not None:
            progress.stop()
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)
    console.print(f"{len(res.tasks)} tasks: {len(res.ran)} run now, {len(res.skipped)} already done")
    return res


def print_worst(res, *, top: int = 10, console: Console | None = None) -> None:
    """The top rows of the worst-case link and region tables."""
    # a wide table stays readable in CI logs and pipes (rich assumes 80 columns there)
    console = console or Console(width=None if sys.stdout.isatty() else 180)
    t = Table(title=f"worst-case links (top {min(top, res.worst_links.height)} of {res.worst_links.height})")
    for c in ("design", "growth", "link", "worst failure", "demand util.", "no failure", "demand Gbps", "capacity Gbps"):
        t.add_column(c, justify="right" if c not in ("design", "link", "worst failure") else "left")
    for r in res.worst_links.head(top).iter_rows(named=True):
        t.add_row(r["design"], f"{r['growth']:g}", f"{r['src']} -> {r['dst']}", r["failure"], _pct(r["demand_utilisation"]),
                  _pct(r["no_failure_demand_utilisation"]), f"{(r['demand_bps'] or 0) / 1e9:,.1f}",
                  f"{r['capacity_gbps'] or 0:,.0f}")
    console.print(t)
    t = Table(title=f"worst-case availability by region, of its survivors (top {min(top, res.worst_regions.height)} of {res.worst_regions.height})")
    for c in ("design", "growth", "region", "worst failure", "availability", "no failure"):
        t.add_column(c, justify="right" if c in ("growth", "availability", "no failure") else "left")
    for r in res.worst_regions.head(top).iter_rows(named=True):
        t.add_row(r["design"], f"{r['growth']:g}", r["region"], r["failure"], _pct(r["availability"]),
                  _pct(r["no_failure_availability"]))
    console.print(t)


def sweep_command(
    scenario: str = typer.Argument(..., help="A scenario file or a shipped name (tochigi)."),
    output: Path = typer.Option(..., "-o", "--output", help="Output directory (re-run to resume: finished tasks are kept)."),
    failures: str = typer.Option("none", "--failures", "-f", help=_FAILURES_HELP),
    growth: str = typer.Option("1.0", "--growth", help="Comma-separated traffic growth factors, e.g. 1.0,1.2,1.5."),
    seeds: int = typer.Option(1, "--seeds", help="Seeds per task: the scenario's seed, seed+1, ..."),
    workers: Optional[int] = typer.Option(None, "--workers", "-w", help="Local Dask worker processes (default: CPUs)."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Address of an existing Dask scheduler (tcp://host:8786)."),
    top: int = typer.Option(10, "--top", help="Rows of each worst-case table to print."),
    design: Optional[list[str]] = typer.Option(None, "--design", "-d", help=_DESIGN_HELP),
) -> None:
    """Run a what-if grid (designs x failure sets x growth x seeds) on Dask; write per-task results, the
    combined table and worst-case tables (worst_links / worst_regions .parquet, sweep.html)."""
    res = _run(scenario, output, failures=failures, growth=growth, seeds=seeds, workers=workers, scheduler=scheduler,
               designs=design)
    print_worst(res, top=top)
    typer.echo(f"wrote {output}/ (results, link_peaks, regions, worst_links, worst_regions .parquet; sweep.html; tasks/)")


def _violation_lines(frame: pl.DataFrame, *, what: str, show: int, fmt) -> list[str]:
    rows = frame.head(show).iter_rows(named=True) if show else frame.iter_rows(named=True)
    lines = [fmt(r) for r in rows]
    if show and frame.height > show:
        lines.append(f"... and {frame.height - show} more {what} rows (--show 0 prints all)")
    return lines


def check_command(
    scenario: str = typer.Argument(..., help="A scenario file or a shipped name (tochigi)."),
    failures: str = typer.Option("n-1-metro", "--failures", "-f", help=_FAILURES_HELP),
    max_util: Optional[float] = typer.Option(None, "--max-util", help="Bound on every link's demand utilisation (0.8 = 80%)."),
    min_availability: Optional[float] = typer.Option(None, "--min-availability", help="Bound on every region's availability (0.99)."),
    growth: str = typer.Option("1.0", "--growth", help="Comma-separated traffic growth factors."),
    seeds: int = typer.Option(1, "--seeds", help="Seeds per task."),
    workers: Optional[int] = typer.Option(None, "--workers", "-w", help="Local Dask worker processes (default: CPUs)."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Address of an existing Dask scheduler."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Keep (and resume from) the sweep here; default: a temporary directory."),
    show: int = typer.Option(50, "--show", help="Violations to print per kind (0 = all)."),
    availability: str = typer.Option("survivors", "--availability",
        help="survivors: a region's subscribers whose own PoP is up (a dark metro's own cannot be served by any "
             "design); all: every subscriber of the region."),
    design: Optional[list[str]] = typer.Option(None, "--design", "-d", help=_DESIGN_HELP),
) -> None:
    """CI gate: sweep the failure sets and exit 1, printing each violating (failure, link/region, value),
    when a link's demand utilisation exceeds --max-util or a region's availability is below
    --min-availability; exit 0 when every bound holds."""
    from netsim.sweep.worst import link_violations, region_violations

    if max_util is None and min_availability is None:
        raise InputError("give at least one bound: --max-util and/or --min-availability", where="check")
    if max_util is not None and not max_util > 0:
        raise InputError(f"expected --max-util > 0, found {max_util}", where="--max-util")
    if min_availability is not None and not 0 <= min_availability <= 1:
        raise InputError(f"expected --min-availability in [0, 1], found {min_availability}", where="--min-availability")
    if show < 0:
        raise InputError(f"expected --show >= 0, found {show}", where="--show")
    if availability not in ("survivors", "all"):
        raise InputError(f"expected --availability survivors or all, found {availability!r}", where="--availability")
    tmp = None
    if output is None:
        tmp = Path(tempfile.mkdtemp(prefix="netsim-check-"))
    try:
        res = _run(scenario, output or tmp, failures=failures, growth=growth, seeds=seeds, workers=workers,
                   scheduler=scheduler, designs=design)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    lines: list[str] = []
    if max_util is not None:
        v = link_violations(res.link_peaks, max_util)
        lines += _violation_lines(v, what="link", show=show, fmt=lambda r: (
            f"VIOLATION link {r['src']} -> {r['dst']}  failure: {r['failure']}  design: {r['design']}  "
            f"growth: {r['growth']:g}  seed: {r['seed']}  demand utilisation {_pct(r['demand_utilisation'])} > {_pct(max_util)}"))
    if min_availability is not None:
        regions = res.regions if availability == "survivors" else \
            res.regions.with_columns(pl.col("availability_all").alias("availability"))
        v = region_violations(regions, min_availability)
        lines += _violation_lines(v, what="region", show=show, fmt=lambda r: (
            f"VIOLATION region {r['region']}  failure: {r['failure']}  design: {r['design']}  "
            f"growth: {r['growth']:g}  seed: {r['seed']}  availability ({availability}) {_pct(r['availability'])} "
            f"< {_pct(min_availability)}"))
    n_tasks = len(res.tasks)
    if lines:
        for line in lines:
            typer.echo(line)
        typer.echo(f"check FAILED: bounds broken ({n_tasks} tasks, failures {failures})")
        raise typer.Exit(1)
    bounds = ", ".join(b for b in (f"demand utilisation <= {_pct(max_util)}" if max_util is not None else "",
                                  f"availability ({availability}) >= {_pct(min_availability)}" if min_availability is not None else "") if b)
    typer.echo(f"check passed: {bounds} under every failure set ({n_tasks} tasks, failures {failures})")
