"""The report's figures: matplotlib drawn headless and returned as inline SVG text (no files, no network).

The ``fig_*`` functions take a loaded run (:func:`netsim.report.load_run`) and are exercised by
tests/report (they need a whole run, too long for a docstring example).

Text is written as SVG ``<text>`` (``svg.fonttype: none``), which matplotlib XML-escapes; ``$`` in
names is drawn literally. Every figure gets its own id salt so ids of several inline SVGs in one
page do not collide.
"""

from __future__ import annotations

import io
import math
import re

import numpy as np
import polars as pl

from netsim.report.data import RunOutput

__all__ = [
    "SERVED_FROM_ORDER", "design_colors", "failure_spans", "peak_bin", "to_svg",
    "fig_backbone", "fig_availability", "fig_local", "fig_rtt", "fig_served_from", "fig_map", "local_window_s",
    "rtt_window_s",
    "COST_COMPONENTS", "cost_components", "fig_cost", "hour_spans", "fig_quality_hourly", "fig_forecast",
    "push_spans", "fig_prefetch",
]

#: Where bytes were served from, nearest first (pairs.served_from), with colours: local greens, far reds.
SERVED_FROM_ORDER = {
    "own ISP": "#2e7d32",
    "own cache": "#66bb6a",
    "shared cache": "#9ccc65",
    "regional peer": "#26a69a",
    "other region": "#42a5f5",
    "core metro": "#fb8c00",
    "overseas": "#e53935",
    "no copy reachable": "#9e9e9e",
}
_NOT_DELIVERED = "#d9d9d9"
_REF_COLOR = "#555555"
_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")
_RC = {
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Liberation Sans", "Arial", "Helvetica"],
    "font.size": 9.5,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.25,
    "legend.frameon": False,
}


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _literal(text) -> str:
    return str(text).replace("$", r"\$")


def to_svg(fig, *, salt: str) -> str:
    """The figure as an ``<svg>`` element (no XML prolog, no metadata), then closed; every id in it is prefixed
    with ``salt`` (letters and digits) so several figures can share one page.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots(); _ = ax.set_title("a < b")
    >>> svg = to_svg(fig, salt="x")
    >>> svg.startswith("<svg"), "a &lt; b" in svg
    (True, True)
    """
    import matplotlib

    plt = _plt()
    buf = io.StringIO()
    try:
        with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": salt}):
            fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    finally:
        plt.close(fig)
    text = buf.getvalue()
    text = text[text.index("<svg"):].strip()
    # the RDF metadata block (creator, format) names URLs; drop it so the page references nothing outside
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, count=1, flags=re.S)
    # ids (figure_1, axes_1, clip paths...) must be unique in the page that holds several figures
    text = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{salt}-{m.group(1)}"', text)
    text = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{salt}-{m.group(1)})", text)
    return re.sub(r'href="#([^"]+)"', lambda m: f'href="#{salt}-{m.group(1)}"', text)


def design_colors(designs: list[str], reference: str) -> dict[str, str]:
    """One colour per design, the same in every figure: the reference design grey, the rest a qualitative palette.

    Examples
    --------
    >>> design_colors(["baseline", "regional_ix"], "baseline")
    {'baseline': '#555555', 'regional_ix': '#1f77b4'}
    """
    out, k = {}, 0
    for d in designs:
        if d == reference:
            out[d] = _REF_COLOR
        else:
            out[d] = _PALETTE[k % len(_PALETTE)]
            k += 1
    return out


def failure_spans(bins: pl.DataFrame, bin_s: float) -> list[tuple[float, float]]:
    """(start_s, end_s) of each run of consecutive bins with a failure active in any design.

    Examples
    --------
    >>> b = pl.DataFrame({"bin": [0, 1, 2, 3, 4], "ts_s": [0., 300., 600., 900., 1200.], "failures_active": [0, 1, 1, 0, 1]})
    >>> failure_spans(b, 300.0)
    [(300.0, 900.0), (1200.0, 1500.0)]
    """
    if bins.height == 0:
        return []
    f = (bins.group_by("bin").agg(pl.col("ts_s").min(), (pl.col("failures_active") > 0).any().alias("down"))
         .sort("bin"))
    spans: list[tuple[float, float]] = []
    prev = None
    for b, ts, down in f.select("bin", "ts_s", "down").rows():
        if down:
            if spans and prev is not None and b == prev + 1 and spans[-1][1] >= ts - 1e-9:
                spans[-1] = (spans[-1][0], ts + bin_s)
            else:
                spans.append((ts, ts + bin_s))
        prev = b
    return spans


