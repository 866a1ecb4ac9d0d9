"""``netsim report`` (re-render OUT/report.html from a run's files) and ``netsim compare`` (runs side by side)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import List, Optional

import typer

__all__ = ["report_command", "compare_command"]


def report_command(
    outdir: Path = typer.Argument(..., help="A directory written by `netsim run` (no simulation is done)."),
) -> None:
    """Re-render OUTDIR/report.html from the run's tables, summary.json and topologies."""
    from netsim.report import render
    from netsim.sim.manifest import run_status

    path = render(outdir)   # first: a directory that is no run at all is one error line
    for line in run_status(outdir):
        typer.echo(f"warning: {outdir}: {line}", err=True)
    typer.echo(f"wrote {path}")


def _column_names(columns: list[dict]) -> list[str]:
    runs = list(dict.fromkeys(c["run"] for c in columns))
    mark = ["\n(partial: see below)" if c.get("partial") else "" for c in columns]
    if len(runs) == 1:
        return [c["design"] + m for c, m in zip(columns, mark)]
    return [f"{c['run']}\n{c['design']}{m}" for c, m in zip(columns, mark)]


def compare_command(
    outdirs: List[Path] = typer.Argument(..., help="One or more directories written by `netsim run`."),
    json_file: Optional[Path] = typer.Option(None, "--json", help="Also write the comparison as JSON to this file."),
) -> None:
    """The summary metrics of every design of the given runs side by side, with differences from the first column."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from netsim.errors import InputError
    from netsim.report import compare_runs

    cmp = compare_runs(list(outdirs))
    names = _column_names(cmp["columns"])
    t = Table(title=escape(f"compare: differences vs {names[0].replace(chr(10), ' ')}"))
    t.add_column("metric", no_wrap=True)
    for n in names:
        t.add_column(escape(n), justify="right")
    style = {"better": "green", "worse": "red"}
    for m in cmp["metrics"]:
        cells = []
        for i, text in enumerate(m["text"]):
            text, diff = escape(text), escape(m["diff_text"][i])
            if i and diff not in ("", "-"):
                s = style.get(m["tone"][i])
                text += f"\n[{s}]{diff}[/{s}]" if s else f"\n[dim]{diff}[/dim]"
            cells.append(text)
        t.add_row(m["label"], *cells)
    # NOTE: piped output (not a terminal) would be cut to 80 columns, too narrow for several designs
    Console(width=None if sys.stdout.isatty() else max(120, 44 + 22 * len(names))).print(t)
    for line in dict.fromkeys(f"{c['run']}: {x}" for c in cmp["columns"] for x in c["status"]):
        typer.echo(f"warning: {line}", err=True)
    if json_file is not None:
        try:
            json_file.write_text(json.dumps(cmp, indent=2) + "\n")
        except OSError as e:
            raise InputError(f"cannot write: {e.strerror}", source=str(json_file)) from None
        typer.echo(f"wrote {json_file}")
