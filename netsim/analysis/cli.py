"""``netsim forecast``: fit, evaluate and forecast traffic series; write the forecast, evaluation and plot."""

from __future__ import annotations

import math
import sys
from datetime import datetime
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

__all__ = ["forecast_command", "print_evaluation"]


def _f(v, fmt: str) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    return format(v, fmt)


def print_evaluation(evaluation, *, threshold: float, console: Console | None = None) -> None:
    """Per series: the model's holdout MAPE beside the seasonal-naive MAPE, growth, and threshold crossing."""
    console = console or Console(width=None if sys.stdout.isatty() else 160)
    t = Table(title="forecast: holdout evaluation")
    t.add_column("series")
    t.add_column("model MAPE", justify="right")
    t.add_column("seasonal-naive MAPE", justify="right")
    t.add_column("growth / yr", justify="right")
    # utilisation needs a capacity: without one for any series the two columns would be "-" on every row
    with_capacity = any(r["peak_utilisation"] is not None for r in evaluation.iter_rows(named=True))
    if with_capacity:
        t.add_column("peak util.", justify="right")
        t.add_column(f"months to {threshold:.0%}", justify="right")
    for r in evaluation.iter_rows(named=True):
        naive = _f(r["naive_mape"], ".1f") + ("%" if r["naive_mape"] == r["naive_mape"] else "")
        if r["naive_lag"]:
            naive += f" ({r['naive_lag']})"
        if r["months_to_threshold"] is None:
            cross = "-"
        elif r["months_to_threshold"] == 0:
            cross = "already above"
        elif not r["within_horizon"]:
            cross = "not within horizon"
        else:
            cross = f"{r['months_to_threshold']:.1f}"
        mm = r["model_mape"]
        model = "-" if mm != mm else f"{mm:.1f}%"
        if mm == mm and r["naive_mape"] == r["naive_mape"] and mm < r["naive_mape"]:
            model = f"[green]{model}[/green]"
        cells = [r["series"], model, naive, f"{r['growth_per_year']:+.1%}"]
        if with_capacity:
            cells += ["-" if r["peak_utilisation"] is None else f"{r['peak_utilisation']:.1%}", cross]
        t.add_row(*cells)
    console.print(t)


def forecast_command(
    input: str = typer.Argument(..., help="A CSV (timestamp,series,bps[,capacity_gbps]), a Parquet file with those "
                                           "columns, or a run directory (links.parquet / bins.parquet)."),
    output: Path = typer.Option(..., "-o", "--output", help="Directory for forecast.parquet, evaluation.csv/json, forecast.png."),
    holdout: str = typer.Option("7d", "--holdout", help="Last part of each series kept back to score the model (0: none)."),
    horizon: str = typer.Option("90d", "--horizon", help="How far ahead to forecast."),
    threshold: float = typer.Option(0.8, "--threshold", help="Peak utilisation whose crossing is forecast (links with a capacity)."),
    capacity_gbps_file: Optional[Path] = typer.Option(None, "--capacity-gbps-file",
                                                      help="CSV with columns series,capacity_gbps."),
    kind: str = typer.Option("links", "--kind",
                             help="For a run directory: links (one series per link), backbone, or regions (per region)."),
    start: str = typer.Option("2024-01-01T00:00:00", "--start", help="For a run directory: the wall-clock time of ts_s = 0."),
    plot: bool = typer.Option(True, "--plot/--no-plot", help="Write forecast.png."),
) -> None:
    """Forecast traffic per series (seasonal daily + weekly with growth) and compare with a seasonal-naive baseline."""
    import polars as pl

    from netsim.analysis.forecast import forecast, read_capacities_csv, read_series_csv, series_from_run
    from netsim.errors import InputError

    src = Path(input)
    if src.is_dir():
        try:
            t0 = datetime.fromisoformat(start)
        except ValueError:
            raise InputError(f"expected an ISO 8601 time, found {start!r}", where="--start") from None
        frame = series_from_run(src, kind=kind, start=t0)
    elif src.is_file() and src.suffix.lower() == ".parquet":
        try:
            frame = pl.read_parquet(src)
        except Exception as e:  # a corrupt file is the user's input
            raise InputError(f"cannot read Parquet: {e}", source=str(src)) from None
    elif src.is_file():
        frame = read_series_csv(src)
    else:
        raise InputError("no such file or run directory", source=str(src))
    if not 0 < threshold <= 10:
        raise InputError(f"expected a utilisation > 0 (e.g. 0.8), found {threshold}", where="--threshold")
    caps = read_capacities_csv(capacity_gbps_file) if capacity_gbps_file is not None else None
    result = forecast(frame, holdout=holdout, horizon=horizon, threshold=threshold, capacities_gbps=caps,
                      source=str(src))
    paths = result.write(output, plot=plot)
    print_evaluation(result.evaluation, threshold=threshold)
    Console(stderr=True).print("wrote " + ", ".join(str(p) for p in paths.values()))