def peak_bin(run: RunOutput) -> tuple[int, float, bool]:
    """The busiest bin of the reference design by offered traffic, outside failure windows when there are such bins:
    (bin, ts_s, whether it is inside a failure window)."""
    b = run.bins.filter(pl.col("design") == run.reference)
    if b.height == 0:
        b = run.bins
    if b.height == 0:
        return 0, 0.0, False
    calm = b.filter(pl.col("failures_active") == 0)
    pick = calm if calm.height else b
    row = pick.sort(["offered_bps", "bin"], descending=[True, False]).row(0, named=True)
    return int(row["bin"]), float(row["ts_s"]), bool(row["failures_active"] > 0)


def _time_axis(ax, span_s: float, offset_s: float = 0.0) -> None:
    """x in hours since the start, ticks at round clock times (hh:mm; ``dN`` marks later days);
    ``offset_s``: the clock time of the start (a trace of 21:00-22:00 is labelled so)."""
    minutes = max(span_s / 60.0, 1.0)
    step = next((m for m in (5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 2880, 10080) if minutes / m <= 12), 10080)
    ticks = np.arange(0.0, minutes + 1e-9, step) / 60.0
    ax.set_xticks(ticks)
    off = int(round(offset_s / 60.0))

    def label(h, _pos):
        total = int(round(h * 60)) + off
        day, rest = divmod(total, 1440)
        text = f"{rest // 60:02d}:{rest % 60:02d}"
        if day == 0 or (day == 1 and rest == 0 and minutes + off <= 1440 + 1e-6):
            return text if day == 0 else "24:00"
        return f"d{day + 1} {text}"

    ax.xaxis.set_major_formatter(label)
    ax.set_xlabel("time of day (hh:mm, from the start of the run)" if not off else "time of day (hh:mm)")
    ax.set_xlim(0, minutes / 60.0)


def _shade(ax, spans, *, label=True) -> None:
    for i, (a, b) in enumerate(spans):
        ax.axvspan(a / 3600.0, b / 3600.0, color="#e53935", alpha=0.10, lw=0,
                   label="failure window" if (label and i == 0) else None, zorder=0)


def _windows(b: pl.DataFrame, window_s: float) -> pl.DataFrame:
    """Bins summed into windows of ``window_s`` (byte columns add up; ts_s is the window's start)."""
    sums = [c for c, t in b.schema.items() if c.endswith("_bytes") and t == pl.Float64]
    return (b.with_columns((pl.col("ts_s") // window_s).cast(pl.Int64).alias("_w"))
            .group_by("_w").agg(pl.col(sums).sum(), pl.col("failures_active").max())
            .sort("_w").with_columns((pl.col("_w") * window_s).cast(pl.Float64).alias("ts_s"),
                                     pl.col("_w").alias("bin")).drop("_w"))


def _per_bin_lines(run: RunOutput, colors, *, value, ylabel: str, spans, pct=False,
                   logy=False, extra=None, window_s: float | None = None, figsize=(10.5, 3.4)):
    plt = _plt()
    with plt.rc_context(_RC):
        fig, ax = plt.subplots(figsize=figsize)
        span_s = 0.0
        drawn: list[tuple[str, np.ndarray, np.ndarray]] = []
        for d in run.designs:
            b = run.bins.filter(pl.col("design") == d).sort("bin")
            if b.height == 0:
                continue
            bin_s = float(run.record(d).get("bin_s") or (b["ts_s"][1] - b["ts_s"][0] if b.height > 1 else 1.0))
            if window_s and window_s > bin_s:
                b, bin_s = _windows(b, window_s), window_s
            x = np.append(b["ts_s"].to_numpy(), b["ts_s"][-1] + bin_s) / 3600.0
            y = value(b)
            y = np.append(y, y[-1])
            span_s = max(span_s, x[-1] * 3600.0)
            lw = 1.9 if d == run.reference else 1.5
            # a design whose series equals one already drawn would hide under it: say so, and dash it
            same = next((n for n, px, py in drawn if len(px) == len(x) and np.array_equal(px, x)
                         and np.allclose(py, y, rtol=1e-9, atol=1e-12, equal_nan=True)), None)
            label = _literal(d) if same is None else f"{_literal(d)} (same as {_literal(same)})"
            ax.step(x, y, where="post", color=colors[d], lw=lw, label=label,
                    linestyle="-" if same is None else (0, (4, 3)))
            drawn.append((d, x, y))
            if extra is not None:
                extra(ax, b, x, colors[d], d)
        _shade(ax, spans)
        _time_axis(ax, span_s or 3600.0, run.start_s)
        ax.set_ylabel(ylabel)
        if pct:
            ax.yaxis.set_major_formatter(lambda v, _p: f"{v:.0f}%")
        if logy:
            from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

            ax.set_yscale("log")
            ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:g}"))
            ax.yaxis.set_minor_formatter(NullFormatter())
        else:
            ax.set_ylim(bottom=0)
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=9)
        return fig


