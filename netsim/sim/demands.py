"""A bin's trace rows → cache resolution → items → segments → (src, dst) demands, all as integer arrays.

The replay engine's per-bin data path (no Python loop over rows, items, segments or demands):

* :class:`EncodedBins` reads the trace in batches, turns every string into an integer code once per
  batch (nodes: the routing core's indices; providers: the cache system's vocabulary; services),
  and cuts the batches into bins (:class:`BinRows`);
* :func:`bin_items` resolves the bin's content requests through the caches and groups rows that
  travel alike into *items*: one per (client, chain, first cache, hit, unreachable, service,
  request or flow). An item's *chain* is the nodes its bytes pass through before the client, from
  the node that sent them (a flow's source, the cache that hit, or the origin a miss was fetched
  from) to the first cache consulted;
* :func:`segments` turns items into hops ``chain[0] → … → chain[-1] → client`` and aggregates
  them into (src, dst) demands.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator

import numpy as np
import polars as pl

from netsim.errors import InputError

__all__ = ["BinRows", "Encoder", "EncodedBins", "Items", "Spread", "bin_items", "segments", "Segments"]


@dataclass
class BinRows:
    """One bin's trace rows as codes: ``src``/``dst`` node codes (``dst`` -1 for a request), ``prov``
    provider code (-1 for a flow), ``obj``, ``nbytes``, ``svc`` service code, ``req`` (a content request)."""

    ts: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    prov: np.ndarray
    obj: np.ndarray
    nbytes: np.ndarray
    svc: np.ndarray
    req: np.ndarray

    @property
    def n(self) -> int:
        return len(self.ts)

    def take(self, sel) -> "BinRows":
        return BinRows(**{k: getattr(self, k)[sel] for k in _FIELDS})

    @staticmethod
    def concat(parts: list["BinRows"]) -> "BinRows":
        if len(parts) == 1:
            return parts[0]
        return BinRows(**{k: np.concatenate([getattr(p, k) for p in parts]) for k in _FIELDS})

    @staticmethod
    def empty() -> "BinRows":
        return BinRows(ts=np.zeros(0), src=np.zeros(0, np.int32), dst=np.zeros(0, np.int32),
                       prov=np.zeros(0, np.int32), obj=np.zeros(0, np.uint64), nbytes=np.zeros(0, np.int64),
                       svc=np.zeros(0, np.int32), req=np.zeros(0, bool))


_FIELDS = ("ts", "src", "dst", "prov", "obj", "nbytes", "svc", "req")


class Encoder:
    """Trace batches → :class:`BinRows`: node ids become the routing core's indices, services their codes,
    providers the cache system's codes (new providers are added to its vocabulary). Rows are counted
    across batches, so an error names the row of the file."""

    def __init__(self, *, nodes: list[str], services: list[str], caches, source: str | None = None):
        self._node_enum = pl.Enum(nodes)
        self._svc_enum = pl.Enum(services)
        self._caches = caches
        self._source = source
        self._row0 = 0

    def encode(self, df: pl.DataFrame) -> BinRows:
        """The batch's rows as codes; a node id or service the run does not know is a located InputError."""
        return to_rows(self.encode_frame(df))

    def encode_frame(self, df: pl.DataFrame) -> pl.DataFrame:
        """:meth:`encode` as a polars frame of code columns (no nulls; -1 where a field does not apply)."""
        e = df.select(
            pl.col("ts").cast(pl.Float64),
            pl.col("src").cast(self._node_enum, strict=False).to_physical().cast(pl.Int32).alias("src_c"),
            pl.col("dst").cast(self._node_enum, strict=False).to_physical().cast(pl.Int32).alias("dst_c"),
            pl.col("obj").is_not_null().alias("req"),
            pl.col("obj").cast(pl.UInt64).fill_null(0),
            pl.col("bytes").cast(pl.Int64),
            pl.col("service").cast(self._svc_enum, strict=False).to_physical().cast(pl.Int32).alias("svc_c"),
        )
        # the reader validated the rows but node ids (checked here, by the same cast that codes them)
        for col, codes in (("src", "src_c"), ("dst", "dst_c"), ("service", "svc_c")):
            if e[codes].null_count() != df[col].null_count():
                i = int((df[col].is_not_null() & e[codes].is_null()).arg_true()[0])
                what = "a node of the topology" if col != "service" else \
                    f"one of {', '.join(self._svc_enum.categories.to_list())}"
                raise InputError(f"{col} {df[col][i]!r} is not {what}", source=self._source,
                                 where=f"row {self._row0 + i}, column {col}")
        self._row0 += df.height
        prov = self._caches.provider_code_series(df["provider"].cast(pl.Utf8))
        return pl.DataFrame({
            "ts": e["ts"], "src": e["src_c"].fill_null(-1), "dst": e["dst_c"].fill_null(-1),
            "prov": pl.Series("prov", prov).fill_null(-1), "obj": e["obj"], "nbytes": e["bytes"],
            "svc": e["svc_c"].fill_null(-1), "req": e["req"]})


