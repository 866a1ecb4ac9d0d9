"""The engine's per-bin data path on integer codes: encoding, bin cutting, items, segments, recording.

Items are checked against a grouping of the string-level resolution (``CacheSystem.resolve``) done
with polars; segments against the chains they come from; the recorder against its labels.
"""

import numpy as np
import polars as pl
import pytest

from netsim.cache import CacheSystem
from netsim.errors import InputError
from netsim.sim.demands import EncodedBins, Encoder, bin_items, segments
from netsim.sim.record import Recorder
from netsim.topology import load_topology
from netsim.traffic.schema import SERVICES

NODES_TOPO = "examples/ix_and_cache"


@pytest.fixture
def g():
    return load_topology(NODES_TOPO)


def _trace(g, n, seed, *, t_max=900.0):
    rng = np.random.default_rng(seed)
    pops = sorted(x for x, d in g.nodes(data=True) if d["kind"] == "pop")
    provs = sorted({d.get("provider") for _, d in g.nodes(data=True) if d["kind"] == "origin"}) + ["nobody"]
    req = rng.random(n) < 0.7
    src = rng.choice(pops, n)
    dst = rng.choice(pops, n)
    return pl.DataFrame({
        "ts": np.sort(rng.uniform(0, t_max, n)),
        "src": src,
        "dst": [None if r else d for r, d in zip(req, dst)],
        "provider": [str(rng.choice(provs)) if r else None for r in req],
        "obj": [int(rng.integers(0, 30)) if r else None for r in req],
        "bytes": rng.integers(1, 10_000, n),
        "service": rng.choice(sorted(SERVICES), n),
    }, schema={"ts": pl.Float64, "src": pl.Utf8, "dst": pl.Utf8, "provider": pl.Utf8, "obj": pl.UInt64,
               "bytes": pl.Int64, "service": pl.Utf8})


def _encoder(g, caches, source=None):
    return Encoder(nodes=caches.nodes, services=sorted(SERVICES), caches=caches, source=source)


def test_items_equal_a_grouping_of_the_string_resolution(g):
    """Same bytes and request counts per (client, chain, cache, hit, unreachable, service) as resolve()."""
    df = _trace(g, 400, 1)
    a, b = CacheSystem(g, sample_rate=0.01), CacheSystem(g, sample_rate=0.01)
    items, _ = bin_items(_encoder(g, a).encode(df), a, down=(), scale=3.0, distance=None)
    nodes = a.nodes
    got = sorted(
        (nodes[c], tuple(nodes[x] for x in ch if x >= 0), None if k < 0 else nodes[k], bool(h), bool(u),
         sorted(SERVICES)[s], bool(r), float(v), int(n))
        for c, ch, k, h, u, s, r, v, n in zip(items.client, items.chain, items.cache, items.hit, items.unreachable,
                                                items.svc, items.req, items.nbytes, items.requests))
    reqs = df.filter(pl.col("obj").is_not_null())
    res = b.resolve(reqs).with_columns(pl.col("chain").list.join("|"), pl.lit(True).alias("req"))
    flows = df.filter(pl.col("obj").is_null()).select(
        pl.col("dst").alias("client"), pl.col("src").alias("chain"), pl.lit(None, dtype=pl.Utf8).alias("cache"),
        pl.lit(False).alias("hit"), pl.lit(False).alias("unreachable"), "service", pl.lit(False).alias("req"), "bytes")
    res = res.select(pl.col("src").alias("client"), "chain", "cache", "hit",
                     (pl.col("unreachable") | (pl.col("chain") == "")).alias("unreachable"), "service", "req", "bytes")
    want = (pl.concat([flows, res]).group_by(["client", "chain", "cache", "hit", "unreachable", "service", "req"])
            .agg((pl.col("bytes").sum() * 3.0).alias("b"), pl.len().alias("n")))
    want = sorted((c, tuple(x for x in ch.split("|") if x), k, h, u, s, r, float(v), int(n))
                  for c, ch, k, h, u, s, r, v, n in want.rows())
    assert got == want
    assert items.nbytes.sum() == pytest.approx(df["bytes"].sum() * 3.0)
    assert items.requests.sum() == df.height