def fig_backbone(run: RunOutput, colors, spans) -> str:
    """Backbone load (Gbps) per bin, one line per design, failure windows shaded."""
    fig = _per_bin_lines(run, colors, value=lambda b: b["backbone_bps"].to_numpy() / 1e9,
                         ylabel="backbone load (Gbps)", spans=spans)
    return to_svg(fig, salt="backbone")


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def fig_availability(run: RunOutput, colors, spans) -> str:
    """Delivered / offered (%) per bin per design."""
    fig = _per_bin_lines(
        run, colors, pct=True, spans=spans,
        value=lambda b: 100.0 * _ratio(b["delivered_bytes"].to_numpy(), b["offered_bytes"].to_numpy()),
        ylabel="delivered / offered (%)")
    fig.axes[0].set_ylim(0, 105)
    return to_svg(fig, salt="availability")


def local_window_s(run: RunOutput) -> float | None:
    """Local turnaround is drawn per hour when the run has 5-minute-like bins and lasts 4 h or more (per bin it is
    noisy: few same-region bytes in a bin); None = per bin."""
    if run.bins.height == 0:
        return None
    bin_s = float(run.summary[0].get("bin_s") or 0.0)
    span = float(run.bins["ts_s"].max()) + bin_s
    return 3600.0 if 0 < bin_s < 3600.0 and span >= 4 * 3600.0 else None


def fig_local(run: RunOutput, colors, spans) -> str:
    """Local turnaround (%) per bin (or per hour, see :func:`local_window_s`) per design."""
    fig = _per_bin_lines(
        run, colors, pct=True, spans=spans,
        value=lambda b: 100.0 * _ratio(b["local_bytes"].to_numpy(), b["same_region_bytes"].to_numpy()),
        ylabel="kept inside the region (%)", window_s=local_window_s(run))
    fig.axes[0].set_ylim(0, 105)
    return to_svg(fig, salt="local")


#: colours of the RTT classes (netsim.sim.record.RTT_CLASS_COLUMNS), near greens to overseas red
_RTT_COLORS = ("#2e7d32", "#9ccc65", "#fdd835", "#fb8c00", "#e53935")


def rtt_window_s(run: RunOutput) -> float | None:
    """The RTT classes are drawn per hour when the run has bins shorter than an hour and lasts 2 h or more;
    None = per bin."""
    if run.bins.height == 0:
        return None
    bin_s = float(run.summary[0].get("bin_s") or 0.0)
    span = float(run.bins["ts_s"].max()) + bin_s
    return 3600.0 if 0 < bin_s < 3600.0 and span >= 2 * 3600.0 else None


