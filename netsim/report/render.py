"""Render OUTDIR/report.html from a run's files: a self-contained page (jinja2 template, inline SVG figures)."""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl
from markupsafe import Markup

from netsim.errors import InputError
from netsim.report import figures as F
from netsim.report import sections as S
from netsim.report.data import RunOutput, load_run
from netsim.report.metrics import difference, format_diff, format_value, metric_label, present_metrics

__all__ = ["render", "report_context", "clock"]


def clock(ts_s: float) -> str:
    """Seconds since the run's start as a time of day (``day N`` added after the first day).

    Examples
    --------
    >>> clock(72000), clock(86400 + 3600 * 1.5)
    ('20:00', 'day 2 01:30')
    """
    day, rest = divmod(int(round(ts_s)), 86400)
    text = f"{rest // 3600:02d}:{rest % 3600 // 60:02d}"
    return text if day == 0 else f"day {day + 1} {text}"


def _mark(removed: float, ref: float) -> str:
    """The sign shown before a removed share: − (less than the reference), + (more), ± (under half a percent)."""
    if not ref or abs(removed) < 0.005 * abs(ref):
        return "±"
    return "−" if removed > 0 else "+"


def _headline(run: RunOutput) -> list[dict]:
    ref = run.record(run.reference)
    out = []
    for s in run.summary:
        bb, bb0 = s.get("backbone_bytes") or 0.0, ref.get("backbone_bytes") or 0.0
        pk, pk0 = s.get("backbone_peak_bps") or 0.0, ref.get("backbone_peak_bps") or 0.0
        out.append({
            "design": s["design"],
            "is_reference": s["design"] == run.reference,
            "backbone_tb": f"{bb / 1e12:,.1f} TB",
            "removed_tb": f"{abs(bb0 - bb) / 1e12:,.1f} TB",
            "removed_pct": f"{100 * abs(bb0 - bb) / bb0:.0f}%" if bb0 else "-",
            "removed_sign": (bb0 - bb) >= 0,
            "removed_mark": _mark(bb0 - bb, bb0),
            "peak_mark": _mark(pk0 - pk, pk0),
            "peak_gbps": f"{pk / 1e9:,.1f} Gbps",
            "peak_removed_gbps": f"{abs(pk0 - pk) / 1e9:,.1f} Gbps",
            "peak_removed_pct": f"{100 * abs(pk0 - pk) / pk0:.0f}%" if pk0 else "-",
            "peak_sign": (pk0 - pk) >= 0,
            "avail_fail": S.fmt_pct(s.get("availability_during_failures")),
            "avail_fail_value": s.get("availability_during_failures"),
            "avail": S.fmt_pct(s.get("availability")),
            # the fast N-1 pass (netsim.analysis.resilience): the worst single failure, and the single points of failure
            "n1_worst": s.get("n1_worst_failure"),
            "n1_avail": S.fmt_pct(s.get("n1_worst_availability")),
            "n1_spof": ", ".join(s.get("n1_single_points_of_failure") or []),
        })
    return out


def _core_metros(run: RunOutput) -> str:
    """The core metros of the reference design's topology, by name (what "backbone" leads to), or ""."""
    g = run.topology(run.reference)
    if g is None:
        return ""
    metros = g.graph.get("metros") or {}
    return ", ".join(str(d.get("name") or m) for m, d in sorted(metros.items()) if d.get("core"))


def _summary_rows(run: RunOutput) -> list[dict]:
    ref = run.record(run.reference)
    rows = []
    for m in present_metrics(run.summary):
        cells = []
        for s in run.summary:
            is_ref = s["design"] == run.reference
            d = None if is_ref else difference(m, s.get(m.key), ref.get(m.key))
            cells.append({"value": format_value(m, s.get(m.key)),
                          "diff": "" if is_ref else format_diff(m, s.get(m.key), ref.get(m.key)),
                          "tone": (d or {}).get("tone", "")})
        rows.append({"label": metric_label(m, run.summary), "unit": m.unit, "cells": cells})
    return rows


def _by_key_table(run: RunOutput, key: str) -> dict:
    names = sorted({k for s in run.summary for k in (s.get(key) or {})})
    return {"keys": names,
            "rows": [{"name": n, "cells": [S.fmt_pct((s.get(key) or {}).get(n)) for s in run.summary]} for n in names]}


