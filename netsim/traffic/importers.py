"""Importers: nfdump CSV flow exports and libCacheSim request traces (CSV and binary oracleGeneral).

Each is a reader in :data:`netsim.traffic.io.READERS`, used as
``read_trace(path, format="nfdump", options={"prefixes": {...}})``; its keyword options are its
parameters below. The result is checked like any trace (types, bytes > 0, time order...).
"""

from __future__ import annotations

import ipaddress
import json
import warnings
from pathlib import Path
from typing import Mapping

import numpy as np
import polars as pl

from netsim.errors import InputError
from netsim.traffic.io import READERS, RawTrace, TraceReader
from netsim.traffic.schema import SCHEMA, SERVICES

__all__ = ["read_nfdump", "read_libcachesim_csv", "read_oracle_general", "ORACLE_GENERAL_DTYPE", "PORT_SERVICES",
           "PrefixTable"]

#: One oracleGeneral record (libCacheSim): little-endian uint32 time, uint64 obj id, uint32 size,
#: int64 next access (virtual time) = 24 bytes.
ORACLE_GENERAL_DTYPE = np.dtype([("time", "<u4"), ("obj", "<u8"), ("size", "<u4"), ("next", "<i8")])
assert ORACLE_GENERAL_DTYPE.itemsize == 24

#: Service of a flow by well-known port (destination port first, then source port); else ``other``.
PORT_SERVICES: dict[str, tuple[int, ...]] = {
    "web": (80, 443, 8080, 8443),
    "video": (554, 1935),  # RTSP, RTMP (most video rides on 443 and counts as web here)
    "voice": (5060, 5061, 3478, 3479, 3480, 3481, 8801),  # SIP, STUN/TURN, Zoom
    "game": (3074, 3659, 27015, 27016, 27017, 27018, 27019, 27020),  # Xbox Live, EA, Steam
    "p2p": (6881, 6882, 6883, 6884, 6885, 6886, 6887, 6888, 6889, 51413),  # BitTorrent
}


class PrefixTable:
    """Longest-prefix match of IP addresses (v4 and v6) to node ids.

    Examples
    --------
    >>> t = PrefixTable({"10.0.0.0/8": "a1", "10.1.0.0/16": "a2"})
    >>> t.lookup("10.1.2.3"), t.lookup("10.9.0.1"), t.lookup("192.0.2.1")
    ('a2', 'a1', None)
    """

    def __init__(self, prefixes: Mapping[str, str], *, source: str | None = None):
        self._by_len: dict[tuple[int, int], dict[int, str]] = {}
        for k, node in prefixes.items():
            try:
                net = ipaddress.ip_network(str(k).strip(), strict=False)
            except ValueError as e:
                raise InputError(f"bad prefix {k!r}: {e}", source=source, where="prefixes") from None
            self._by_len.setdefault((net.version, net.prefixlen), {})[int(net.network_address)] = str(node)
        self._lens = sorted(self._by_len, key=lambda vl: -vl[1])

    def lookup(self, address: str) -> str | None:
        try:
            a = ipaddress.ip_address(address.strip())
        except ValueError:
            return None
        bits = 32 if a.version == 4 else 128
        x = int(a)
        for version, plen in self._lens:
            if version != a.version:
                continue
            hit = self._by_len[(version, plen)].get((x >> (bits - plen)) << (bits - plen))
            if hit is not None:
                return hit
        return None

    @classmethod
    def load(cls, prefixes: Mapping[str, str] | str | Path) -> "PrefixTable":
        """From a mapping, or a file: CSV ``prefix,node`` (a header line is skipped) or JSON/YAML ``{prefix: node}``."""
        if isinstance(prefixes, Mapping):
            return cls(prefixes)
        p = Path(prefixes)
        if not p.is_file():
            raise InputError("prefix table file not found", source=str(p))
        text = p.read_text()
        if p.suffix.lower() in (".json", ".yaml", ".yml"):
            import yaml

            data = json.loads(text) if p.suffix.lower() == ".json" else yaml.safe_load(text)
            if not isinstance(data, dict):
                raise InputError("expected a mapping prefix -> node", source=str(p))
            return cls(data, source=str(p))
        table = {}
        for i, line in enumerate(text.splitlines(), start=1):
            parts = [x.strip() for x in line.split(",")]
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if len(parts) < 2:
                raise InputError(f"expected 'prefix,node', found {line!r}", source=str(p), where=f"line {i}")
            if i == 1 and "/" not in parts[0] and not parts[0][:1].isdigit():
                continue  # a header
            table[parts[0]] = parts[1]
        return cls(table, source=str(p))