def fig_rtt(run: RunOutput, colors, spans) -> str:
    """Where the delivered bytes' round-trip times fall, per hour (or per bin, see :func:`rtt_window_s`): one
    panel per design, the share of the offered bytes delivered in each RTT class, and not delivered, stacked
    to 100 %, failure windows outlined. The RTT distribution is bimodal (local copies at about 1 ms, overseas origins above 100 ms), so a
    per-bin 95th percentile jumps between the two modes whenever the overseas share crosses 5 %; the class
    shares move smoothly with it. A run written before the classes were recorded gets the per-bin median and
    95th percentile lines instead."""
    from netsim.sim.record import RTT_CLASS_COLUMNS, RTT_CLASS_LABELS

    if not set(RTT_CLASS_COLUMNS) <= set(run.bins.columns):
        return _fig_rtt_lines(run, colors, spans)
    plt = _plt()
    designs = [d for d in run.designs if run.bins.filter(pl.col("design") == d).height]
    window = rtt_window_s(run)
    with plt.rc_context(_RC):
        n = max(len(designs), 1)
        fig, axes = plt.subplots(n, 1, figsize=(10.5, 1.15 + 1.35 * n), sharex=True, squeeze=False)
        span_s = 0.0
        drawn: list[tuple[str, np.ndarray]] = []
        for ax, d in zip(axes[:, 0], designs):
            b = run.bins.filter(pl.col("design") == d).sort("bin")
            bin_s = float(run.record(d).get("bin_s") or (b["ts_s"][1] - b["ts_s"][0] if b.height > 1 else 1.0))
            if window and window > bin_s:
                b, bin_s = _windows(b, window), window
            x = np.append(b["ts_s"].to_numpy(), b["ts_s"][-1] + bin_s) / 3600.0
            span_s = max(span_s, x[-1] * 3600.0)
            parts = np.vstack([b[c].to_numpy() for c in RTT_CLASS_COLUMNS])
            offered = b["offered_bytes"].to_numpy()
            # of the offered bytes, so a failure shows as bytes not delivered, not as a better RTT mix
            parts = np.vstack([parts, np.maximum(offered - parts.sum(axis=0), 0.0)])
            share = 100.0 * parts / np.where(offered > 0, offered, np.nan)
            share = np.nan_to_num(share, nan=0.0)
            share = np.hstack([share, share[:, -1:]])
            ax.stackplot(x, share, colors=(*_RTT_COLORS, _NOT_DELIVERED), step="post", lw=0,
                         labels=[f"RTT {lab}" for lab in RTT_CLASS_LABELS] + ["not delivered"])
            same = next((o for o, sh in drawn if sh.shape == share.shape and np.allclose(sh, share, atol=1e-9)), None)
            drawn.append((d, share))
            title = _literal(d) + ("" if same is None else f" (same as {_literal(same)})")
            ax.set_title(title, loc="left", fontsize=9.5, color=colors.get(d, "#333"))
            ax.set_ylim(0, 100)
            ax.set_yticks([0, 50, 100])
            ax.yaxis.set_major_formatter(lambda v, _p: f"{v:.0f}%")
            ax.grid(False)
            _shade(ax, spans, label=False)
            for a, e in spans:  # the shading lies under the stack: outline the failure windows on top
                ax.axvline(a / 3600.0, color="#b71c1c", lw=1.0, ls=":")
                ax.axvline(e / 3600.0, color="#b71c1c", lw=1.0, ls=":")
        _time_axis(axes[-1, 0], span_s or 3600.0, run.start_s)
        fig.supylabel("share of offered bytes", fontsize=9.5)
        h, lab = axes[0, 0].get_legend_handles_labels()
        h, lab = h[::-1], lab[::-1]   # as stacked: the far classes on top
        if spans:
            from matplotlib.lines import Line2D

            h.append(Line2D([0], [0], color="#b71c1c", lw=1.0, ls=":"))
            lab.append("failure window")
        axes[0, 0].legend(h, lab, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=9)
        fig.tight_layout()
        return to_svg(fig, salt="rtt")


def _fig_rtt_lines(run: RunOutput, colors, spans) -> str:
    """Byte-weighted RTT per bin: median (solid) and 95th percentile (dashed), log scale (runs without RTT classes)."""

    def p95(ax, b, x, color, d):
        y = b["rtt_p95_ms"].to_numpy()
        ax.step(x, np.append(y, y[-1]), where="post", color=color, lw=1.2, ls="--", alpha=0.9)

    fig = _per_bin_lines(run, colors, value=lambda b: b["rtt_p50_ms"].to_numpy(), extra=p95, spans=spans, logy=True,
                         ylabel="round-trip time (ms, log scale)")
    ax = fig.axes[0]
    from matplotlib.lines import Line2D

    h, lab = ax.get_legend_handles_labels()
    h += [Line2D([0], [0], color="#333", lw=1.8), Line2D([0], [0], color="#333", lw=1.2, ls="--")]
    lab += ["median", "95th percentile"]
    ax.legend(h, lab, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=9, frameon=False)
    return to_svg(fig, salt="rtt")


def served_from_table(run: RunOutput, *, failures_only: bool) -> pl.DataFrame:
    """Per design and served_from: offered and delivered bytes (all bins, or the bins with a failure active)."""
    p = run.pairs
    if failures_only:
        down = run.bins.filter(pl.col("failures_active") > 0).select("design", "bin")
        p = p.join(down, on=["design", "bin"], how="inner")
    return (p.group_by("design", "served_from").agg(pl.col("offered_bytes").sum(), pl.col("delivered_bytes").sum())
            .sort("design", "served_from"))


