"""Draw a topology on longitude/latitude (matplotlib, headless)."""

from __future__ import annotations

import math
from pathlib import Path

import networkx as nx
import numpy as np

from netsim.errors import InputError

__all__ = ["KIND_COLORS", "REL_COLORS", "draw_topology", "layout_positions"]

KIND_COLORS = {"pop": "#1f77b4", "ix": "#d62728", "cache": "#2ca02c", "origin": "#9467bd"}
#: Link colours by relationship (c2p and p2c are one colour: a transit line).
REL_COLORS = {"internal": "#a8a8a8", "p2p": "#d62728", "c2p": "#ff7f0e", "p2c": "#ff7f0e"}
#: Internal links with one of these tags are long lines (drawn darker than access and metro links).
_LONG_TAGS = frozenset({"backbone", "long-haul", "upstream", "trans-pacific", "submarine"})
_LONG_COLOR = "#3c3c3c"
_KIND_SIZE = {"pop": 14, "ix": 70, "cache": 50, "origin": 50}
_KIND_MARKER = {"pop": "o", "ix": "s", "cache": "D", "origin": "^"}


def layout_positions(g: nx.DiGraph, *, seed: int = 0) -> dict:
    """(lon, lat) per node; nodes without coordinates are placed by a seeded spring layout around the rest.

    Examples
    --------
    >>> from netsim import load_topology
    >>> pos = layout_positions(load_topology("examples/two_as"))
    >>> pos["t1"]
    (139.766, 35.6867)
    """
    pos = {n: (d["lon"], d["lat"]) for n, d in g.nodes(data=True) if "lat" in d}
    missing = [n for n in g.nodes if n not in pos]
    if missing:
        fixed = list(pos) or None
        spring = nx.spring_layout(g.to_undirected(), pos=pos or None, fixed=fixed, seed=seed)
        pos.update({n: tuple(spring[n]) for n in missing})
    return pos


def _pull_in_outliers(pos: dict) -> tuple[dict, dict]:
    """Move nodes far from the bulk (e.g. Los Angeles in a Japan map) to the map's edge, toward where they are.

    Returns (positions, {node: true (lon, lat)}) for the nodes moved. Longitude differences wrap, so
    a node across the date line is placed on the side it really lies on (east of Japan for the USA).
    """
    if len(pos) < 3:
        return pos, {}
    names = sorted(pos)
    xy = np.array([pos[n] for n in names], dtype=float)
    center = np.median(xy, axis=0)
    dx = (xy[:, 0] - center[0] + 180.0) % 360.0 - 180.0
    dy = xy[:, 1] - center[1]
    dist = np.hypot(dx, dy)
    scale = float(np.percentile(dist, 90))
    far = dist > 4.0 * scale + 2.0
    if not far.any() or far.all():
        return pos, {}
    inner = xy[~far]
    lo, hi = inner.min(axis=0), inner.max(axis=0)
    span = max(float((hi - lo).max()), 0.5)
    margin = 0.12 * span
    out, moved = dict(pos), {}
    for i in np.flatnonzero(far):
        n = names[i]
        # the point on the box (grown by a margin) in the node's direction from the bulk's centre
        ux, uy = dx[i] / dist[i], dy[i] / dist[i]
        cx, cy = (lo + hi) / 2.0
        half_w, half_h = (hi[0] - lo[0]) / 2.0 + margin, (hi[1] - lo[1]) / 2.0 + margin
        t = min(half_w / abs(ux) if ux else math.inf, half_h / abs(uy) if uy else math.inf)
        out[n] = (cx + ux * t, cy + uy * t)
        moved[n] = pos[n]
    return out, moved


def _spread_colocated(pos: dict, radius: float) -> dict:
    """Nodes at the same point (one metro, several ASes) are set on a small circle so each stays visible."""
    groups: dict[tuple, list] = {}
    for n in sorted(pos, key=str):
        groups.setdefault((round(pos[n][0], 6), round(pos[n][1], 6)), []).append(n)
    out = dict(pos)
    for (x, y), members in groups.items():
        if len(members) < 2:
            continue
        r = radius * max(1.0, math.sqrt(len(members) / 3.0))  # a crowded metro gets a wider circle
        for k, n in enumerate(members):
            a = 2.0 * math.pi * k / len(members)
            out[n] = (x + r * math.cos(a), y + r * math.sin(a))
    return out


