"""A run directory's manifest: which files one run wrote, with their SHA-256, written after all of them.

``netsim run`` removes ``manifest.json`` before it writes a run's files and writes it again last, so:

* no manifest: the run was killed while writing (or the directory was written by a netsim without
  manifests);
* a file whose hash differs from the manifest's: it was written by another run (or changed) since;
* ``complete: false``: the run stopped early (a design interrupted, or designs of the scenario not run).

:func:`run_status` turns that into the lines ``netsim report`` and ``netsim compare`` show. Nothing here
imports the engine: reading a run's status is cheap.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

__all__ = ["MANIFEST", "write_manifest", "run_status", "sha256_file"]

#: the file of a run directory that lists every other file of the run with its SHA-256, written last
MANIFEST = "manifest.json"


def _run_files(out: Path, tables) -> list[Path]:
    """The files a run writes (tables, summary, scenario, topologies, forecast), not temp files or the lock."""
    files = [out / f"{t}.parquet" for t in tables] + [out / "summary.json", out / "scenario.yaml"]
    for sub in ("topologies", "forecast"):
        if (out / sub).is_dir():
            files += sorted(p for p in (out / sub).rglob("*") if p.is_file() and not p.name.startswith("."))
    return [p for p in files if p.is_file()]


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file, read in 1 MiB chunks (also the sweep's scenario hash of its input files)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_manifest(out: Path, *, complete: bool, tables) -> None:
    """``manifest.json``: every file of the run (path relative to ``out``) with its SHA-256, and whether the
    run completed (every design of the scenario, none interrupted). Deterministic: same files, same bytes."""
    out = Path(out)
    files = {p.relative_to(out).as_posix(): sha256_file(p) for p in _run_files(out, tables)}
    tmp = out / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps({"complete": complete, "files": files}, indent=1, sort_keys=True) + "\n")
    tmp.replace(out / MANIFEST)


def run_status(out: Path, summary: dict | None = None) -> list[str]:
    """What is wrong with a run directory, one line each (empty: one complete run, every file as written).

    ``summary`` is the parsed summary.json (read from ``out`` when not given; a missing or unreadable one is
    left to the caller's own check).

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / "summary.json").write_text('{"designs": [{"design": "a", "bins": 2, "bins_planned": 2}], '
    ...                                     '"designs_planned": ["a"], "complete": true}')
    >>> run_status(d)
    ['no manifest.json: the run stopped while writing its files (or an older netsim wrote them)']
    >>> write_manifest(d, complete=True, tables=())
    >>> run_status(d)
    []
    >>> _ = (d / "summary.json").write_text('{"designs": [{"design": "a", "bins": 1, "bins_planned": 2, '
    ...                                     '"interrupted": true}], "designs_planned": ["a", "b"]}')
    >>> for line in run_status(d): print(line)
    summary.json differs from the manifest: it was written by another run, or changed, after this run's files
    partial run: design a interrupted after 1 of 2 bins
    partial run: designs not run: b
    """
    out = Path(out)
    lines: list[str] = []
    mpath = out / MANIFEST
    if not mpath.is_file():
        lines.append(f"no {MANIFEST}: the run stopped while writing its files (or an older netsim wrote them)")
    else:
        try:
            files = json.loads(mpath.read_text())["files"]
            if not isinstance(files, dict):
                raise TypeError
        except (OSError, ValueError, KeyError, TypeError):
            files = None
            lines.append(f"{MANIFEST} is damaged: cannot tell whether the files belong to one run")
        for rel, digest in sorted((files or {}).items()):
            p = out / rel
            if not p.is_file():
                lines.append(f"{rel} is missing (listed in {MANIFEST})")
            elif sha256_file(p) != digest:
                lines.append(f"{rel} differs from the manifest: it was written by another run, or changed, "
                             "after this run's files")
    if summary is None:
        try:
            summary = json.loads((out / "summary.json").read_text())
        except (OSError, ValueError):
            return lines
    recs = [r for r in summary.get("designs") or [] if isinstance(r, dict)]
    for r in recs:
        if r.get("interrupted"):
            done, of = r.get("bins"), r.get("bins_planned")
            lines.append(f"partial run: design {r.get('design')} interrupted"
                         + (f" after {done} of {of} bins" if done is not None and of is not None else ""))
    planned = summary.get("designs_planned")
    if isinstance(planned, list):
        missing = [str(d) for d in planned if d not in {r.get("design") for r in recs}]
        if missing:
            lines.append(f"partial run: designs not run: {', '.join(missing)}")
    return lines
