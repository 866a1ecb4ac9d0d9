"""``netsim cache``: how cache results depend on the cache's size, for a trace."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from netsim.errors import InputError

cache_app = typer.Typer(help="Cache sizing: hit ratio and offload against cache size.", no_args_is_help=True)


@cache_app.command("curve")
def curve(
    trace: str = typer.Argument(..., help="A trace file or a shipped trace name (tochigi-1d)."),
    sizes: str = typer.Option("1TB,3TB,10TB,30TB,100TB", "--sizes", help="Comma-separated cache sizes (full scale)."),
    policy: str = typer.Option("lru", "--policy", help="Cache policy (lru, fifo, lfu, s3fifo)."),
    all_cacheable: bool = typer.Option(False, "--all-cacheable", help="Treat every object as cacheable."),
    out: Path = typer.Option(None, "-o", "--out", help="Also write the curve as CSV."),
) -> None:
    """Hit ratio, byte hit ratio and offload of one cache serving every client of TRACE, per size, with
    Che's approximation beside each (the trace's object counts as rates)."""
    from netsim.cache import CACHE_POLICIES
    from netsim.cache.curve import parse_bytes, size_curve

    if policy not in CACHE_POLICIES or policy == "static":
        raise InputError(f"unknown policy {policy!r}; expected one of lru, fifo, lfu, s3fifo", where="--policy")
    ladder = [parse_bytes(x) for x in sizes.split(",") if x.strip()]
    if not ladder:
        raise InputError("no sizes given", where="--sizes")
    shares = {s: 1.0 for s in ("video", "web", "game", "update", "other")} if all_cacheable else None
    c = size_curve(trace, ladder, policy=policy, cacheable=shares)
    t = Table(title=f"{policy} cache on {trace}" + (" (everything cacheable)" if all_cacheable else
                                                     " (default cacheable shares)"))
    for col in ("size", "hit ratio", "byte hit ratio", "offload (all content)", "Che hit / byte hit"):
        t.add_column(col, justify="right")
    for r in c.iter_rows(named=True):
        t.add_row(f"{r['size_bytes'] / 1e12:g} TB", f"{r['hit_ratio']:.1%}", f"{r['byte_hit_ratio']:.1%}",
                  f"{r['offload']:.1%}", f"{r['che_hit_ratio']:.1%} / {r['che_byte_hit_ratio']:.1%}")
    Console().print(t)
    if out is not None:
        c.write_csv(out)
        typer.echo(f"wrote {out}")
