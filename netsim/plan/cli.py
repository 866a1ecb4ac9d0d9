"""``netsim plan``: search IX sites, members, cache hosts and sizes; replay the best (see netsim.plan)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from netsim.errors import InputError

__all__ = ["plan_command"]


def plan_command(
    scenario: str = typer.Argument(..., help="A scenario file or a shipped name (tochigi); its first design is the baseline."),
    output: Path = typer.Option(..., "-o", "--output", help="Output directory (plan.parquet, plan.html, plan.json, best.yaml, replay/)."),
    objective: str = typer.Option("backbone_p95", "--objective", help="What to minimise: backbone_p95, backbone_peak or cost."),
    min_availability: float = typer.Option(0.5, "--min-availability",
                                           help="Survivors' busy-hour share every single failure must leave (0.5 = 50%)."),
    failures: str = typer.Option("n-1-metro", "--failures", "-f",
                                 help="The failures the bound holds for: n-1-metro (each metro) or n-1 (each metro and node)."),
    budget: Optional[float] = typer.Option(None, "--budget", help="Highest monthly cost, in the scenario's currency."),
    candidates: Optional[Path] = typer.Option(None, "--candidates",
                                              help="YAML: ix, members, min_members, hosts, sizes_tb, policy, ix_asn (see docs)."),
    finalists: int = typer.Option(3, "--finalists", help="Candidates replayed in full by the engine."),
    search: str = typer.Option("auto", "--search", help="auto (exhaustive up to --exhaustive-limit candidates), exhaustive or local."),
    exhaustive_limit: int = typer.Option(120, "--exhaustive-limit", help="Largest candidate set auto searches exhaustively."),
    no_replay: bool = typer.Option(False, "--no-replay", help="Rank on the fast figures only (best.yaml is still written)."),
    workers: Optional[int] = typer.Option(None, "--workers", "-w", help="Replay the finalists on this many local Dask workers."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Replay the finalists on an existing Dask scheduler."),
) -> None:
    """Search regional-IX sites, IX members, cache hosts and sizes for the design with the lowest
    backbone load (or cost) that keeps the survivors served in every single failure; replay the best."""
    from rich.console import Console

    from netsim.plan import plan
    from netsim.plan.space import CandidateSpace

    space = None
    if candidates is not None:
        from netsim.yamlio import load_yaml_model

        space, _ = load_yaml_model(candidates, CandidateSpace)
    console = Console(stderr=True)
    res = plan(scenario, output, objective=objective, min_availability=min_availability, failures=failures,
               budget=budget, candidates=space, finalists=finalists, method=search, exhaustive_limit=exhaustive_limit,
               replay=not no_replay, workers=workers, scheduler=scheduler,
               on_step=lambda msg: console.print(f"[dim]search:[/dim] {msg}"))
    _print(res)
    typer.echo(f"wrote {output}/ (plan.parquet, plan.json, plan.html{', best.yaml' if res.finalists else ''}"
               f"{', replay/' if res.finalists and not no_replay and not (workers or scheduler) else ''})")
    if res.best is None:
        raise InputError(res.reason or "no candidate meets the bounds", where="--min-availability")


def _print(res) -> None:
    import polars as pl
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"netsim plan ({res.method} search, {res.table.height} candidates evaluated)")
    for col in ("design", "what it builds", "backbone p95 fast / replayed (Gbps)", "cost fast / replayed (k/month)",
                "N-1 worst fast / replayed"):
        t.add_column(col, justify="left" if col in ("design", "what it builds") else "right")

    def pair(a, b, scale, fmt):
        return " / ".join("-" if x is None else fmt.format(x / scale) for x in (a, b))

    for r in res.table.filter(pl.col("design").is_not_null()).iter_rows(named=True):
        name = r["design"] + (" (best)" if r["design"] == res.best else "")
        t.add_row(name, r["label"], pair(r["fast_backbone_p95_bps"], r["replay_backbone_p95_bps"], 1e9, "{:.1f}"),
                  pair(r["fast_cost_per_month"], r["replay_cost_per_month"], 1e3, "{:,.1f}"),
                  pair(r["fast_n1_worst_availability"], r["replay_n1_worst_availability"], 0.01, "{:.1f}%"))
    Console().print(t)
