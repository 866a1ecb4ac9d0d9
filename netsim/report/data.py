"""Read what ``netsim run`` wrote (summary.json, the Parquet tables, each design's topology) back for the report."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from netsim.errors import InputError

__all__ = ["RunOutput", "ForecastFiles", "load_run", "load_forecast", "load_summary", "reference_design"]

TABLES = ("bins", "links", "caches", "pairs", "services")
#: Tables a run may have (each report section shows only when its table is there), with the columns it needs.
OPTIONAL_TABLES = {
    "cost": ("design", "asn", "name", "total"),
    "quality": ("design", "asn", "name"),
    "quality_hourly": ("design", "asn", "name", "hour", "throughput_p50_mbps", "throughput_p10_mbps"),
    "procurement": ("design", "member", "separate_cost", "share", "joint_cost", "saving"),
    "capacity_plan": ("design", "src", "dst", "capacity_gbps", "peak_utilisation", "growth_per_year",
                      "months_to_threshold"),
}
FORECAST_TABLES = {
    "forecast": ("series", "timestamp", "bps", "lo80", "hi80", "lo95", "hi95"),
    "history": ("series", "timestamp", "bps"),
    "holdout": ("series", "timestamp", "bps", "model_bps", "naive_bps"),
}


def _read_json(src: Path, key: str, written_by: str) -> dict:
    """A JSON object with a list under ``key``; InputError naming the file otherwise."""
    try:
        doc = json.loads(src.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"cannot read {src.name}: {e}", source=str(src)) from None
    if not isinstance(doc, dict) or not isinstance(doc.get(key), list):
        raise InputError(f"expected an object with a `{key}` list ({written_by})", source=str(src))
    return doc


def _check_dir(out_dir: str | Path) -> Path:
    path = Path(out_dir)
    if not path.exists():
        raise InputError("no such run directory; make one with `netsim run SCENARIO -o DIR`", source=str(path))
    if not path.is_dir():
        raise InputError("not a directory; expected the output directory of `netsim run`", source=str(path))
    if not (path / "summary.json").is_file():
        raise InputError("not a netsim run output (no summary.json); make one with `netsim run SCENARIO -o DIR`",
                         source=str(path))
    return path


def load_summary(out_dir: str | Path) -> tuple[str, list[dict]]:
    """The scenario name and the per-design summary records of a run directory (summary.json only).

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "summary.json").write_text(json.dumps({"scenario": "s", "designs": [{"design": "baseline"}]}))
    >>> load_summary(d)
    ('s', [{'design': 'baseline'}])
    """
    path = _check_dir(out_dir)
    src = path / "summary.json"
    doc = _read_json(src, "designs", "as written by `netsim run`")
    designs = doc["designs"]
    if not designs:
        raise InputError("no designs in this run (did it stop before the first design finished?)", source=str(src),
                         where="designs")
    for i, rec in enumerate(designs):
        if not isinstance(rec, dict) or not isinstance(rec.get("design"), str):
            raise InputError("expected a record with a `design` name", source=str(src), where=f"designs[{i}]")
    names = [r["design"] for r in designs]
    if len(set(names)) != len(names):
        raise InputError(f"design names repeat: {names}", source=str(src), where="designs")
    return str(doc.get("scenario", path.name)), designs


def reference_design(names: list[str]) -> str:
    """The design others are compared with: the one named ``baseline`` if present, else the first.

    Examples
    --------
    >>> reference_design(["regional_ix", "baseline"])
    'baseline'
    >>> reference_design(["a", "b"])
    'a'
    """
    if not names:
        raise ValueError("no designs")
    return "baseline" if "baseline" in names else names[0]


def _read_table(p: Path, needs: tuple[str, ...]) -> pl.DataFrame:
    try:
        f = pl.read_parquet(p)
    except Exception as e:  # noqa: BLE001 - polars raises several kinds for a damaged file
        raise InputError(f"cannot read table: {' '.join(str(e).split())[:200]}", source=str(p)) from None
    missing = [c for c in needs if c not in f.columns]
    if missing:
        raise InputError(f"no column {', '.join(missing)}; not a table written by `netsim run`", source=str(p))
    return f


@dataclass
class ForecastFiles:
    """``forecast/`` of a run: evaluation.json (threshold, horizon, one row per series) and the frames beside it
    (None when a file is absent)."""

    threshold: float
    horizon_days: float
    evaluation: pl.DataFrame
    forecast: pl.DataFrame | None = None
    history: pl.DataFrame | None = None
    holdout: pl.DataFrame | None = None


_EVAL_SCHEMA = {"series": pl.Utf8, "step_s": pl.Float64, "n_points": pl.Int64, "model_mape": pl.Float64,
                "naive_mape": pl.Float64, "naive_lag": pl.Utf8, "growth_per_year": pl.Float64,
                "growth_lo95": pl.Float64, "growth_hi95": pl.Float64, "capacity_gbps": pl.Float64,
                "peak_bps": pl.Float64, "peak_utilisation": pl.Float64, "months_to_threshold": pl.Float64,
                "within_horizon": pl.Boolean}


def load_forecast(out_dir: str | Path) -> ForecastFiles | None:
    """``OUT/forecast/`` as written by :meth:`netsim.analysis.forecast.ForecastResult.write` (plus history and
    holdout frames), or None when the run has no ``forecast/evaluation.json``.

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp()); (d / "forecast").mkdir()
    >>> row = {"series": "a", "model_mape": 0.1, "naive_mape": 0.2, "growth_per_year": 0.3, "months_to_threshold": None}
    >>> _ = (d / "forecast" / "evaluation.json").write_text(json.dumps({"threshold": 0.8, "horizon_days": 365, "series": [row]}))
    >>> f = load_forecast(d)
    >>> f.threshold, f.evaluation["series"].to_list(), f.evaluation["months_to_threshold"].to_list(), f.forecast
    (0.8, ['a'], [None], None)
    """
    root = Path(out_dir) / "forecast"
    src = root / "evaluation.json"
    if not src.is_file():
        return None
    doc = _read_json(src, "series", "as netsim forecast writes")
    rows = []
    for i, r in enumerate(doc["series"]):
        if not isinstance(r, dict) or not isinstance(r.get("series"), str):
            raise InputError("expected a record with a `series` name", source=str(src), where=f"series[{i}]")
        rows.append({k: r.get(k) for k in _EVAL_SCHEMA})
    try:
        evaluation = pl.DataFrame(rows, schema=_EVAL_SCHEMA)
        threshold, horizon = float(doc.get("threshold", 0.8)), float(doc.get("horizon_days") or 0.0)
    except (TypeError, ValueError, pl.exceptions.PolarsError) as e:
        raise InputError(f"unexpected values: {' '.join(str(e).split())[:200]}", source=str(src)) from None
    frames = {k: (_read_table(root / f"{k}.parquet", cols) if (root / f"{k}.parquet").is_file() else None)
              for k, cols in FORECAST_TABLES.items()}
    return ForecastFiles(threshold=threshold, horizon_days=horizon, evaluation=evaluation, **frames)


@dataclass
class RunOutput:
    """One run directory in memory: summary records (run order), the five tables every run has (all designs) and the
    optional ones (None when the run did not write them: older runs, designs without the feature)."""

    path: Path
    scenario: str
    summary: list[dict]
    bins: pl.DataFrame
    links: pl.DataFrame
    caches: pl.DataFrame
    pairs: pl.DataFrame
    services: pl.DataFrame
    cost: pl.DataFrame | None = None
    quality: pl.DataFrame | None = None
    quality_hourly: pl.DataFrame | None = None
    procurement: pl.DataFrame | None = None
    capacity_plan: pl.DataFrame | None = None
    forecast: ForecastFiles | None = None
    #: what is wrong with the directory (netsim.sim.manifest.run_status): partial, interrupted or mixed; empty if not
    status: list[str] = field(default_factory=list)
    #: the scenario check's warnings (summary.json ``warnings``): what makes the figures misleading
    warnings: list[str] = field(default_factory=list)
    _topologies: dict = field(default_factory=dict, repr=False)

    @property
    def designs(self) -> list[str]:
        """Design names in run order."""
        return [s["design"] for s in self.summary]

    @property
    def start_s(self) -> float:
        """Clock time of the run's ``ts_s = 0`` in seconds after midnight (the trace's start hour; 0 if unknown)."""
        for r in self.summary:
            h = r.get("start_hour")
            if isinstance(h, (int, float)) and h == h:
                return float(h) % 24 * 3600.0
        return 0.0

    @property
    def reference(self) -> str:
        """The design the others are compared with (see :func:`reference_design`)."""
        return reference_design(self.designs)

    def record(self, design: str) -> dict:
        """The summary record of one design."""
        return next(s for s in self.summary if s["design"] == design)

    def topology(self, design: str):
        """The design's topology (``topologies/<design>.yaml``), or None when the run did not keep it."""
        if design not in self._topologies:
            from netsim.topology import load_topology

            p = self.path / "topologies" / f"{design}.yaml"
            self._topologies[design] = load_topology(p) if p.is_file() else None
        return self._topologies[design]


