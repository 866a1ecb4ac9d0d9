"""``netsim trace``: generate synthetic traces and summarise trace files."""

from __future__ import annotations

import inspect
import math
import re
from pathlib import Path

import polars as pl
import typer
from rich.console import Console
from rich.table import Table

from netsim.errors import InputError

__all__ = ["trace_app", "parse_duration", "summarize_trace"]

trace_app = typer.Typer(help="Generate synthetic traffic traces and summarise trace files.", no_args_is_help=True)

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str, *, what: str = "--duration") -> float:
    """Seconds in a duration such as ``90``, ``30m``, ``6h``, ``1d``, ``1d12h``.

    Examples
    --------
    >>> parse_duration("1d12h"), parse_duration("90")
    (129600.0, 90.0)
    """
    t = str(text).strip().lower()
    try:
        return float(t)
    except ValueError:
        pass
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*([smhdw])", t)
    if not parts or re.sub(r"(\d+(?:\.\d+)?)\s*([smhdw])", "", t).strip():
        raise InputError(f"bad duration {text!r}; expected e.g. 3600, 30m, 6h, 1d, 1d12h", where=what)
    return float(sum(float(v) * _UNITS[u] for v, u in parts))


def _parse_when(text: str, what: str) -> float:
    """A time in the trace: ``HH:MM`` on day 0, ``D/HH:MM`` on day D, or a duration (``30h``)."""
    m = re.fullmatch(r"(?:(\d+)/)?(\d{1,2}):(\d{2})", text.strip())
    if m:
        day, hh, mm = int(m.group(1) or 0), int(m.group(2)), int(m.group(3))
        if hh > 23 or mm > 59:
            raise InputError(f"bad time {text!r}; expected HH:MM", where=what)
        return day * 86400.0 + hh * 3600.0 + mm * 60.0
    return parse_duration(text, what=what)


def _flash_crowd(spec: str):
    from netsim.traffic.generators import FlashCrowd

    region, sep, when = spec.partition("@")
    if not sep or not region:
        raise InputError(f"bad flash crowd {spec!r}; expected REGION@HH:MM (e.g. kenoh@21:00)", where="--flash-crowd")
    return FlashCrowd(region=region, start_s=_parse_when(when, "--flash-crowd"))


def _weights(items: list[str]) -> dict[str, float]:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            if not sep or not name:
                raise ValueError
            out[name.strip()] = float(value)
        except ValueError:
            raise InputError(f"expected NAME=WEIGHT (e.g. overseas-video=0.18), found {item!r}", where="--provider-weight") from None
    return out


