"""Scenario files: what to simulate (topology, traffic, bins, failures, designs), validated with located errors.

A scenario is YAML::

    name: tochigi
    topology: tochigi                # a shipped name, or a path relative to this file
    traffic:
      trace: tochigi-1d              # a shipped trace name or a path; or `generator:` (below)
      scale: 1.0                     # bytes each trace byte stands for (default: the trace's own)
    bin_s: 300
    duration: 1d                     # default: the trace's span
    seed: 1
    routing: {igp_weight: latency_ms, multipath: false}
    caches: {restart: warm}          # after a cache comes back up: cold (empty) or warm (as it was);
                                     # warmup: TRACE replays the day before first (caches start warm);
                                     # cacheable: {video: 0.9, ...} share of a service's objects a cache
                                     # may store; cacheable_providers: {name: share} per provider
    backbone: {tags: [backbone]}     # which links count as backbone (default: tagged backbone, or
                                     # inter-metro links reaching a core metro)
    failures:
      schedule:
        - {at: "20:00", duration: 2h, metro: tokyo-otemachi}
        - {at: 3600, duration: 10m, link: [a, b]}      # both directions
        - {at: 2h, duration: 1h, node: isp-a-oyama}
        - {at: 6h, duration: 1h, asn: 64601}
      random:
        link: {mtbf_h: 2000, mttr_h: 4}
        node: {mtbf_h: 10000, mttr_h: 8}
    designs: [baseline]
    prices: {transit_per_mbps_month: 1.0, currency: USD}   # netsim.analysis.cost.Prices (defaults documented there)
    cost: {split: p95, headroom: 1.25, line_step_gbps: 10} # how an aggregated ISP's joint costs are shared and sized
    quality: {placement: regional}                         # netsim.analysis.quality.QualityMethod
    forecast:                                              # pillar 1: growth from measured history
      history: tochigi-history     # CSV (timestamp, series, bps): a shipped name (.csv optional) or a path
      holdout: 7d
      horizon: 365d
      threshold: 0.8
    planning: {basis: normal}      # cost, procurement, capacity plan on a failure-free replay (or as_run)

Traffic from a generator instead of a trace: ``traffic: {generator: content, options: {...}, duration: 1d}``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from netsim.settings import Prices, QualityMethod
from netsim.errors import InputError
from netsim.units import parse_clock_s, parse_duration_s
from netsim.yamlio import load_yaml_model, no_bool_numbers

__all__ = ["Scenario", "load_scenario", "FailureEvent", "FailureSpec", "TrafficSpec", "DesignSpec", "CostSpec",
           "ForecastSpec", "PlanningSpec"]


def _optional_duration(v):
    return None if v is None else parse_duration_s(v)


def _run_duration(v):
    # NOTE: 0 is not "the whole trace" (it was: `duration: 0` ran the trace's whole span); leave the key out for that
    d = _optional_duration(v)
    if d is not None and not d > 0:
        raise ValueError(f"expected a duration > 0 (leave duration out for the trace's whole span), found {v!r}")
    return d


#: Upper bounds of a scenario's multipliers and bin: far above any use, they keep bytes x scale x growth and
#: capacity x bin_s finite (`scale: 1e300` ran and then broke the summary with NaN)
MAX_SCALE = 1e12
MAX_GROWTH = 1e6
MAX_BIN_S = 1e7


class _Strict(BaseModel):
    # NOTE: no infinite or NaN number anywhere in a scenario (`bin_s: .inf`, `duration: .nan` gave tracebacks) and no
    # boolean for a number (`seed: yes` was seed 1)
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    _bools = no_bool_numbers("*")


class TrafficSpec(_Strict):
    trace: Optional[str] = None
    generator: Optional[str] = None
    options: dict = Field(default_factory=dict)
    duration: Optional[Union[float, str]] = None
    scale: Optional[float] = Field(default=None, gt=0)
    growth: float = Field(default=1.0, gt=0)  # multiply every volume (what-if traffic growth)

    @field_validator("scale", "growth")
    @classmethod
    def _bounded(cls, v, info):
        # NOTE: a validator, not Field(le=): docs/reference.md, generated from the Field bounds, stays as it is
        limit = MAX_SCALE if info.field_name == "scale" else MAX_GROWTH
        if v is not None and v > limit:
            raise ValueError(f"expected at most {limit:g}")
        return v
    #: the rate one transfer (a request's object, a flow) moves at, Mbit/s: its bytes are spread over
    #: size / rate from its ts, across the bins that spans; None: every row's bytes land in its bin.
    #: Default 20 Mbit/s, an assumption: between the ~5 Mbit/s a single TCP stream measured at the
    #: evening peak in Japan (M-Lab NDT, reported by Nikkei in 2019) and a 1 Gbit/s FTTH line.
    transfer_mbps: Optional[float] = Field(default=20.0, gt=0)

    @model_validator(mode="after")
    def _one_source(self):
        if (self.trace is None) == (self.generator is None):
            raise ValueError("give exactly one of trace or generator")
        if self.trace is not None and self.options:
            raise ValueError("options apply to a generator, not to a trace")
        return self

    @field_validator("duration")
    @classmethod
    def _dur(cls, v):
        return _run_duration(v)


class FailureEvent(_Strict):
    at: Union[float, str]
    duration: Union[float, str]
    node: Optional[str] = None
    link: Optional[list[str]] = Field(default=None, min_length=2, max_length=2)
    metro: Optional[str] = None
    asn: Optional[int] = None

    @field_validator("at")
    @classmethod
    def _at(cls, v):
        return parse_clock_s(v)

    @field_validator("duration")
    @classmethod
    def _duration(cls, v):
        d = parse_duration_s(v)
        if d <= 0:
            raise ValueError(f"expected a duration > 0, found {v!r}")
        return d

    @model_validator(mode="after")
    def _one_target(self):
        targets = [t for t in ("node", "link", "metro", "asn") if getattr(self, t) is not None]
        if len(targets) != 1:
            raise ValueError("give exactly one target: node, link, metro or asn")
        return self

    @property
    def target(self) -> tuple[str, object]:
        for t in ("node", "link", "metro", "asn"):
            v = getattr(self, t)
            if v is not None:
                return t, (tuple(v) if t == "link" else v)
        raise AssertionError


class RandomFailures(_Strict):
    mtbf_h: float = Field(gt=0)
    mttr_h: float = Field(gt=0)


class FailureSpec(_Strict):
    schedule: list[FailureEvent] = Field(default_factory=list)
    random: dict[Literal["node", "link"], RandomFailures] = Field(default_factory=dict)


class RoutingSpec(_Strict):
    igp_weight: str = "latency_ms"
    multipath: bool = False


def _default_cacheable() -> dict:
    from netsim.cache.cacheability import CACHEABLE

    return dict(CACHEABLE)


class CacheSpec(_Strict):
    restart: Literal["cold", "warm"] = "warm"
    #: a trace of the days before the run replayed through the caches first (nothing measured), so
    #: they start with yesterday's contents; None: they start empty (cold)
    warmup: Optional[str] = None
    #: share of each service's objects a cache may store (netsim.cache.cacheability: the defaults are
    #: assumptions); services not listed keep their default
    cacheable: dict[Literal["video", "web", "game", "update", "p2p", "voice", "other"],
                    Annotated[float, Field(ge=0.0, le=1.0)]] = Field(default_factory=_default_cacheable)
    #: per provider (a provider of the topology's origins), overriding its service's share
    cacheable_providers: dict[str, Annotated[float, Field(ge=0.0, le=1.0)]] = Field(default_factory=dict)

    @field_validator("cacheable")
    @classmethod
    def _fill_cacheable(cls, v: dict) -> dict:
        return {**_default_cacheable(), **v}


class BackboneSpec(_Strict):
    tags: list[str] = Field(default_factory=lambda: ["backbone"])
    auto: bool = True  # when no link carries the tags: inter-metro links that reach a core metro


#: What a name that becomes a file name (a design's ``topologies/<name>.yaml``) may hold: letters, digits and
#: ``_ - . + = @ ,`` (no path separator, no leading dot, so never ``..`` or a hidden or absolute path).
SAFE_NAME = r"^[A-Za-z0-9][A-Za-z0-9_\-.+=@,]{0,127}$"


class DesignSpec(_Strict):
    name: str = Field(min_length=1)
    transforms: list[dict] = Field(default_factory=list)
    #: the design a prefetch design's savings are measured against (default: the design with the same
    #: transforms but the prefetch)
    compare_with: Optional[str] = None

    @field_validator("name")
    @classmethod
    def _safe_name(cls, v: str) -> str:
        import re

        if not re.match(SAFE_NAME, v):
            raise ValueError("a design name becomes a file name: letters, digits and _ - . + = @ , (at most 128, "
                             "not starting with '.'; no '/')")
        return v


class CostSpec(_Strict):
    """How an aggregated ISP's costs are shared (``split``) and how its joint upstream line is sized
    against the members' separate lines (``headroom`` × peak, rounded up to ``line_step_gbps``
    circuits; netsim.analysis.cost.joint_procurement)."""

    split: Literal["p95", "equal", "peak"] = "p95"
    headroom: float = Field(default=1.25, ge=1, le=10, allow_inf_nan=False)
    line_step_gbps: Optional[float] = Field(default=10.0, gt=0, allow_inf_nan=False)


class PlanningSpec(_Strict):
    """What the monthly cost, joint procurement and capacity plan are computed on when the scenario has
    failures: ``normal`` (default) — each design replayed a second time without them, an ordinary day
    (a month billed on the day Tokyo went dark, or lines sized on a day whose evening peak was
    dark, would mislead); ``as_run`` — the run itself, its bins with a failure left out (no second
    replay: half the time, but a failure in the busy hour hides the peak)."""

    basis: Literal["normal", "as_run"] = "normal"


class ResilienceSpec(_Strict):
    """The fast N-1 pass of a run (netsim.analysis.resilience): ``n1`` on (default) or off; ``spof_below``:
    a single failure that leaves the survivors less than this share of their busy hour is a single point
    of failure (assumption: 0.5)."""

    n1: bool = True
    spof_below: float = Field(default=0.5, gt=0, le=1, allow_inf_nan=False)


class ForecastSpec(_Strict):
    """Pillar 1 in a run: fit the growth of measured history (``history``: a CSV of ``timestamp,
    series, bps``, e.g. the members' SNMP counters; series named ``AS<asn>`` apply to that AS's
    links, any other series — and their sum, ``total`` — to the rest) and say when each design's
    links cross ``threshold`` peak utilisation (netsim.analysis.forecast)."""

    history: str
    holdout: Union[float, str] = "7d"
    horizon: Union[float, str] = "365d"
    threshold: float = Field(default=0.8, gt=0, le=10, allow_inf_nan=False)

    @field_validator("holdout", "horizon")
    @classmethod
    def _dur(cls, v):
        return _optional_duration(v)


class Scenario(_Strict):
    name: str = "scenario"
    description: Optional[str] = None
    topology: str
    traffic: TrafficSpec
    bin_s: float = Field(default=300.0, gt=0)
    duration: Optional[Union[float, str]] = None
    seed: int = Field(default=0, ge=0)
    routing: RoutingSpec = Field(default_factory=RoutingSpec)
    caches: CacheSpec = Field(default_factory=CacheSpec)
    backbone: BackboneSpec = Field(default_factory=BackboneSpec)
    failures: FailureSpec = Field(default_factory=FailureSpec)
    designs: list[DesignSpec] = Field(default_factory=lambda: ["baseline"], min_length=1, validate_default=True)
    prices: Prices = Field(default_factory=Prices)
    cost: CostSpec = Field(default_factory=CostSpec)
    quality: QualityMethod = Field(default_factory=QualityMethod)
    forecast: Optional[ForecastSpec] = None
    planning: PlanningSpec = Field(default_factory=PlanningSpec)
    resilience: ResilienceSpec = Field(default_factory=ResilienceSpec)
    #: the directory relative paths resolve against (set by load_scenario)
    base_dir: Optional[str] = Field(default=None, exclude=True)
    source: Optional[str] = Field(default=None, exclude=True)

    @field_validator("duration")
    @classmethod
    def _dur(cls, v):
        return _run_duration(v)

    @field_validator("bin_s")
    @classmethod
    def _bin(cls, v):
        if v > MAX_BIN_S:
            raise ValueError(f"expected at most {MAX_BIN_S:g} s")
        return v

    def resolve(self, kind: str, name: str, *, where: str | None = None) -> Path:
        """A file the scenario names (``kind``: topologies, traces): relative to the scenario's directory,
        else as given, else a shipped name; InputError naming the scenario file and ``where`` otherwise."""
        from netsim.data import resolve_path

        try:
            return resolve_path(kind, name, base=Path(self.base_dir) if self.base_dir else None)
        except FileNotFoundError as e:
            raise InputError(str(e), source=self.source, where=where) from None
        except InputError as e:
            if e.source is not None:   # about another file (a shipped trace's recipe): it names it
                raise
            # e.g. a shipped trace name with a bad @RATE: the mistake is in this scenario, at `where`
            raise InputError(e.message, source=self.source, where=where) from None

    @field_validator("designs", mode="before")
    @classmethod
    def _design_names(cls, v):
        # a bare name is a design without transforms
        return [{"name": d} if isinstance(d, str) else d for d in v] if isinstance(v, list) else v

    @field_validator("designs")
    @classmethod
    def _designs(cls, v):
        out = list(v)
        names = [d.name for d in out]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"design names must be unique, found {', '.join(dup)} twice")
        for d in out:
            if d.compare_with is not None and (d.compare_with not in names or d.compare_with == d.name):
                raise ValueError(f"design {d.name!r}: compare_with must name another design of this scenario, "
                                 f"found {d.compare_with!r}")
        return out


def load_scenario(path: str | Path) -> Scenario:
    """Load a scenario file (or a shipped scenario name such as ``tochigi``).

    Raises InputError naming the file, the path inside it (e.g. ``failures.schedule[0].at``) and what was expected.
    """
    from netsim.data import resolve_path

    try:
        p = resolve_path("scenarios", path)
    except FileNotFoundError as e:
        raise InputError(str(e)) from None
    scenario, _ = load_yaml_model(p, Scenario)
    scenario.base_dir = str(Path(p).resolve().parent)
    scenario.source = str(p)
    return scenario