def _port_service() -> pl.Expr:
    sp = pl.col("sp").cast(pl.Int64, strict=False)
    dp = pl.col("dp").cast(pl.Int64, strict=False)
    expr = pl.lit("other")
    # NOTE: built inside out so the destination port wins over the source port, and services in dict order
    for port in (sp, dp):
        for svc in reversed(list(PORT_SERVICES)):
            expr = pl.when(port.is_in(PORT_SERVICES[svc])).then(pl.lit(svc)).otherwise(expr)
    return expr


def read_nfdump(path: Path, *, prefixes: Mapping[str, str] | str | Path, unmapped: str = "error") -> RawTrace:
    """An ``nfdump -o csv`` flow export (columns ts,te,td,sa,da,sp,dp,pr,...,ibyt,...) as flows between nodes.

    Parameters
    ----------
    prefixes : prefix -> node id (a mapping, or a CSV ``prefix,node`` / JSON / YAML file);
        each address maps to the node of its longest matching prefix (IPv4 and IPv6).
    unmapped : ``"error"`` (default): an address no prefix covers is an InputError naming the row
        and column; ``"drop"``: such flows are dropped, counted in a warning and in the metadata
        (``dropped_unmapped``).

    ``ts`` is seconds from the earliest flow start (``te``/``td`` are not used: a flow's bytes
    count at its start); ``bytes`` is ``ibyt``; ``service`` is by well-known port
    (:data:`PORT_SERVICES`). The export is read eagerly (flow exports are per interval files);
    the trailing ``Summary`` block nfdump appends is ignored.

    Examples
    --------
    >>> import tempfile, os
    >>> d = tempfile.mkdtemp(); p = os.path.join(d, "flows.csv")
    >>> _ = open(p, "w").write("ts,te,td,sa,da,sp,dp,pr,ibyt\\n"
    ...     "2024-11-01 21:00:00,2024-11-01 21:00:05,5.0,10.0.0.1,10.1.0.9,51000,443,TCP,125000\\n"
    ...     "Summary\\nflows,bytes\\n1,125000\\n")
    >>> from netsim.traffic import read_trace
    >>> read_trace(p, format="nfdump", options={"prefixes": {"10.0.0.0/16": "a1", "10.1.0.0/16": "a2"}}).collect().row(0)
    (0.0, 'a1', 'a2', None, None, 125000, 'web')
    """
    if unmapped not in ("error", "drop"):
        raise InputError(f"unmapped must be 'error' or 'drop', found {unmapped!r}", source=str(path), where="unmapped")
    table = PrefixTable.load(prefixes)
    try:
        raw = pl.read_csv(path, infer_schema=False, truncate_ragged_lines=True)
    except Exception as e:
        raise InputError(f"not a readable CSV file: {' '.join(str(e).split())[:200]}", source=str(path)) from None
    for col in ("ts", "sa", "da", "sp", "dp", "ibyt"):
        if col not in raw.columns:
            raise InputError("missing column; an nfdump -o csv export has ts,te,td,sa,da,sp,dp,pr,...,ibyt",
                             source=str(path), where=f"column {col}")
    # the records end where nfdump's "Summary" block starts
    is_summary = (raw["ts"] == "Summary").fill_null(False)
    if is_summary.any():
        raw = raw.slice(0, int(is_summary.arg_true()[0]))
    df = raw.select(
        pl.col("ts").str.strip_chars().str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_unit="us", strict=False).alias("t"),
        pl.col("ts").alias("ts_text"),
        pl.col("sa").str.strip_chars(), pl.col("da").str.strip_chars(),
        pl.col("ibyt").str.strip_chars().cast(pl.Int64, strict=False).alias("bytes"),
        pl.col("ibyt").alias("ibyt_text"),
        _port_service().alias("service"),
    )
    for col, text, what in (("t", "ts_text", "a time 'YYYY-MM-DD hh:mm:ss[.fff]'"), ("bytes", "ibyt_text", "an integer")):
        bad = df[col].is_null()
        if bad.any():
            i = int(bad.arg_true()[0])
            c = "ts" if col == "t" else "ibyt"
            raise InputError(f"wrong type: {df[text][i]!r} is not {what}", source=str(path), where=f"row {i} (line {i + 2}), column {c}")
    addrs = pl.concat([df["sa"], df["da"]]).unique().sort()
    mapping = {a: table.lookup(a) for a in addrs.to_list()}
    src = df["sa"].replace_strict(mapping, return_dtype=pl.String)
    dst = df["da"].replace_strict(mapping, return_dtype=pl.String)
    bad = src.is_null() | dst.is_null()
    meta: dict = {}
    if bad.any():
        if unmapped == "error":
            i = int(bad.arg_true()[0])
            col = "sa" if src[i] is None else "da"
            raise InputError(f"address {df[col][i]!r} is in no prefix of the prefix table (or pass unmapped='drop')",
                             source=str(path), where=f"row {i} (line {i + 2}), column {col}")
        n_bad = int(bad.sum())
        warnings.warn(f"{path}: dropped {n_bad} of {df.height} flows whose address is in no prefix of the table")
        meta["dropped_unmapped"] = n_bad
    t0 = df["t"].min() if df.height else None
    out = pl.DataFrame({
        "ts": ((df["t"] - t0).dt.total_microseconds() / 1e6) if df.height else pl.Series([], dtype=pl.Float64),
        "src": src, "dst": dst,
        "provider": pl.Series([None] * df.height, dtype=pl.String),
        "obj": pl.Series([None] * df.height, dtype=pl.UInt64),
        "bytes": df["bytes"], "service": df["service"],
    }, schema=SCHEMA).filter(~bad)
    if t0 is not None:
        meta["start"] = t0.isoformat()
    return RawTrace(out.lazy(), line_offset=None if bad.any() else 2, meta=meta)