def _busiest_links(run: RunOutput, design: str, b: int, n: int = 6) -> list[dict]:
    t = (run.links.filter((pl.col("design") == design) & (pl.col("bin") == b))
         .sort(["utilisation", "src", "dst"], descending=[True, False, False]).head(n))
    return [{"src": r["src"], "dst": r["dst"], "util": f"{100 * r['utilisation']:.0f}%",
             "gbps": f"{r['bps'] / 1e9:,.1f}", "backbone": bool(r["backbone"]), "hot": r["utilisation"] >= 0.9}
            for r in t.iter_rows(named=True)]


def report_context(run: RunOutput) -> dict:
    """Everything the template shows, computed from the run's files (figures as inline SVG markup)."""
    import netsim

    designs, ref = run.designs, run.reference
    colors = F.design_colors(designs, ref)
    bin_s = float(run.record(ref).get("bin_s") or 0.0) or (
        float(run.bins["ts_s"].sort().diff().drop_nulls().min() or 300.0) if run.bins.height > 1 else 300.0)
    spans = F.failure_spans(run.bins, bin_s)
    pb, pts, in_failure = F.peak_bin(run)
    t0 = run.start_s  # the clock time of ts 0 (a trace of the 21:00 peak hour starts there)
    when = f"busiest bin {clock(t0 + pts)}–{clock(t0 + pts + bin_s)}"
    maps = []
    for i, d in enumerate(designs):
        svg = F.fig_map(run, d, pb, when=when, index=i)
        maps.append({"design": d, "svg": Markup(svg) if svg else None, "links": _busiest_links(run, d, pb)})
    figs = {}
    if run.bins.height:
        figs = {
            "backbone": F.fig_backbone(run, colors, spans),
            "availability": F.fig_availability(run, colors, spans),
            "local": F.fig_local(run, colors, spans),
            "rtt": F.fig_rtt(run, colors, spans),
        }
    if run.pairs.height:
        figs["served_from"] = F.fig_served_from(run, spans)
    n_bins = int(run.bins.filter(pl.col("design") == ref).height)
    return {
        "scenario": run.scenario,
        "designs": designs,
        "reference": ref,
        "colors": colors,
        "version": netsim.__version__,
        "bin_s": bin_s,
        "n_bins": n_bins,
        "rtt_window": F.rtt_window_s(run) is not None,
        "status": run.status,
        "scenario_warnings": run.warnings,
        "core_metros": _core_metros(run),
        "duration": clock(n_bins * bin_s) if n_bins * bin_s < 86400 else f"{n_bins * bin_s / 3600:.0f} h",
        "failure_windows": [f"{clock(t0 + a)}–{clock(t0 + b)}" for a, b in spans],
        "peak_when": when,
        "local_per": "hour" if F.local_window_s(run) else f"{bin_s:g} s bin",
        "peak_in_failure": in_failure,
        "headline": _headline(run),
        "headline_ref": next(h for h in _headline(run) if h["is_reference"]),
        "summary_rows": _summary_rows(run),
        "by_service": _by_key_table(run, "availability_during_failures_by_service"),
        "by_region": _by_key_table(run, "availability_during_failures_by_region"),
        "figures": {k: Markup(v) for k, v in figs.items()},
        "maps": maps,
        "prefetch": S.prefetch_section(run, colors, spans),
        "quality": S.quality_section(run, spans),
        "cost": S.cost_section(run),
        "planning_basis": next((r.get("planning_basis") for r in run.summary if r.get("planning_basis")), None),
        "procurement": S.procurement_section(run),
        "forecast": S.forecast_section(run),
    }


def _environment():
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    return Environment(loader=PackageLoader("netsim.report", "templates"),
                       autoescape=select_autoescape(["html", "j2", "html.j2"], default=True),
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def render(out_dir: str | Path) -> Path:
    """Write ``OUT/report.html`` from a run directory's files (no simulation) and return its path.

    The page is self-contained: CSS inline, figures as inline SVG; every name taken from the files is
    HTML-escaped. A directory that is not a run output raises InputError.

    Examples
    --------
    >>> import tempfile
    >>> from netsim.scenario import load_scenario
    >>> from netsim.sim.run import run
    >>> sc = load_scenario("tochigi"); sc.duration = 3600.0; sc.designs = sc.designs[:1]  # the first hour, baseline
    >>> out = tempfile.mkdtemp()
    >>> _ = run(sc, out)
    >>> p = render(out)
    >>> p.name, "<svg" in p.read_text()
    ('report.html', True)
    """
    run = load_run(out_dir)
    html = _environment().get_template("report.html.j2").render(**report_context(run))
    path = run.path / "report.html"
    tmp = run.path / ".report.html.tmp"
    try:
        tmp.write_text(html, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as e:
        raise InputError(f"cannot write the report: {e.strerror}", source=str(path)) from None
    return path
