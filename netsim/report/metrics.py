"""The summary metrics the report and ``netsim compare`` show: label, unit, which direction is better, formatting."""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Metric", "METRICS", "METRIC", "as_number", "format_value", "format_diff", "difference", "present_metrics", "metric_label"]


@dataclass(frozen=True)
class Metric:
    """One summary.json field: ``unit`` is what it is shown in (``scale`` converts to it); ``better`` is
    "higher", "lower" or None (neutral)."""

    key: str
    label: str
    unit: str
    scale: float = 1.0
    better: str | None = None
    digits: int = 1
    unit_key: str | None = None  # a summary field naming the unit (e.g. the currency), shown in the label
    hide_zero: bool = False      # an optional metric left out when every record has 0 (a feature nobody used)

    @property
    def is_share(self) -> bool:
        """A 0..1 ratio shown in percent; its differences are in percentage points."""
        return self.unit == "%"


METRICS: tuple[Metric, ...] = (
    Metric("offered_bytes", "offered traffic", "TB", 1e-12),
    Metric("delivered_bytes", "delivered traffic", "TB", 1e-12, "higher"),
    Metric("availability", "availability (delivered / offered)", "%", 100.0, "higher"),
    Metric("availability_during_failures", "availability during failures", "%", 100.0, "higher"),
    Metric("availability_during_failures_survivors", "availability during failures, survivors (own PoP up)", "%",
           100.0, "higher"),
    Metric("backbone_bytes", "backbone traffic", "TB", 1e-12, "lower"),
    Metric("backbone_peak_bps", "backbone peak", "Gbps", 1e-9, "lower"),
    Metric("backbone_p95_bps", "backbone 95th percentile", "Gbps", 1e-9, "lower"),
    Metric("backbone_mean_bps", "backbone mean", "Gbps", 1e-9, "lower"),
    Metric("local_turnaround", "local turnaround", "%", 100.0, "higher"),
    Metric("cache_hit_ratio", "cache hit ratio (requests)", "%", 100.0, "higher"),
    Metric("cache_byte_hit_ratio", "cache byte hit ratio (of the cacheable requests)", "%", 100.0, "higher"),
    Metric("cache_offload", "cache offload (of all content bytes)", "%", 100.0, "higher"),
    Metric("rtt_p50_ms", "RTT median", "ms", 1.0, "lower"),
    Metric("rtt_p95_ms", "RTT 95th percentile", "ms", 1.0, "lower"),
    Metric("peak_utilisation", "peak link utilisation", "%", 100.0, "lower"),
    Metric("dropped_bytes", "dropped by congestion", "TB", 1e-12, "lower", 2),
    Metric("unreachable_bytes", "unreachable (no route)", "TB", 1e-12, "lower", 2),
    Metric("cost_per_month", "monthly cost", "k/month", 1e-3, "lower", unit_key="cost_currency"),
    Metric("quality_peak_p50_mbps", "peak-hour throughput p50", "Mbps", 1.0, "higher"),
    Metric("quality_peak_p10_mbps", "peak-hour throughput p10", "Mbps", 1.0, "higher"),
    Metric("quality_peak_rtt_p50_ms", "peak-hour RTT to server p50", "ms", 1.0, "lower", 2),
    Metric("quality_failure_p50_mbps", "throughput during failures p50", "Mbps", 1.0, "higher"),
    Metric("quality_failure_unreachable_share", "quality tests with no path during failures", "%", 100.0, "lower"),
    Metric("n1_worst_availability", "N-1 worst single failure: survivors' busy hour served", "%", 100.0, "higher"),
    Metric("capacity_months_to_threshold", "months until the first link passes the forecast threshold", "months", 1.0,
           "higher"),
    Metric("procurement_saving_per_month", "joint procurement saves (members' upstream line + transit)", "k/month", 1e-3,
           "higher", unit_key="cost_currency"),
    Metric("prefetch_bytes", "pushed by prefetch", "TB", 1e-12, None, 2, hide_zero=True),
    Metric("prefetch_peak_backbone_saved_bps", "backbone peak saved by prefetch", "Gbps", 1e-9, "higher"),
    Metric("prefetch_p95_backbone_saved_bps", "backbone 95th pct saved by prefetch", "Gbps", 1e-9, "higher"),
)
#: Shown even when no record has them (the core figures of every run).
#: the metrics by key
METRIC = {m.key: m for m in METRICS}
_ALWAYS = frozenset(m.key for m in METRICS[:[m.key for m in METRICS].index("cost_per_month")])