def to_rows(frame: pl.DataFrame) -> BinRows:
    """:class:`BinRows` viewing the columns of an encoded frame (numeric columns without nulls: no copy)."""
    return BinRows(**{k: frame[k].to_numpy() for k in _FIELDS})


class EncodedBins:
    """The bins of a trace as :class:`BinRows`, read batch by batch (memory: one batch and one bin).

    ``frame(b)`` returns bin b (empty when the trace has no row in it); bins are asked for in
    increasing order. Rows before bin 0 (negative ``ts``) are skipped, as a replay starting at 0 would.
    """

    def __init__(self, batches: Iterable[pl.DataFrame], bin_s: float, *, nodes: list[str], services: list[str],
                 caches, source: str | None = None, read_ahead: int = 2):
        enc = Encoder(nodes=nodes, services=services, caches=caches, source=source)
        # NOTE: the reader thread makes polars frames only; their numpy views are taken here, on the
        # replay's thread: numpy buffers allocated on one thread and freed on another piled up in
        # glibc's per-thread arenas (peak RSS 1.1 GiB at 50M rows, 0.4 GiB without the thread)
        frames = (enc.encode_frame(df) for df in batches if df.height)
        self._reader = _ReadAhead(frames, read_ahead) if read_ahead else None
        encoded = map(to_rows, self._reader if self._reader is not None else frames)
        self._it = self._cut(encoded, float(bin_s))
        self._pending: tuple[int, BinRows] | None = None
        self._empty = BinRows.empty()

    def frame(self, b: int) -> BinRows:
        while True:
            if self._pending is None:
                self._pending = next(self._it, None)
                if self._pending is None:
                    return self._empty
            k, rows = self._pending
            if k < b:
                self._pending = None
                continue
            if k == b:
                self._pending = None
                return rows
            return self._empty

    def close(self) -> None:
        """Stop the reader thread (a replay cut short); idempotent."""
        if self._reader is not None:
            self._reader.close()

    def _cut(self, encoded: Iterable[BinRows], bin_s: float) -> Iterator[tuple[int, BinRows]]:
        current: int | None = None
        pieces: list[BinRows] = []
        for rows in encoded:
            k = np.floor(rows.ts / bin_s).astype(np.int64)
            if np.any(k[1:] < k[:-1]) or (current is not None and k[0] < current):
                raise InputError("ts goes backwards; sort the trace first (read_trace(..., sort=True))",
                                 where="column ts")
            cuts = np.flatnonzero(k[1:] != k[:-1]) + 1
            starts = np.concatenate(([0], cuts)).tolist()
            ends = np.concatenate((cuts, [len(k)])).tolist()
            for s, e in zip(starts, ends):
                kb = int(k[s])
                if current is not None and kb != current:
                    yield current, BinRows.concat(pieces)
                    pieces = []
                current = kb
                pieces.append(rows.take(slice(s, e)))
        if current is not None and pieces:
            yield current, BinRows.concat(pieces)


class _ReadAhead:
    """Iterate ``it`` on a thread, ``depth`` items ahead (reading and decoding Parquet, and polars'
    encoding casts, run without the GIL, so they overlap the replay of the bins already read).
    Items arrive in order; an exception of the thread is raised where its item would have come."""

    _END = object()

    def __init__(self, it, depth: int):
        import queue
        import threading

        self._q: "queue.Queue" = queue.Queue(maxsize=max(1, depth))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(it,), name="netsim-trace-reader", daemon=True)
        self._thread.start()

    def _put(self, item) -> bool:
        import queue

        while not self._stop.is_set():
            try:
                self._q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self, it) -> None:
        try:
            for x in it:
                if not self._put((x, None)):
                    return
            self._put((self._END, None))
        except BaseException as e:  # handed to the consumer
            self._put((self._END, e))

    def __iter__(self):
        return self

    def __next__(self):
        x, err = self._q.get()
        if err is not None:
            self.close()
            raise err
        if x is self._END:
            self.close()
            raise StopIteration
        return x

    def close(self) -> None:
        self._stop.set()