def test_segments_follow_the_chains(g):
    df = _trace(g, 300, 2)
    cs = CacheSystem(g, sample_rate=0.01)
    items, _ = bin_items(_encoder(g, cs).encode(df), cs, down=(), scale=1.0, distance=None)
    nn = len(cs.nodes)
    seg = segments(items, nn, extra_src=[0], extra_dst=[1], extra_bytes=[5.0])
    # every reachable item has one segment per hop of chain + client that moves
    for i in range(items.n):
        hops = [x for x in items.chain[i] if x >= 0] + [items.client[i]]
        moves = [(u, v) for u, v in zip(hops[:-1], hops[1:]) if u != v]
        mine = sorted((int(seg.src[d]), int(seg.dst[d])) for d in seg.dem[seg.item == i])
        assert mine == ([] if items.unreachable[i] else sorted(moves))
    # demand bytes: every segment carries its item's bytes, plus the extra demand
    expect = sum(items.nbytes[i] for i in seg.item) + 5.0
    assert seg.nbytes.sum() == pytest.approx(expect)
    key = seg.src.astype(np.int64) * nn + seg.dst
    assert np.all(np.diff(key) > 0)   # distinct pairs, sorted


def test_encoder_locates_an_unknown_node(g):
    cs = CacheSystem(g)
    enc = _encoder(g, cs, source="t.parquet")
    df = _trace(g, 20, 3)
    enc.encode(df)   # rows 0..19
    bad = df.with_columns(pl.when(pl.int_range(pl.len()) == 4).then(pl.lit("nowhere")).otherwise(pl.col("src"))
                          .alias("src"))
    with pytest.raises(InputError) as e:
        enc.encode(bad)
    assert "'nowhere' is not a node" in str(e.value)
    assert e.value.where == "row 24, column src" and e.value.source == "t.parquet"


@pytest.mark.parametrize("read_ahead", [0, 2])
def test_bins_are_cut_across_batches(g, read_ahead):
    df = _trace(g, 500, 4, t_max=3000.0)
    cs = CacheSystem(g)
    batches = [df.slice(i, 37) for i in range(0, df.height, 37)]
    eb = EncodedBins(iter(batches), 300.0, nodes=cs.nodes, services=sorted(SERVICES), caches=cs,
                     read_ahead=read_ahead)
    k = (df["ts"] // 300).cast(pl.Int64)
    for b in range(12):
        rows = eb.frame(b)
        assert rows.n == int((k == b).sum())
        if rows.n:
            assert rows.ts.min() >= b * 300 and rows.ts.max() < (b + 1) * 300
    eb.close()


def test_a_reader_error_arrives_at_its_batch(g):
    df = _trace(g, 100, 5)
    cs = CacheSystem(g)

    def batches():
        yield df.slice(0, 50)
        raise InputError("broken file", where="row 50")

    eb = EncodedBins(batches(), 300.0, nodes=cs.nodes, services=sorted(SERVICES), caches=cs, read_ahead=2)
    eb.frame(0)
    with pytest.raises(InputError, match="broken file"):
        for b in range(1, 5):
            eb.frame(b)


def test_backwards_time_is_an_error(g):
    df = _trace(g, 50, 6, t_max=3000.0)
    cs = CacheSystem(g)
    eb = EncodedBins(iter([df.slice(25, 25), df.slice(0, 25)]), 300.0, nodes=cs.nodes, services=sorted(SERVICES),
                     caches=cs, read_ahead=0)
    with pytest.raises(InputError, match="backwards"):
        for b in range(12):
            eb.frame(b)


def test_recorder_keeps_whole_bins_and_maps_codes():
    rec = Recorder("d", {"pairs": {"src_region": ["a", "b"], "dst_region": ["a", "b"], "served_from": ["x", "y"]}})
    rec.begin()
    rec.add("pairs", bin=0, src_region=np.array([0, 1]), dst_region=np.array([1, 1]), served_from=np.array([1, 0]),
            offered_bytes=np.array([1.0, 2.0]), delivered_bytes=np.array([1.0, 1.5]))
    rec.commit()
    rec.begin()
    rec.add("pairs", bin=1, src_region=np.array([0]), dst_region=np.array([0]), served_from=np.array([0]),
            offered_bytes=np.array([9.0]), delivered_bytes=np.array([9.0]))
    rec.rollback()
    f = rec.frame("pairs")
    assert f.rows() == [("d", 0, "a", "b", "y", 1.0, 1.0), ("d", 0, "b", "b", "x", 2.0, 1.5)]
    assert rec.frame("bins").height == 0
