"""``netsim run``: simulate a scenario's designs and write the tables and summary."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text


def _fmt(v, pct=False, unit=""):
    if v is None:
        return "-"
    if pct:
        return f"{100 * v:.1f}%"
    return f"{v:,.1f}{unit}"


def print_capacity_plan(plan, *, threshold: float, per_design: int = 3, console: Console | None = None) -> None:
    """Per design, the links that cross the threshold soonest under the forecast growth."""
    import math

    console = console or Console(width=None if sys.stdout.isatty() else 160)
    t = Table(title=f"capacity plan: links soonest above {threshold:.0%} of capacity at the forecast growth")
    for col, just in (("design", "left"), ("link", "left"), ("capacity (Gbps)", "right"), ("peak util.", "right"),
                      ("growth / yr", "right"), (f"months to {threshold:.0%}", "right")):
        t.add_column(col, justify=just)
    for (design,), part in plan.group_by("design", maintain_order=True):
        for r in part.head(per_design).iter_rows(named=True):
            m = r["months_to_threshold"]
            t.add_row(design, f"{r['src']} -> {r['dst']}", f"{r['capacity_gbps']:,.0f}", f"{r['peak_utilisation']:.0%}",
                      f"{r['growth_per_year']:+.0%} ({r['growth_series']})",
                      "already above" if m == 0 else "never" if not math.isfinite(m) else f"{m:.1f}")
    if plan.height:
        console.print(t)


def print_summary(summary: list[dict], console: Console | None = None) -> None:
    """The headline metrics of each design side by side."""
    console = console or Console()
    t = Table(title="summary")
    t.add_column("metric")
    for s in summary:
        t.add_column(s["design"], justify="right")
    currency = "/".join(sorted({str(s["cost_currency"]) for s in summary if s.get("cost_currency")}))
    rows = [
        ("offered (TB)", lambda s: _fmt(s["offered_bytes"] / 1e12)),
        ("availability", lambda s: _fmt(s["availability"], pct=True)),
        ("availability during failures", lambda s: _fmt(s["availability_during_failures"], pct=True)),
        ("  of survivors (own PoP up)", lambda s: _fmt(s.get("availability_during_failures_survivors"), pct=True)),
        ("backbone peak (Gbps)", lambda s: _fmt(s["backbone_peak_bps"] / 1e9)),
        ("backbone p95 (Gbps)", lambda s: _fmt(s["backbone_p95_bps"] / 1e9)),
        ("local turnaround", lambda s: _fmt(s["local_turnaround"], pct=True)),
        ("cache hit ratio", lambda s: _fmt(s["cache_hit_ratio"], pct=True)),
        ("cache byte hit ratio (cacheable)", lambda s: _fmt(s["cache_byte_hit_ratio"], pct=True)),
        ("cache offload (all content bytes)", lambda s: _fmt(s.get("cache_offload"), pct=True)),
        ("RTT p50 / p95 (ms)", lambda s: f"{_fmt(s['rtt_p50_ms'])} / {_fmt(s['rtt_p95_ms'])}"),
        ("peak link utilisation", lambda s: _fmt(s["peak_utilisation"], pct=True)),
        (f"cost (k {currency}/month)" if currency else "cost (k/month)",
         lambda s: _fmt(None if s.get("cost_per_month") is None else s["cost_per_month"] / 1e3)),
        ("throughput at peak p50 / p10 (Mbps)",
         lambda s: f"{_fmt(s.get('quality_peak_p50_mbps'))} / {_fmt(s.get('quality_peak_p10_mbps'))}"),
        ("throughput during failures p50 (Mbps)", lambda s: _fmt(s.get("quality_failure_p50_mbps"))),
        ("quality tests with no path in failures", lambda s: _fmt(s.get("quality_failure_unreachable_share"), pct=True)),
        ("months until a link passes the threshold", lambda s: _fmt(s.get("capacity_months_to_threshold"))),
        ("N-1 worst failure (survivors served)",
         lambda s: "-" if not s.get("n1_worst_failure") else
         f"{s['n1_worst_failure'].split(' ', 1)[1]} {_fmt(s.get('n1_worst_availability'), pct=True)}"),
        ("N-1 single points of failure", lambda s: str(len(s.get("n1_single_points_of_failure") or []))),
    ]
    if any(s.get("procurement_separate_per_month") is not None for s in summary):
        rows.append((f"joint procurement saves (k {currency}/month)", lambda s: _fmt(
            None if s.get("procurement_saving_per_month") is None else s["procurement_saving_per_month"] / 1e3)))
    if any(s.get("prefetch_bytes", 0) for s in summary):
        rows.append(("pushed by prefetch (TB)", lambda s: _fmt(s.get("prefetch_bytes", 0) / 1e12)))
        rows.append(("backbone peak saved by prefetch (Gbps)",
                     lambda s: _fmt(None if s.get("prefetch_peak_backbone_saved_bps") is None
                                    else s["prefetch_peak_backbone_saved_bps"] / 1e9)))
    for name, fn in rows:
        t.add_row(name, *[fn(s) for s in summary])
    console.print(t)


class _BinRate(ProgressColumn):
    """Bins simulated per second."""

    def render(self, task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.0f} bins/s")


def run_command(
    scenario: str = typer.Argument(..., help="A scenario file or a shipped name (tochigi)."),
    output: Path = typer.Option(..., "-o", "--output", help="Directory for the tables (Parquet) and summary.json."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Override the scenario's seed."),
) -> None:
    """Simulate every design of a scenario and write bins/links/caches/pairs/services tables and summary.json."""
    from netsim.scenario import load_scenario
    from netsim.sim.run import run

    from netsim.sim.check import check_scenario

    sc = load_scenario(scenario)
    if seed is not None:
        sc = sc.model_copy(update={"seed": seed})
    checked = check_scenario(sc)   # before any progress bar: a bad scenario is one line, nothing simulated
    console = Console(stderr=True)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), _BinRate(),
                  TimeRemainingColumn(), console=console, transient=False) as progress:
        tasks: dict[str, int] = {}

        def on_bin(design: str, b: int, n: int) -> None:
            if design not in tasks:
                tasks[design] = progress.add_task(f"{sc.name}: {design}", total=n)
            progress.update(tasks[design], completed=b + 1)

        try:
            res = run(sc, output, on_bin=on_bin, checked=checked)
        except KeyboardInterrupt:
            progress.stop()
            typer.echo(f"interrupted: the bins already done are kept in {output}/", err=True)
            raise typer.Exit(130) from None
    print_summary(res.summary)
    if res.forecast is not None:
        from netsim.analysis.cli import print_evaluation

        print_evaluation(res.forecast.evaluation, threshold=sc.forecast.threshold)
        print_capacity_plan(res.capacity_plan, threshold=sc.forecast.threshold)
    from netsim.sim.run import TABLES

    typer.echo(f"wrote {output}/ ({', '.join(TABLES)} .parquet; summary.json"
               + ("; forecast/" if res.forecast is not None else "") + ")")
    from netsim.report import render

    typer.echo(f"report: {render(output)}")


scenario_app = typer.Typer(help="Check scenario files before running them.", no_args_is_help=True)


@scenario_app.command("check")
def scenario_check_command(
    scenario: str = typer.Argument(..., help="A scenario file or a shipped name (tochigi)."),
) -> None:
    """Validate a scenario without simulating it: its topology, traffic, every design's transforms, the failures
    and prices; exit 2 with one located line at the first problem, print warnings about what would make the
    figures misleading. `netsim run` runs the same check before the first design."""
    import time

    from netsim.scenario import load_scenario
    from netsim.sim.check import check_scenario

    t0 = time.perf_counter()
    sc = load_scenario(scenario)
    c = check_scenario(sc)
    for w in c.warnings:
        typer.echo(f"warning: {w}", err=True)
    g = c.topology
    typer.echo(f"scenario {sc.name} OK ({sc.source}): topology {g.graph.get('name', sc.topology)} "
               f"({g.number_of_nodes():,} nodes, {g.number_of_edges():,} links), traffic {c.trace}, "
               f"{len(c.graphs)} design(s): {', '.join(c.graphs)}; {len(sc.failures.schedule)} scheduled failure(s); "
               f"{len(c.warnings)} warning(s); checked in {time.perf_counter() - t0:.1f} s")


@scenario_app.command("new")
def scenario_new_command(
    topology: str = typer.Argument(..., help="A topology file (e.g. written by `netsim topo adopt`) or a shipped name."),
    output: Path = typer.Option(..., "-o", "--output", help="The scenario file to write (.yaml)."),
    name: Optional[str] = typer.Option(None, "--name", help="The scenario's name (default: the topology's)."),
) -> None:
    """Write a runnable, commented starter scenario for a topology: the network as drawn, a shared cache, a
    regional IX when two or more access ASes meet, and the core metro dark at the evening peak."""
    import os

    from netsim.errors import InputError
    from netsim.scenario import load_scenario
    from netsim.sim.check import check_scenario, starter_scenario
    from netsim.topology import load_topology

    g = load_topology(topology)
    p = Path(topology)
    ref = topology
    if p.exists():   # name the topology relative to the scenario's folder, so the two travel together
        ref = os.path.relpath(p.resolve(), Path(output).resolve().parent)
    text = starter_scenario(ref, g, name=name)
    if output.exists():
        raise InputError(f"{output} exists; choose another -o or remove it", where="-o")
    try:
        output.write_text(text)
    except OSError as e:
        raise InputError(f"cannot write: {e.strerror}", source=str(output)) from None
    c = check_scenario(load_scenario(output))   # what it wrote runs
    for w in c.warnings:
        typer.echo(f"warning: {w}", err=True)
    typer.echo(f"wrote {output} ({len(c.graphs)} designs: {', '.join(c.graphs)}); run it: netsim run {output} -o OUTDIR")
