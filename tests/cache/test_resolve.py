"""Request resolution: nearest eligible cache, parents, origins, failures, stats; batch vs sequential reference."""

import networkx as nx
import numpy as np
import polars as pl
import pytest

from netsim.cache import CacheSystem, make_cache, make_keys
from netsim.errors import InputError
from netsim.topology import load_topology

HAND = """
name: hand
metros:
  m: {lat: 36.5, lon: 139.9}
nodes:
  - {id: a1, kind: pop, asn: 1, metro: m, subscribers: 10}
  - {id: a2, kind: pop, asn: 1, metro: m, subscribers: 10}
  - {id: b1, kind: pop, asn: 2, metro: m, subscribers: 10}
  - {id: x1, kind: pop, asn: 3, metro: m, subscribers: 10}
  - {id: ac, kind: cache, asn: 1, metro: m, capacity_bytes: 1000, policy: lru, providers: [video]}
  - {id: ix, kind: cache, asn: 100, metro: m, capacity_bytes: 1000, policy: lru, serves: [1, 2], parent: core}
  - {id: core, kind: cache, asn: 100, metro: m, capacity_bytes: 10000, policy: fifo}
  - {id: ov, kind: origin, asn: 200, metro: m, provider: video}
  - {id: ow, kind: origin, asn: 300, metro: m, provider: web}
  - {id: ow2, kind: origin, asn: 300, metro: m, provider: web}
links:
  - {src: a1, dst: ac, capacity_gbps: 10, latency_ms: 1}
  - {src: a1, dst: ix, rel: p2p, capacity_gbps: 10, latency_ms: 2}
  - {src: a2, dst: ix, rel: p2p, capacity_gbps: 10, latency_ms: 1}
  - {src: a2, dst: ac, capacity_gbps: 10, latency_ms: 3}
  - {src: b1, dst: ix, rel: p2p, capacity_gbps: 10, latency_ms: 1}
  - {src: x1, dst: ix, rel: p2p, capacity_gbps: 10, latency_ms: 1}
  - {src: ix, dst: core, capacity_gbps: 10, latency_ms: 5}
  - {src: ac, dst: core, rel: p2p, capacity_gbps: 10, latency_ms: 4}
  - {src: core, dst: ov, rel: p2p, capacity_gbps: 10, latency_ms: 10}
  - {src: core, dst: ow, rel: p2p, capacity_gbps: 10, latency_ms: 10}
  - {src: ix, dst: ow2, rel: p2p, capacity_gbps: 10, latency_ms: 30}
"""


@pytest.fixture
def hand(tmp_path):
    p = tmp_path / "hand.yaml"
    p.write_text(HAND)
    return load_topology(str(p), warn=False)


def _req(rows):
    return pl.DataFrame(rows, schema={"src": pl.Utf8, "provider": pl.Utf8, "obj": pl.UInt64, "bytes": pl.Int64},
                        orient="row")


COLS = ["cache", "hit", "served_by", "fill_src", "chain", "unreachable"]


