"""The report's optional sections (cost, joint procurement, broadband quality, forecast and capacity plan,
prefetch): what each shows, computed from a run's files; a section is None when its data is not in the run.

Numbers are formatted here (the template only lays them out); names from the files are left as they are
(the template escapes them) and are drawn literally in figures.
"""

from __future__ import annotations

import math

import polars as pl
from markupsafe import Markup

from netsim.report import figures as F
from netsim.report.data import RunOutput
from netsim.report.metrics import as_number

__all__ = ["cost_section", "procurement_section", "quality_section", "forecast_section", "prefetch_section",
           "fmt_num", "fmt_pct", "fmt_money", "fmt_signed_money"]


def _num(v) -> float | None:
    return as_number(v, finite=False)   # infinite months: "never"


def fmt_num(v, digits: int = 1, suffix: str = "") -> str:
    """A number with thousands separators and ``digits`` decimals, ``-`` when missing or NaN.

    Examples
    --------
    >>> fmt_num(1234.567), fmt_num(None), fmt_num(float("nan")), fmt_num(2.5, 0, " Mbps")
    ('1,234.6', '-', '-', '2 Mbps')
    """
    x = _num(v)
    return "-" if x is None else f"{x:,.{digits}f}{suffix}"


def fmt_money(v) -> str:
    """A monthly amount, whole units with thousands separators.

    Examples
    --------
    >>> fmt_money(62221.41), fmt_money(None)
    ('62,221', '-')
    """
    return fmt_num(v, 0)


def fmt_signed_money(v) -> str:
    """A difference or saving: an explicit sign (``−`` for negative), whole units; ``±0`` under one unit.

    Examples
    --------
    >>> fmt_signed_money(1500.2), fmt_signed_money(-20.7), fmt_signed_money(0.3)
    ('+1,500', '−21', '±0')
    """
    x = _num(v)
    if x is None:
        return "-"
    if abs(x) < 0.5:
        return "±0"
    return f"+{x:,.0f}" if x > 0 else f"−{-x:,.0f}"


def fmt_pct(v, digits: int = 1) -> str:
    x = _num(v)
    return "-" if x is None else f"{100 * x:.{digits}f}%"


def _gbps_num(bps) -> str:
    x = _num(bps)
    return "-" if x is None else fmt_num(x / 1e9)


def _tone(delta: float | None, *, lower_is_better: bool = True) -> str:
    if delta is None or abs(delta) < 0.5:
        return ""
    return "better" if (delta < 0) == lower_is_better else "worse"


def _currency(run: RunOutput) -> str:
    cur = sorted({str(s["cost_currency"]) for s in run.summary if s.get("cost_currency")})
    return cur[0] if len(cur) == 1 else ("/".join(cur) if cur else "")


# --------------------------------------------------------------------------------------------- cost
def cost_section(run: RunOutput) -> dict | None:
    """Monthly cost per design (by component) and per member (member × design, difference from the reference)."""
    cost = run.cost
    if cost is None or cost.height == 0:
        return None
    designs = [d for d in run.designs if cost.filter(pl.col("design") == d).height]
    if not designs:
        return None
    ref = run.reference if run.reference in designs else designs[0]
    comps = F.cost_components(cost)
    currency = _currency(run)
    sums = {r["design"]: r for r in cost.group_by("design").agg(pl.col(comps + ["total"]).sum()).iter_rows(named=True)}
    ref_total = float(sums[ref]["total"])
    totals = []
    for d in designs:
        r = sums[d]
        delta = None if d == ref else float(r["total"]) - ref_total
        totals.append({"design": d, "is_reference": d == ref, "components": [fmt_money(r[c]) for c in comps],
                       "total": fmt_money(r["total"]), "total_value": float(r["total"]),
                       "diff": "" if delta is None else fmt_signed_money(delta),
                       "diff_pct": "" if delta is None or not ref_total else f"{100 * delta / ref_total:+.1f}%",
                       "tone": _tone(delta)})
    members = cost.select("asn", "name").unique(subset=["asn"], keep="first").sort("asn")
    by = {(d, a): float(t) for d, a, t in cost.select("design", "asn", "total").rows()}
    rows = []
    for asn, name in members.rows():
        base = by.get((ref, asn))
        cells = []
        for d in designs:
            v = by.get((d, asn))
            delta = None if d == ref or v is None or base is None else v - base
            cells.append({"value": fmt_money(v), "diff": "" if delta is None else fmt_signed_money(delta),
                          "tone": _tone(delta)})
        rows.append({"asn": asn, "name": name, "cells": cells})
    labels = [F.COST_COMPONENTS[c][0] if c in F.COST_COMPONENTS else c for c in comps]
    return {"currency": currency, "reference": ref, "designs": designs, "components": labels, "totals": totals,
            "members": rows, "figure": Markup(F.fig_cost(cost, designs, currency or "currency units"))}


