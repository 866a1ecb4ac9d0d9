"""Draw a topology on longitude/latitude (matplotlib, headless)."""

from __future__ import annotations

from pathlib import Path

import networkx as nx

from netsim.errors import InputError

__all__ = ["KIND_COLORS", "draw_topology", "layout_positions"]

KIND_COLORS = {"pop": "#1f77b4", "ix": "#d62728", "cache": "#2ca02c", "origin": "#9467bd"}
_KIND_SIZE = {"pop": 14, "ix": 60, "cache": 40, "origin": 50}


def layout_positions(g: nx.DiGraph, *, seed: int = 0) -> dict:
    """(lon, lat) per node; nodes without coordinates are placed by a seeded spring layout around the rest."""
    pos = {n: (d["lon"], d["lat"]) for n, d in g.nodes(data=True) if "lat" in d}
    missing = [n for n in g.nodes if n not in pos]
    if missing:
        fixed = list(pos) or None
        spring = nx.spring_layout(g.to_undirected(), pos=pos or None, fixed=fixed, seed=seed)
        pos.update({n: tuple(spring[n]) for n in missing})
    return pos


def draw_topology(g: nx.DiGraph, path: str | Path, *, title: str | None = None, edge_values: dict | None = None) -> None:
    """Write a picture of ``g``: nodes on lon/lat coloured by kind; links drawn once per duplex pair.

    ``edge_values`` (optional) maps (u, v) to a 0..1 value (e.g. utilisation) used to colour links.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    path = Path(path)
    if path.suffix.lower() not in (".png", ".svg", ".pdf"):
        raise InputError(f"unsupported picture format {path.suffix!r}; expected .png, .svg or .pdf", source=str(path))
    pos = layout_positions(g)
    fig, ax = plt.subplots(figsize=(8, 9), dpi=120)
    segs, colors, widths = [], [], []
    cmap = plt.get_cmap("RdYlGn_r")
    seen = set()
    for u, v, d in g.edges(data=True):
        key = (min(u, v), max(u, v))
        val = None if edge_values is None else max(edge_values.get((u, v), 0.0), edge_values.get((v, u), 0.0))
        if key in seen and val is None:
            continue
        seen.add(key)
        segs.append([pos[u], pos[v]])
        if val is not None:
            colors.append(cmap(min(1.0, val)))
        else:
            colors.append({"internal": "#999999", "p2p": "#d62728"}.get(d["rel"], "#ff7f0e"))
        widths.append(0.4 + 0.6 * min(3.0, (d["capacity_gbps"] / 100.0) ** 0.5))
    ax.add_collection(LineCollection(segs, colors=colors, linewidths=widths, alpha=0.7, zorder=1))
    for kind, color in KIND_COLORS.items():
        ns = [n for n, d in g.nodes(data=True) if d["kind"] == kind]
        if ns:
            ax.scatter([pos[n][0] for n in ns], [pos[n][1] for n in ns], s=_KIND_SIZE[kind], c=color,
                       label=f"{kind} ({len(ns)})", zorder=2, edgecolors="white", linewidths=0.4)
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.set_aspect("equal", adjustable="datalim")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title(title or g.graph.get("name", "topology"))
    ax.grid(alpha=0.2)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