@dataclass
class Items:
    """A bin's client-facing items (see the module docstring); bytes at full scale."""

    client: np.ndarray      # node code of the receiving client
    chain: np.ndarray       # (n, depth) node codes, left-aligned, -1 pads; all -1: no copy reachable
    cache: np.ndarray       # first cache consulted (-1: none)
    hit: np.ndarray
    unreachable: np.ndarray
    svc: np.ndarray
    req: np.ndarray         # a content request (not a flow)
    nbytes: np.ndarray      # float64, × scale
    requests: np.ndarray    # rows of the trace in the item

    @property
    def n(self) -> int:
        return len(self.client)

    def take(self, idx: np.ndarray, *, nbytes: np.ndarray) -> "Items":
        """The items at ``idx`` with other bytes and no requests (the part of transfers in a later bin)."""
        return Items(client=self.client[idx], chain=self.chain[idx], cache=self.cache[idx], hit=self.hit[idx],
                     unreachable=self.unreachable[idx], svc=self.svc[idx], req=self.req[idx], nbytes=nbytes,
                     requests=np.zeros(len(idx), np.int64))

    @staticmethod
    def concat(parts: list["Items"]) -> "Items":
        if len(parts) == 1:
            return parts[0]
        depth = max(p.chain.shape[1] for p in parts)
        return Items(client=np.concatenate([p.client for p in parts]),
                     chain=np.concatenate([_pad(p.chain, depth) for p in parts]),
                     **{k: np.concatenate([getattr(p, k) for p in parts])
                        for k in ("cache", "hit", "unreachable", "svc", "req", "nbytes", "requests")})

    @property
    def served_by(self) -> np.ndarray:
        """The node that sent the bytes (the client itself when nothing could)."""
        first = self.chain[:, 0]
        return np.where(first >= 0, first, self.client)

    @property
    def via_cache(self) -> np.ndarray:
        return self.cache >= 0