# --------------------------------------------------------------------------------------------- joint procurement
def procurement_section(run: RunOutput) -> dict | None:
    """Separate vs joint procurement of each design with an aggregated ISP (procurement.parquet + summary fields)."""
    p = run.procurement
    if p is None or p.height == 0:
        return None
    out = []
    for d in run.designs:
        part = p.filter(pl.col("design") == d)
        if part.height == 0:
            continue
        s = run.record(d)
        sep, joint = _num(s.get("procurement_separate_per_month")), _num(s.get("procurement_joint_per_month"))
        if sep is None:
            sep = float(part["separate_cost"].sum())
        if joint is None:
            joint = float(part["joint_cost"].sum())
        members = []
        for r in part.sort("member").iter_rows(named=True):
            saving = _num(r["saving"])
            members.append({
                "member": r["member"],
                "peak": _gbps_num(r.get("peak_bps")), "p95": _gbps_num(r.get("p95_bps")),
                "line_gbps": fmt_num(r.get("line_gbps"), 0),
                "separate": fmt_money(r["separate_cost"]), "share": fmt_pct(r["share"]),
                "joint": fmt_money(r["joint_cost"]), "saving": fmt_signed_money(saving),
                "saving_tone": "" if saving is None or abs(saving) < 0.5 else ("better" if saving > 0 else "worse"),
            })
        saving = sep - joint
        reference = s.get("procurement_reference") or run.reference
        out.append({
            "reference": reference, "bridge": _cost_bridge(run, reference, d, pooling=saving),
            "design": d, "split": s.get("procurement_split") or "-",
            "separate_line_gbps": fmt_num(s.get("procurement_separate_line_gbps"), 0),
            "joint_line_gbps": fmt_num(s.get("procurement_joint_line_gbps"), 0),
            "separate": fmt_money(sep), "joint": fmt_money(joint), "saving": fmt_signed_money(saving),
            "saving_pct": f"{100 * saving / sep:+.1f}%" if sep else "-",
            "saving_tone": "" if abs(saving) < 0.5 else ("better" if saving > 0 else "worse"),
            "members": members,
            "negative": [m["member"] for m in members if m["saving_tone"] == "worse"],
        })
    return {"currency": _currency(run), "designs": out} if out else None


def _cost_bridge(run: RunOutput, reference: str, design: str, *, pooling: float) -> dict | None:
    """From the reference design's monthly cost to the design's, component by component (the rows add up:
    reference total + Σ differences = the design's total), and how much of it joint procurement alone explains
    (``pooling``: separate − joint on the reference's traffic)."""
    cost = run.cost
    if cost is None or cost.height == 0 or reference == design:
        return None
    comps = F.cost_components(cost)
    sums = {r["design"]: r for r in cost.group_by("design").agg(pl.col(comps + ["total"]).sum()).iter_rows(named=True)}
    if reference not in sums or design not in sums:
        return None
    a, b = sums[reference], sums[design]
    rows = []
    for c in comps:
        delta = float(b[c]) - float(a[c])
        rows.append({"label": F.COST_COMPONENTS[c][0] if c in F.COST_COMPONENTS else c,
                     "reference": fmt_money(a[c]), "design": fmt_money(b[c]), "diff": fmt_signed_money(delta),
                     "tone": _tone(delta), "value": delta})
    total = float(b["total"]) - float(a["total"])
    return {"rows": rows, "reference_total": fmt_money(a["total"]), "design_total": fmt_money(b["total"]),
            "diff": fmt_signed_money(total), "tone": _tone(total), "value": total,
            "pooling": fmt_signed_money(-pooling), "rest": fmt_signed_money(total + pooling)}