@trace_app.command("gen")
def gen(
    topology: str = typer.Option(..., "--topology", "-t",
        help="Topology file or shipped name (tochigi, japan, examples/two_as)."),
    output: Path = typer.Option(..., "-o", "--output", help="Trace file to write (.parquet or .csv)."),
    duration: str = typer.Option("1d", "--duration", "-d", help="Length: 3600, 30m, 6h, 1d, 1w."),
    seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same trace)."),
    generator: str = typer.Option("mixed", "--generator", "-g",
        help="Generator: mixed (requests + flows), content, gravity."),
    sample_rate: float = typer.Option(1e-3, "--sample-rate", "-p",
        help="Spatial sample rate p; the trace stands for 1/p times its bytes."),
    start_weekday: int = typer.Option(0, "--start-weekday", help="Weekday of ts 0: 0 = Monday .. 6 = Sunday."),
    start_hour: float = typer.Option(0.0, "--start-hour",
        help="Hour of day (JST) of ts 0, e.g. 21 for a trace of the evening peak."),
    zipf_alpha: float = typer.Option(None, "--zipf-alpha", help="Zipf popularity exponent (default 0.8)."),
    local_affinity: float = typer.Option(None, "--local-affinity",
        help="Share of flows that stay in their region (default 0.3)."),
    flow_share: float = typer.Option(None, "--flow-share", help="mixed: share of bytes in flows (default 0.1)."),
    mbps_per_subscriber: float = typer.Option(None, "--mbps-per-subscriber",
        help="Mean download per subscription (default 0.89, MIC 2024)."),
    year: int = typer.Option(None, "--year", help="Year of the demand (grown from 2024 by --growth)."),
    growth: float = typer.Option(None, "--growth", help="Yearly growth (default 0.25; MIC: 0.2-0.4)."),
    surge: bool = typer.Option(False, "--surge",
        help="Stay-at-home surge over the whole trace (weekday daytime +40%, night +10%)."),
    flash_crowd: list[str] = typer.Option([], "--flash-crowd",
        help="REGION@HH:MM (or D/HH:MM): one object requested by 30% of a region. Repeatable."),
    compression: str = typer.Option("zstd", "--compression",
        help="Parquet compression: zstd (smallest), lz4 (faster reads), snappy, none."),
    provider_weight: list[str] = typer.Option([], "--provider-weight",
        help="NAME=W: relative weight of a provider within its service (default 1 each). Repeatable."),
    update_day: list[str] = typer.Option([], "--update-day",
        help="HH:MM (or D/HH:MM): a 5 GB software update released then. Repeatable."),
) -> None:
    """Generate a synthetic trace from a topology (deterministic given --seed), with a progress bar."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from netsim.topology import load_topology
    from netsim.traffic.generators import GENERATORS, Surge, UpdateDay

    try:
        fn = GENERATORS[generator]
    except KeyError as e:
        raise InputError(e.args[0], where="--generator") from None
    if output.suffix.lower() not in (".parquet", ".csv"):
        raise InputError(f"unknown trace file extension {output.suffix!r}; expected .parquet or .csv", source=str(output),
                         where="--output")
    g = load_topology(topology)
    opts = {"duration_s": parse_duration(duration), "seed": seed, "sample_rate": sample_rate, "start_weekday": start_weekday,
            "start_hour": start_hour}
    flags = {"zipf_alpha": zipf_alpha, "local_affinity": local_affinity, "flow_share": flow_share,
             "mbps_per_subscriber": mbps_per_subscriber, "year": year, "growth_per_year": growth,
             "surge": Surge() if surge else None,
             "flash_crowds": tuple(_flash_crowd(s) for s in flash_crowd) or None,
             "update_days": tuple(UpdateDay(start_s=_parse_when(s, "--update-day")) for s in update_day) or None,
             "provider_weights": _weights(provider_weight) or None}
    accepted = inspect.signature(fn).parameters
    for k, v in flags.items():
        if v is None:
            continue
        if k not in accepted:
            flag = {"growth_per_year": "--growth", "flash_crowds": "--flash-crowd", "update_days": "--update-day"}.get(
                k, "--" + k.replace("_", "-"))
            raise InputError(f"{flag} does not apply to the {generator!r} generator", where=flag)
        opts[k] = v
    trace = fn(g, **opts)
    with Progress(TextColumn("[bold]generating"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[rows]:,} rows"),
                  TimeElapsedColumn(), transient=False) as progress:
        task = progress.add_task("gen", total=trace.n_chunks, rows=0)
        done = [0]

        def tick(n):
            done[0] += n
            progress.update(task, advance=1, rows=done[0])

        rows = trace.write(output, on_chunk=tick, compression=compression)
    typer.echo(f"wrote {output}: {rows:,} rows, scale {trace.meta['scale']:g} (sample rate {sample_rate:g})")


@trace_app.command("history")
def history(
    topology: str = typer.Option(..., "--topology", "-t", help="Topology (shipped name or file) whose access ISPs get a series."),
    output: Path = typer.Option(..., "-o", "--output", help="CSV to write (timestamp, series, bps)."),
    weeks: int = typer.Option(8, "--weeks", help="Weeks of hourly counters, ending where a run starts (Monday 00:00)."),
    growth: float = typer.Option(0.3, "--growth", help="Yearly growth (MIC: 0.2-0.4)."),
    noise: float = typer.Option(0.05, "--noise", help="Standard deviation of the multiplicative noise (log scale)."),
    seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same file)."),
) -> None:
    """Synthetic hourly traffic counters per access ISP (the input of `netsim forecast` and a scenario's forecast.history)."""
    from netsim.topology import load_topology
    from netsim.traffic.history import synth_history, write_history

    if output.suffix.lower() != ".csv":
        raise InputError(f"expected a .csv output, found {output.suffix!r}", source=str(output), where="--output")
    try:
        g = load_topology(topology)
    except InputError as e:
        raise e.located(where_prefix="--topology") from None
    try:
        frame = synth_history(g, weeks=weeks, growth_per_year=growth, noise=noise, seed=seed)
    except InputError as e:
        raise InputError(e.message, source=e.source, where="--" + (e.where or "weeks").replace("_per_year", "")) from None
    write_history(frame, output)
    typer.echo(f"wrote {output}: {frame['series'].n_unique()} series x {frame.height // frame['series'].n_unique():,} hours")


@trace_app.command("from-demands")
def from_demands(
    source: str = typer.Argument(..., help="A topology with a demand matrix: SNDlib native, topohub JSON, "
                                           "or topohub:GROUP/NAME."),
    output: Path = typer.Option(..., "-o", "--output", help="Trace to write (.parquet or .csv)."),
    unit: str = typer.Option(..., "--unit", help="What one unit of a demand value is: bps, kbps, Mbps or Gbps "
                                                 "(the files do not say: check the source; the printed mean helps)."),
    duration: str = typer.Option("1d", "--duration", help="Length of the trace (1d, 2h, seconds)."),
    sample_rate: float = typer.Option(0.01, "--sample-rate", help="Share of the flows written (each row stands for "
                                                                  "1/sample_rate flows)."),
    flow_mb: float = typer.Option(25.0, "--flow-mb", help="Size of one flow, MB (an assumption)."),
    start_hour: float = typer.Option(0.0, "--start-hour", help="Clock hour of the trace's start (20: the evening)."),
    seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same file)."),
) -> None:
    """A flow trace from a topology's measured demand matrix, with the diurnal shape of the generators: its mean
    over the trace is the demand. Replay it with `traffic: {trace: OUT}` on the same network (`topo adopt`)."""
    from netsim.topology import load_topology
    from netsim.traffic.demands import flows_from_demands
    from netsim.traffic.io import write_trace
    from netsim.units import parse_duration_s

    g = load_topology(source)
    demands = g.graph.get("demands")
    if not demands:
        raise InputError("the topology has no demand matrix (SNDlib DEMANDS, or topohub's graph.demands)", source=source)
    try:
        dur = parse_duration_s(duration)
    except ValueError as e:
        raise InputError(str(e), where="--duration") from None
    df, meta = flows_from_demands(demands, unit=unit, duration_s=dur, sample_rate=sample_rate, flow_mb=flow_mb,
                                  start_hour=start_hour, seed=seed)
    n = write_trace(df, output, meta={**meta, "topology": source}, validate=False)
    mean = df["bytes"].sum() * 8 * meta["scale"] / dur
    typer.echo(f"wrote {output}: {n:,} flows from {meta['demands']} demands, mean {mean / 1e9:,.2f} Gbps over "
               f"{dur / 3600:g} h (scale {meta['scale']:g})")