def _const(value) -> pl.Expr:
    return pl.lit(value, dtype=pl.String)


def _service_of(provider: str, service: str | None, source: str) -> str:
    if service is None:
        from netsim.traffic.generators import provider_service

        return provider_service(provider)
    if service not in SERVICES:
        raise InputError(f"service must be one of {', '.join(SERVICES)}, found {service!r}", source=source, where="service")
    return service


def read_libcachesim_csv(path: Path, *, src: str, provider: str, columns: Mapping[str, str | int] | None = None,
                         has_header: bool = True, delimiter: str = ",", time_unit_s: float = 1.0,
                         obj_id_is_num: bool = True, service: str | None = None) -> RawTrace:
    """A libCacheSim CSV request trace as requests from one client node to one provider.

    Parameters
    ----------
    src, provider : the client node (an access PoP of the topology) and the provider of every request.
    columns : where ``time``, ``obj`` and ``size`` are: column names, or 1-based numbers as in
        libCacheSim's ``time-col=1,obj-id-col=2,obj-size-col=3`` (default: names time, obj_id, obj_size).
    has_header, delimiter : as libCacheSim's ``has-header`` and ``delimiter``.
    time_unit_s : seconds per time unit (e.g. 1e-3 for milliseconds); ts counts from the first row's time.
    obj_id_is_num : object ids are integers; otherwise they are hashed to 64 bits (polars' hash:
        stable for a given polars version only).
    service : the service class of every request; default from the provider name.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "reqs.csv")
    >>> _ = open(p, "w").write("time,obj_id,obj_size\\n100,7,5000\\n101,8,700\\n")
    >>> from netsim.traffic import read_trace
    >>> read_trace(p, format="libcachesim-csv", options={"src": "a1", "provider": "video"}).collect()["ts"].to_list()
    [0.0, 1.0]
    """
    cols = dict(columns or {"time": "time", "obj": "obj_id", "size": "obj_size"})
    for k in cols:
        if k not in ("time", "obj", "size"):
            raise InputError(f"columns: unknown key {k!r}; expected time, obj, size", source=str(path), where="columns")
    for k in ("time", "obj", "size"):
        if k not in cols:
            raise InputError(f"columns: {k!r} is missing; expected time, obj and size", source=str(path), where="columns")
    svc = _service_of(provider, service, str(path))
    try:
        lf = pl.scan_csv(path, has_header=has_header, separator=delimiter, infer_schema=False)
        names = lf.collect_schema().names()
    except Exception as e:
        raise InputError(f"not a readable CSV file: {' '.join(str(e).split())[:200]}", source=str(path)) from None
    pick = {}
    for k, c in cols.items():
        if isinstance(c, int):
            if not 1 <= c <= len(names):
                raise InputError(f"columns: {k} column {c} is out of range 1..{len(names)}", source=str(path), where="columns")
            pick[k] = names[c - 1]
        else:
            if c not in names:
                raise InputError(f"missing column {c!r} (for {k}); the file has {', '.join(names)}", source=str(path),
                                 where=f"column {c}")
            pick[k] = c
    first = lf.select(pick["time"]).head(1).collect()
    t0 = 0.0
    if first.height:
        try:
            t0 = float(first[pick["time"]][0])
        except (TypeError, ValueError):
            raise InputError(f"wrong type: {first[pick['time']][0]!r} is not a number", source=str(path),
                             where=f"row 0, column {pick['time']}") from None
    obj = pl.col(pick["obj"])
    if not obj_id_is_num:
        obj = obj.hash(seed=0).cast(pl.String)
    frame = lf.select(
        pl.col(pick["time"]).alias("ts"), _const(src).alias("src"), _const(None).alias("dst"),
        _const(provider).alias("provider"), obj.alias("obj"), pl.col(pick["size"]).alias("bytes"),
        _const(svc).alias("service"),
    )
    return RawTrace(frame, text=True, line_offset=2 if has_header else 1, ts_scale=float(time_unit_s),
                    ts_offset=t0 * float(time_unit_s))