# --------------------------------------------------------------------------------------------- quality
_PLACEMENT = {
    "regional": "regional: one server per region, in the client's own region (a hub PoP before an access PoP, "
                "a cache or an IX)",
    "tokyo": "tokyo: one server in the core metro (Tokyo), so every test crosses the backbone",
}


def quality_section(run: RunOutput, spans, *, max_isps: int = 8) -> dict | None:
    """Per access ISP and design: peak vs off-peak throughput and RTT (quality.parquet), failure-window figures
    when present, and the hourly figure (quality_hourly.parquet)."""
    q = run.quality
    if q is None or q.height == 0:
        return None
    designs = [d for d in run.designs if q.filter(pl.col("design") == d).height]
    has_failure = "failure_throughput_p50_mbps" in q.columns and q["failure_throughput_p50_mbps"].is_not_nan().any()
    rows = []
    for asn, name in q.select("asn", "name").unique(subset=["asn"], keep="first").sort("asn").rows():
        first = len(rows)
        for d in designs:
            r = q.filter((pl.col("design") == d) & (pl.col("asn") == asn))
            if r.height == 0:
                continue
            r = r.row(0, named=True)
            row = {"asn": asn, "name": name, "design": d, "span": 0,
                   "peak_p50": fmt_num(r.get("peak_throughput_p50_mbps"), 0),
                   "peak_p10": fmt_num(r.get("peak_throughput_p10_mbps"), 0),
                   "off_p50": fmt_num(r.get("offpeak_throughput_p50_mbps"), 0),
                   "off_p10": fmt_num(r.get("offpeak_throughput_p10_mbps"), 0),
                   "peak_rtt": fmt_num(r.get("peak_rtt_p50_ms"), 2),
                   "off_rtt": fmt_num(r.get("offpeak_rtt_p50_ms"), 2),
                   "ratio": fmt_pct(r.get("peak_to_offpeak"), 0),
                   "peak_unreachable": fmt_pct(r.get("peak_unreachable_share")),
                   "limit": _limit_text(r.get("peak_limit"), r.get("peak_limit_share"))}
            if has_failure:
                row.update(fail_p50=fmt_num(r.get("failure_throughput_p50_mbps"), 0),
                           fail_p10=fmt_num(r.get("failure_throughput_p10_mbps"), 0),
                           fail_unreachable=fmt_pct(r.get("failure_unreachable_share")))
            rows.append(row)
        if len(rows) > first:
            rows[first]["span"] = len(rows) - first  # the ISP's name spans its designs' rows
    placements = sorted({str(s["quality_placement"]) for s in run.summary if s.get("quality_placement")})
    changes = _quality_changes(q, designs, run.reference)
    figure, hidden = None, 0
    h = run.quality_hourly
    if h is not None and h.height:
        figure = Markup(F.fig_quality_hourly(h, run.designs, spans, max_isps=max_isps))
        hidden = max(0, h["asn"].n_unique() - max_isps)
    return {"placements": [_PLACEMENT.get(p, p) for p in placements], "rows": rows, "has_failure": has_failure,
            "figure": figure, "hidden_isps": hidden, "changes": changes}


def _limit_text(limit, share) -> str:
    """What bounds most of the peak-hour tests, with the share of tests (by subscribers) it bounds.

    Examples
    --------
    >>> _limit_text("pppoe-nte", 0.6), _limit_text(None, None)
    ('pppoe-nte (60%)', '-')
    """
    if not limit:
        return "-"
    x = _num(share)
    return str(limit) if x is None else f"{limit} ({100 * x:.0f}%)"


