"""Summary metrics of every design of one or more runs side by side, with differences from the first column."""

from __future__ import annotations

from pathlib import Path

from netsim.report.data import load_summary
from netsim.report.metrics import difference, format_diff, format_value, metric_label, present_metrics

__all__ = ["compare_runs"]


def compare_runs(out_dirs: list[str | Path]) -> dict:
    """Columns (run, scenario, design, and ``status``: what is wrong with the column's run, see
    :func:`netsim.sim.manifest.run_status`; ``partial`` when anything is) and, per metric, each column's value, text and difference from column 0.

    The core metrics are always there; cost, quality, procurement and prefetch metrics when a column has them
    (the label names the currency when all columns agree). Values are as in summary.json (bytes, bps, 0..1 shares); ``delta`` is in the metric's display unit
    (TB, Gbps, ms, percentage points), ``relative`` is (value - first) / first (None for shares).

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> recs = [{"design": "baseline", "backbone_peak_bps": 200e9}, {"design": "ix", "backbone_peak_bps": 150e9}]
    >>> _ = (d / "summary.json").write_text(json.dumps({"scenario": "s", "designs": recs}))
    >>> c = compare_runs([d])
    >>> [col["design"] for col in c["columns"]]
    ['baseline', 'ix']
    >>> m = next(m for m in c["metrics"] if m["key"] == "backbone_peak_bps")
    >>> m["text"], m["diff_text"], m["delta"]
    (['200.0 Gbps', '150.0 Gbps'], ['', '-50.0 Gbps (-25.0%)'], [None, -50.0])
    """
    if not out_dirs:
        raise ValueError("give at least one run directory")
    from netsim.sim.manifest import run_status

    columns, records = [], []
    for d in out_dirs:
        scenario, recs = load_summary(d)
        status = run_status(Path(d))
        for r in recs:
            # a column is partial when its own design was cut short, or the directory is not one complete run
            own = [x for x in status if not x.startswith("partial run: design ") or f" {r['design']} interrupted" in x]
            columns.append({"run": str(d), "scenario": scenario, "design": r["design"], "status": own,
                            "partial": bool(own)})
            records.append(r)
    metrics = []
    first = records[0]
    for m in present_metrics(records):
        diffs = [None] + [difference(m, r.get(m.key), first.get(m.key)) for r in records[1:]]
        metrics.append({
            "key": m.key, "label": metric_label(m, records), "unit": m.unit, "better": m.better,
            "values": [r.get(m.key) for r in records],
            "text": [format_value(m, r.get(m.key)) for r in records],
            "diff_text": [""] + [format_diff(m, r.get(m.key), first.get(m.key)) for r in records[1:]],
            "delta": [None if x is None else x["delta"] for x in diffs],
            "relative": [None if x is None else x["relative"] for x in diffs],
            "tone": [None if x is None else x["tone"] for x in diffs],
        })
    return {"columns": columns, "metrics": metrics}
