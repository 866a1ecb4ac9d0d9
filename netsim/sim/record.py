"""The tables of a design run, recorded bin by bin as integer-coded numpy chunks.

Per bin a table gets one chunk of columns (numpy arrays; node, region, service and served-from
columns as codes of the run's :class:`netsim.sim.vocab.Vocab`). Strings appear only in
:meth:`Recorder.frame`, which maps the codes once for the whole table. A chunk holds 8 bytes a
value, not a Python object, so what a run keeps grows with bins × loaded links, never with trace
rows. A bin is recorded whole or not at all (:meth:`Recorder.begin` / :meth:`Recorder.rollback`).
"""

from __future__ import annotations

import numpy as np
import polars as pl

__all__ = ["SCHEMAS", "Recorder", "RTT_CLASS_EDGES_MS", "RTT_CLASS_COLUMNS", "RTT_CLASS_LABELS"]

#: Round-trip-time classes of delivered bytes (ms), by the fibre distance they stand for at 0.005 ms/km one way:
#: under 2 ms is within about 200 km (the region; Tokyo from Tochigi), 2-10 ms within about 1,000 km (the rest
#: of Japan), 10-50 ms within about 5,000 km (near Asia), 50-100 ms farther Asia, 100 ms and more trans-Pacific
RTT_CLASS_EDGES_MS = (2.0, 10.0, 50.0, 100.0)
RTT_CLASS_COLUMNS = ("rtt_lt2ms_bytes", "rtt_2_10ms_bytes", "rtt_10_50ms_bytes", "rtt_50_100ms_bytes",
                     "rtt_ge100ms_bytes")
RTT_CLASS_LABELS = ("< 2 ms", "2-10 ms", "10-50 ms", "50-100 ms", ">= 100 ms")

SCHEMAS = {
    "bins": {
        "design": pl.Utf8, "bin": pl.Int64, "ts_s": pl.Float64, "offered_bytes": pl.Float64,
        "delivered_bytes": pl.Float64, "dropped_bytes": pl.Float64, "unreachable_bytes": pl.Float64,
        "offered_bps": pl.Float64, "delivered_bps": pl.Float64, "backbone_bps": pl.Float64,
        "backbone_in_bps": pl.Float64, "backbone_out_bps": pl.Float64, "backbone_links_bps": pl.Float64,
        "local_share": pl.Float64, "local_bytes": pl.Float64, "same_region_bytes": pl.Float64,
        "same_region_delivered_bytes": pl.Float64,
        "cache_requests": pl.Int64, "cache_hits": pl.Int64, "cache_bytes_requested": pl.Float64,
        "cache_bytes_hit": pl.Float64, "content_bytes": pl.Float64, "cache_served_bytes": pl.Float64,
        "cache_hit_ratio": pl.Float64, "cache_byte_hit_ratio": pl.Float64,
        "rtt_p50_ms": pl.Float64, "rtt_p95_ms": pl.Float64,
        **{c: pl.Float64 for c in RTT_CLASS_COLUMNS},
        "failures_active": pl.Int64,
        "max_utilisation": pl.Float64, "prefetch_bytes": pl.Float64, "prefetch_delivered_bytes": pl.Float64,
        "prefetch_dropped_bytes": pl.Float64, "prefetch_unreachable_bytes": pl.Float64,
        "survivor_offered_bytes": pl.Float64, "survivor_delivered_bytes": pl.Float64,
    },
    "links": {
        "design": pl.Utf8, "bin": pl.Int64, "ts_s": pl.Float64, "src": pl.Utf8, "dst": pl.Utf8,
        "load_bytes": pl.Float64, "bps": pl.Float64, "utilisation": pl.Float64, "dropped_bytes": pl.Float64,
        "backbone": pl.Boolean,
    },
    "caches": {
        "design": pl.Utf8, "bin": pl.Int64, "ts_s": pl.Float64, "cache": pl.Utf8, "requests": pl.Int64,
        "hits": pl.Int64, "bytes_requested": pl.Float64, "bytes_served": pl.Float64, "fill_bytes": pl.Float64,
        "up": pl.Boolean, "prefetch_bytes": pl.Float64,
    },
    "services": {
        "design": pl.Utf8, "bin": pl.Int64, "ts_s": pl.Float64, "service": pl.Utf8, "region": pl.Utf8,
        "offered_bytes": pl.Float64, "delivered_bytes": pl.Float64, "unreachable_bytes": pl.Float64,
        "survivor_offered_bytes": pl.Float64, "survivor_delivered_bytes": pl.Float64,
        "failures_active": pl.Int64,
    },
    "pairs": {
        "design": pl.Utf8, "bin": pl.Int64, "src_region": pl.Utf8, "dst_region": pl.Utf8, "served_from": pl.Utf8,
        "offered_bytes": pl.Float64, "delivered_bytes": pl.Float64,
    },
    # per access PoP: the delivered bytes its subscribers received (down) and sent (up), the load of its access network
    "access": {
        "design": pl.Utf8, "bin": pl.Int64, "ts_s": pl.Float64, "pop": pl.Utf8, "down_bytes": pl.Float64,
        "up_bytes": pl.Float64,
    },
}