def bin_items(rows: BinRows, caches, *, down, scale: float, distance, seen: list | None = None,
              cacheability=None, carry: "Items | None" = None, spread: "Spread | None" = None):
    """Resolve a bin's requests through the caches and group its rows into items (sorted by their codes).

    ``cacheability`` (netsim.cache.cacheability.Cacheability): requests for objects no cache may store
    go to the origin without consulting a cache. ``carry``: items of transfers that started in earlier
    bins (bytes unscaled, no requests), added to this bin's. ``spread``: a row's bytes are spread over
    its transfer time (:class:`Spread`); what falls after this bin is returned as ``{bins ahead: Items}``.

    With ``seen`` (a list), the requests that consulted a cache are appended to it as
    ``(cache code, provider code, obj, ts, bytes)`` arrays (what a prefetch ranks).

    Returns ``(items, spill)``.
    """
    req = rows.req
    fl = np.flatnonzero(~req) if not req.all() else np.zeros(0, np.int64)
    ri = np.flatnonzero(req)
    r = None
    if len(ri):
        prov = rows.prov[ri]
        keys = caches.keys_of(prov, rows.obj[ri])
        ok = cacheability.mask(prov, rows.obj[ri], rows.svc[ri]) if cacheability is not None else None
        r = caches.resolve_codes(rows.src[ri], prov, keys, rows.nbytes[ri], down=down, distance=distance,
                                 cacheable=ok)
        if seen is not None:
            on = r.cache >= 0
            seen.append((r.cache[on], prov[on], rows.obj[ri][on], rows.ts[ri][on], rows.nbytes[ri][on]))
    depth = max(1, r.chain.shape[1] if r is not None else 1, carry.chain.shape[1] if carry is not None else 1)
    # one row per item field, for the flows, the requests and the carried transfers: client, chain...,
    # first cache, hit, unreachable, service, request (chain and cache shifted by one so that -1 codes 0)
    nn = len(caches.nodes) + 1
    radix = [nn] * (depth + 2) + [2, 2, 64, 2]
    groups = [(len(fl), [rows.dst[fl], rows.src[fl] + 1] + [0] * (depth - 1) + [0, 0, 0, rows.svc[fl], 0])]
    if r is not None:
        ch = _pad(r.chain, depth)
        groups.append((len(ri), [rows.src[ri]] + [ch[:, j] + 1 for j in range(depth)] + [
            r.cache + 1, r.hit, r.unreachable | (ch[:, 0] < 0), rows.svc[ri], 1]))
    if carry is not None and carry.n:
        ch = _pad(carry.chain, depth)
        groups.append((carry.n, [carry.client] + [ch[:, j] + 1 for j in range(depth)] + [
            carry.cache + 1, carry.hit, carry.unreachable, carry.svc, carry.req]))
    row_bytes = np.concatenate([rows.nbytes[fl], rows.nbytes[ri]]).astype(np.float64)
    n_rows = len(row_bytes)
    weight = row_bytes
    spill_rows = None
    if spread is not None and n_rows:
        ts = np.concatenate([rows.ts[fl], rows.ts[ri]])
        weight, spill_rows = spread.in_bin(ts, row_bytes)
    if carry is not None and carry.n:
        weight = np.concatenate([weight, carry.nbytes])
    counts = np.concatenate([np.ones(n_rows, np.int64), np.zeros(len(weight) - n_rows, np.int64)])
    n_all = sum(n for n, _ in groups)
    if n_all == 0:
        fields = [np.zeros(0, np.int64) for _ in radix]
        inv, n_items = np.zeros(0, np.int64), 0
    elif float(np.prod(np.array(radix, dtype=np.float64))) < 2.0 ** 62:
        key = np.concatenate([_mixed_radix(cols, radix, n) for n, cols in groups])
        uniq, inv = np.unique(key, return_inverse=True)
        fields = []
        for rdx in reversed(radix):
            fields.append(uniq % rdx)
            uniq = uniq // rdx
        fields.reverse()
        n_items = len(fields[0])
    else:   # a key too wide for 64 bits: group the rows of a column matrix
        mat = np.stack([np.concatenate([np.broadcast_to(np.asarray(g[1][k], dtype=np.int64), (g[0],)) for g in groups])
                        for k in range(len(radix))], axis=1)
        uniq, inv = np.unique(mat, axis=0, return_inverse=True)
        fields = [uniq[:, k] for k in range(uniq.shape[1])]
        n_items = len(uniq)
    inv = inv.reshape(-1)
    chain = np.stack(fields[1:depth + 1], axis=1).astype(np.int32) - 1 if n_items else \
        np.full((0, depth), -1, dtype=np.int32)
    items = Items(client=fields[0].astype(np.int32), chain=chain, cache=fields[depth + 1].astype(np.int32) - 1,
                  hit=fields[depth + 2].astype(bool), unreachable=fields[depth + 3].astype(bool),
                  svc=fields[depth + 4].astype(np.int32), req=fields[depth + 5].astype(bool),
                  nbytes=np.bincount(inv, weights=weight, minlength=n_items) * scale,
                  requests=np.bincount(inv, weights=counts, minlength=n_items).astype(np.int64))
    spill = {}
    if spill_rows is not None:
        row_idx, ahead, amount = spill_rows
        item_of = inv[row_idx]
        for k in np.unique(ahead).tolist():
            sel = ahead == k
            it, pos = np.unique(item_of[sel], return_inverse=True)
            spill[int(k)] = items.take(it, nbytes=np.bincount(pos.reshape(-1), weights=amount[sel], minlength=len(it)))
    return items, spill


def _pad(chain: np.ndarray, depth: int) -> np.ndarray:
    if chain.shape[1] >= depth:
        return chain
    return np.concatenate([chain, np.full((chain.shape[0], depth - chain.shape[1]), -1, dtype=chain.dtype)], axis=1)


@dataclass(frozen=True)
class Spread:
    """A row's bytes travel at ``rate_bps`` from its ``ts``: the part after the end of bin ``b`` falls in the
    bins that follow (a 5 GB object at 20 Mbit/s takes 2,000 s: about seven 5-minute bins)."""

    b: int
    bin_s: float
    rate_bps: float

    def in_bin(self, ts: np.ndarray, nbytes: np.ndarray):
        """(bytes of each row in this bin, spill as (row index, bins ahead >= 1, bytes))."""
        end = (self.b + 1) * self.bin_s
        # NOTE: most rows end inside their bin; only the others get the per-row arithmetic
        rows = np.flatnonzero(ts + nbytes * (8.0 / self.rate_bps) > end)
        if len(rows) == 0:
            return nbytes, None
        dur = np.zeros(len(nbytes))
        dur[rows] = nbytes[rows] * 8.0 / self.rate_bps
        here = nbytes.copy()
        here[rows] = nbytes[rows] * np.clip((end - ts[rows]) / dur[rows], 0.0, 1.0)
        rest_s = ts[rows] + dur[rows] - end            # transfer time left after this bin
        n_ahead = np.ceil(rest_s / self.bin_s - 1e-12).astype(np.int64)
        n_ahead = np.maximum(n_ahead, 1)
        row_idx = np.repeat(rows, n_ahead)
        first = np.cumsum(n_ahead) - n_ahead
        ahead = np.arange(len(row_idx)) - np.repeat(first, n_ahead) + 1     # 1, 2, .. per spilling row
        left = rest_s[np.repeat(np.arange(len(rows)), n_ahead)] - (ahead - 1) * self.bin_s
        secs = np.minimum(left, self.bin_s)
        amount = nbytes[row_idx] * secs / dur[row_idx]
        # the parts add up to the row exactly (floating-point remainder goes to the last bin)
        total = np.bincount(np.repeat(np.arange(len(rows)), n_ahead), weights=amount, minlength=len(rows))
        last = np.cumsum(n_ahead) - 1
        amount[last] += (nbytes[rows] - here[rows]) - total
        return here, (row_idx, ahead, amount)