def test_hand_topology(hand):
    cs = CacheSystem(hand)
    out = cs.resolve(_req([
        ("a1", "video", 1, 100),   # ac is nearest and carries video: miss, filled from ov (ac has no parent)
        ("a1", "video", 1, 100),   # hit at ac
        ("a1", "web", 1, 100),     # ac does not carry web -> ix; miss at ix and at its parent core -> ow
        ("b1", "web", 1, 100),     # AS 2 is served by ix: hit
        ("x1", "web", 1, 100),     # AS 3 is served by no cache: nearest origin (ow at 16 ms, ow2 at 31 ms)
        ("a2", "web", 2, 100),     # a2 -> ix (1 ms) rather than ac
    ])).select(COLS).rows()
    assert out == [
        ("ac", False, "ov", "ov", ["ov", "ac"], False),
        ("ac", True, "ac", None, ["ac"], False),
        ("ix", False, "ow", "core", ["ow", "core", "ix"], False),
        ("ix", True, "ix", None, ["ix"], False),
        (None, False, "ow", None, ["ow"], False),
        ("ix", False, "ow", "core", ["ow", "core", "ix"], False),
    ]
    st = {r["cache"]: r for r in cs.stats().to_dicts()}
    assert (st["ac"]["requests"], st["ac"]["hits"], st["ac"]["misses"]) == (2, 1, 1)
    assert (st["ix"]["requests"], st["ix"]["hits"], st["ix"]["misses"]) == (3, 1, 2)
    assert (st["core"]["requests"], st["core"]["hits"]) == (2, 0)
    assert st["ix"]["bytes_served"] == 300 and st["ix"]["fill_bytes"] == 200
    assert st["core"]["fill_bytes"] == 200 and st["core"]["used_bytes"] == 200
    for r in st.values():
        assert r["hits"] + r["misses"] == r["requests"]

    # a failed cache: the next nearest eligible one (ix also serves AS 1 and carries video)
    out = cs.resolve(_req([("a1", "video", 1, 100)]), down={"ac"}).select(COLS).rows()
    assert out == [("ix", False, "ov", "core", ["ov", "core", "ix"], False)]
    # a failed parent: ix fills from the nearest origin it can reach (ow2; ow is behind core)
    out = cs.resolve(_req([("a1", "web", 3, 100)]), down={"core"}).select(COLS).rows()
    assert out == [("ix", False, "ow2", "ow2", ["ow2", "ix"], False)]
    # no origin for web: a hit is still served, a miss is unreachable and admitted nowhere
    out = cs.resolve(_req([("a1", "web", 1, 100), ("a1", "web", 9, 100)]), down={"ow", "ow2"}).select(COLS).rows()
    assert out == [("ix", True, "ix", None, ["ix"], False), ("ix", False, None, "core", [], True)]
    key9 = int(make_keys("web", [9])[0])
    assert not cs.caches["ix"].contains(key9) and not cs.caches["core"].contains(key9)
    assert cs.stats().filter(pl.col("cache") == "ix")["unfillable_misses"].item() == 1
    # a failed client, and a provider with no origin at all
    out = cs.resolve(_req([("b1", "web", 1, 100), ("x1", "game", 1, 100)]), down={"b1"}).select(COLS).rows()
    assert out == [(None, False, None, None, [], True), (None, False, None, None, [], True)]

    cs.clear("ix")
    assert cs.caches["ix"].used_bytes == 0 and cs.caches["core"].used_bytes > 0
    cs.reset_stats()
    assert cs.stats()["requests"].sum() == 0


def test_parent_cycle_and_bad_source(hand):
    g = hand.copy()
    g.nodes["core"]["parent"] = "ix"
    with pytest.raises(InputError, match="cycle"):
        CacheSystem(g)
    with pytest.raises(InputError, match="not a node"):
        CacheSystem(hand).resolve(_req([("nowhere", "web", 1, 1)]))


def test_distance_is_pluggable(hand):
    """The engine passes the routing core's distances: here one that prefers ix for a1."""
    base = CacheSystem(hand)
    dist0 = base._dist_fn(frozenset(), None)

    def dist(src, dst):
        d = dist0(src, dst)
        d[(src == "a1") & (dst == "ix")] = 0.5
        return d

    out = CacheSystem(hand, distance=dist).resolve(_req([("a1", "video", 1, 10)]))
    assert out["cache"].to_list() == ["ix"]
    out = base.resolve(_req([("a1", "video", 1, 10)]), distance=dist)
    assert out["cache"].to_list() == ["ix"]


def test_sample_rate_scales_capacity(hand):
    cs = CacheSystem(hand, sample_rate=0.1)
    assert cs.caches["core"].capacity_bytes == 1000 and cs.caches["ix"].capacity_bytes == 100


# ---------------------------------------------------------------- sequential reference

def reference_resolve(g, requests, down=frozenset(), ref=None):
    """Request by request, one cache at a time: the semantics resolve() batches (``ref``: warm caches)."""
    h = g.subgraph([n for n in g if n not in down])
    dist = dict(nx.all_pairs_dijkstra_path_length(h, weight="latency_ms"))
    d = lambda a, b: dist.get(a, {}).get(b, np.inf)  # noqa: E731
    caches = sorted(n for n, a in g.nodes(data=True) if a["kind"] == "cache")
    origins = sorted(n for n, a in g.nodes(data=True) if a["kind"] == "origin")
    if ref is None:
        ref = {c: make_cache(g.nodes[c]["policy"], capacity_bytes=g.nodes[c]["capacity_bytes"]) for c in caches}

    def carries(c, p):
        pr = g.nodes[c]["providers"]
        return pr is None or p in pr

    def nearest_origin(x, p):
        cand = [(d(x, o), o) for o in origins if o not in down and g.nodes[o]["provider"] == p and d(x, o) < np.inf]
        return min(cand)[1] if cand else None

    def upstream(c, p):
        q = g.nodes[c]["parent"]
        while q is not None:
            if g.nodes[q]["kind"] == "origin":
                if q not in down and g.nodes[q]["provider"] == p and d(c, q) < np.inf:
                    return q
                break
            if q not in down and carries(q, p) and d(c, q) < np.inf:
                return q
            q = g.nodes[q]["parent"]
        return nearest_origin(c, p)

    def chain_end(c, p):
        x = upstream(c, p)
        while x is not None and x in ref:
            x = upstream(x, p)
        return x

    rows = []
    for src, p, obj, size in requests.iter_rows():
        key = int(make_keys(p, [obj])[0])
        if src in down:
            rows.append((None, False, None, None, [], True))
            continue
        asn = g.nodes[src]["asn"]
        cand = [(d(src, c), c) for c in caches if c not in down and asn in g.nodes[c]["serves"] and carries(c, p)
                and d(src, c) < np.inf]
        if not cand:
            o = nearest_origin(src, p)
            rows.append((None, False, o, None, [o] if o else [], o is None))
            continue
        first = min(cand)[1]
        c, chain, fill, hit0 = first, [], None, None
        served = None
        while c is not None:
            admit = chain_end(c, p) is not None
            hit = ref[c].process([key], [size], admit=[admit])[0]
            chain.insert(0, c)
            if hit0 is None:
                hit0 = bool(hit)
                fill = None if hit else upstream(c, p)
            if hit:
                served = c
                break
            u = upstream(c, p)
            if u is not None and u not in ref:
                served = u
                chain.insert(0, u)
                break
            c = u
        rows.append((first, hit0, served, fill, chain if served else [], served is None))
    return rows, ref