def read_oracle_general(path: Path, *, src: str, provider: str, time_unit_s: float = 1.0,
                        service: str | None = None) -> RawTrace:
    """A libCacheSim binary oracleGeneral trace (24-byte records, :data:`ORACLE_GENERAL_DTYPE`) as requests.

    ``src``/``provider``/``service``/``time_unit_s`` as in :func:`read_libcachesim_csv`; ``ts`` counts
    from the first record. The file is memory-mapped and converted in one go (3 columns of 8 bytes a row).

    Examples
    --------
    >>> import tempfile, os, struct
    >>> p = os.path.join(tempfile.mkdtemp(), "t.oracleGeneral.bin")
    >>> _ = open(p, "wb").write(struct.pack("<IQIq", 10, 42, 1000, -1) + struct.pack("<IQIq", 12, 43, 2000, -1))
    >>> from netsim.traffic import read_trace
    >>> read_trace(p, format="oracle-general", options={"src": "a1", "provider": "web"}).collect()["obj"].to_list()
    [42, 43]
    """
    svc = _service_of(provider, service, str(path))
    size = Path(path).stat().st_size
    if size % ORACLE_GENERAL_DTYPE.itemsize:
        raise InputError(f"file size {size} is not a multiple of the 24-byte oracleGeneral record "
                         "(uint32 time, uint64 obj, uint32 size, int64 next)", source=str(path))
    n = size // ORACLE_GENERAL_DTYPE.itemsize
    rec = np.memmap(path, dtype=ORACLE_GENERAL_DTYPE, mode="r") if n else np.empty(0, dtype=ORACLE_GENERAL_DTYPE)
    t = rec["time"].astype(np.float64)
    ts = (t - t[0]) * time_unit_s if n else t
    frame = pl.DataFrame({"ts": ts, "obj": np.ascontiguousarray(rec["obj"]), "bytes": rec["size"].astype(np.int64)})
    frame = frame.lazy().select(
        pl.col("ts"), _const(src).alias("src"), _const(None).alias("dst"), _const(provider).alias("provider"),
        pl.col("obj").cast(pl.UInt64), pl.col("bytes"), _const(svc).alias("service"))
    return RawTrace(frame)


READERS.register("nfdump")(TraceReader(read=read_nfdump))
READERS.register("libcachesim-csv")(TraceReader(read=read_libcachesim_csv))
READERS.register("oracle-general")(TraceReader(read=read_oracle_general, extensions=(".oraclegeneral", ".bin")))
