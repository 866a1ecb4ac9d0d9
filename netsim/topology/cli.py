"""``netsim topo``: check, show and convert topologies."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

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
    from netsim.sim.check import topology_warnings

    for w in topology_warnings(g):
        typer.echo(f"warning: {w}", err=True)


@topo_app.command("adopt")
def adopt(
    source: str = typer.Argument(..., help="A topology in any readable format (topohub JSON, GraphML, SNDlib, YAML...)."),
    output: Path = typer.Option(..., "-o", "--output", help="The runnable topology to write (.yaml)."),
    capacity_gbps: Optional[float] = typer.Option(None, "--capacity-gbps", help="Set every link to this capacity."),
    capacity_per_degree: Optional[float] = typer.Option(None, "--capacity-per-degree",
                                                        help="Set each link to this x the smaller degree of its ends."),
    regions_csv: Optional[Path] = typer.Option(None, "--regions-csv", help="CSV node,region (default: a metro each)."),
    subscribers_per_node: Optional[int] = typer.Option(None, "--subscribers-per-node", help="Subscribers at every PoP."),
    subscribers_csv: Optional[Path] = typer.Option(None, "--subscribers-csv", help="CSV node,subscribers."),
    subscribers_attr: Optional[str] = typer.Option(None, "--subscribers-attr",
                                                   help="A node attribute (e.g. population) x --per-person."),
    per_person: float = typer.Option(0.347, "--per-person", help="Subscriptions per unit of --subscribers-attr "
                                     "(default: Japan's 43.8M fixed broadband over 126.1M people)."),
    origins: int = typer.Option(2, "--origins", help="Content origins at this many best-connected PoPs (when none; two: no single point of failure)."),
    origin_node: Optional[list[str]] = typer.Option(None, "--origin-node", help="Put the origins here (repeatable)."),
    providers: str = typer.Option("video,web", "--providers", help="Content providers given origins (comma-separated)."),
    core: Optional[list[str]] = typer.Option(None, "--core", help="A core metro: links reaching it are the backbone (repeatable)."),
) -> None:
    """Make an imported topology runnable: capacities, subscribers, content origins and core metros, saying
    what was assumed; then `netsim scenario new OUT.yaml -o scenario.yaml` writes a scenario for it."""
    import csv

    from netsim.errors import InputError
    from netsim.topology.adopt import make_runnable

    g = load_topology(source)
    def read_pairs(path: Path, column: str, cast) -> dict:
        out = {}
        try:
            with open(path, newline="") as f:
                for i, row in enumerate(csv.DictReader(f)):
                    try:
                        out[str(row["node"])] = cast(row[column])
                    except (KeyError, TypeError, ValueError):
                        raise InputError(f"expected columns node,{column}" + (" with a number" if cast is not str else ""),
                                         source=str(path), where=f"row {i} (line {i + 2})") from None
        except OSError as e:
            raise InputError(f"cannot read: {e.strerror}", source=str(path)) from None
        return out

    if capacity_gbps is not None and capacity_per_degree is not None:
        raise InputError("give --capacity-gbps or --capacity-per-degree, not both", where="--capacity-per-degree")
    by_node = read_pairs(subscribers_csv, "subscribers", lambda x: int(float(x))) if subscribers_csv else None
    regions = read_pairs(regions_csv, "region", str) if regions_csv else None
    provs = tuple(p.strip() for p in providers.split(",") if p.strip())
    g, said = make_runnable(g, capacity_gbps=capacity_gbps, capacity_per_degree=capacity_per_degree,
                            regions_by_node=regions, subscribers_per_node=subscribers_per_node,
                            subscribers_by_node=by_node, subscribers_attr=subscribers_attr, per_person=per_person,
                            origins=origins, origin_nodes=origin_node, providers=provs, core=core,
                            source=str(subscribers_csv or regions_csv) if (subscribers_csv or regions_csv) else None)
    for line in said:
        typer.echo(f"assumed: {line}", err=True)
    save_topology(g, output)
    from netsim.sim.check import topology_warnings

    for w in topology_warnings(g):
        typer.echo(f"warning: {w}", err=True)
    typer.echo(f"wrote {output} ({g.number_of_nodes()} nodes, {g.number_of_edges()} links)")


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
