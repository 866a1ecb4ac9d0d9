"""Read and write traces: Parquet and CSV natively, importers by name, metadata (``scale``) beside the rows."""

from __future__ import annotations

import inspect
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping

import networkx as nx
import polars as pl

from netsim.data import resolve_path
from netsim.errors import InputError
from netsim.registry import Registry
from netsim.traffic.schema import COLUMNS, SCHEMA, check_columns, conform, validate_batches

__all__ = ["READERS", "RawTrace", "TraceReader", "read_trace", "write_trace", "trace_meta", "iter_batches",
           "META_KEY", "BATCH_ROWS", "open_validated"]

#: Key of the trace metadata (JSON) in the Parquet key-value metadata; CSV keeps it in ``<file>.meta.json``.
META_KEY = "netsim.trace"
#: Rows per streamed batch: large enough to amortise per-batch work, small enough to bound memory.
BATCH_ROWS = 262_144
_DEFAULT_META = {"format": "netsim-trace", "version": 1, "scale": 1.0, "sample_rate": 1.0}


@dataclass(frozen=True)
class RawTrace:
    """What a reader returns: a lazy frame with the trace columns, and how to check it.

    ``text``: the columns are strings still to be type-checked (CSV); then ``ts`` becomes
    ``ts * ts_scale - ts_offset`` once parsed. ``line_offset``: the file line of data row 0, for
    error messages. ``meta``: what the file says about itself (``scale``...).
    """

    frame: pl.LazyFrame
    text: bool = False
    line_offset: int | None = None
    meta: dict = field(default_factory=dict)
    ts_scale: float = 1.0
    ts_offset: float = 0.0
    batches: Callable[[pl.LazyFrame, int], Iterator[pl.DataFrame]] | None = None
    #: called with the path when polars cannot read the rows: the first bad row as an InputError, or None
    diagnose: Callable[[Path], InputError | None] | None = None

    def typed(self, *, source: str | None = None) -> pl.LazyFrame:
        """The frame in the trace schema (text columns cast; a failed cast raises when collected)."""
        if not self.text:
            return conform(self.frame, source=source)
        lf = self.frame.select([pl.col(c).cast(t) if t != pl.String else pl.col(c) for c, t in SCHEMA.items()])
        if (self.ts_scale, self.ts_offset) != (1.0, 0.0):
            lf = lf.with_columns(pl.col("ts") * self.ts_scale - self.ts_offset)
        return lf

    def checked(self, nodes, *, source: str, topology: str | None, check_order: bool = True,
                batch_rows: int = BATCH_ROWS) -> Iterator[pl.DataFrame]:
        """Stream the rows in typed batches, validated as they pass."""
        frame = self.frame.select(COLUMNS) if self.text else conform(self.frame, source=source)
        stream = _readable((self.batches or _collect_batches)(frame, batch_rows), source=source, diagnose=self.diagnose)
        return validate_batches(stream, source=source, nodes=nodes,
                                topology=topology, check_order=check_order, line_offset=self.line_offset,
                                text=self.text, ts_affine=(self.ts_scale, self.ts_offset))


def _readable(stream: Iterator[pl.DataFrame], *, source: str,
              diagnose: Callable[[Path], InputError | None] | None = None) -> Iterator[pl.DataFrame]:
    """The batches of ``stream``; a file polars cannot parse (an unterminated quote, a damaged page) is one
    InputError line naming it, not polars' multi-line message with the file's text in it; ``diagnose`` may
    find the row at fault (a line with more fields than the header, a negative obj)."""
    try:
        yield from stream
    except pl.exceptions.PolarsError as e:
        found = None
        if diagnose is not None:
            try:
                found = diagnose(Path(source))
            except Exception:   # NOTE: a diagnosis that fails leaves polars' own message, below
                found = None
        if found is not None:
            raise found from None
        text = str(e)
        if "Original error:" in text:   # polars' own diagnosis, after its hints
            text = text.split("Original error:", 1)[1]
        text = " ".join(text.replace("`", "").split())
        raise InputError(f"cannot read the file: {text[:200]}", source=source) from None