def _metro_labels(g: nx.DiGraph, pos: dict) -> dict[str, tuple[float, float]]:
    """Label every metro of a small topology; in a large one, the metros with IXs, origins, caches or hubs."""
    by_metro: dict[str, list] = {}
    for n, d in g.nodes(data=True):
        by_metro.setdefault(d["metro"], []).append(n)
    out = {}
    for metro, members in sorted(by_metro.items()):
        notable = any(g.nodes[n]["kind"] != "pop" or not g.nodes[n].get("subscribers") for n in members)
        if len(by_metro) <= 15 or notable:
            xs = [pos[n][0] for n in members]
            ys = [pos[n][1] for n in members]
            out[metro] = (float(np.mean(xs)), float(np.mean(ys)))
    return out


def draw_topology(g: nx.DiGraph, path: str | Path | None = None, *, title: str | None = None,
                  edge_values: dict | None = None, edge_label: str = "link utilisation", ax=None) -> None:
    """Write a picture of ``g``: nodes on lon/lat coloured by kind; links drawn once per duplex pair.

    Nodes far from the rest (an overseas site) are drawn at the map's edge in their direction and
    labelled "(off map)"; nodes sharing a metro are spread on a small circle; link width grows with
    capacity. ``edge_values`` (optional) maps (u, v) to a 0..1 value (e.g. utilisation) used to
    colour links (a colour bar labelled ``edge_label`` is added). With ``ax`` (a matplotlib Axes) the
    picture is drawn there and nothing is written; otherwise ``path`` (.png, .svg or .pdf) is written.
    Text taken from the topology is drawn literally (a ``$`` does not start math).

    Examples
    --------
    >>> import os, tempfile
    >>> from netsim import load_topology
    >>> p = os.path.join(tempfile.mkdtemp(), "t.png")
    >>> draw_topology(load_topology("examples/two_as"), p)
    >>> open(p, "rb").read(4) == b"\\x89PNG"
    True
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D

    if ax is None:
        if path is None:
            raise ValueError("give a path to write or an ax to draw on")
        path = Path(path)
        if path.suffix.lower() not in (".png", ".svg", ".pdf"):
            raise InputError(f"unsupported picture format {path.suffix!r}; expected .png, .svg or .pdf",
                             source=str(path))
    geo = layout_positions(g)
    geo, moved = _pull_in_outliers(geo)
    xy = np.array(list(geo.values()), dtype=float) if geo else np.zeros((1, 2))
    span = max(float((xy.max(axis=0) - xy.min(axis=0)).max()), 1e-3)
    pos = _spread_colocated(geo, radius=0.008 * span)

    own_fig = ax is None
    if own_fig:
        fig, ax = plt.subplots(figsize=(8, 9), dpi=120)
    else:
        fig = ax.figure
    segs, colors, widths, order = [], [], [], []
    cmap = _utilisation_cmap()
    seen = set()
    for u, v, d in sorted(g.edges(data=True), key=lambda e: (str(e[0]), str(e[1]))):
        key = (min(u, v), max(u, v))
        val = None if edge_values is None else max(edge_values.get((u, v), 0.0), edge_values.get((v, u), 0.0))
        if key in seen:
            continue
        seen.add(key)
        segs.append([pos[u], pos[v]])
        order.append(0.0 if val is None else val)
        if val is not None:
            colors.append(cmap(min(1.0, val)))
        elif d["rel"] == "internal" and _LONG_TAGS.intersection(d.get("tags", ())):
            colors.append(_LONG_COLOR)
        else:
            colors.append(REL_COLORS.get(d["rel"], "#ff7f0e"))
        widths.append(0.3 + 0.45 * math.log10(1.0 + d["capacity_gbps"] / 10.0))
    if edge_values is not None:
        # a utilisation map: links are the subject, drawn bolder (less so in a dense topology), busiest on top
        boost = 1.6 if len(segs) <= 120 else 0.6
        widths = [0.6 + boost * w for w in widths]
        idx = sorted(range(len(segs)), key=lambda i: order[i])
        segs, colors, widths = [segs[i] for i in idx], [colors[i] for i in idx], [widths[i] for i in idx]
    ax.add_collection(LineCollection(segs, colors=colors, linewidths=widths, alpha=0.6 if edge_values is None else 0.85,
                                     zorder=1))
    handles = []
    for kind, color in KIND_COLORS.items():
        ns = [n for n, d in g.nodes(data=True) if d["kind"] == kind]
        if ns:
            ax.scatter([pos[n][0] for n in ns], [pos[n][1] for n in ns], s=_KIND_SIZE[kind], c=color,
                       marker=_KIND_MARKER[kind], label=f"{kind} ({len(ns)})", zorder=3, edgecolors="white",
                       linewidths=0.4)
    if edge_values is None:
        rels = sorted({d["rel"] for _, _, d in g.edges(data=True)} - {"p2c"})
        names = {"internal": "internal: access / metro", "p2p": "peering / IX port", "c2p": "transit (customer-provider)"}
        handles = [Line2D([0], [0], color=REL_COLORS[r], lw=1.5, label=names[r]) for r in rels]
        if any(d["rel"] == "internal" and _LONG_TAGS.intersection(d.get("tags", ())) for _, _, d in g.edges(data=True)):
            handles.append(Line2D([0], [0], color=_LONG_COLOR, lw=1.5, label="internal: backbone / long-haul"))
    for label, (x, y) in _metro_labels(g, pos).items():
        ax.annotate(_literal(label), (x, y), xytext=(4, 3), textcoords="offset points", fontsize=6.5, color="#333333", zorder=4)
    done_off = set()
    for n, (lon, lat) in sorted(moved.items()):
        x, y = geo[n]
        if (lon, lat) in done_off:
            continue
        done_off.add((lon, lat))
        ax.annotate(f"(off map: {lon:.1f}, {lat:.1f})", (x, y), xytext=(4, -9), textcoords="offset points",
                    fontsize=6, color="#666666", zorder=4)
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    lat0 = float(np.mean(xy[:, 1]))
    # Equal distances on the ground look equal: a degree of longitude is cos(lat) of a degree of latitude.
    ax.set_aspect(1.0 / max(0.2, math.cos(math.radians(lat0))), adjustable="datalim")
    ax.autoscale_view()
    kind_handles, _ = ax.get_legend_handles_labels()
    ax.legend(handles=kind_handles + handles, loc="lower right", fontsize=7, framealpha=0.8)
    if edge_values is not None:
        from matplotlib.cm import ScalarMappable
        from matplotlib.colors import Normalize

        sm = ScalarMappable(norm=Normalize(0.0, 1.0), cmap=cmap)
        cb = fig.colorbar(sm, ax=ax, shrink=0.6, pad=0.02)
        cb.set_label(_literal(edge_label))
        cb.ax.yaxis.set_major_formatter(lambda v, _pos: f"{100 * v:.0f}%")
    ax.set_title(_literal(title or g.graph.get("name", "topology")))
    ax.grid(alpha=0.2)
    if own_fig:
        fig.tight_layout()
        fig.savefig(path)
        plt.close(fig)


def _utilisation_cmap():
    """Idle links pale grey, then yellow, orange, red and dark red at 100 %: the loaded links stand out."""
    from matplotlib.colors import LinearSegmentedColormap

    return LinearSegmentedColormap.from_list("netsim_utilisation",
                                             ["#cfd8dc", "#fdd835", "#fb8c00", "#e53935", "#7f0000"])


def _literal(text) -> str:
    """Text for matplotlib drawn as written: ``$`` would otherwise start mathtext (and may fail to parse)."""
    return str(text).replace("$", r"\$")