def load_run(out_dir: str | Path) -> RunOutput:
    """Read a ``netsim run`` output directory; InputError (one line, naming the file) if it is not one.

    Examples
    --------
    >>> import tempfile
    >>> from netsim.scenario import load_scenario
    >>> from netsim.sim.run import run
    >>> sc = load_scenario("tochigi").model_copy(update={"duration": 3600.0})
    >>> sc.designs = sc.designs[:2]
    >>> out = tempfile.mkdtemp()
    >>> _ = run(sc, out)
    >>> r = load_run(out)
    >>> r.designs, r.bins.height
    (['baseline', 'regional_ix'], 24)
    """
    path = _check_dir(out_dir)
    scenario, summary = load_summary(path)
    frames = {}
    for t in TABLES:
        p = path / f"{t}.parquet"
        if not p.is_file():
            raise InputError(f"missing {t}.parquet; the run did not finish writing (run it again)", source=str(path))
        try:
            frames[t] = pl.read_parquet(p)
        except Exception as e:  # noqa: BLE001 - polars raises several kinds for a damaged file
            raise InputError(f"cannot read table: {' '.join(str(e).split())[:200]}", source=str(p)) from None
        if "design" not in frames[t].columns:
            raise InputError("no `design` column; not a table written by `netsim run`", source=str(p))
    for t, cols in OPTIONAL_TABLES.items():
        p = path / f"{t}.parquet"
        frames[t] = _read_table(p, cols) if p.is_file() else None
    from netsim.sim.manifest import run_status

    try:
        found = json.loads((path / "summary.json").read_text()).get("warnings") or []
    except (OSError, ValueError, AttributeError):
        found = []
    return RunOutput(path=path, scenario=scenario, summary=summary, forecast=load_forecast(path), status=run_status(path),
                     warnings=[str(w) for w in found] if isinstance(found, list) else [], **frames)