def _quality_changes(q: pl.DataFrame, designs: list[str], reference: str, *, rel: float = 0.01) -> list[dict]:
    """Per ISP and design, where the peak-hour median differs from the reference design's by more than ``rel``:
    both medians and what limits each (the reason the report names)."""
    if "peak_limit" not in q.columns or reference not in designs:
        return []
    out = []
    ref = {r["asn"]: r for r in q.filter(pl.col("design") == reference).iter_rows(named=True)}
    for d in designs:
        if d == reference:
            continue
        for r in q.filter(pl.col("design") == d).sort("asn").iter_rows(named=True):
            b = ref.get(r["asn"])
            x, y = _num(b and b.get("peak_throughput_p50_mbps")), _num(r.get("peak_throughput_p50_mbps"))
            if x is None or y is None or abs(y - x) <= rel * max(abs(x), 1e-9):
                continue
            out.append({"name": r["name"], "design": d, "reference": reference, "before": fmt_num(x, 0),
                        "after": fmt_num(y, 0), "tone": "better" if y > x else "worse",
                        "limit_before": _limit_text(b.get("peak_limit"), b.get("peak_limit_share")),
                        "limit_after": _limit_text(r.get("peak_limit"), r.get("peak_limit_share"))})
    return out


# --------------------------------------------------------------------------------------------- forecast
def _months(v) -> str:
    x = _num(v)
    if x is None:
        return "-"
    if math.isinf(x):
        return "never"
    return "now" if x <= 0 else f"{x:,.1f}"


def forecast_section(run: RunOutput, *, max_rows: int = 20, max_plan: int = 5, max_figure: int = 4) -> dict | None:
    """Forecast evaluation (holdout MAPE vs seasonal naive, growth with its 95 % interval), a figure of a few series,
    and the capacity plan (per design, the links that cross the threshold soonest)."""
    fc, plan = run.forecast, run.capacity_plan
    if fc is None and (plan is None or plan.height == 0):
        return None
    out: dict = {"threshold": None, "horizon_days": None, "series": [], "more": 0, "figure": None, "plan": []}
    if fc is not None:
        ev = fc.evaluation.with_columns(
            pl.col("months_to_threshold").fill_null(float("inf")).alias("_m"),
            pl.col("peak_bps").fill_null(0.0).alias("_p"))
        ev = ev.sort(["_m", "_p", "series"], descending=[False, True, False])
        out.update(threshold=fmt_pct(fc.threshold, 0), horizon_days=fmt_num(fc.horizon_days, 0))
        for r in ev.head(max_rows).iter_rows(named=True):
            mm, nm = _num(r["model_mape"]), _num(r["naive_mape"])
            out["series"].append({
                "series": r["series"], "model_mape": fmt_num(mm, 1, "%"), "naive_mape": fmt_num(nm, 1, "%"),  # in percent
                "naive_lag": r["naive_lag"] or "",
                "tone": "" if mm is None or nm is None or mm == nm else ("better" if mm < nm else "worse"),
                "growth": fmt_pct(r["growth_per_year"]),
                "growth_ci": f"{fmt_pct(r['growth_lo95'])} to {fmt_pct(r['growth_hi95'])}"
                if _num(r["growth_lo95"]) is not None else "-",
                "peak_gbps": _gbps_num(r["peak_bps"]),
                "utilisation": fmt_pct(r["peak_utilisation"], 0),
                "months": _months(r["months_to_threshold"]) if _num(r["peak_utilisation"]) is not None else "-",
                "within": bool(r["within_horizon"]),
            })
        out["more"] = max(0, ev.height - max_rows)
        # utilisation needs a capacity: without one for any series shown, its two columns are left out
        out["with_capacity"] = any(r["utilisation"] != "-" for r in out["series"])
        if fc.history is not None and fc.forecast is not None and fc.forecast.height:
            have = set(fc.forecast["series"].unique().to_list())
            pick = [s for s in ev["series"].to_list() if s in have][:max_figure]
            caps = {r["series"]: float(r["capacity_gbps"]) for r in ev.iter_rows(named=True)
                    if _num(r["capacity_gbps"])}
            if pick:
                out["figure"] = Markup(F.fig_forecast(fc.history, fc.forecast, pick, capacity_gbps=caps,
                                                      threshold=fc.threshold))
                out["figure_series"] = pick
    if plan is not None and plan.height:
        plan = plan.with_columns(pl.col("months_to_threshold").fill_null(float("inf")).alias("_m"))
        for d in run.designs + sorted(set(plan["design"].unique().to_list()) - set(run.designs)):
            part = plan.filter(pl.col("design") == d)
            if part.height == 0:
                continue
            part = part.sort(["_m", "peak_utilisation", "src", "dst"], descending=[False, True, False, False])
            links = []
            for r in part.head(max_plan).iter_rows(named=True):
                links.append({"src": r["src"], "dst": r["dst"], "capacity": fmt_num(r["capacity_gbps"], 0),
                              "utilisation": fmt_pct(r["peak_utilisation"], 0), "growth": fmt_pct(r["growth_per_year"]),
                              "growth_series": r.get("growth_series") or "",
                              "threshold": fmt_pct(r.get("threshold"), 0) if r.get("threshold") is not None else "-",
                              "months": _months(r["months_to_threshold"]),
                              "soon": (_num(r["months_to_threshold"]) if _num(r["months_to_threshold"]) is not None
                                       else math.inf) <= 12.0})
            # within the forecast's horizon (with any growth every link crosses some day)
            horizon_m = (float(fc.horizon_days) / (365.25 / 12)) if fc is not None and fc.horizon_days else math.inf
            crossing = int(part.filter(pl.col("_m") <= horizon_m).height)
            ths = sorted({float(t) for t in part["threshold"].drop_nulls().to_list()}) if "threshold" in part.columns else []
            out["plan"].append({"design": d, "links": links, "n_links": part.height, "crossing": crossing,
                                "within": f"within {fmt_num(horizon_m, 0)} months" if math.isfinite(horizon_m) else "some day",
                                "thresholds": ("(threshold " + ", ".join(fmt_pct(t, 0) for t in ths) + ")") if ths else ""})
    return out