class Recorder:
    """Chunks of columns per table; ``labels[table][column]`` names the codes of a coded string column."""

    def __init__(self, design: str, labels: dict[str, dict[str, list[str]]], schemas=SCHEMAS):
        self.design = design
        self.schemas = schemas
        self.labels = labels
        self.chunks: dict[str, list[dict[str, np.ndarray]]] = {t: [] for t in schemas}
        self._mark: dict[str, int] | None = None

    def begin(self) -> None:
        """Start a unit (a bin) whose rows are kept whole or not at all."""
        self._mark = {t: len(c) for t, c in self.chunks.items()}

    def commit(self) -> None:
        self._mark = None

    def rollback(self) -> None:
        """Drop the rows of an unfinished unit (e.g. a bin cut short by Ctrl-C)."""
        if self._mark is not None:
            for t, n in self._mark.items():
                del self.chunks[t][n:]
        self._mark = None

    def add(self, table: str, **cols) -> None:
        """One chunk: every column of the table but ``design``; a scalar stands for the chunk's length of it."""
        n = max((len(v) for v in cols.values() if isinstance(v, np.ndarray)), default=1)
        if n == 0:
            return
        chunk = {"": n}
        for k in self.schemas[table]:
            if k == "design":
                continue
            v = cols[k]
            if isinstance(v, np.ndarray) and len(v) != n:
                raise ValueError(f"{table}.{k}: {len(v)} values for {n} rows")
            chunk[k] = v
        self.chunks[table].append(chunk)

    def frame(self, table: str) -> pl.DataFrame:
        schema = self.schemas[table]
        chunks = self.chunks[table]
        labels = self.labels.get(table, {})
        lengths = np.array([c[""] for c in chunks], dtype=np.int64)
        n = int(lengths.sum())
        out = {}
        for k, dtype in schema.items():
            if k == "design":
                out[k] = pl.Series(k, [self.design], dtype=pl.Utf8).extend_constant(self.design, n - 1) if n \
                    else pl.Series(k, [], dtype=pl.Utf8)
                continue
            vals = [c[k] for c in chunks]
            if not vals:
                v = np.zeros(0)
            elif not any(isinstance(x, np.ndarray) for x in vals):
                v = np.repeat(np.array(vals), lengths)   # scalars: one per chunk
            else:
                v = np.concatenate([x if isinstance(x, np.ndarray) else np.full(m, x) for x, m in zip(vals, lengths)])
            if k in labels:
                names = pl.Series(k, labels[k], dtype=pl.Utf8)
                out[k] = names.gather(pl.Series(v.astype(np.int64), dtype=pl.UInt32)) if n \
                    else pl.Series(k, [], dtype=pl.Utf8)
            else:
                out[k] = pl.Series(k, v).cast(dtype)
        return pl.DataFrame(out, schema=schema)
