"""Shipped traces as recipes: made on first use, cached, checked against a digest kept in the repository.

A shipped trace name (``tochigi-1d``, ``japan-1h``...) is a recipe in ``traces/recipes.yaml``: the
generator and its arguments (what ``netsim trace gen`` takes), the number of rows and a digest of
the trace's content. On first use the trace is generated (a progress bar on stderr), its digest
compared with the recorded one, and the file kept in the user's cache directory
(``$NETSIM_CACHE_DIR``, else ``$XDG_CACHE_HOME/netsim``, else ``~/.cache/netsim``) under
``traces/<name>-<digest>.parquet``; later uses read it from there (the digest is checked again
when the file changed since it was checked). Traces at sample rates a planner can trust are tens
of MB; a recipe is a few lines.

The digest (:func:`trace_digest`) is a SHA-256 over the trace's metadata and column values, not
over the Parquet bytes: a new Parquet writer changes the bytes of the same trace, a change in the
generator or in the libraries its numbers come from changes the values. A generated trace whose
digest differs from the recipe's is an error (the shipped numbers in the README would no longer
be what the user gets); ``NETSIM_ACCEPT_TRACE_DIGEST=1`` uses it anyway, with a warning.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any, Optional

import numpy as np
import polars as pl
from pydantic import BaseModel, ConfigDict, Field, RootModel

from netsim.errors import InputError

__all__ = ["Recipe", "recipes", "cache_dir", "trace_digest", "materialize", "recipe_command"]

RECIPES_FILE = "recipes.yaml"


class Recipe(BaseModel):
    """One shipped trace: ``netsim trace gen`` arguments, expected ``rows`` and ``digest``."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    name: str = ""
    topology: str
    duration: str
    seed: int = Field(ge=0)
    sample_rate: float = Field(gt=0, le=1)
    generator: str = "mixed"
    start_weekday: int = Field(0, ge=0, le=6)
    start_hour: float = Field(0.0, ge=0, lt=24)
    options: dict[str, Any] = Field(default_factory=dict)
    rows: Optional[int] = None
    digest: Optional[str] = None
    description: str = ""


class _Recipes(RootModel[dict[str, Recipe]]):
    pass


def _recipes_path() -> Path | None:
    from netsim.data import _root

    try:
        p = Path(str(_root("traces").joinpath(RECIPES_FILE)))
    except FileNotFoundError:
        return None
    return p if p.is_file() else None


_CACHE: dict[str, tuple[float, dict[str, Recipe]]] = {}


def recipes() -> dict[str, Recipe]:
    """The shipped recipes by name (empty if the installation has none)."""
    p = _recipes_path()
    if p is None:
        return {}
    mtime = p.stat().st_mtime
    got = _CACHE.get(str(p))
    if got is not None and got[0] == mtime:
        return got[1]
    from netsim.yamlio import load_yaml_model

    doc, _ = load_yaml_model(p, _Recipes)
    out = {name: r.model_copy(update={"name": name}) for name, r in sorted(doc.root.items())}
    _CACHE[str(p)] = (mtime, out)
    return out


def recipe_command(r: Recipe, output: str | None = None) -> str:
    """The ``netsim trace gen`` command line that makes the recipe's trace.

    Examples
    --------
    >>> r = Recipe(name="x", topology="tochigi", duration="1d", seed=1, sample_rate=0.01,
    ...            options={"provider_weights": {"overseas-video": 0.18}})
    >>> recipe_command(r)
    'netsim trace gen -t tochigi --duration 1d --seed 1 -p 0.01 --provider-weight overseas-video=0.18 -o x.parquet'
    """
    parts = ["netsim trace gen", f"-t {r.topology}", f"--duration {r.duration}", f"--seed {r.seed}"]
    if r.generator != "mixed":
        parts.append(f"-g {r.generator}")
    if r.start_weekday:
        parts.append(f"--start-weekday {r.start_weekday}")
    if r.start_hour:
        parts.append(f"--start-hour {r.start_hour:g}")
    parts.append(f"-p {r.sample_rate:g}")
    for k, v in sorted(r.options.items()):
        if k == "provider_weights":
            parts += [f"--provider-weight {p}={w:g}" for p, w in sorted(v.items())]
        else:
            parts.append(f"--{k.replace('_', '-')} {v}")
    parts.append(f"-o {output or r.name + '.parquet'}")
    return " ".join(parts)


