"""The trace schema and its streaming validation (each error: one line naming file, row and column)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator

import numpy as np
import polars as pl

from netsim.errors import InputError

__all__ = ["SCHEMA", "SERVICES", "COLUMNS", "cast_text", "check_columns", "conform", "empty_trace", "validate_batches"]

#: The trace columns and their types (README.md, "Traffic"; traces/README.md).
SCHEMA: dict[str, pl.DataType] = {
    "ts": pl.Float64,
    "src": pl.String,
    "dst": pl.String,
    "provider": pl.String,
    "obj": pl.UInt64,
    "bytes": pl.Int64,
    "service": pl.String,
}
COLUMNS: tuple[str, ...] = tuple(SCHEMA)
#: The service classes a trace row may carry.
SERVICES: tuple[str, ...] = ("video", "web", "game", "update", "p2p", "voice", "other")

_STRINGLIKE = (pl.String, pl.Categorical, pl.Enum, pl.Null)


def _type_ok(col: str, dtype: pl.DataType) -> bool:
    """Whether a column of this dtype converts to the schema type without loss of meaning."""
    if dtype == pl.Null:
        return True
    if SCHEMA[col] == pl.String:
        return isinstance(dtype, _STRINGLIKE) or dtype in _STRINGLIKE
    if col == "ts":
        return dtype.is_numeric()
    return dtype.is_integer()


def _expected(col: str) -> str:
    return {"ts": "a number (Float64 seconds)", "obj": "an integer (UInt64)", "bytes": "an integer (Int64)"}.get(col, "a string (Utf8)")


def check_columns(schema: pl.Schema | dict, *, source: str | None = None) -> None:
    """Raise InputError for a missing column or a column of the wrong type.

    Examples
    --------
    >>> check_columns({"ts": pl.Float64, "src": pl.String}, source="t.parquet")
    Traceback (most recent call last):
    ...
    netsim.errors.InputError: t.parquet: column dst: missing column; a trace needs ts, src, dst, provider, obj, bytes, service
    """
    for col in COLUMNS:
        if col not in schema:
            raise InputError(f"missing column; a trace needs {', '.join(COLUMNS)}", source=source, where=f"column {col}")
    for col in COLUMNS:
        if not _type_ok(col, schema[col]):
            raise InputError(f"wrong type {schema[col]}; expected {_expected(col)}", source=source, where=f"column {col}")


def conform(lf: pl.LazyFrame, *, source: str | None = None) -> pl.LazyFrame:
    """Check the columns, then select them in schema order with the schema's types (lossless casts only).

    Examples
    --------
    >>> lf = pl.LazyFrame({"service": ["web"], "bytes": [10], "obj": [1], "provider": ["web"],
    ...                    "dst": [None], "src": ["a1"], "ts": [0]})
    >>> conform(lf).collect_schema().names()
    ['ts', 'src', 'dst', 'provider', 'obj', 'bytes', 'service']
    """
    schema = lf.collect_schema()
    check_columns(schema, source=source)
    exprs = []
    for col, dtype in SCHEMA.items():
        e = pl.col(col)
        exprs.append(e if schema[col] == dtype else e.cast(dtype))
    return lf.select(exprs)


def empty_trace() -> pl.DataFrame:
    """An empty frame with the trace schema.

    Examples
    --------
    >>> empty_trace().columns
    ['ts', 'src', 'dst', 'provider', 'obj', 'bytes', 'service']
    """
    return pl.DataFrame(schema=SCHEMA)


@dataclass
class _State:
    row0: int = 0
    last_ts: float = -np.inf
    nodes: list[str] | None = None
    topology: str = "the topology"
    line_offset: int | None = None  # CSV: file line of data row 0 (header is line 1)
    text: bool = False  # columns arrive as text (CSV) and are type-checked and cast per batch
    ts_affine: tuple[float, float] = (1.0, 0.0)  # text: ts = parsed * scale - offset


def _all_in(series: pl.Series, allowed: Iterable[str]) -> bool:
    # NOTE: a column's few distinct values are cheaper to check than every row (is_in hashes each string)
    return set(series.drop_nulls().unique().to_list()) <= set(allowed)


def _checks(state: _State, df: pl.DataFrame | None = None) -> list[tuple[str, str, pl.Expr]]:
    """(column, kind of problem, bad-row expression) in the order a row's problems are reported.

    With ``df``, membership checks that its distinct values already pass are left out."""
    is_req = pl.col("obj").is_not_null()
    out = [
        ("src", "null", pl.col("src").is_null()),
        ("ts", "ts", pl.col("ts").is_null() | pl.col("ts").is_nan() | pl.col("ts").is_infinite() | (pl.col("ts") < 0)),
        ("bytes", "bytes", pl.col("bytes").is_null() | (pl.col("bytes") <= 0)),
        ("service", "service", pl.col("service").is_null() if df is not None and _all_in(df["service"], SERVICES)
         else pl.col("service").is_null() | ~pl.col("service").is_in(SERVICES)),
        ("dst", "req_dst", is_req & pl.col("dst").is_not_null()),
        ("provider", "req_provider", is_req & pl.col("provider").is_null()),
        ("dst", "flow_dst", ~is_req & pl.col("provider").is_null() & pl.col("dst").is_null()),
        ("obj", "flow_obj", ~is_req & pl.col("provider").is_not_null() & pl.col("dst").is_null()),
        ("provider", "flow_provider", ~is_req & pl.col("provider").is_not_null()),
    ]
    if state.nodes is not None:
        if df is None or not _all_in(df["src"], state.nodes):
            out.append(("src", "node", ~pl.col("src").is_in(state.nodes)))
        if df is None or not _all_in(df["dst"], state.nodes):
            out.append(("dst", "node", pl.col("dst").is_not_null() & ~pl.col("dst").is_in(state.nodes)))
    return out


_NEITHER = "row is neither a flow (dst set; provider and obj null) nor a request (provider and obj set; dst null)"


def _message(col: str, kind: str, row: dict, state: _State) -> str:
    v = row.get(col)
    return {
        "null": "src is null; expected the node id of the sender (flow) or of the client PoP (request)",
        "ts": f"ts is {v!r}; expected a finite number of seconds from the trace start (>= 0)",
        "bytes": f"bytes must be > 0, found {v!r}",
        "service": f"service must be one of {', '.join(SERVICES)}, found {v!r}",
        "node": f"{col} {v!r} is not a node of {state.topology}",
        "req_dst": f"{_NEITHER}: a request (obj {row.get('obj')!r}) with dst {v!r}",
        "req_provider": f"{_NEITHER}: a request (obj {row.get('obj')!r}) without provider",
        "flow_dst": f"{_NEITHER}: dst, provider and obj are all null",
        "flow_obj": f"{_NEITHER}: provider {row.get('provider')!r} set but obj null",
        "flow_provider": f"{_NEITHER}: a flow (dst {row.get('dst')!r}) with provider {v!r}",
    }[kind]


def _where(row: int, col: str, state: _State) -> str:
    if state.line_offset is not None:
        return f"row {row} (line {row + state.line_offset}), column {col}"
    return f"row {row}, column {col}"


def cast_text(df: pl.DataFrame, *, strict: bool = True) -> pl.DataFrame:
    """Cast the text columns of a CSV batch to the schema types (``strict=False``: unparsable -> null)."""
    return df.select([pl.col(c).cast(t, strict=strict) if t != pl.String else pl.col(c) for c, t in SCHEMA.items()])


def _cast_checked(df: pl.DataFrame, state: _State, source: str | None) -> pl.DataFrame:
    out = cast_text(df, strict=False)
    for col, dtype in SCHEMA.items():
        if dtype == pl.String:
            continue
        bad = df[col].is_not_null() & out[col].is_null()
        if bad.any():
            i = int(bad.arg_true()[0])
            raise InputError(f"wrong type: {df[col][i]!r} is not {_expected(col)}", source=source,
                             where=_where(state.row0 + i, col, state))
    scale, offset = state.ts_affine
    if (scale, offset) != (1.0, 0.0):
        out = out.with_columns(pl.col("ts") * scale - offset)
    return out


def _check_batch(df: pl.DataFrame, state: _State, source: str | None, check_order: bool) -> pl.DataFrame:
    if state.text:
        df = _cast_checked(df, state, source)
    checks = _checks(state, df)
    bad = df.select(pl.any_horizontal([e for _, _, e in checks]).alias("bad"))["bad"]
    first = None
    if bad.any():
        first = int(bad.arg_true()[0])
    ts = df["ts"].to_numpy()
    if check_order and len(ts):
        back = np.flatnonzero(ts[1:] < ts[:-1]) + 1
        if ts[0] < state.last_ts:
            back = np.concatenate(([0], back))
        if len(back) and (first is None or back[0] < first):
            i = int(back[0])
            prev = state.last_ts if i == 0 else float(ts[i - 1])
            raise InputError(f"ts goes backwards ({float(ts[i])!r} after {prev!r}); sort the trace first or pass sort=True",
                             source=source, where=_where(state.row0 + i, "ts", state))
    if first is not None:
        one = df.slice(first, 1)
        flags = one.select([e.alias(str(k)) for k, (_, _, e) in enumerate(checks)]).row(0)
        col, kind, _ = checks[next(k for k, f in enumerate(flags) if f)]
        raise InputError(_message(col, kind, one.row(0, named=True), state), source=source,
                         where=_where(state.row0 + first, col, state))
    if len(ts):
        state.last_ts = max(state.last_ts, float(ts[-1]))
    state.row0 += df.height
    return df


def validate_batches(batches: Iterable[pl.DataFrame], *, source: str | None = None, nodes: Iterable[str] | None = None,
                     topology: str | None = None, check_order: bool = True, line_offset: int | None = None,
                     text: bool = False, ts_affine: tuple[float, float] = (1.0, 0.0)) -> Iterator[pl.DataFrame]:
    """Pass conformed batches through, raising InputError at the first offending row.

    Memory is one batch: the checks are vectorised per batch and only the first bad row is
    looked at. Rows are numbered from 0 across batches; for CSV, ``line_offset`` adds the file line.
    With ``text=True`` the batches hold text columns (CSV), which are type-checked, cast and yielded cast.

    Examples
    --------
    >>> df = pl.DataFrame({"ts": [0.0, 1.0], "src": ["a", "a"], "dst": ["b", None], "provider": [None, "video"],
    ...                    "obj": [None, 7], "bytes": [100, 0], "service": ["p2p", "video"]}, schema=SCHEMA)
    >>> list(validate_batches([df], source="t.parquet"))
    Traceback (most recent call last):
    ...
    netsim.errors.InputError: t.parquet: row 1, column bytes: bytes must be > 0, found 0
    """
    state = _State(line_offset=line_offset, text=text, ts_affine=ts_affine)
    if nodes is not None:
        state.nodes = sorted(set(nodes))
        state.topology = f"topology {topology!r}" if topology else "the topology"
    for df in batches:
        yield _check_batch(df, state, source, check_order)
