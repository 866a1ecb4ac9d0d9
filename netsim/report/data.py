"""Read what ``netsim run`` wrote (summary.json, the Parquet tables, each design's topology) back for the report."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from netsim.errors import InputError

__all__ = ["RunOutput", "load_run", "load_summary", "reference_design"]

TABLES = ("bins", "links", "caches", "pairs", "services")


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
    try:
        doc = json.loads(src.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"cannot read summary.json: {e}", source=str(src)) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("designs"), list):
        raise InputError("expected an object with a `designs` list (as written by `netsim run`)", source=str(src))
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


@dataclass
class RunOutput:
    """One run directory in memory: summary records (run order) and the five tables (all designs)."""

    path: Path
    scenario: str
    summary: list[dict]
    bins: pl.DataFrame
    links: pl.DataFrame
    caches: pl.DataFrame
    pairs: pl.DataFrame
    services: pl.DataFrame
    _topologies: dict = field(default_factory=dict, repr=False)

    @property
    def designs(self) -> list[str]:
        """Design names in run order."""
        return [s["design"] for s in self.summary]

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
    return RunOutput(path=path, scenario=scenario, summary=summary, **frames)