def _parse_option(text: str) -> tuple[str, object]:
    import json

    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise InputError(f"bad reader option {text!r}; expected KEY=VALUE (VALUE as JSON where it parses)", where="--option")
    try:
        return key.strip(), json.loads(value)
    except ValueError:
        return key.strip(), value


@trace_app.command("convert")
def convert(
    source: str = typer.Argument(..., help="Input trace: .parquet, .csv, or an importer's file (see --format)."),
    target: Path = typer.Argument(..., help="Output trace (.parquet or .csv)."),
    format: str = typer.Option(None, "--format", "-f",
                               help="Reader: parquet, csv, nfdump, libcachesim-csv, oracle-general (default: by extension)."),
    option: list[str] = typer.Option([], "--option", "-O",
                                     help="Reader option KEY=VALUE, repeatable; e.g. prefixes=prefixes.csv, src=isp-a-utsunomiya, "
                                          "provider=video, columns='{\"time\": 1, \"obj\": 2, \"size\": 3}'."),
    topology: str = typer.Option(None, "--topology", "-t", help="Check that node ids are nodes of this topology."),
    sort: bool = typer.Option(False, "--sort", help="Sort by time (in memory) instead of rejecting time going backwards."),
    scale: float = typer.Option(None, "--scale", help="Record that each byte stands for SCALE bytes (default: the source's)."),
) -> None:
    """Convert a trace or import a foreign one (nfdump CSV, libCacheSim) into the netsim trace schema."""
    from netsim.traffic.io import _call_reader, _node_ids, _pick_reader, _resolve, write_trace

    if target.suffix.lower() not in (".parquet", ".csv"):
        raise InputError(f"unknown trace file extension {target.suffix!r}; expected .parquet or .csv", source=str(target))
    options = dict(_parse_option(o) for o in option)
    p = _resolve(source)
    raw = _call_reader(_pick_reader(p, format), p, options)
    nodes, topo_name = _node_ids(topology)
    meta = dict(raw.meta)
    if scale is not None:
        if not scale > 0:
            raise InputError(f"--scale must be > 0, found {scale}", where="--scale")
        meta.update(scale=scale, sample_rate=1.0 / scale)
    meta["converted_from"] = p.name
    if sort:  # values checked on the unsorted rows, then sorted in memory
        for _ in raw.checked(nodes, source=str(p), topology=topo_name, check_order=False):
            pass
        frame = raw.typed(source=str(p)).sort("ts", maintain_order=True)
    else:  # one streaming pass: rows validated as they are written
        frame = raw.checked(nodes, source=str(p), topology=topo_name)
    rows = write_trace(frame, target, meta=meta, validate=False)
    typer.echo(f"wrote {target}: {rows:,} rows")