def present_metrics(records: list[dict]) -> list[Metric]:
    """The metrics to show for these summary records: the core ones always, the others (cost, quality,
    procurement, prefetch) when at least one record has a value for them (a value other than 0 for ``hide_zero``).

    Examples
    --------
    >>> keys = [m.key for m in present_metrics([{"cost_per_month": 5.0, "prefetch_bytes": 0.0}])]
    >>> "backbone_peak_bps" in keys, "cost_per_month" in keys, "prefetch_bytes" in keys
    (True, True, False)
    """
    return [m for m in METRICS if m.key in _ALWAYS or any(
        as_number(r.get(m.key)) is not None and not (m.hide_zero and as_number(r.get(m.key)) == 0) for r in records)]


def metric_label(metric: Metric, records: list[dict]) -> str:
    """The metric's label, with its unit's name (e.g. the currency) when every record that has one agrees.

    Examples
    --------
    >>> m = next(m for m in METRICS if m.key == "cost_per_month")
    >>> metric_label(m, [{"cost_currency": "USD"}, {"cost_currency": "USD"}]), metric_label(m, [{}])
    ('monthly cost (USD)', 'monthly cost')
    """
    if metric.unit_key is None:
        return metric.label
    units = {str(r[metric.unit_key]) for r in records if r.get(metric.unit_key)}
    return f"{metric.label} ({units.pop()})" if len(units) == 1 else metric.label


def as_number(v, *, finite: bool = True) -> float | None:
    """``v`` as a float, or None when it is missing, not a number, NaN (or infinite, with ``finite``).

    Examples
    --------
    >>> as_number("2.5"), as_number(None), as_number(float("inf")), as_number(float("inf"), finite=False)
    (2.5, None, None, inf)
    """
    if v is None:
        return None
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) or (finite and math.isinf(x)) else x


def format_value(metric: Metric, value) -> str:
    """``value`` (as stored in summary.json) in the metric's display unit; ``-`` when missing.

    Examples
    --------
    >>> format_value(METRIC['backbone_peak_bps'], 180.1e9)
    '180.1 Gbps'
    >>> format_value(METRIC['availability'], 0.8561)
    '85.6%'
    >>> format_value(METRIC['availability'], None)
    '-'
    """
    x = as_number(value)
    if x is None:
        return "-"
    x *= metric.scale
    if metric.is_share:
        return f"{x:.{metric.digits}f}%"
    return f"{x:,.{metric.digits}f} {metric.unit}"


def difference(metric: Metric, value, ref) -> dict | None:
    """``value - ref`` in display units, the relative change (None for shares and when ``ref`` is 0) and
    whether it is better, worse or the same; None when either is missing.

    Examples
    --------
    >>> d = difference(METRIC['backbone_peak_bps'], 90e9, 180e9)
    >>> d["delta"], d["relative"], d["tone"]
    (-90.0, -0.5, 'better')
    """
    x, r = as_number(value), as_number(ref)
    if x is None or r is None:
        return None
    delta = (x - r) * metric.scale
    rel = None if metric.is_share or r == 0 else (x - r) / abs(r)
    tol = 0.5 * 10 ** (-metric.digits)
    if abs(delta) < tol or metric.better is None:
        tone = "same" if abs(delta) < tol else ""
    else:
        tone = "better" if (delta > 0) == (metric.better == "higher") else "worse"
    return {"delta": delta, "relative": rel, "tone": tone}


def format_diff(metric: Metric, value, ref) -> str:
    """The difference of ``value`` from ``ref`` as text: percentage points for shares, unit and percent otherwise.

    Examples
    --------
    >>> format_diff(METRIC['backbone_peak_bps'], 90e9, 180e9)
    '-90.0 Gbps (-50.0%)'
    >>> format_diff(METRIC['availability_during_failures'], 0.45, 0.021)
    '+42.9 pp'
    >>> format_diff(METRIC['availability_during_failures'], 0.45, 0.45)
    '±0'
    """
    d = difference(metric, value, ref)
    if d is None:
        return "-"
    if d["tone"] == "same":
        return "±0"
    if metric.is_share:
        return f"{d['delta']:+.{metric.digits}f} pp"
    text = f"{d['delta']:+,.{metric.digits}f} {metric.unit}"
    if d["relative"] is not None:
        text += f" ({100 * d['relative']:+.1f}%)"
    return text