def _random_requests(g, n, seed):
    rng = np.random.default_rng(seed)
    pops = sorted(x for x, a in g.nodes(data=True) if a["kind"] == "pop")
    provs = sorted({a["provider"] for _, a in g.nodes(data=True) if a["kind"] == "origin"})
    objs = (rng.zipf(1.2, n) % 60).astype(np.uint64)
    sizes = (objs.astype(np.int64) * 37 % 200 + 20)
    return pl.DataFrame({"src": rng.choice(pops, n), "provider": rng.choice(provs, n),
                         "obj": objs, "bytes": sizes})


@pytest.mark.parametrize("down", [frozenset(), frozenset({"ac"}), frozenset({"core"}), frozenset({"ow", "ix"})])
def test_batch_matches_sequential_reference(hand, down):
    req = _random_requests(hand, 3000, seed=len(down))
    cs = CacheSystem(hand)
    got = []
    for a in range(0, req.height, 700):  # several bins
        got += cs.resolve(req.slice(a, 700), down=down).select(COLS).rows()
    want, ref = reference_resolve(hand, req, down)
    assert got == want
    for c, cache in ref.items():
        assert cs.caches[c].state().keys.tolist() == cache.state().keys.tolist()
    st = cs.stats()
    assert (st["hits"] + st["misses"] == st["requests"]).all()
    assert (st["used_bytes"] <= st["capacity_bytes"]).all()


def _add_cache_and_origin(g):
    g = g.copy()
    g.add_node("cache-a1", kind="cache", asn=65001, metro="shinjuku", region="tokyo", capacity_bytes=4000,
               policy="s3fifo", serves=(65001,), providers=None, parent=None)
    g.add_node("origin-t1", kind="origin", asn=65002, metro="otemachi", region="tokyo", provider="video")
    g.add_node("origin-t2", kind="origin", asn=65002, metro="yokohama", region="kanagawa", provider="web")
    for a, b, lat in [("cache-a1", "a1", 0.1), ("origin-t1", "t1", 0.1), ("origin-t2", "t2", 0.1)]:
        g.add_edge(a, b, capacity_gbps=100.0, latency_ms=lat, rel="internal", tags=())
        g.add_edge(b, a, capacity_gbps=100.0, latency_ms=lat, rel="internal", tags=())
    return g


@pytest.mark.parametrize("name", ["examples/two_as"])
def test_shipped_example(name):
    g = _add_cache_and_origin(load_topology(name, warn=False))
    req = _random_requests(g, 4000, seed=3)
    cs = CacheSystem(g)
    out = cs.resolve(req)
    want, _ = reference_resolve(g, req)
    assert out.select(COLS).rows() == want
    # every access PoP of AS 65001 uses the cache; t1/t2 (AS 65002) go to the origins
    as1 = out.filter(pl.col("src").is_in(["a1", "a2", "a3"]))
    assert (as1["cache"] == "cache-a1").all()
    assert out.filter(~pl.col("src").is_in(["a1", "a2", "a3"]))["cache"].null_count() == out.height - as1.height
    st = cs.stats().row(0, named=True)
    assert st["requests"] == as1.height and st["hits"] == int(as1["hit"].sum())
    assert st["bytes_served"] == int(as1["bytes"].sum())
    assert st["fill_bytes"] == int(as1.filter(~pl.col("hit"))["bytes"].sum())
    assert 0 < st["hits"] < st["requests"]
    assert not out["unreachable"].any()