def summarize_trace(path: str | Path, *, bin_s: float = 300.0, top: int = 10) -> dict:
    """Summary numbers of a trace file (streamed): rows, span, bytes by service/provider, top pairs, peak/mean.

    Examples
    --------
    >>> s = summarize_trace("tochigi-1d@0.001")
    >>> s["rows"] > 0 and 1.2 < s["peak_to_mean"] < 2.5
    True
    """
    from netsim.traffic.io import read_trace, trace_meta

    meta = trace_meta(path)
    lf = read_trace(path)
    is_req = pl.col("obj").is_not_null()
    head = lf.select(pl.len().alias("rows"), pl.col("ts").min().alias("t0"), pl.col("ts").max().alias("t1"),
                     pl.col("bytes").sum().alias("bytes"), is_req.sum().alias("requests")).collect(engine="streaming").row(0, named=True)
    by_service = (lf.group_by("service").agg(is_req.sum().alias("requests"), (~is_req).sum().alias("flows"),
                                             pl.col("bytes").sum().alias("bytes"))
                  .sort("bytes", descending=True).collect(engine="streaming"))
    by_provider = (lf.filter(is_req).group_by("provider").agg(pl.len().alias("requests"), pl.col("bytes").sum().alias("bytes"),
                                                              pl.col("obj").n_unique().alias("objects"))
                   .sort("bytes", descending=True).collect(engine="streaming"))
    pairs = (lf.select(pl.when(is_req).then(pl.lit("provider:") + pl.col("provider")).otherwise(pl.col("src")).alias("from"),
                       pl.when(is_req).then(pl.col("src")).otherwise(pl.col("dst")).alias("to"), pl.col("bytes"))
             .group_by("from", "to").agg(pl.col("bytes").sum()).sort(["bytes", "from", "to"], descending=[True, False, False])
             .head(top).collect(engine="streaming"))
    per_bin = (lf.group_by((pl.col("ts") // bin_s).cast(pl.Int64).alias("bin")).agg(pl.col("bytes").sum())
               .sort("bin").collect(engine="streaming"))
    span = float(meta.get("duration_s") or ((head["t1"] or 0.0) + 1e-9))
    drivers = _cache_drivers(lf, meta, bin_s=bin_s)
    n_bins = max(1, math.ceil(span / bin_s))
    mean_bin = (head["bytes"] or 0) / n_bins
    peak = int(per_bin["bytes"].max() or 0)
    scale = float(meta.get("scale", 1.0))
    return {"path": str(path), "meta": meta, "rows": head["rows"], "requests": head["requests"], "t0": head["t0"], "t1": head["t1"],
            "duration_s": span, "bytes": head["bytes"] or 0, "scale": scale,
            "mean_gbps": (head["bytes"] or 0) * scale * 8 / span / 1e9 if span > 0 else 0.0,
            "peak_gbps": peak * scale * 8 / bin_s / 1e9, "peak_to_mean": peak / mean_bin if mean_bin else 0.0,
            "by_service": by_service, "by_provider": by_provider, "top_pairs": pairs, "per_bin": per_bin, "bin_s": bin_s,
            "drivers": drivers}


def _cache_drivers(lf: pl.LazyFrame, meta: dict, *, bin_s: float) -> dict:
    """What drives cache results: distinct objects, the share of requests and bytes to the top 1 % and 10 % of
    objects (by requests), the share to new releases (a generated trace: object ids past the catalogue),
    the share of content bytes a cache may store (default shares, netsim.cache.cacheability), and the
    largest single request's share of its bin's bytes (a sampled object stands for 1/p objects)."""
    import numpy as np

    from netsim.cache.cacheability import cacheable_rows
    from netsim.traffic.generators import CONTENT_PROFILES, provider_service

    req = lf.filter(pl.col("obj").is_not_null()).select("ts", "provider", "obj", "bytes", "service").collect()
    out = {"objects": 0}
    if req.height == 0:
        return out
    per_obj = (req.group_by("provider", "obj").agg(pl.len().alias("n"), pl.col("bytes").sum().alias("b"))
               .sort(["n", "provider", "obj"], descending=[True, False, False]))
    n_obj = per_obj.height
    n_all, b_all = float(per_obj["n"].sum()), float(per_obj["b"].sum())
    out["objects"] = n_obj
    for pct in (1, 10):
        top = per_obj.head(max(1, int(math.ceil(n_obj * pct / 100))))
        out[f"top{pct}_requests"] = float(top["n"].sum()) / n_all
        out[f"top{pct}_bytes"] = float(top["b"].sum()) / b_all
    if meta.get("generator") in ("content", "mixed"):
        cat = {p: CONTENT_PROFILES[provider_service(p)].catalogue for p in req["provider"].unique().to_list()}
        new = req["obj"].to_numpy() >= req["provider"].replace_strict(cat, return_dtype=pl.UInt64).to_numpy()
        out["release_requests"] = float(new.mean())
        out["release_bytes"] = float((req["bytes"].to_numpy() * new).sum() / req["bytes"].sum())
    ok = cacheable_rows(req)
    out["cacheable_bytes"] = float((req["bytes"].to_numpy() * ok).sum() / req["bytes"].sum())
    per_bin = (lf.group_by((pl.col("ts") // bin_s).cast(pl.Int64).alias("bin"))
               .agg(pl.col("bytes").sum().alias("total"), pl.col("bytes").max().alias("largest")).collect())
    frac = (per_bin["largest"] / per_bin["total"]).to_numpy()
    out["largest_request_share"] = float(np.max(frac)) if len(frac) else 0.0
    return out


def _gb(b) -> str:
    return f"{b / 1e9:,.2f}"


@trace_app.command("info")
def info(
    path: str = typer.Argument(..., help="A trace file (.parquet/.csv) or a shipped trace name (tochigi-1d)."),
    plot: Path = typer.Option(None, "--plot", help="Write a small plot of traffic over time (PNG)."),
    bin_s: float = typer.Option(300.0, "--bin", help="Bin width in seconds for the peak-to-mean ratio and the plot."),
    top: int = typer.Option(10, "--top", help="How many src->dst pairs to list."),
) -> None:
    """Summarise a trace: rows, time span, bytes and requests by service and provider, top pairs, peak/mean."""
    if not bin_s > 0:
        raise InputError(f"--bin must be > 0, found {bin_s}", where="--bin")
    if top < 0:
        raise InputError(f"--top must be >= 0, found {top}", where="--top")
    s = summarize_trace(path, bin_s=bin_s, top=top)
    c = Console()
    meta = s["meta"]
    t = Table(title=f"trace {path}", show_header=False)
    t.add_column("what")
    t.add_column("value")
    t.add_row("rows", f"{s['rows']:,}  ({s['requests']:,} requests, {s['rows'] - s['requests']:,} flows)")
    t.add_row("time span", f"{s['t0']:.1f} .. {s['t1']:.1f} s  ({s['duration_s'] / 3600:.2f} h)" if s["rows"] else "empty")
    t.add_row("bytes in trace", f"{_gb(s['bytes'])} GB")
    t.add_row("scale", f"{s['scale']:g}  (sample rate {meta.get('sample_rate', 1.0):g}; each byte stands for {s['scale']:g})")
    t.add_row("mean / peak (full load)", f"{s['mean_gbps']:,.1f} / {s['peak_gbps']:,.1f} Gbps  ({s['bin_s']:g} s bins)")
    t.add_row("peak-to-mean", f"{s['peak_to_mean']:.2f}")
    if meta.get("generator"):
        t.add_row("generator", f"{meta['generator']} seed {meta.get('seed')} on {meta.get('topology')}")
    d = s["drivers"]
    if d.get("objects"):
        t.add_row("distinct objects", f"{d['objects']:,} (in the sample)")
        t.add_row("top 1% / 10% of objects", f"{d['top1_requests']:.1%} / {d['top10_requests']:.1%} of requests, "
                                             f"{d['top1_bytes']:.1%} / {d['top10_bytes']:.1%} of content bytes")
        if "release_requests" in d:
            t.add_row("new releases", f"{d['release_requests']:.1%} of requests, {d['release_bytes']:.1%} of content bytes")
        t.add_row("cacheable (default shares)", f"{d['cacheable_bytes']:.1%} of content bytes")
        t.add_row("largest row / its bin", f"{d['largest_request_share']:.1%} of the bin's bytes (at most)")
    c.print(t)
    for title, df in (("by service", s["by_service"]), ("by provider", s["by_provider"]), ("top pairs (bytes from -> to)", s["top_pairs"])):
        if df.height == 0:
            continue
        tb = Table(title=title)
        for col in df.columns:
            tb.add_column(col, justify="right" if df[col].dtype.is_numeric() else "left")
        total = max(1, s["bytes"])
        for row in df.iter_rows(named=True):
            cells = []
            for col, v in row.items():
                if col == "bytes":
                    cells.append(f"{_gb(v)} GB ({100 * v / total:.1f}%)")
                elif isinstance(v, int):
                    cells.append(f"{v:,}")
                else:
                    cells.append(str(v))
            tb.add_row(*cells)
        c.print(tb)
    if plot is not None:
        _plot(s, plot)
        typer.echo(f"wrote {plot}")


def _plot(s: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    pb = s["per_bin"]
    n_bins = max(1, math.ceil(s["duration_s"] / s["bin_s"]))
    y = np.zeros(n_bins)
    idx = pb["bin"].to_numpy()
    ok = (idx >= 0) & (idx < n_bins)
    y[idx[ok]] = pb["bytes"].to_numpy()[ok]
    gbps = y * s["scale"] * 8 / s["bin_s"] / 1e9
    hours = (np.arange(n_bins) + 0.5) * s["bin_s"] / 3600
    fig, ax = plt.subplots(figsize=(6, 2.6), dpi=100)
    ax.plot(hours, gbps, lw=1)
    ax.set_xlabel("hours from trace start")
    ax.set_ylabel("Gbps (full load)")
    ax.set_title(f"{Path(str(s['path'])).name}: peak/mean {s['peak_to_mean']:.2f}", fontsize=9)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    try:
        fig.savefig(out)
    except (OSError, ValueError) as e:
        raise InputError(f"cannot write the plot: {e}", source=str(out), where="--plot") from None
    finally:
        plt.close(fig)