@dataclass(frozen=True)
class TraceReader:
    """A trace reader: ``read(path, **options) -> RawTrace``, claiming files by extension."""

    read: Callable[..., RawTrace]
    extensions: tuple[str, ...] = ()


READERS: Registry[TraceReader] = Registry("trace format")


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".meta.json")


def trace_meta(path: str | Path) -> dict:
    """The metadata of a trace file: ``scale`` (each byte stands for ``scale`` bytes), ``sample_rate``, generator...

    Parquet keeps it in the file's key-value metadata, CSV in ``<file>.meta.json``; a file
    without it is a full trace (``scale`` 1).

    Examples
    --------
    >>> trace_meta("tochigi-1d")["scale"] > 1
    True
    """
    p = _resolve(path)
    raw = None
    if p.suffix.lower() == ".parquet":
        try:
            raw = pl.read_parquet_metadata(p).get(META_KEY)
        except Exception as e:  # a damaged file: say which
            raise InputError(f"cannot read Parquet metadata: {e}", source=str(p)) from None
    elif _sidecar(p).is_file():
        raw = _sidecar(p).read_text()
    meta = dict(_DEFAULT_META)
    where = f"metadata {META_KEY}" if p.suffix.lower() == ".parquet" else None
    source = str(p) if where else str(_sidecar(p))
    if raw:
        try:
            doc = json.loads(raw)
        except (json.JSONDecodeError, RecursionError) as e:
            raise InputError(f"trace metadata is not JSON: {' '.join(str(e).split())[:120]}", source=source,
                             where=where) from None
        if not isinstance(doc, dict):
            raise InputError(f"trace metadata is a JSON {type(doc).__name__}; expected an object such as "
                             '{"scale": 1000.0, "sample_rate": 0.001}', source=source, where=where)
        meta.update(doc)
    _check_meta(meta, source=source, where=where)
    return meta


#: What a trace's metadata numbers may be: (lowest, lowest allowed itself, highest). A scale of -1000 or 0, or
#: "abc", was taken (or broke `trace info`); 1e400 reads as infinity.
_META_RANGES = {"scale": (0.0, False, 1e12), "sample_rate": (0.0, False, 1.0), "duration_s": (0.0, False, 1e12),
                "start_hour": (0.0, True, 24.0)}


def _check_meta(meta: dict, *, source: str, where: str | None) -> None:
    for key, (low, low_ok, high) in _META_RANGES.items():
        v = meta.get(key)
        if v is None and key in ("duration_s", "start_hour"):
            continue
        ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) \
            and (v >= low if low_ok else v > low) and v <= high
        if not ok:
            raise InputError(f"found {v!r:.40}; expected a number {'>=' if low_ok else '>'} {low:g} and <= {high:g}",
                             source=source, where=f"{where}.{key}" if where else key)


def _resolve(path: str | Path) -> Path:
    try:
        return resolve_path("traces", path)
    except FileNotFoundError as e:
        raise InputError(str(e)) from None


def _read_parquet(path: Path) -> RawTrace:
    import pyarrow.parquet as pq

    try:
        lf = pl.scan_parquet(path)
        lf.collect_schema()
        md = pq.read_metadata(path)
        sizes = [md.row_group(i).num_rows for i in range(md.num_row_groups)]
    except Exception as e:
        raise InputError(f"not a readable Parquet file: {' '.join(str(e).split())[:200]}", source=str(path)) from None

    def batches(frame: pl.LazyFrame, batch_rows: int) -> Iterator[pl.DataFrame]:
        # NOTE: one short query per span of row groups. A single streaming query (collect_batches)
        # keeps the memory-mapped file resident, so its RSS grows with the file; these don't.
        for start, n in _spans(sizes, batch_rows):
            df = frame.slice(start, n).collect()
            if df.height:
                yield df

    return RawTrace(lf, meta=trace_meta(path), batches=batches, diagnose=_negative_obj)