def _mixed_radix(cols, radix, n: int) -> np.ndarray:
    key = np.zeros(n, dtype=np.int64)
    for c, rdx in zip(cols, radix):
        key *= rdx
        key += np.asarray(c, dtype=np.int64) if isinstance(c, np.ndarray) else int(c)
    return key


@dataclass
class Segments:
    """The hops of a bin's items and the (src, dst) demands they add up to."""

    item: np.ndarray     # item of each segment
    col: np.ndarray      # position of the segment along its item's chain (0 = from the copy's source)
    dem: np.ndarray      # demand of each segment
    src: np.ndarray      # per demand: node codes
    dst: np.ndarray
    nbytes: np.ndarray   # per demand: bytes (items' and extra)


def segments(items: Items, n_nodes: int, *, extra_src=(), extra_dst=(), extra_bytes=()) -> Segments:
    """Hops ``chain[0] → … → chain[-1] → client`` of the reachable items (a hop from a node to itself is
    no hop), aggregated into (src, dst) demands sorted by (src, dst); ``extra_*`` adds demands that are
    not items (the off-peak pushes): their demands are the last ``len(extra_src)`` distinct pairs
    looked up with :func:`demand_of`."""
    n, depth = items.chain.shape if items.n else (0, 1)
    hops = np.full((n, depth + 1), -1, dtype=np.int64)
    hops[:, :depth] = items.chain
    length = (items.chain >= 0).sum(axis=1) if n else np.zeros(0, np.int64)
    hops[np.arange(n), length] = items.client
    live = ~items.unreachable
    seg_item, seg_col, seg_u, seg_v = [], [], [], []
    for j in range(depth):
        u, v = hops[:, j], hops[:, j + 1]
        ok = live & (u >= 0) & (v >= 0) & (u != v)
        idx = np.flatnonzero(ok)
        seg_item.append(idx)
        seg_col.append(np.full(idx.size, j, dtype=np.int64))
        seg_u.append(u[idx])
        seg_v.append(v[idx])
    seg_item = np.concatenate(seg_item) if seg_item else np.zeros(0, np.int64)
    seg_col = np.concatenate(seg_col) if seg_col else np.zeros(0, np.int64)
    pair = np.concatenate(seg_u) * n_nodes + np.concatenate(seg_v) if seg_u else np.zeros(0, np.int64)
    ex = np.asarray(extra_src, dtype=np.int64) * n_nodes + np.asarray(extra_dst, dtype=np.int64)
    uniq, inv = np.unique(np.concatenate([pair, ex]), return_inverse=True)
    inv = inv.reshape(-1)
    seg_dem = inv[:len(pair)]
    nbytes = np.bincount(seg_dem, weights=items.nbytes[seg_item], minlength=len(uniq)) if len(pair) \
        else np.zeros(len(uniq))
    if len(ex):
        np.add.at(nbytes, inv[len(pair):], np.asarray(extra_bytes, dtype=np.float64))
    return Segments(item=seg_item, col=seg_col, dem=seg_dem, src=(uniq // n_nodes).astype(np.int32),
                    dst=(uniq % n_nodes).astype(np.int32), nbytes=nbytes)


def demand_of(seg: Segments, n_nodes: int, src, dst) -> np.ndarray:
    """Index of each (src, dst) pair among the demands (the pair must be one of them)."""
    key = seg.src.astype(np.int64) * n_nodes + seg.dst
    return np.searchsorted(key, np.asarray(src, dtype=np.int64) * n_nodes + np.asarray(dst, dtype=np.int64))