# --------------------------------------------------------------------------------------------- prefetch
def _saved(rec: dict, without: dict, key: str, field: str) -> float | None:
    """What prefetch saved on ``key``: the summary's ``field``, else the difference of the two records
    (None without a record to compare with)."""
    v = _num(rec.get(field))
    if v is None and without:
        a, b = _num(without.get(key)), _num(rec.get(key))
        v = None if a is None or b is None else a - b
    return v


def prefetch_section(run: RunOutput, colors, spans) -> dict | None:
    """Each design with prefetch: bytes and objects pushed, and the backbone peak and 95th percentile saved compared
    with the same design without prefetch (``prefetch_of``), with a figure of the two."""
    out = []
    for i, s in enumerate(run.summary):
        pushed = _num(s.get("prefetch_bytes"))
        if not pushed and not s.get("prefetch_of"):
            continue
        d, of = s["design"], s.get("prefetch_of")
        if of not in run.designs:
            of = None
        other = run.record(of) if of else {}
        peak = _saved(s, other, "backbone_peak_bps", "prefetch_peak_backbone_saved_bps")
        p95 = _saved(s, other, "backbone_p95_bps", "prefetch_p95_backbone_saved_bps")
        peak_of, p95_of = _num(other.get("backbone_peak_bps")), _num(other.get("backbone_p95_bps"))

        def gbps(v):
            return "-" if v is None else f"{v / 1e9:,.1f} Gbps"

        def share(v, base):
            return f"{100 * v / base:.1f}%" if v is not None and base else "-"

        def tone(v):
            return "" if v is None or abs(v) < 5e7 else ("better" if v > 0 else "worse")

        out.append({
            "design": d, "of": of, "pushed_tb": fmt_num((pushed or 0.0) / 1e12, 2, " TB"),
            "objects": fmt_num(s.get("prefetch_objects"), 0),
            "peak_saved": gbps(peak), "peak_saved_pct": share(peak, peak_of), "peak_tone": tone(peak),
            "p95_saved": gbps(p95), "p95_saved_pct": share(p95, p95_of), "p95_tone": tone(p95),
            "peak_of": gbps(peak_of), "peak_now": gbps(_num(s.get("backbone_peak_bps"))),
            "p95_of": gbps(p95_of), "p95_now": gbps(_num(s.get("backbone_p95_bps"))),
            "figure": Markup(F.fig_prefetch(run, d, of, colors, spans, index=i)) if run.bins.height else None,
        })
    return {"designs": out} if out else None
