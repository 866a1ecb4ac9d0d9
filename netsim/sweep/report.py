"""The sweep's report section: worst links and regions as a small, self-contained, escaped HTML page."""

from __future__ import annotations

import polars as pl

__all__ = ["render_html", "TOP_ROWS"]

#: rows of each worst-case table shown in the report and on the terminal
TOP_ROWS = 20

_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>netsim sweep: {{ scenario }}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin-bottom: 2em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; }
th { background: #f0f0f0; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.bad td { background: #fde8e8; }
</style></head><body>
<h1>What-if sweep: {{ scenario }}</h1>
<p>Failures: {{ failures }}; {{ n_tasks }} tasks ({{ designs }}). Each failure set is down for the whole run.
Demand utilisation = traffic routed onto the link / capacity, before congestion drops (can exceed 100%).</p>
<h2>Worst-case link utilisation (top {{ links|length }} of {{ n_links }})</h2>
<table><thead><tr><th>design</th><th>growth</th><th>link</th><th>worst failure</th><th>demand util.</th>
<th>no failure</th><th>demand (Gbps)</th><th>capacity (Gbps)</th><th>network traffic then (Gbps)</th><th>at (s)</th></tr></thead>
<tbody>{% for r in links %}<tr{% if r.demand_utilisation is not none and r.demand_utilisation > 1 %} class="bad"{% endif %}>
<td>{{ r.design }}</td><td class="num">{{ "%.2f"|format(r.growth) }}</td><td>{{ r.src }} &rarr; {{ r.dst }}</td>
<td>{{ r.failure }}</td><td class="num">{{ pct(r.demand_utilisation) }}</td><td class="num">{{ pct(r.no_failure_demand_utilisation) }}</td>
<td class="num">{{ gbps(r.demand_bps) }}</td><td class="num">{{ num(r.capacity_gbps) }}</td>
<td class="num">{{ gbps(r.network_offered_bps) }}</td><td class="num">{{ num(r.ts_s) }}</td></tr>
{% endfor %}</tbody></table>
<h2>Worst-case availability by region (top {{ regions|length }} of {{ n_regions }})</h2>
<table><thead><tr><th>design</th><th>growth</th><th>region</th><th>worst failure</th><th>availability</th><th>no failure</th></tr></thead>
<tbody>{% for r in regions %}<tr>
<td>{{ r.design }}</td><td class="num">{{ "%.2f"|format(r.growth) }}</td><td>{{ r.region }}</td><td>{{ r.failure }}</td>
<td class="num">{{ pct(r.availability) }}</td><td class="num">{{ pct(r.no_failure_availability) }}</td></tr>
{% endfor %}</tbody></table>
</body></html>
"""


def _pct(v):
    return "-" if v is None else f"{100 * v:.1f}%"


def _gbps(v):
    return "-" if v is None else f"{v / 1e9:,.1f}"


def _num(v):
    return "-" if v is None else f"{v:,.0f}"


def render_html(*, scenario: str, failures: str, results: pl.DataFrame, worst_links: pl.DataFrame,
                worst_regions: pl.DataFrame, top: int = TOP_ROWS) -> str:
    """The report section as an HTML page (every value escaped).

    Examples
    --------
    >>> empty = pl.DataFrame({"design": [], "growth": []})
    >>> html = render_html(scenario="<x>", failures="n-1-metro", results=empty, worst_links=empty, worst_regions=empty)
    >>> "&lt;x&gt;" in html and "<x>" not in html
    True
    """
    from jinja2 import Environment

    env = Environment(autoescape=True)
    designs = sorted(set(results["design"].to_list())) if results.height else []
    return env.from_string(_TEMPLATE).render(
        scenario=scenario, failures=failures, n_tasks=results.height, designs=", ".join(designs) or "no designs",
        links=worst_links.head(top).to_dicts(), n_links=worst_links.height,
        regions=worst_regions.head(top).to_dicts(), n_regions=worst_regions.height,
        pct=_pct, gbps=_gbps, num=_num)