def fig_served_from(run: RunOutput, spans) -> str:
    """Stacked bars per design: delivered bytes by where they were served from, and what was not delivered, as a share
    of offered bytes; a second panel for the failure windows when there are any."""
    plt = _plt()
    panels = [("Whole run", served_from_table(run, failures_only=False))]
    if spans:
        panels.append(("During failure windows", served_from_table(run, failures_only=True)))
    cats = list(SERVED_FROM_ORDER)
    extra = sorted(set(run.pairs["served_from"].unique().to_list()) - set(cats)) if run.pairs.height else []
    cats += extra
    colors = dict(SERVED_FROM_ORDER)
    for i, c in enumerate(extra):
        colors[c] = ("#8d6e63", "#bdbdbd", "#7e57c2", "#f06292")[i % 4]
    designs = run.designs
    with plt.rc_context(_RC):
        fig, axes = plt.subplots(1, len(panels), figsize=(5.6 * len(panels) + 1.6, 0.55 * len(designs) + 1.6),
                                 sharey=True, squeeze=False)
        used = set()
        for ax, (title, t) in zip(axes[0], panels):
            ys = np.arange(len(designs))[::-1]
            for y, d in zip(ys, designs):
                rows = {r["served_from"]: r for r in t.filter(pl.col("design") == d).iter_rows(named=True)}
                offered = sum(r["offered_bytes"] for r in rows.values())
                left = 0.0
                if offered <= 0:
                    ax.text(1, y, "no traffic", va="center", fontsize=8, color="#666")
                    continue
                for c in cats:
                    if c not in rows:
                        continue
                    w = 100.0 * rows[c]["delivered_bytes"] / offered
                    if w <= 0:
                        continue
                    ax.barh(y, w, left=left, color=colors[c], height=0.62, edgecolor="white", lw=0.6,
                            label=_literal(c) if c not in used else None)
                    used.add(c)
                    if w >= 6:
                        ax.text(left + w / 2, y, f"{w:.0f}%", ha="center", va="center", fontsize=8, color="white",
                                fontweight="bold")
                    left += w
                lost = 100.0 - left
                if lost > 0.05:
                    ax.barh(y, lost, left=left, color=_NOT_DELIVERED, height=0.62, edgecolor="white", lw=0.6,
                            hatch="///", label="not delivered" if "_lost" not in used else None)
                    used.add("_lost")
                    if lost >= 6:
                        ax.text(left + lost / 2, y, f"{lost:.0f}%", ha="center", va="center", fontsize=8, color="#333")
            ax.set_yticks(ys)
            ax.set_yticklabels([_literal(d) for d in designs])
            ax.set_xlim(0, 100)
            ax.xaxis.set_major_formatter(lambda v, _p: f"{v:.0f}%")
            ax.set_xlabel("share of offered bytes (%)")
            ax.set_title(title, loc="left")
            ax.grid(axis="y", visible=False)
        h, lab = axes[0][0].get_legend_handles_labels()
        for a in axes[0][1:]:
            for hh, ll in zip(*a.get_legend_handles_labels()):
                if ll not in lab:
                    h.append(hh)
                    lab.append(ll)
        order = {c: i for i, c in enumerate([_literal(c) for c in cats] + ["not delivered"])}
        pairs = sorted(zip(h, lab), key=lambda p: order.get(p[1], 99))
        fig.legend([p[0] for p in pairs], [p[1] for p in pairs], loc="lower center", ncol=min(8, len(pairs)),
                   bbox_to_anchor=(0.5, -0.02), fontsize=8.5)
        fig.tight_layout(rect=(0, 0.1, 1, 1))
    return to_svg(fig, salt="servedfrom")


def link_utilisation(run: RunOutput, design: str, b: int) -> dict:
    """(src, dst) -> utilisation of a design's links in bin ``b`` (links without load are absent)."""
    t = run.links.filter((pl.col("design") == design) & (pl.col("bin") == b))
    return {(s, d): float(u) for s, d, u in t.select("src", "dst", "utilisation").rows()}


def fig_map(run: RunOutput, design: str, b: int, *, when: str, index: int) -> str | None:
    """The design's topology on lon/lat with links coloured by utilisation in bin ``b``; None without a topology."""
    from netsim.topology.plot import draw_topology

    g = run.topology(design)
    if g is None:
        return None
    plt = _plt()
    with plt.rc_context({**_RC, "axes.grid": False}):
        fig, ax = plt.subplots(figsize=(6.4, 6.6))
        draw_topology(g, ax=ax, edge_values=link_utilisation(run, design, b), title=f"{design} — {when}",
                      edge_label="link utilisation (busier direction)")
        ax.set_xlabel("longitude (°E)")
        ax.set_ylabel("latitude (°N)")
        fig.tight_layout()
    return to_svg(fig, salt=f"map{index}")


# --------------------------------------------------------------------------------------------- cost, quality, forecast, prefetch