def _negative_obj(path: Path) -> InputError | None:
    """The first row whose ``obj`` is negative (stored as a signed integer: it has no UInt64 value)."""
    lf = pl.scan_parquet(path)
    if not lf.collect_schema()["obj"].is_signed_integer():
        return None
    bad = lf.select(pl.col("obj")).with_row_index("row").filter(pl.col("obj") < 0).head(1).collect()
    if not bad.height:
        return None
    return InputError(f"obj is {bad['obj'][0]}; expected an object id >= 0 (UInt64)", source=str(path),
                      where=f"row {bad['row'][0]}, column obj")


def _spans(sizes: list[int], batch_rows: int) -> Iterator[tuple[int, int]]:
    """(offset, rows) spans covering whole row groups, about ``batch_rows`` each (a huge group is cut)."""
    start = pending = 0
    for n in sizes:
        if pending and pending + n > batch_rows:
            yield start, pending
            start, pending = start + pending, 0
        pending += n
        while pending > 4 * batch_rows:
            yield start, batch_rows
            start, pending = start + batch_rows, pending - batch_rows
    if pending:
        yield start, pending


def _read_csv(path: Path, *, separator: str = ",") -> RawTrace:
    try:
        lf = pl.scan_csv(path, infer_schema=False, separator=separator)
        names = lf.collect_schema().names()
    except Exception as e:
        raise InputError(f"not a readable CSV file: {' '.join(str(e).split())[:200]}", source=str(path)) from None
    for col in COLUMNS:
        if col not in names:
            raise InputError(f"missing column; a trace needs {', '.join(COLUMNS)}", source=str(path), where=f"column {col}")
    return RawTrace(lf.select(COLUMNS), text=True, line_offset=2, meta=trace_meta(path),
                    diagnose=lambda p: _ragged_line(p, separator))


def _ragged_line(path: Path, separator: str = ",") -> InputError | None:
    """The first line with more fields than the header (polars' message names neither the line nor the count)."""
    import csv

    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        rows = csv.reader(f, delimiter=separator)
        header = next(rows, [])
        for row in rows:
            if len(row) > len(header):
                return InputError(f"{len(row)} fields, the header has {len(header)} ({separator.join(header)[:80]}); "
                                  "expected one value per column", source=str(path), where=f"line {rows.line_num}")
    return None


READERS.register("parquet")(TraceReader(read=_read_parquet, extensions=(".parquet", ".pq")))
READERS.register("csv")(TraceReader(read=_read_csv, extensions=(".csv",)))


def _pick_reader(path: Path, format: str | None) -> TraceReader:
    from netsim.traffic import importers  # noqa: F401  (registers the importers)

    if format is not None:
        try:
            return READERS[format]
        except KeyError as e:
            raise InputError(e.args[0], source=str(path)) from None
    suffix = path.suffix.lower()
    for name in READERS:
        if suffix in READERS[name].extensions:
            return READERS[name]
    known = sorted({e for n in READERS for e in READERS[n].extensions})
    raise InputError(f"unknown trace file extension {suffix!r}; expected one of {', '.join(known)} or format= "
                     f"(one of {', '.join(READERS.names())})", source=str(path))


def _call_reader(reader: TraceReader, path: Path, options: Mapping | None) -> RawTrace:
    opts = dict(options or {})
    params = inspect.signature(reader.read).parameters
    allowed = [n for n, p in params.items() if p.kind == p.KEYWORD_ONLY]
    for k in opts:
        if k not in allowed:
            raise InputError(f"unknown reader option {k!r}; this format takes {', '.join(allowed) or 'no options'}", source=str(path))
    missing = [n for n in allowed if params[n].default is inspect.Parameter.empty and n not in opts]
    if missing:
        raise InputError(f"this format needs the option(s) {', '.join(missing)}", source=str(path))
    return reader.read(path, **opts)


def _node_ids(topology) -> tuple[list[str] | None, str | None]:
    if topology is None:
        return None, None
    if not isinstance(topology, nx.Graph):
        from netsim.topology import load_topology

        topology = load_topology(topology)
    return [str(n) for n in topology.nodes], topology.graph.get("name")


