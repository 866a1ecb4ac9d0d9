"""The summary record of a design run (what summary.json and ``netsim compare`` show)."""

from __future__ import annotations


import numpy as np
import polars as pl

from netsim.stats import finite_or_none, group_sums, percentile_95, weighted_quantile

__all__ = ["summarize_run"]


def _share(num: float, den: float):
    return float(num) / float(den) if den else None


def summarize_run(run, tables: dict[str, pl.DataFrame]) -> dict:
    """Totals, availability (overall and during failure windows, per service and per region), backbone
    peak and 95th percentile, local turnaround, cache ratios, byte-weighted RTT percentiles (each defined
    once in docs/metrics.md: backbone = delivered bytes crossing a backbone link, once per byte), and the
    off-peak pushes of a ``prefetch`` design (``prefetch_bytes``: full-scale bytes scheduled in the run's
    bins; ``prefetch_objects``: objects pushed, in the sampled trace)."""
    bins, services, caches = tables["bins"], tables["services"], tables["caches"]
    off, dlv = float(bins["offered_bytes"].sum()), float(bins["delivered_bytes"].sum())
    fail = bins.filter(pl.col("failures_active") > 0)
    svc_fail = services.filter(pl.col("failures_active") > 0)
    bb = bins["backbone_bps"].to_numpy()
    rtt = np.concatenate([r for r, _ in run.rtt_samples]) if run.rtt_samples else np.zeros(0)
    w = np.concatenate([x for _, x in run.rtt_samples]) if run.rtt_samples else np.zeros(0)

    def availability_by(frame: pl.DataFrame, col: str, prefix: str = "") -> dict:
        if frame.height == 0:
            return {}
        o_col, d_col = f"{prefix}offered_bytes", f"{prefix}delivered_bytes"
        agg = group_sums(frame, [col], [o_col, d_col])
        return {k: _share(d, o) for k, o, d in agg.select(col, o_col, d_col).rows()}

    out = {
        "design": run.design,
        "bins": bins.height,
        "bin_s": run.bin_s,
        "offered_bytes": off,
        "delivered_bytes": dlv,
        "dropped_bytes": float(bins["dropped_bytes"].sum()),
        "unreachable_bytes": float(bins["unreachable_bytes"].sum()),
        "availability": _share(dlv, off),
        "failure_bins": fail.height,
        "availability_during_failures": _share(fail["delivered_bytes"].sum(), fail["offered_bytes"].sum()) if fail.height else None,
        # the same over survivors: subscribers whose own PoP is up (the dark metro's own cannot be served by any design)
        "availability_survivors": _share(bins["survivor_delivered_bytes"].sum(), bins["survivor_offered_bytes"].sum()),
        "availability_during_failures_survivors": _share(fail["survivor_delivered_bytes"].sum(),
                                                         fail["survivor_offered_bytes"].sum()) if fail.height else None,
        "availability_during_failures_by_service": availability_by(svc_fail, "service"),
        "availability_during_failures_by_region": availability_by(svc_fail, "region"),
        "availability_by_region": availability_by(services, "region"),
        "availability_survivors_by_region": availability_by(services, "region", "survivor_"),
        "backbone_peak_bps": float(bb.max()) if len(bb) else 0.0,
        "backbone_p95_bps": percentile_95(bb) if len(bb) else 0.0,
        "backbone_mean_bps": float(bb.mean()) if len(bb) else 0.0,
        "backbone_bytes": float((bins["backbone_bps"] * run.bin_s / 8).sum()),
        "backbone_in_bytes": float((bins["backbone_in_bps"] * run.bin_s / 8).sum()),
        "backbone_out_bytes": float((bins["backbone_out_bps"] * run.bin_s / 8).sum()),
        # local turnaround: of the offered bytes whose sender and client share a region, the share delivered on
        # paths that never leave it (undelivered bytes lower it: a failure cannot raise it by removing traffic)
        "local_turnaround": _share(bins["local_bytes"].sum(), bins["same_region_bytes"].sum()),
        "cache_requests": int(caches["requests"].sum()) if caches.height else 0,
        "cache_hits": int(caches["hits"].sum()) if caches.height else 0,
        "cache_hit_ratio": _share(caches["hits"].sum(), caches["requests"].sum()) if caches.height else None,
        "cache_byte_hit_ratio": _share(bins["cache_bytes_hit"].sum(), bins["cache_bytes_requested"].sum()),
        # whole-mix offload: of all content bytes requested (cacheable or not), the share a cache sent
        "cache_offload": _share(bins["cache_served_bytes"].sum(), bins["content_bytes"].sum()),
        "rtt_p50_ms": weighted_quantile(rtt, w, 0.5) if len(rtt) else None,
        "rtt_p95_ms": weighted_quantile(rtt, w, 0.95) if len(rtt) else None,
        "peak_utilisation": float(bins["max_utilisation"].max()) if bins.height else 0.0,
        # off-peak pushes (the prefetch transform): not subscriber traffic, so not in offered/delivered
        "prefetch_bytes": float(bins["prefetch_bytes"].sum()),
        "prefetch_delivered_bytes": float(bins["prefetch_delivered_bytes"].sum()),
        "prefetch_objects": int(run.prefetch.objects) if run.prefetch is not None else 0,
    }
    return finite_or_none(out)