#: Monthly cost components (cost.parquet columns) in stacking order, with labels and colours.
COST_COMPONENTS = {
    "line": ("lines", "#5c6bc0"),
    "ix_port": ("IX ports", "#26a69a"),
    "cache_site": ("cache sites", "#9ccc65"),
    "transit": ("transit (95th percentile)", "#ef6c00"),
    "shared": ("shared (aggregated ISP)", "#8d6e63"),
}
_EXTRA_COLORS = ("#bdbdbd", "#7e57c2", "#f06292", "#78909c")
_ISP_COLORS = ("#3949ab", "#00897b", "#f4511e", "#8e24aa", "#c0ca33", "#6d4c41", "#d81b60", "#546e7a")


def cost_components(cost: pl.DataFrame) -> list[str]:
    """The component columns of a cost table in stacking order: the known ones first, then any other numeric
    column (not ``asn``/``total``), sorted.

    Examples
    --------
    >>> cost_components(pl.DataFrame({"design": ["d"], "asn": [1], "name": ["a"], "transit": [2.0], "line": [1.0],
    ...                               "power": [0.5], "total": [3.5]}))
    ['line', 'transit', 'power']
    """
    known = [c for c in COST_COMPONENTS if c in cost.columns]
    other = sorted(c for c, t in cost.schema.items()
                   if c not in COST_COMPONENTS and c not in ("design", "asn", "name", "total") and t.is_numeric())
    return known + other


def fig_cost(cost: pl.DataFrame, designs: list[str], currency: str) -> str:
    """Stacked horizontal bars: each design's monthly cost (all members) by component, total at the bar's end."""
    plt = _plt()
    comps = cost_components(cost)
    colors = {c: COST_COMPONENTS[c][1] if c in COST_COMPONENTS else _EXTRA_COLORS[i % len(_EXTRA_COLORS)]
              for i, c in enumerate(comps)}
    labels = {c: COST_COMPONENTS[c][0] if c in COST_COMPONENTS else c for c in comps}
    sums = cost.group_by("design").agg(pl.col(comps + ["total"]).sum())
    by = {r["design"]: r for r in sums.iter_rows(named=True)}
    top = max([float(r["total"]) for r in by.values()] + [1.0])
    with plt.rc_context(_RC):
        fig, ax = plt.subplots(figsize=(10.5, 0.55 * len(designs) + 1.5))
        ys = np.arange(len(designs))[::-1]
        used = set()
        for y, d in zip(ys, designs):
            r = by.get(d)
            if r is None:
                ax.text(0, y, " no cost table for this design", va="center", fontsize=8, color="#666")
                continue
            left = 0.0
            for c in comps:
                w = float(r[c] or 0.0) / 1e3
                if w <= 0:
                    continue
                ax.barh(y, w, left=left, color=colors[c], height=0.62, edgecolor="white", lw=0.6,
                        label=_literal(labels[c]) if c not in used else None)
                used.add(c)
                if w >= 0.08 * top / 1e3:
                    ax.text(left + w / 2, y, f"{w:,.0f}", ha="center", va="center", fontsize=8, color="white",
                            fontweight="bold")
                left += w
            ax.text(float(r["total"]) / 1e3 + 0.01 * top / 1e3, y, f"{float(r['total']) / 1e3:,.1f}k", va="center",
                    fontsize=8.5, fontweight="bold")
        ax.set_yticks(ys)
        ax.set_yticklabels([_literal(d) for d in designs])
        ax.set_xlim(0, 1.12 * top / 1e3)
        ax.set_xlabel(_literal(f"monthly cost, all members (thousand {currency} per month)"))
        ax.grid(axis="y", visible=False)
        order = {_literal(labels[c]): i for i, c in enumerate(comps)}
        pairs = sorted(zip(*ax.get_legend_handles_labels()), key=lambda p: order.get(p[1], 99))
        ax.legend([p[0] for p in pairs], [p[1] for p in pairs], loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=9)
    return to_svg(fig, salt="cost")


