"""plan.html: backbone p95 against monthly cost for every evaluated candidate, the Pareto front of those
that meet the bounds, and the finalists' fast and replayed figures."""

from __future__ import annotations

import html
import io
from pathlib import Path

import polars as pl

__all__ = ["pareto_front", "write_plan_html"]


def pareto_front(table: pl.DataFrame) -> pl.DataFrame:
    """The candidates meeting the bounds that no other one beats on both backbone p95 and cost (cheapest first).

    Examples
    --------
    >>> t = pl.DataFrame({"candidate": ["a", "b", "c"], "meets_bounds": [True, True, True],
    ...                   "fast_backbone_p95_bps": [3.0, 1.0, 2.0], "fast_cost_per_month": [1.0, 3.0, 4.0]})
    >>> pareto_front(t)["candidate"].to_list()
    ['a', 'b']
    """
    ok = table.filter(pl.col("meets_bounds")).sort("fast_cost_per_month", "fast_backbone_p95_bps", "candidate")
    keep, best = [], float("inf")
    for r in ok.iter_rows(named=True):
        if r["fast_backbone_p95_bps"] < best:
            keep.append(r["candidate"])
            best = r["fast_backbone_p95_bps"]
    return ok.filter(pl.col("candidate").is_in(keep))


def _figure(table: pl.DataFrame) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    for ok, colour, lab in ((False, "#bbbbbb", "misses the bounds"), (True, "#4a7fb5", "meets the bounds")):
        t = table.filter(pl.col("meets_bounds") == ok)
        ax.scatter(t["fast_cost_per_month"].to_numpy() / 1e3, t["fast_backbone_p95_bps"].to_numpy() / 1e9, s=14,
                   c=colour, label=f"{lab} ({t.height})", zorder=2)
    front = pareto_front(table)
    if front.height:
        ax.step(front["fast_cost_per_month"].to_numpy() / 1e3, front["fast_backbone_p95_bps"].to_numpy() / 1e9,
                where="post", c="#1f4e79", lw=1.2, label="Pareto front (fast)", zorder=3)
    base = table.filter(pl.col("candidate") == "baseline")
    if base.height:
        x, y = base["fast_cost_per_month"][0] / 1e3, base["fast_backbone_p95_bps"][0] / 1e9
        ax.scatter([x], [y], marker="x", s=60, c="black", label="baseline (the scenario's first design)", zorder=4)
    fin = table.filter(pl.col("design").is_not_null())
    for i, r in enumerate(fin.sort("design").iter_rows(named=True)):
        x, y = r["fast_cost_per_month"] / 1e3, r["fast_backbone_p95_bps"] / 1e9
        ax.annotate(r["design"], (x, y), textcoords="offset points", xytext=(8, 6 + 11 * i), fontsize=9)
        if r["replay_backbone_p95_bps"] is not None and r["replay_cost_per_month"] is not None:
            ax.plot([x, r["replay_cost_per_month"] / 1e3], [y, r["replay_backbone_p95_bps"] / 1e9], c="#c0504d", lw=0.8)
    rep = fin.filter(pl.col("replay_backbone_p95_bps").is_not_null())
    if rep.height:
        ax.scatter(rep["replay_cost_per_month"].to_numpy() / 1e3, rep["replay_backbone_p95_bps"].to_numpy() / 1e9,
                   marker="*", s=90, c="#c0504d", label="finalists replayed", zorder=4)
    ax.set_xlabel("monthly cost (thousands)")
    ax.set_ylabel("backbone p95 (Gbps)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    svg = buf.getvalue()
    return svg[svg.index("<svg"):]


def _num(x, scale=1.0, fmt="{:,.1f}") -> str:
    return "-" if x is None else fmt.format(x / scale)


def write_plan_html(path: Path, table: pl.DataFrame, meta: dict) -> None:
    """Write the plan's page (self-contained: an inline SVG and tables)."""
    e = html.escape
    rows = []
    for r in table.filter(pl.col("design").is_not_null()).iter_rows(named=True):
        err = r["fast_backbone_error"]
        rows.append(
            f"<tr><td>{e(r['design'])}</td><td>{e(r['label'])}</td>"
            f"<td>{_num(r['fast_backbone_p95_bps'], 1e9)}</td><td>{_num(r['replay_backbone_p95_bps'], 1e9)}</td>"
            f"<td>{'-' if err is None else f'{err:+.1%}'}</td>"
            f"<td>{_num(r['fast_cost_per_month'], 1e3)}</td><td>{_num(r['replay_cost_per_month'], 1e3)}</td>"
            f"<td>{_num(r['fast_n1_worst_availability'], 0.01, '{:.1f}%')}</td>"
            f"<td>{_num(r['replay_n1_worst_availability'], 0.01, '{:.1f}%')}</td></tr>")
    head = ("<tr><th>design</th><th>what it builds</th><th>backbone p95 fast (Gbps)</th><th>replayed</th>"
            "<th>fast error</th><th>cost fast (k/month)</th><th>replayed</th><th>N-1 worst fast</th><th>replayed</th></tr>")
    if meta.get("best"):
        lead = (f"<p>Best replayed design: <b>{e(meta['best'])}</b> (in <code>best.yaml</code>; "
                "<code>netsim run best.yaml</code> replays it as is).</p>")
    else:
        lead = f"<p class='warn'>No design: {e(meta.get('reason') or 'nothing was evaluated')}</p>"
    bounds = (f"objective {e(meta['objective'])}; every single {'metro' if meta['failures'] == 'n-1-metro' else 'metro or node'} "
              f"failure leaves the survivors at least {meta['min_availability']:.0%} of their busy hour"
              + (f"; budget {meta['budget']:,.0f} a month" if meta.get("budget") else ""))
    doc = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>netsim plan: {e(meta['scenario'])}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}}
table{{border-collapse:collapse;font-size:14px}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}
td:nth-child(2),td:first-child{{text-align:left}}.warn{{background:#fde8e8;border:1px solid #c0504d;padding:8px}}</style>
</head><body>
<h1>netsim plan: {e(meta['scenario'])}</h1>
<p>{bounds}. {meta['evaluated']} of {meta['candidates']} candidates evaluated ({e(meta['method'])} search).</p>
{lead}
<h2>Backbone against cost</h2>
{_figure(table)}
<h2>Finalists: fast and replayed</h2>
<table>{head}{''.join(rows)}</table>
<p>Fast figures: the trace's bins routed through the candidate with the cache's offload from an LRU of its size
(netsim.plan.fast); replayed: the engine's run of best.yaml.</p>
</body></html>
"""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(doc)
    tmp.replace(path)