def test_fill_static(hand):
    g = hand.copy()
    g.nodes["ac"]["policy"] = "static"   # carries video only, 1000 bytes
    cs = CacheSystem(g)
    pop = pl.DataFrame({"provider": ["video", "web", "video", "video", "video"], "obj": [1, 1, 2, 3, 2],
                        "bytes": [600, 10, 300, 500, 300], "requests": [5, 99, 2, 1, 2]})
    assert cs.fill_static(pop) == {"ac": 2}   # video 1 (600) and 2 (300); 3 (500) does not fit
    out = cs.resolve(_req([("a1", "video", 2, 300), ("a1", "video", 3, 500), ("a1", "video", 3, 500)]))
    assert out["hit"].to_list() == [True, False, False]   # a static cache never admits
    assert cs.caches["ac"].used_bytes == 900


def test_fill_static_counts_rows_without_a_requests_column(hand):
    # a past trace passed as it is: each row is one request, so the object requested most goes in first
    # (it used to count 1 per object, and every object tied)
    g = hand.copy()
    g.nodes["ac"]["policy"] = "static"   # video only, 1000 bytes
    cs = CacheSystem(g)
    past = pl.DataFrame({"provider": ["video"] * 6, "obj": [1, 3, 3, 3, 2, 2], "bytes": [600, 500, 500, 500, 400, 400]})
    assert cs.fill_static(past) == {"ac": 2}   # 3 (three requests), then 2 (two); 1 no longer fits
    out = cs.resolve(_req([("a1", "video", 3, 500), ("a1", "video", 2, 400), ("a1", "video", 1, 600)]))
    assert out["hit"].to_list() == [True, True, False]


# ---------------------------------------------------------------- Tochigi: a shared cache at the regional IX

def _tochigi_with_shared_cache():
    g = load_topology("tochigi", warn=False).copy()
    members = (65001, 65002, 65003)   # ISP D (65004) stays out of the consortium
    g.add_node("cache-tochigi-ix", kind="cache", asn=65100, metro="utsunomiya", region="kenoh",
               capacity_bytes=20_000, policy="s3fifo", serves=members, providers=None, parent=None)

    def duplex(a, b, rel_ab, rel_ba):
        g.add_edge(a, b, capacity_gbps=100.0, latency_ms=0.05, rel=rel_ab, tags=())
        g.add_edge(b, a, capacity_gbps=100.0, latency_ms=0.05, rel=rel_ba, tags=())

    duplex("cache-tochigi-ix", "tochigi-ix", "internal", "internal")
    for isp in ("isp-a", "isp-b", "isp-c"):
        duplex(f"{isp}-utsunomiya", "tochigi-ix", "p2p", "p2p")
    return g, members


def test_tochigi_shared_cache_at_regional_ix():
    g, members = _tochigi_with_shared_cache()
    req = _random_requests(g, 6000, seed=7)
    # access PoPs only: the subscribers' requests
    access = sorted(n for n, a in g.nodes(data=True) if a["kind"] == "pop" and a.get("subscribers", 0) > 0)
    req = req.filter(pl.col("src").is_in(access))
    cs = CacheSystem(g)
    out = cs.resolve(req)
    want, ref = reference_resolve(g, req)
    assert out.select(COLS).rows() == want

    asn = pl.Series([g.nodes[s]["asn"] for s in out["src"].to_list()])
    member = asn.is_in(list(members))
    assert (out.filter(member)["cache"] == "cache-tochigi-ix").all()
    assert out.filter(~member)["cache"].null_count() == int((~member).sum()) > 0
    misses = out.filter(member & ~pl.col("hit"))
    # a miss fills from the provider's origin (Tokyo, or Los Angeles for overseas video)
    assert all(f.startswith(f"origin-{p}-") for f, p in zip(misses["fill_src"], misses["provider"]))
    st = cs.stats().row(0, named=True)
    assert st["requests"] == int(member.sum()) and 0 < st["hits"] < st["requests"]
    assert st["hits"] + st["misses"] == st["requests"] and st["used_bytes"] <= st["capacity_bytes"]

    # Tokyo goes dark: the shared cache still serves its hits; misses and non-members are cut off
    tokyo = {n for n, a in g.nodes(data=True) if a["metro"] == "tokyo-otemachi"}
    dark = cs.resolve(req, down=tokyo)
    want, _ = reference_resolve(g, req, frozenset(tokyo), ref)
    assert dark.select(COLS).rows() == want
    served = dark.filter(~pl.col("unreachable"))
    assert served.height > 0 and (served["served_by"] == "cache-tochigi-ix").all()
    assert dark.filter(~member)["unreachable"].all()