def hour_spans(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Failure spans (seconds from the start) folded onto one day, in seconds of the day (split at midnight).

    Examples
    --------
    >>> hour_spans([(72000.0, 79200.0), (84600.0, 88200.0)])
    [(72000.0, 79200.0), (84600.0, 86400.0), (0.0, 1800.0)]
    """
    out = []
    for a, b in spans:
        if b - a >= 86400.0:
            return [(0.0, 86400.0)]
        a0 = a % 86400.0
        b0 = a0 + (b - a)
        if b0 <= 86400.0:
            out.append((a0, b0))
        else:
            out += [(a0, 86400.0), (0.0, b0 - 86400.0)]
    return out


def fig_quality_hourly(hourly: pl.DataFrame, designs: list[str], spans, *, max_isps: int = 8) -> str:
    """One panel per design: each access ISP's median (solid) and 10th-percentile (dashed) measured throughput per
    hour of the day; failure windows (folded onto the day) shaded."""
    plt = _plt()
    shown = [d for d in designs if hourly.filter(pl.col("design") == d).height]
    isps = (hourly.select("asn", "name").unique().sort("asn").head(max_isps))
    isp_color = {a: _ISP_COLORS[i % len(_ISP_COLORS)] for i, a in enumerate(isps["asn"].to_list())}
    ncol = 2 if len(shown) > 1 else 1
    nrow = max(1, math.ceil(len(shown) / ncol))
    top = hourly.select(pl.max_horizontal("throughput_p50_mbps", "throughput_p10_mbps").fill_nan(None)).max().item()
    top = float(top) if top is not None and math.isfinite(top) and top > 0 else 1.0
    with plt.rc_context(_RC):
        fig, axes = plt.subplots(nrow, ncol, figsize=(5.4 * ncol + 2.2, 2.9 * nrow), sharey=True, squeeze=False)
        for k, ax in enumerate(axes.flat):
            if k >= len(shown):
                ax.set_visible(False)
                continue
            d = shown[k]
            part = hourly.filter(pl.col("design") == d)
            for asn, name in isps.rows():
                h = part.filter(pl.col("asn") == asn).sort("hour")
                if h.height == 0:
                    continue
                x = np.append(h["hour"].to_numpy().astype(float), h["hour"][-1] + 1.0)
                for col, ls, lw in (("throughput_p50_mbps", "-", 1.6), ("throughput_p10_mbps", "--", 1.1)):
                    y = h[col].to_numpy()
                    ax.step(x, np.append(y, y[-1]), where="post", color=isp_color[asn], ls=ls, lw=lw,
                            label=_literal(name) if ls == "-" else None)
            _shade(ax, hour_spans(spans), label=k == 0)
            _time_axis(ax, 86400.0)
            ax.set_xlabel("hour of day" if k >= len(shown) - ncol else "")
            ax.set_title(_literal(d), loc="left")
            ax.set_ylim(0, 1.08 * top)
            if k % ncol == 0:
                ax.set_ylabel("throughput (Mbps)")
        from matplotlib.lines import Line2D

        h, lab = axes[0][0].get_legend_handles_labels()
        h += [Line2D([0], [0], color="#333", lw=1.6), Line2D([0], [0], color="#333", lw=1.1, ls="--")]
        lab += ["median", "10th percentile"]
        fig.legend(h, lab, loc="upper left", bbox_to_anchor=(1.0, 0.98), fontsize=8.5, frameon=False)
        fig.tight_layout()
    return to_svg(fig, salt="quality")


def _daily_peaks(f: pl.DataFrame, cols: list[str]) -> pl.DataFrame:
    return (f.with_columns(pl.col("timestamp").dt.truncate("1d").alias("_day")).group_by("_day")
            .agg(pl.col(cols).max()).sort("_day").rename({"_day": "timestamp"}))


def fig_forecast(history: pl.DataFrame, forecast: pl.DataFrame, series: list[str], *,
                 capacity_gbps: dict[str, float], threshold: float) -> str:
    """History and forecast (mean, 80 % and 95 % bands) of a few series, one panel each, in Gbps; capacity ×
    threshold dashed where known. Spans longer than two weeks are drawn as daily peaks."""
    plt = _plt()
    ncol = 2 if len(series) > 1 else 1
    nrow = math.ceil(len(series) / ncol)
    span = forecast["timestamp"].max() - history["timestamp"].min() if history.height and forecast.height else None
    daily = span is not None and span.total_seconds() > 14 * 86400
    with plt.rc_context(_RC):
        fig, axes = plt.subplots(nrow, ncol, figsize=(5.6 * ncol + 0.6, 2.9 * nrow), squeeze=False)
        for k, ax in enumerate(axes.flat):
            if k >= len(series):
                ax.set_visible(False)
                continue
            s = series[k]
            h = history.filter(pl.col("series") == s).sort("timestamp")
            f = forecast.filter(pl.col("series") == s).sort("timestamp")
            if daily:
                h, f = _daily_peaks(h, ["bps"]), _daily_peaks(f, ["bps", "lo80", "hi80", "lo95", "hi95"])
            fx = f["timestamp"].to_numpy()
            ax.fill_between(fx, f["lo95"].to_numpy() / 1e9, f["hi95"].to_numpy() / 1e9, color="#0b5cad", alpha=0.13,
                            lw=0, label="95% interval")
            ax.fill_between(fx, f["lo80"].to_numpy() / 1e9, f["hi80"].to_numpy() / 1e9, color="#0b5cad", alpha=0.25,
                            lw=0, label="80% interval")
            ax.plot(h["timestamp"].to_numpy(), h["bps"].to_numpy() / 1e9, color="#333333", lw=1.0, label="history")
            ax.plot(fx, f["bps"].to_numpy() / 1e9, color="#0b5cad", lw=1.3, label="forecast")
            cap = capacity_gbps.get(s)
            if cap:
                ax.axhline(cap * threshold, color="#b3261e", ls="--", lw=1.1,
                           label=f"{100 * threshold:.0f}% of capacity")
            ax.set_title(_literal(s), loc="left", fontsize=9.5)
            ax.set_ylim(bottom=0)
            ax.set_ylabel("daily peak (Gbps)" if daily else "Gbps")
            import matplotlib.dates as mdates

            loc = mdates.AutoDateLocator(maxticks=6)
            ax.xaxis.set_major_locator(loc)
            ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))
        h, lab = [], []
        for ax in axes.flat:
            for hh, ll in zip(*ax.get_legend_handles_labels()):
                if ll not in lab:
                    h.append(hh)
                    lab.append(ll)
        fig.legend(h, lab, loc="lower center", ncol=len(lab), bbox_to_anchor=(0.5, -0.02), fontsize=8.5, frameon=False)
        fig.tight_layout(rect=(0, 0.07, 1, 1))
    return to_svg(fig, salt="forecast")


def push_spans(bins: pl.DataFrame, design: str, bin_s: float) -> list[tuple[float, float]]:
    """(start_s, end_s) of each run of consecutive bins in which ``design`` pushed prefetch bytes.

    Examples
    --------
    >>> b = pl.DataFrame({"design": "p", "bin": [0, 1, 2, 3], "ts_s": [0., 300., 600., 900.],
    ...                   "prefetch_bytes": [0., 5e9, 5e9, 0.]})
    >>> push_spans(b, "p", 300.0)
    [(300.0, 900.0)]
    """
    if "prefetch_bytes" not in bins.columns:
        return []
    b = (bins.filter(pl.col("design") == design)
         .select("bin", "ts_s", (pl.col("prefetch_bytes").fill_null(0.0) > 0).cast(pl.Int64).alias("failures_active")))
    return failure_spans(b, bin_s)


def fig_prefetch(run: RunOutput, design: str, without: str | None, colors, spans, *, index: int) -> str:
    """Backbone load of a prefetch design and of the same design without prefetch, the pushed traffic as an area,
    push windows shaded blue (failure windows red)."""
    plt = _plt()
    bin_s = float(run.record(design).get("bin_s") or 300.0)
    with plt.rc_context(_RC):
        fig, ax = plt.subplots(figsize=(10.5, 3.2))
        span_s = 0.0
        for d in [x for x in (without, design) if x is not None]:
            b = run.bins.filter(pl.col("design") == d).sort("bin")
            if b.height == 0:
                continue
            x = np.append(b["ts_s"].to_numpy(), b["ts_s"][-1] + bin_s) / 3600.0
            y = b["backbone_bps"].to_numpy() / 1e9
            span_s = max(span_s, x[-1] * 3600.0)
            ax.step(x, np.append(y, y[-1]), where="post", color=colors[d], lw=1.7 if d == design else 1.4,
                    ls="-" if d == design else (0, (4, 2)), label=_literal(d))
            if d == design and "prefetch_bytes" in b.columns:
                p = b["prefetch_bytes"].fill_null(0.0).to_numpy() * 8 / bin_s / 1e9
                ax.fill_between(x, np.append(p, p[-1]), step="post", color="#0b5cad", alpha=0.35, lw=0,
                                label="pushed by prefetch")
        for i, (a, e) in enumerate(push_spans(run.bins, design, bin_s)):
            ax.axvspan(a / 3600.0, e / 3600.0, color="#0b5cad", alpha=0.08, lw=0, zorder=0,
                       label="push window" if i == 0 else None)
        _shade(ax, spans)
        _time_axis(ax, span_s or 3600.0, run.start_s)
        ax.set_ylabel("backbone load (Gbps)")
        ax.set_ylim(bottom=0)
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=9)
    return to_svg(fig, salt=f"prefetch{index}")
