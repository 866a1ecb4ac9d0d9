"""``netsim topo``: check, show and convert topologies."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from netsim.topology.io import load_topology, save_topology
from netsim.topology.summary import summarize

topo_app = typer.Typer(help="Check, draw and convert topology files.", no_args_is_help=True)


@topo_app.command("check")
def check(path: str = typer.Argument(..., help="A topology file or a shipped name (tochigi, japan, examples/two_as).")) -> None:
    """Validate a topology and print its summary (exit 2 with a one-line error if it is invalid)."""
    g = load_topology(path)
    s = summarize(g)
    console = Console()
    t = Table(title=f"topology {s['name']}: OK", show_header=False)
    t.add_column("what")
    t.add_column("value")
    t.add_row("nodes", f"{s['nodes']}  (" + ", ".join(f"{k} {v}" for k, v in s["nodes_by_kind"].items()) + ")")
    t.add_row("ASes", str(s["ases"]))
    t.add_row("metros / regions", f"{s['metros']} / {s['regions']}")
    t.add_row("subscribers", f"{s['subscribers']:,}")
    t.add_row("links (directed)", f"{s['links']}  (" + ", ".join(f"{k} {v}" for k, v in s["links_by_rel"].items()) + ")")
    t.add_row("capacity (Gbps, directed)", f"{s['capacity_gbps']:,.1f}  (" +
              ", ".join(f"{k} {v:,.1f}" for k, v in s["capacity_gbps_by_rel"].items()) + ")")
    console.print(t)


@topo_app.command("show")
def show(
    path: str = typer.Argument(..., help="A topology file or a shipped name."),
    output: Path = typer.Option(..., "-o", "--output", help="Picture to write (.png, .svg, .pdf)."),
) -> None:
    """Draw a topology: nodes at their coordinates coloured by kind, links drawn."""
    from netsim.topology.plot import draw_topology

    g = load_topology(path)
    draw_topology(g, output)
    typer.echo(f"wrote {output}")


@topo_app.command("convert")
def convert(
    source: str = typer.Argument(..., help="Input topology (any readable format)."),
    target: Path = typer.Argument(..., help="Output file: .yaml, .graphml or .json, chosen by extension."),
) -> None:
    """Convert a topology between formats (the output format is chosen by extension)."""
    g = load_topology(source)
    save_topology(g, target)
    typer.echo(f"wrote {target} ({g.number_of_nodes()} nodes, {g.number_of_edges()} links)")
