"""Where a run's traffic comes from: a trace file (streamed bin by bin) or a generator, and its scale."""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import polars as pl

from netsim.errors import InputError
from netsim.scenario import Scenario

__all__ = ["TrafficSource", "traffic_source"]


@dataclass
class TrafficSource:
    """A run's traffic: the trace (path or frame), its scale and sample rate, and the duration simulated.

    The replay engine reads ``trace`` itself, batch by batch (netsim.sim.demands.EncodedBins)."""

    trace: object  # a path or a polars DataFrame
    duration_s: float
    scale: float
    sample_rate: float
    topology: nx.DiGraph | None = None
    start_hour: float = 0.0  # clock hour of ts 0 (a trace's metadata says, e.g. japan-1h starts at 21:00)


def traffic_source(scenario: Scenario, g: nx.DiGraph) -> TrafficSource:
    """Resolve the scenario's traffic against its directory and the shipped traces; InputError if it is unusable."""
    from netsim.traffic import read_trace, trace_meta

    spec = scenario.traffic
    where = "traffic.trace" if spec.trace is not None else "traffic.generator"
    if spec.trace is not None:
        path = scenario.resolve("traces", spec.trace, where=where)
        meta = trace_meta(path)
        scale = spec.scale if spec.scale is not None else float(meta.get("scale", 1.0))
        sample_rate = float(meta.get("sample_rate", 1.0))
        duration = scenario.duration or spec.duration
        if duration is None:
            duration = meta.get("duration_s")
        if duration is None:
            last = read_trace(path, validate=False).select(pl.col("ts").max()).collect().item()
            duration = float(last or 0.0) + 1e-9
        return TrafficSource(trace=path, duration_s=float(duration), scale=scale, sample_rate=sample_rate, topology=g,
                             start_hour=float(meta.get("start_hour") or 0.0))
    from netsim.traffic import GENERATORS

    if spec.generator not in GENERATORS:  # a registry lookup error names the known generators
        raise InputError(f"unknown generator {spec.generator!r}; known: {', '.join(GENERATORS.names())}",
                         source=scenario.source, where=where)
    duration = scenario.duration or spec.duration
    if duration is None:
        raise InputError("a generated traffic needs a duration (traffic.duration or duration)", source=scenario.source,
                         where="traffic.duration")
    frame, meta = _generate(spec.generator, g, duration_s=float(duration), seed=scenario.seed, options=spec.options,
                            source=scenario.source)
    scale = spec.scale if spec.scale is not None else float(meta.get("scale", 1.0))
    return TrafficSource(trace=frame, duration_s=float(duration), scale=scale,
                         sample_rate=float(meta.get("sample_rate", 1.0)), topology=g,
                         start_hour=float(meta.get("start_hour") or 0.0))


def _generate(name, g, *, duration_s, seed, options, source):
    """Run a registered generator with the scenario's options; bad options are a located InputError."""
    import inspect

    from netsim.traffic import GENERATORS

    fn = GENERATORS[name]
    allowed = {p.name for p in inspect.signature(fn).parameters.values() if p.kind is inspect.Parameter.KEYWORD_ONLY}
    for key in sorted(options):
        if key not in allowed or key in ("duration_s", "seed"):
            raise InputError(f"unknown option {key!r} of generator {name}; expected one of: "
                             f"{', '.join(sorted(allowed - {'duration_s', 'seed'}))}", source=source, where=f"traffic.options.{key}")
    try:
        trace = fn(g, duration_s=duration_s, seed=seed, **options)
        frame = trace.collect()
    except InputError as e:
        raise e.located(source=source, where_prefix="traffic.options") from None
    except (TypeError, ValueError) as e:
        raise InputError(f"bad generator options: {e}", source=source, where="traffic.options") from None
    return frame, trace.meta
