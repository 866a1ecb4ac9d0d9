"""Cut a trace into time bins, lazily: one bin (plus one read batch) in memory at a time."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
import polars as pl

from netsim.errors import InputError
from netsim.traffic.io import BATCH_ROWS, iter_batches, open_validated
from netsim.traffic.schema import conform, empty_trace

__all__ = ["bins", "read_batches"]


def bins(frame: str | Path | pl.LazyFrame | pl.DataFrame, bin_s: float = 300, *, topology=None, validate: bool = True,
         batch_rows: int = BATCH_ROWS) -> Iterator[tuple[float, pl.DataFrame]]:
    """Yield ``(bin_start_s, rows)`` for consecutive bins ``[k*bin_s, (k+1)*bin_s)`` of a time-sorted trace.

    Every bin from the first row's to the last row's is yielded, empty ones included, so a replay
    sees quiet periods. Memory holds one bin and one read batch, whatever the trace length.

    Parameters
    ----------
    frame : a trace path or shipped name (read and validated in the same single pass; Parquet is
        read one span of row groups at a time, so memory stays flat however long the file), a
        LazyFrame (streamed with ``collect_batches``; note that polars keeps a scanned file's
        memory map resident, so prefer the path for long files) or a DataFrame (sliced, no copy).
    bin_s : bin width in seconds (default 300, the 5-minute sample of 95th-percentile billing).
    topology : with a path: also check that node ids are nodes of this topology.
    validate : with a path: validate rows while streaming (default).

    Examples
    --------
    >>> first = next(bins("tochigi-1d", bin_s=300))
    >>> first[0], first[1]["ts"].max() < 300
    (0.0, True)
    """
    if not bin_s > 0:
        raise InputError(f"bin_s must be > 0, found {bin_s!r}", where="bin_s")
    return _bins(read_batches(frame, topology=topology, validate=validate, batch_rows=batch_rows), float(bin_s))


def read_batches(frame: str | Path | pl.LazyFrame | pl.DataFrame, *, topology=None, validate: bool = True,
                 batch_rows: int = BATCH_ROWS) -> Iterable[pl.DataFrame]:
    """The rows of a trace (path or shipped name, LazyFrame or DataFrame) as typed batches, in file order
    (what :func:`bins` cuts; the replay engine reads these and cuts them itself)."""
    if isinstance(frame, pl.DataFrame):
        return [conform(frame.lazy()).collect()]
    if isinstance(frame, pl.LazyFrame):
        return iter_batches(conform(frame), batch_rows=batch_rows)
    return open_validated(frame, topology, batch_rows=batch_rows, validate=validate)


def _bins(batches: Iterable[pl.DataFrame], bin_s: float) -> Iterator[tuple[float, pl.DataFrame]]:
    current: int | None = None
    pieces: list[pl.DataFrame] = []
    for df in batches:
        k = np.floor(df["ts"].to_numpy() / bin_s).astype(np.int64)
        if len(k) and np.any(k[1:] < k[:-1]):
            raise InputError("ts goes backwards; sort the trace first (read_trace(..., sort=True))", where="column ts")
        cuts = np.flatnonzero(k[1:] != k[:-1]) + 1
        starts = np.concatenate(([0], cuts))
        ends = np.concatenate((cuts, [len(k)]))
        for s, e in zip(starts.tolist(), ends.tolist()):
            kb = int(k[s])
            if current is not None and kb < current:
                raise InputError("ts goes backwards between batches; sort the trace first", where="column ts")
            if current is None or kb != current:
                if current is not None:
                    yield current * bin_s, _join(pieces)
                    for empty in range(current + 1, kb):
                        yield empty * bin_s, empty_trace()
                current, pieces = kb, []
            pieces.append(df.slice(s, e - s))
    if current is not None:
        yield current * bin_s, _join(pieces)


def _join(pieces: list[pl.DataFrame]) -> pl.DataFrame:
    if len(pieces) == 1:
        return pieces[0]
    return pl.concat(pieces, rechunk=False)