def _collect_batches(lf: pl.LazyFrame, batch_rows: int) -> Iterator[pl.DataFrame]:
    return iter_batches(lf, batch_rows=batch_rows)


def iter_batches(lf: pl.LazyFrame, *, batch_rows: int = BATCH_ROWS) -> Iterator[pl.DataFrame]:
    """Stream a lazy frame as DataFrames of about ``batch_rows`` rows, in order.

    Examples
    --------
    >>> [df.height for df in iter_batches(pl.LazyFrame({"x": range(5)}), batch_rows=2)][:1]
    [2]
    """
    for df in lf.collect_batches(chunk_size=batch_rows, maintain_order=True):
        if df.height:
            yield df


def read_trace(path: str | Path, topology=None, *, sort: bool = False, validate: bool = True, format: str | None = None,
               options: Mapping | None = None) -> pl.LazyFrame:
    """Read a trace (Parquet, CSV, or an importer's format) as a lazy frame in the trace schema.

    Parameters
    ----------
    path : a trace file, or a shipped trace name (``"tochigi-1d"``).
    topology : a DiGraph or a topology name/path; when given, every ``src``/``dst`` must be one of its nodes.
    sort : sort by ``ts`` (held in memory while sorting); otherwise time going backwards is an error.
    validate : check every row (one streaming pass, one batch in memory at a time) before returning.
    format : a reader name (``READERS.names()``: parquet, csv, nfdump, libcachesim-csv, oracle-general);
        default: by file extension.
    options : the reader's keyword options (e.g. ``{"prefixes": {...}}`` for nfdump); see each reader.

    Raises
    ------
    InputError : one line naming the file, the row (0-based) and the column of the first bad row.

    Examples
    --------
    >>> lf = read_trace("tochigi-1d")
    >>> lf.collect_schema().names()
    ['ts', 'src', 'dst', 'provider', 'obj', 'bytes', 'service']
    """
    p = _resolve(path)
    raw = _call_reader(_pick_reader(p, format), p, options)
    typed = raw.typed(source=str(p))
    if validate:
        nodes, topo_name = _node_ids(topology)
        for _ in raw.checked(nodes, source=str(p), topology=topo_name, check_order=not sort):
            pass
    return typed.sort("ts", maintain_order=True) if sort else typed


def open_validated(path: str | Path, topology=None, *, format: str | None = None, options: Mapping | None = None,
                   batch_rows: int = BATCH_ROWS, validate: bool = True) -> Iterator[pl.DataFrame]:
    """Stream a trace file's rows in typed batches, validating as they pass (one pass over the file).

    Examples
    --------
    >>> sum(df.height for df in open_validated("tochigi-1d@0.001", "tochigi"))
    270254
    """
    p = _resolve(path)
    raw = _call_reader(_pick_reader(p, format), p, options)
    if not validate:
        return (raw.batches or _collect_batches)(raw.typed(source=str(p)), batch_rows)
    nodes, topo_name = _node_ids(topology)
    return raw.checked(nodes, source=str(p), topology=topo_name, batch_rows=batch_rows)


def _arrow_schema(meta: dict):
    import pyarrow as pa

    return pa.schema([("ts", pa.float64()), ("src", pa.string()), ("dst", pa.string()), ("provider", pa.string()),
                      ("obj", pa.uint64()), ("bytes", pa.int64()), ("service", pa.string())],
                     metadata={META_KEY: json.dumps(meta, sort_keys=True)})


def _as_batches(frame) -> Iterator[pl.DataFrame]:
    if isinstance(frame, pl.DataFrame):
        check_columns(frame.schema)
        yield conform(frame.lazy()).collect()
    elif isinstance(frame, pl.LazyFrame):
        yield from iter_batches(conform(frame))
    else:
        for df in frame:
            check_columns(df.schema)
            yield conform(df.lazy()).collect()