def cache_dir() -> Path:
    """Where generated shipped traces are kept: ``$NETSIM_CACHE_DIR``, ``$XDG_CACHE_HOME/netsim`` or ``~/.cache/netsim``."""
    env = os.environ.get("NETSIM_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "netsim"


def trace_digest(path: str | Path) -> str:
    """SHA-256 of a trace file's metadata and column values (not of its bytes: see the module docstring).

    Strings are hashed as their sorted distinct values plus each row's index among them, numbers
    as their little-endian values, nulls as a bitmap; so the same trace read by any polars gives
    the same digest.
    """
    from netsim.traffic.io import trace_meta

    p = Path(path)
    h = hashlib.sha256()
    h.update(json.dumps(trace_meta(p), sort_keys=True).encode())
    df = pl.read_parquet(p)
    h.update(f"{df.height}".encode())
    for name in df.columns:
        s = df[name]
        h.update(f"|{name}|".encode())
        nulls = s.is_null().to_numpy()
        h.update(np.packbits(nulls).tobytes())
        if s.dtype in (pl.String, pl.Categorical) or isinstance(s.dtype, pl.Enum):
            s = s.cast(pl.String)
            values = s.drop_nulls().unique().sort()
            h.update("\0".join(values.to_list()).encode())
            codes = s.fill_null(values[0] if len(values) else "").replace_strict(
                values, pl.Series(np.arange(len(values), dtype=np.int32)), return_dtype=pl.Int32) \
                if len(values) else pl.Series(np.zeros(len(s), dtype=np.int32))
            h.update(codes.to_numpy().astype("<i4").tobytes())
        else:
            arr = s.fill_null(0).to_numpy()
            h.update(str(arr.dtype.str).encode())
            h.update(arr.astype(arr.dtype.newbyteorder("<")).tobytes())
    return h.hexdigest()


@contextlib.contextmanager
def _lock(path: Path):
    """An exclusive lock on ``path`` (another process making the same trace waits, then finds it made)."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _stamp(path: Path) -> str:
    st = path.stat()
    return f"{st.st_size}:{st.st_mtime_ns}"


def _stamp_ok(path: Path, digest: str) -> None:
    """Record that ``path`` (as it is now) has ``digest``: ``<file>.ok`` holds the file's size:mtime and the digest."""
    path.with_name(path.name + ".ok").write_text(f"{_stamp(path)} {digest}")


def _checked(path: Path, digest: str | None) -> bool:
    """Whether the cached file is there with the expected digest (``None``: the one recorded when it was made).

    The digest is computed again only when the file changed since it was last checked; a file that
    fails the check is removed (it is made again)."""
    if not path.is_file():
        return False
    ok = path.with_name(path.name + ".ok")
    stamp, _, recorded = (ok.read_text().partition(" ") if ok.is_file() else ("", "", ""))
    want = digest or recorded
    if want and stamp == _stamp(path) and recorded == want:
        return True
    try:
        good = bool(want) and trace_digest(path) == want
    except Exception:  # a damaged file: make it again
        good = False
    if good:
        _stamp_ok(path, want)
    else:
        path.unlink()
        ok.unlink(missing_ok=True)
    return good


def _generate(r: Recipe, out: Path) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from netsim.topology import load_topology
    from netsim.traffic.generators import GENERATORS
    from netsim.units import parse_duration_s

    fn = GENERATORS[r.generator]
    trace = fn(load_topology(r.topology), duration_s=parse_duration_s(r.duration), seed=r.seed,
               sample_rate=r.sample_rate, start_weekday=r.start_weekday, start_hour=r.start_hour, **r.options)
    console = Console(stderr=True)
    with Progress(TextColumn(f"[bold]generating shipped trace {r.name} (first use)"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[rows]:,} rows"), TimeElapsedColumn(), console=console,
                  transient=True) as progress:
        task = progress.add_task("gen", total=trace.n_chunks, rows=0)
        done = [0]

        def tick(n):
            done[0] += n
            progress.update(task, advance=1, rows=done[0])

        rows = trace.write(out, on_chunk=tick)
    return rows


def _variant(name: str) -> tuple[Recipe, str | None, str] | None:
    """(recipe, expected digest, cache key) of a name: ``name`` itself, or ``name@RATE`` (the recipe at another
    sample rate, whose digest is not recorded: none is expected, and the base recipe's digest keys its file);
    None if there is no such recipe."""
    base, at, rate = name.partition("@")
    r = recipes().get(base)
    if r is None:
        return None
    if not at:
        if not r.digest:
            raise InputError("the recipe records no digest", source=str(_recipes_path()), where=name)
        return r, r.digest, r.digest
    try:
        p = float(rate)
    except ValueError:
        p = float("nan")
    if not 0 < p <= 1:
        raise InputError(f"{name}: expected NAME@RATE with a sample rate in (0, 1], found {rate!r}")
    return r.model_copy(update={"name": name, "sample_rate": p, "rows": None, "digest": None}), None, r.digest or "none"


def materialize(name: str) -> Path | None:
    """The path of shipped trace ``name`` in the cache, generated first if needed; None if no recipe has that name.

    ``NAME@RATE`` (e.g. ``tochigi-1d@0.001``) is the recipe at another sample rate: a quick look,
    or a convergence check. It is generated and cached the same way; its digest is not in the
    repository, so it is only checked against the one taken when it was made.

    Raises InputError when the generated trace's digest differs from the recipe's (unless
    ``NETSIM_ACCEPT_TRACE_DIGEST=1``).
    """
    got = _variant(name)
    if got is None:
        return None
    r, expected, key = got
    folder = cache_dir() / "traces"
    path = folder / f"{name}-{key[:16]}.parquet"
    if _checked(path, expected):
        return path
    with _lock(folder / f".{name}.lock"):
        if _checked(path, expected):  # another process made it while we waited
            return path
        fd, tmp = tempfile.mkstemp(prefix=f".{name}-", suffix=".parquet", dir=folder)
        os.close(fd)
        tmp = Path(tmp)
        try:
            rows = _generate(r, tmp)
            digest = trace_digest(tmp)
            if expected is not None and (digest != expected or (r.rows is not None and rows != r.rows)):
                msg = (f"shipped trace {name}: the generated trace differs from the one the repository records "
                       f"({rows:,} rows, digest {digest[:16]}; recorded {r.rows:,} rows, {expected[:16]}): the "
                       f"generator or a library it draws numbers with (numpy {np.__version__}, polars {pl.__version__}) "
                       "changed, so the shipped results would not be reproduced")
                if os.environ.get("NETSIM_ACCEPT_TRACE_DIGEST", "") in ("", "0"):
                    raise InputError(msg + "; set NETSIM_ACCEPT_TRACE_DIGEST=1 to use it anyway",
                                     source=str(_recipes_path()), where=name)
                warnings.warn(msg, stacklevel=2)
                path = folder / f"{name}-{digest[:16]}.parquet"
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        _stamp_ok(path, digest)
        print(f"netsim: made shipped trace {name} ({rows:,} rows) in {path}", file=sys.stderr)
    return path
