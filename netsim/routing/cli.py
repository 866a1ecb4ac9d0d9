"""``netsim bench``: routing throughput on a user's topology, with scipy's all-pairs Dijkstra as a yardstick."""

from __future__ import annotations

import json as _json
import os
import time
from pathlib import Path

import numpy as np
import typer

from netsim.errors import InputError

__all__ = ["bench", "bench_topology"]

DEMAND_MODELS = ("uniform", "gravity")


def _traffic_matrix(g, net, model: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All ordered pairs of endpoints: volume 1 (uniform) or subscribers x subscribers (gravity)."""
    ends = np.flatnonzero(~net.is_ix).astype(np.int32)
    if model == "gravity":
        key = {str(n): n for n in g.nodes}
        subs = np.array([float(g.nodes[key[net.nodes[i]]].get("subscribers", 0) or 0) for i in ends])
        ends, subs = ends[subs > 0], subs[subs > 0]
        if len(ends) < 2:
            raise InputError("--demands gravity needs at least two nodes with subscribers > 0")
        w = subs / subs.sum()
    else:
        w = np.ones(len(ends))
    k = len(ends)
    src = np.repeat(ends, k)
    dst = np.tile(ends, k)
    vol = np.outer(w, w).ravel()
    keep = src != dst
    return src[keep], dst[keep], vol[keep]


def bench_topology(topology: str, *, demands: str = "uniform", igp_weight: str = "latency_ms",
                   threads: int | None = None, repeat: int = 3) -> dict:
    """Time compile, route to all destinations and full-matrix assignment; return the figures.

    Examples
    --------
    >>> r = bench_topology("examples/two_as", repeat=1)
    >>> r["nodes"], r["destinations"], r["demands"], r["unreachable_demands"]
    (5, 5, 20, 0)
    """
    import scipy.sparse as sp
    from scipy.sparse.csgraph import dijkstra

    import netsim.routing
    from netsim.topology import load_topology

    if demands not in DEMAND_MODELS:
        raise InputError(f"--demands must be one of {', '.join(DEMAND_MODELS)}, found {demands!r}")
    if repeat < 1:
        raise InputError(f"--repeat must be >= 1, found {repeat}")
    g = load_topology(topology)
    t0 = time.perf_counter()
    net = netsim.routing.compile(g, igp_weight=igp_weight)
    t_compile = time.perf_counter() - t0

    def best(fn):
        out, val = float("inf"), None
        for _ in range(repeat):
            t = time.perf_counter()
            val = fn()
            out = min(out, time.perf_counter() - t)
        return out, val

    t_route, routes = best(lambda: net.route(threads=threads))
    src, dst, vol = _traffic_matrix(g, net, demands)
    t_assign, (loads, lost) = best(lambda: routes.assign(src, dst, vol, threads=threads, return_unreachable=True))
    n = net.n_nodes
    a = sp.csr_matrix((net.weight, net.indices, net.indptr), shape=(n, n))
    t_scipy, _ = best(lambda: dijkstra(a, directed=True))
    n_dest = len(routes.dests)
    return {
        "topology": topology, "igp_weight": igp_weight, "demand_model": demands,
        "threads_requested": threads or os.cpu_count() or 1,
        "nodes": n, "links": net.n_links, "ases": len(net.asns), "destinations": n_dest,
        "demands": int(len(src)), "unreachable_demands": int(lost.sum()),
        "unreachable_volume_share": float(vol[lost].sum() / vol.sum()) if vol.sum() else 0.0,
        "compile_s": t_compile, "route_s": t_route, "assign_s": t_assign, "scipy_dijkstra_s": t_scipy,
        "routes_per_s": n_dest / t_route if t_route else float("inf"),
        "demands_per_s": len(src) / t_assign if t_assign else float("inf"),
        "scipy_sources_per_s": n / t_scipy if t_scipy else float("inf"),
        "route_over_scipy": t_route / t_scipy if t_scipy else float("nan"),
        "route_memory_bytes": int(routes.nbytes),
        "max_link_load": float(loads.max()) if len(loads) else 0.0,
    }


def bench(
    topology: str = typer.Argument(..., help="A topology file or a shipped name (tochigi, japan, examples/two_as)."),
    demands: str = typer.Option("uniform", "--demands", help="Traffic matrix: uniform (all pairs, volume 1) or gravity (subscribers x subscribers)."),
    json: Path = typer.Option(None, "--json", help="Also write the figures to this JSON file."),
    igp_weight: str = typer.Option("latency_ms", "--igp-weight", help="IGP weight: latency_ms, hops or a numeric link attribute."),
    threads: int = typer.Option(None, "--threads", help="OpenMP threads (default: all CPUs)."),
    repeat: int = typer.Option(3, "--repeat", help="Time each step this many times and keep the fastest."),
) -> None:
    """Routing throughput on your topology: routes/s, demands/s, and scipy's all-pairs Dijkstra as a yardstick."""
    from rich.console import Console
    from rich.table import Table

    if json is not None:   # before the timing: `--json DIR/` was a traceback after it
        _check_output_file(json, flag="--json")
    r = bench_topology(topology, demands=demands, igp_weight=igp_weight, threads=threads, repeat=repeat)
    t = Table(title=f"netsim bench {topology}: {r['nodes']} nodes, {r['links']} links, {r['ases']} ASes "
                    f"(up to {r['threads_requested']} threads)")
    t.add_column("work")
    t.add_column("time", justify="right")
    t.add_column("rate", justify="right")
    t.add_row("compile", f"{r['compile_s'] * 1e3:.1f} ms", "")
    t.add_row(f"route to all {r['destinations']} destinations", f"{r['route_s'] * 1e3:.1f} ms",
              f"{r['routes_per_s']:,.0f} routes/s")
    t.add_row(f"assign {r['demands']:,} demands ({demands})", f"{r['assign_s'] * 1e3:.1f} ms",
              f"{r['demands_per_s']:,.0f} demands/s")
    t.add_row("yardstick: scipy all-pairs dijkstra (distances only)", f"{r['scipy_dijkstra_s'] * 1e3:.1f} ms",
              f"{r['scipy_sources_per_s']:,.0f} sources/s")
    Console().print(t)
    typer.echo(f"route / scipy time: {r['route_over_scipy']:.2f}; unreachable demands: {r['unreachable_demands']} "
               f"({100 * r['unreachable_volume_share']:.2f}% of volume); route memory {r['route_memory_bytes'] / 1e6:.1f} MB")
    if json is not None:
        try:
            json.write_text(_json.dumps(r, indent=2) + "\n")
        except OSError as e:
            raise InputError(f"cannot write {json}: {e.strerror}", where="--json") from None
        typer.echo(f"wrote {json}")


def _check_output_file(path: Path, *, flag: str) -> None:
    """InputError unless ``path`` can be a file to write: not a directory, in a directory that exists."""
    if path.is_dir() or str(path).endswith(("/", "\\")):
        raise InputError(f"{path} is a directory; expected a file name such as {path / 'bench.json'}", where=flag)
    if not path.parent.is_dir():
        raise InputError(f"{path}: the directory {path.parent} does not exist", where=flag)