def write_trace(frame: pl.DataFrame | pl.LazyFrame | Iterable[pl.DataFrame], path: str | Path, *, meta: Mapping | None = None,
                validate: bool = True, row_group_rows: int = BATCH_ROWS, compression: str = "zstd",
                compression_level: int | None = None) -> int:
    """Write a trace (a frame, a lazy frame, or an iterable of frames in time order) to Parquet or CSV.

    ``meta`` (e.g. ``{"scale": 1000.0, "sample_rate": 0.001}``) is stored in the Parquet key-value
    metadata under ``netsim.trace`` (CSV: a ``<file>.meta.json`` sidecar) and read back by
    :func:`trace_meta`. Rows are validated while written; returns the number of rows.
    Output is deterministic: the same frame and meta give the same bytes (same library versions).
    Parquet ``compression``: ``zstd`` (default, level 3: smallest), ``lz4`` (about 1.3x the size,
    1.6x faster to read), ``snappy`` or ``none``.

    Examples
    --------
    >>> import tempfile, os
    >>> df = pl.DataFrame({"ts": [0.0, 2.5], "src": ["a1", "a2"], "dst": ["a2", None], "provider": [None, "video"],
    ...                    "obj": [None, 42], "bytes": [1500, 10_000_000], "service": ["voice", "video"]})
    >>> path = os.path.join(tempfile.mkdtemp(), "t.parquet")
    >>> write_trace(df, path, meta={"scale": 10.0})
    2
    >>> trace_meta(path)["scale"], read_trace(path).collect()["obj"].to_list()
    (10.0, [None, 42])
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    p = Path(path)
    try:   # a new file may name a directory that is not there yet: make it
        p.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"cannot create the directory {p.parent}: {e.strerror}", source=str(p)) from None
    full_meta = dict(_DEFAULT_META)
    full_meta.update(dict(meta or {}))
    batches = _as_batches(frame)
    if validate:
        batches = validate_batches(batches, source=str(p))
    suffix = p.suffix.lower()
    rows = 0
    if compression not in ("zstd", "lz4", "snappy", "none"):
        raise InputError(f"unknown compression {compression!r}; expected zstd, lz4, snappy or none", where="compression")
    if compression_level is None and compression == "zstd":
        compression_level = 3
    if suffix in (".parquet", ".pq"):
        schema = _arrow_schema(full_meta)
        tmp = p.with_name(p.name + ".tmp")
        with pq.ParquetWriter(tmp, schema, compression=compression, compression_level=compression_level,
                              use_dictionary=["src", "dst", "provider", "service"],
                              write_statistics=["ts"], store_schema=True) as w:
            pending: list[pl.DataFrame] = []
            n_pending = 0
            for df in batches:
                pending.append(df)
                n_pending += df.height
                while n_pending >= row_group_rows:
                    big = pl.concat(pending)
                    w.write_table(_to_arrow(big.slice(0, row_group_rows), schema), row_group_size=row_group_rows)
                    rest = big.slice(row_group_rows)
                    pending, n_pending = ([rest] if rest.height else []), rest.height
                    rows += row_group_rows
            if n_pending:
                w.write_table(_to_arrow(pl.concat(pending), schema), row_group_size=row_group_rows)
                rows += n_pending
            if rows == 0:
                w.write_table(pa.Table.from_pylist([], schema=schema))
        tmp.replace(p)
    elif suffix == ".csv":
        with open(p, "wb") as f:
            first = True
            for df in batches:
                df.write_csv(f, include_header=first)
                first = False
                rows += df.height
            if first:
                f.write((",".join(COLUMNS) + "\n").encode())
        _sidecar(p).write_text(json.dumps(full_meta, sort_keys=True, indent=1) + "\n")
    else:
        raise InputError(f"unknown trace file extension {suffix!r}; expected .parquet or .csv", source=str(p))
    return rows


def _to_arrow(df: pl.DataFrame, schema):
    return df.to_arrow(compat_level=pl.CompatLevel.oldest()).cast(schema)
