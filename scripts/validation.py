"""Write docs/validation.md: netsim's results beside independent references, as tables.

Each section runs the same comparison a test makes (named in the section), on fixed seeds, and
reports the measured agreement instead of a pass/fail:

* routing: the compiled core against the plain-Python + networkx reference
  (``netsim.routing.reference.ReferenceRoutes``; tests/routing/test_shipped.py), on one AS against
  ``networkx.all_shortest_paths`` (tests/routing/test_known_answers.py), its ECMP link loads against
  those topohub publishes, and its AS paths against a BGP path-vector computation written here;
* caches: request-for-request against libCacheSim (tests/cache/test_oracle.py) and the LRU cache
  against Che's approximation (tests/cache/test_che.py);
* congestion: the compiled max-min kernel against its plain-Python reference, with the max-min
  fairness conditions checked (tests/sim/test_congestion.py);
* traffic: the generators against the MIC figures they are calibrated on
  (tests/traffic/test_generators.py).

Usage (from the repository root; about 15 s on 2 cores; libcachesim and topohub are in the test extra)::

    python scripts/validation.py            # rewrites docs/validation.md
    python scripts/validation.py --check    # exit 1 if docs/validation.md differs from what it would write

Every number is deterministic (fixed seeds, no timings), so a test compares the page with a
regeneration (tests/docs/test_validation.py).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

PAGE = Path(__file__).resolve().parents[1] / "docs" / "validation.md"
# the test suite's helpers (tests/lib): the cache section replays the same streams the tests check
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "lib"))
from netsim_testing import zipf_stream  # noqa: E402

#: the shipped topologies the routing section compares on, and how many destinations/demands it samples
ROUTING_TOPOLOGIES = ("examples/two_as", "examples/valley_free", "tochigi", "japan")
ROUTING_DESTINATIONS = 40
ROUTING_DEMANDS = 200
#: topohub networks whose published ECMP link loads the routing section reproduces
TOPOHUB_NETWORKS = ("sndlib/abilene", "sndlib/polska", "sndlib/nobel-us", "sndlib/geant", "sndlib/cost266",
                    "sndlib/germany50", "topozoo/Abilene")


def _table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def _rel(a: float, b: float) -> float:
    return abs(a - b) / max(1.0, abs(a), abs(b))


def _fmt_diff(x: float) -> str:
    # NOTE: differences at rounding level depend on the summation order (threads), so the page shows a bound
    # that every machine reproduces instead of the exact noise
    return "0" if x == 0 else "< 1e-12" if x < 1e-12 else f"{x:.1e}"


# --- routing -------------------------------------------------------------------------------------------

def _routing_row(g, name: str, multipath: bool, *, seed: int = 0) -> list:
    import netsim.routing
    from netsim.routing.reference import ReferenceRoutes

    net = netsim.routing.compile(g)
    routes = net.route(multipath=multipath)
    ref = ReferenceRoutes(g, multipath=multipath)
    ends = [n for i, n in enumerate(net.nodes) if not net.is_ix[i]]
    rng = np.random.default_rng(seed)
    dests = ends if len(ends) <= ROUTING_DESTINATIONS else sorted(
        rng.choice(ends, ROUTING_DESTINATIONS, replace=False).tolist())
    same = sum({u: sorted(h) for u, h in routes.next_hops(t).items()}
               == {u: sorted(h) for u, h in ref.next_hops(t).items()} for t in dests)
    src = rng.choice(ends, ROUTING_DEMANDS)
    dst = rng.choice(dests, ROUTING_DEMANDS)
    vol = rng.uniform(0, 1, ROUTING_DEMANDS)
    loads, lost = routes.assign(src, dst, vol, return_unreachable=True)
    ref_loads, ref_lost = ref.assign(zip(src, dst, vol))
    worst = max((_rel(float(loads[i]), ref_loads.get(uv, 0.0)) for i, uv in enumerate(net.links)), default=0.0)
    return [f"`{name}`", "ECMP" if multipath else "single path", g.number_of_nodes(), len(dests),
            f"{same}/{len(dests)}", ROUTING_DEMANDS, f"{sum(a == b for a, b in zip(lost.tolist(), ref_lost))}/{ROUTING_DEMANDS}",
            worst]


def routing_reference_table() -> str:
    """The compiled core vs :class:`netsim.routing.reference.ReferenceRoutes` on the shipped topologies
    and on 20 random multi-AS graphs (valley-free, IX route servers, hot potato)."""
    import netsim
    from netsim.routing.synthetic import random_multi_as

    rows = [_routing_row(netsim.load_topology(n), n, mp) for n in ROUTING_TOPOLOGIES for mp in (False, True)]
    for mp in (False, True):
        agg = [_routing_row(random_multi_as(seed), f"random_multi_as({seed})", mp, seed=seed) for seed in range(20)]
        ok = sum(r[4].split("/")[0] == r[4].split("/")[1] for r in agg)
        unr = sum(int(r[6].split("/")[0]) for r in agg)
        rows.append(["20 × `random_multi_as(seed)`, seeds 0–19", "ECMP" if mp else "single path",
                     f"{min(r[2] for r in agg)}–{max(r[2] for r in agg)}", "all",
                     f"{ok}/20 graphs identical", 20 * ROUTING_DEMANDS, f"{unr}/{20 * ROUTING_DEMANDS}",
                     max(r[7] for r in agg)])
    rows = [[*r[:7], _fmt_diff(r[7])] for r in rows]
    return _table(["topology", "routing", "nodes", "destinations", "identical next hops", "demands",
                   "same reachability", "max relative link-load difference"], rows)


def routing_networkx_table() -> str:
    """One AS: netsim's ECMP paths vs ``networkx.all_shortest_paths`` (integer weights, so ties)."""
    import networkx as nx

    import netsim.routing
    from netsim.routing.synthetic import single_as

    rows = []
    for kind, n, seed in (("geometric", 60, 3), ("geometric", 200, 4), ("ba", 200, 5)):
        g = single_as(kind, n, seed=seed)
        rng = np.random.default_rng(seed)
        for u, v in sorted(g.edges):
            if u < v:
                w = int(rng.integers(1, 4))
                g.edges[u, v]["w"] = g.edges[v, u]["w"] = w
        r = netsim.routing.compile(g, igp_weight="w").route()
        nodes = sorted(g.nodes)
        pairs = [(nodes[a], nodes[b]) for a, b in rng.integers(0, len(nodes), (50, 2)) if a != b]
        same = multi = 0
        for s, t in pairs:
            expect = sorted(nx.all_shortest_paths(g, s, t, weight="w"))
            got = sorted(p for p, _ in r.paths(s, t))
            same += got == expect
            multi += len(expect) > 1
        rows.append([f"`single_as('{kind}', {n}, seed={seed})`", len(pairs), multi, f"{same}/{len(pairs)}"])
    return _table(["graph (weights 1–3)", "pairs", "pairs with several shortest paths", "identical path sets"], rows)


def routing_topohub_table() -> str:
    """Link loads under hop-count ECMP vs the loads topohub publishes with its topologies (``ecmp_fwd`` /
    ``ecmp_bwd``: per-hop ECMP on shortest paths by hops, each demand routed both ways, in % of the
    busiest link) for its uniform (``uni``), degree-product (``deg``) and original SNDlib (``org``) demands."""
    import itertools

    import networkx as nx
    import topohub

    import netsim
    import netsim.routing

    rows = []
    for key in TOPOHUB_NETWORKS:
        tg = nx.node_link_graph(topohub.get(key, use_names=True), edges="edges")
        g = netsim.load_topology(f"topohub:{key}")
        net = netsim.routing.compile(g, igp_weight="hops")
        routes = net.route()
        index = {uv: i for i, uv in enumerate(net.links)}
        cells = []
        for mode in ("uni", "deg", "org"):
            if mode == "org":
                dem = [(a, b, v) for a in tg.graph.get("demands", {}) for b, v in tg.graph["demands"][a].items()]
            else:
                dem = [(a, b, 1.0 if mode == "uni" else tg.degree[a] * tg.degree[b])
                       for a, b in itertools.combinations(list(tg.nodes), 2)]
            links = [(u, v, e) for u, v, e in tg.edges(data=True) if mode in e.get("ecmp_fwd", {})]
            if not dem or not links:
                cells.append("—")
                continue
            src = [a for a, _, _ in dem] + [b for _, b, _ in dem]
            dst = [b for _, b, _ in dem] + [a for a, _, _ in dem]
            loads = routes.assign(src, dst, [v for _, _, v in dem] * 2)
            pct = loads / loads.max() * 100
            worst = max(max(abs(pct[index[(u, v)]] - e["ecmp_fwd"][mode]), abs(pct[index[(v, u)]] - e["ecmp_bwd"][mode]))
                        for u, v, e in links)
            cells.append(f"{2 * len(links)} links, {worst:.4f}")
        rows.append([f"`topohub:{key}`", tg.number_of_nodes(), *cells])
    return _table(["network", "nodes", "uniform demands: max difference (points)", "degree-product demands",
                   "SNDlib demands"], rows)


def _as_relationships(g) -> dict:
    """``{(A, B): rel of A toward B}`` from the links between ASes, and p2p between the members of an IX
    (unless a direct c2p/p2c relationship exists): written again here from the topology's attributes."""
    ix = {n for n, d in g.nodes(data=True) if d.get("kind") == "ix"}
    asn = {n: d["asn"] for n, d in g.nodes(data=True)}
    rel = {}
    for u, v, d in g.edges(data=True):
        if u in ix or v in ix or asn[u] == asn[v]:
            continue
        rel[(asn[u], asn[v])] = d.get("rel") or "p2p"
    for x in sorted(ix):
        members = sorted({asn[m] for m in g.successors(x) if m not in ix})
        for a in members:
            for b in members:
                if a != b and rel.get((a, b)) not in ("c2p", "p2c"):
                    rel[(a, b)] = "p2p"
    return rel


def bgp_path_vector(rel: dict) -> dict:
    """A BGP-like path-vector computation, round by round until nothing changes: each AS announces its best
    route to each destination to its neighbours under the Gao-Rexford export rules (customer-learned and own
    routes to everyone, the others to customers only); each AS prefers customer over peer over provider
    routes, then the shortest AS path, then the lowest next-hop ASN. Returns ``{(X, D): AS path}``."""
    ases = sorted({a for a, _ in rel} | {b for _, b in rel})
    nbrs = {a: sorted(b for (x, b) in rel if x == a) for a in ases}
    pref = {"p2c": 0, "p2p": 1, "c2p": 2}  # X's view of the neighbour: its customer, peer, provider
    best = {(d, d): (d,) for d in ases}
    learned = {(d, d): None for d in ases}  # the relation of the neighbour a route was learned from
    for _ in range(10 * len(ases) + 10):
        new, new_from = dict(best), dict(learned)
        for x in ases:
            for d in ases:
                if x == d:
                    continue
                cands = []
                for n in nbrs[x]:
                    path = best.get((n, d))
                    if path is None or x in path:
                        continue
                    # n exports it to x: own or customer-learned routes to all, others only to customers
                    if not (learned[(n, d)] in (None, "p2c") or rel[(n, x)] == "p2c"):
                        continue
                    cands.append((pref[rel[(x, n)]], len(path), n, (x, *path), rel[(x, n)]))
                if cands:
                    c = min(cands)
                    new[(x, d)], new_from[(x, d)] = c[3], c[4]
                else:
                    new.pop((x, d), None)
                    new_from.pop((x, d), None)
        if new == best:
            return best
        best, learned = new, new_from
    raise RuntimeError("the path-vector computation did not converge")


def _as_path(g, nodes) -> tuple:
    out = []
    for n in nodes:
        if g.nodes[n].get("kind") == "ix":
            continue
        a = g.nodes[n]["asn"]
        if not out or out[-1] != a:
            out.append(a)
    return tuple(out)


def _connected_ases(g) -> set:
    """ASes whose own nodes are connected by their own links (an AS-level model treats every AS as one
    node; netsim routes node by node, so a node cannot reach an exit its AS has no internal path to)."""
    import networkx as nx

    by_as = {}
    for n, d in g.nodes(data=True):
        if d.get("kind") != "ix":
            by_as.setdefault(d["asn"], []).append(n)
    return {a for a, ns in by_as.items() if nx.is_strongly_connected(g.subgraph(ns))}


def _igps_connected(g) -> bool:
    return len(_connected_ases(g)) == len({d["asn"] for _, d in g.nodes(data=True) if d.get("kind") != "ix"})


def routing_bgp_table() -> str:
    """netsim's AS paths (single path: the lowest next-hop ASN) vs a BGP path-vector computation."""
    import netsim
    import netsim.routing
    from netsim.routing.synthetic import internet_like, random_multi_as

    def compare(g, sample=None, seed=0):
        best = bgp_path_vector(_as_relationships(g))
        routes = netsim.routing.compile(g).route(multipath=False)
        ok = _connected_ases(g)
        ends = sorted(n for n, d in g.nodes(data=True) if d.get("kind") != "ix" and d["asn"] in ok)
        pairs = [(s, t) for s in ends for t in ends if g.nodes[s]["asn"] != g.nodes[t]["asn"]]
        if sample is not None and len(pairs) > sample:
            rng = np.random.default_rng(seed)
            pairs = [pairs[i] for i in sorted(rng.choice(len(pairs), sample, replace=False))]
        same = reach = 0
        for s, t in pairs:
            paths = routes.paths(s, t)
            want = best.get((g.nodes[s]["asn"], g.nodes[t]["asn"]))
            got = {_as_path(g, p) for p, _ in paths}
            same += (not paths and want is None) or got == {want}
            reach += want is not None
        return len(pairs), reach, same

    rows = []
    for name in ("examples/two_as", "examples/valley_free", "tochigi", "japan"):
        n, reach, same = compare(netsim.load_topology(name), sample=2000)
        rows.append([f"`{name}`", n, reach, f"{same}/{n}"])
    graphs = [g for g in (random_multi_as(seed) for seed in range(200)) if _igps_connected(g)][:50]
    tot = [compare(g) for g in graphs]
    rows.append([f"{len(graphs)} × `random_multi_as` (connected IGPs, first of seeds 0–199)",
                 sum(t[0] for t in tot), sum(t[1] for t in tot), f"{sum(t[2] for t in tot)}/{sum(t[0] for t in tot)}"])
    n, reach, same = compare(internet_like(300, seed=1), sample=5000, seed=1)
    rows.append(["`internet_like(300, seed=1)`", n, reach, f"{same}/{n}"])
    return _table(["topology", "node pairs in different ASes (a sample on japan and internet_like)", "reachable by BGP",
                   "same AS path (or both unreachable)"],
                  rows)


# --- caches --------------------------------------------------------------------------------------------

def libcachesim_table() -> str:
    """Every policy against libCacheSim's, request for request, on the test suite's Zipf streams."""
    import libcachesim as lcs

    from netsim.cache import make_cache

    oracles = {"lru": "LRU", "fifo": "FIFO", "lfu": "LFU", "s3fifo": "S3FIFO"}
    rows = []
    for policy, cls in oracles.items():
        for seed, cap_frac in ((1, 0.1), (2, 0.01), (3, 0.3)):
            keys, sizes, obj_sizes = zipf_stream(3000, 40000, 0.9, seed)
            cap = int(obj_sizes.sum() * cap_frac)
            cache = getattr(lcs, cls)(cap)
            req = lcs.Request()
            req.valid = True
            ref = np.zeros(len(keys), dtype=bool)
            for i, (k, s) in enumerate(zip(keys.tolist(), sizes.tolist())):
                req.obj_id, req.obj_size = k, s
                ref[i] = cache.get(req)
            got = make_cache(policy, capacity_bytes=cap).process(keys, sizes)
            rows.append([policy, f"libcachesim.{cls}", seed, f"{cap_frac:.0%}", len(keys), int(got.sum()),
                         int(ref.sum()), int((got != ref).sum())])
    return _table(["policy", "reference", "seed", "cache (of catalogue bytes)", "requests", "netsim hits",
                   "libCacheSim hits", "requests that differ"], rows)


def che_table() -> str:
    """The LRU cache on a generated day of one provider vs Che's approximation of the generator's popularity."""
    from netsim.cache import LRUCache, make_keys, scaled_capacity
    from netsim.cache.che import che_lru
    from netsim.topology import load_topology
    from netsim.traffic.generators import content, popularity

    rate = 0.01
    g = load_topology("tochigi")
    rows = []
    for alpha in (0.8, 1.0):
        t = content(g, duration_s=86400, seed=3, sample_rate=rate, zipf_alpha=alpha, providers=["video"],
                    new_objects_per_day=0).collect()
        keys = make_keys(t["provider"].to_numpy(), t["obj"].to_numpy())
        sizes = t["bytes"].to_numpy()
        half = len(keys) // 2
        pop = popularity("video", zipf_alpha=alpha, sample_rate=rate, new_objects_per_day=0, seed=3)
        for tb in (1, 3, 10):
            cap = scaled_capacity(int(tb * 1e12), rate)
            hits = LRUCache(capacity_bytes=cap).process(keys, sizes)
            h = hits[half:].mean()
            bh = (sizes[half:] * hits[half:]).sum() / sizes[half:].sum()
            che = che_lru(pop.p, pop.sizes, cap)
            rows.append([alpha, tb, f"{h:.1%}", f"{che.hit_ratio:.1%}", f"{100 * (h - che.hit_ratio):+.1f}",
                         f"{bh:.1%}", f"{che.byte_hit_ratio:.1%}", f"{100 * (bh - che.byte_hit_ratio):+.1f}"])
    return _table(["Zipf α", "cache (TB, full load)", "hit ratio", "Che", "difference (points)",
                   "byte hit ratio", "Che", "difference (points)"], rows)


# --- congestion ----------------------------------------------------------------------------------------

def _congestion_problem(rng):
    k = int(rng.integers(1, 13))
    n_links = int(rng.integers(1, 9))
    demand = rng.uniform(0, 100, k)
    capacity = rng.uniform(0.5, 60, n_links)
    dem, link, frac = [], [], []
    for d in range(k):
        used = rng.choice(n_links, size=int(rng.integers(1, min(4, n_links) + 1)), replace=False)
        parts = int(rng.choice([1, 2, 4]))
        for l in used.tolist():
            dem.append(d)
            link.append(l)
            frac.append(1.0 / parts)
    return demand, capacity, np.array(dem), np.array(link), np.array(frac)


def _max_min_holds(demand, capacity, dem, link, frac, rate, load) -> bool:
    """Feasible, and every demand that is cut crosses a saturated link where no demand gets more (the
    conditions tests/sim/test_congestion.py asserts)."""
    if np.any(rate > demand * (1 + 1e-9) + 1e-12) or np.any(load > capacity * (1 + 1e-9)):
        return False
    for k in range(len(demand)):
        if rate[k] < demand[k] * (1 - 1e-9):
            if not any(load[l] >= capacity[l] * (1 - 1e-9) and np.all(rate[dem[link == l]] <= rate[k] * (1 + 1e-9) + 1e-12)
                       for l in set(link[dem == k].tolist())):
                return False
    return True


def congestion_table(n: int = 500) -> str:
    """The compiled max-min kernel vs its plain-Python reference on ``n`` random problems, and the hand-made one."""
    from netsim.sim.congestion import max_min_rates, max_min_rates_reference

    rng = np.random.default_rng(20)
    worst_rate = worst_load = 0.0
    fair = cut = 0
    for _ in range(n):
        p = _congestion_problem(rng)
        rate, load = max_min_rates(*p)
        ref_rate, ref_load = max_min_rates_reference(*p)
        worst_rate = max(worst_rate, float(np.max(np.abs(rate - ref_rate))))
        worst_load = max(worst_load, float(np.max(np.abs(load - ref_load))))
        fair += _max_min_holds(*p, rate, load)
        cut += bool(np.any(rate < p[0] * (1 - 1e-9)))
    rate, load = max_min_rates([2, 10, 10], [9], dem=[0, 1, 2], link=[0, 0, 0], frac=[1, 1, 1])
    hand = f"rates {rate.tolist()}, load {load.tolist()} (by hand: [2.0, 3.5, 3.5], [9.0])"
    return _table(["case", "problems", "with a demand cut", "max abs rate difference vs reference",
                   "max abs load difference", "max-min conditions hold"],
                  [["random (numpy seed 20; 1–12 demands, 1–8 links, ECMP fractions 1, ½, ¼)", n, cut,
                    _fmt_diff(worst_rate), _fmt_diff(worst_load), f"{fair}/{n}"],
                   ["three demands (2, 10, 10) on one link of 9", 1, 1, hand, "", "yes"]])


# --- traffic -------------------------------------------------------------------------------------------

def _hourly(df, hours=24) -> np.ndarray:
    import polars as pl

    h = df.group_by((pl.col("ts") // 3600).cast(pl.Int64).alias("h")).agg(pl.col("bytes").sum())
    out = np.zeros(hours)
    out[h["h"].to_numpy()] = h["bytes"].to_numpy()
    return out


def traffic_table() -> str:
    """The ``mixed`` generator on the two-AS example (45,000 subscribers), one day at rate 0.01, vs MIC's figures."""
    import polars as pl

    from netsim.topology import load_topology
    from netsim.traffic import Surge, mixed
    from netsim.traffic.generators import MBPS_PER_SUBSCRIPTION_2024
    from netsim.traffic.timeshape import WEEKDAY_SHAPE, _WEEK_MEAN

    g = load_topology("examples/two_as")
    subs = sum(d.get("subscribers", 0) for _, d in g.nodes(data=True))
    monday = mixed(g, duration_s=86400, seed=1, sample_rate=0.01).collect()
    saturday = mixed(g, duration_s=86400, seed=1, sample_rate=0.01, start_weekday=5).collect()
    surged = mixed(g, duration_s=86400, seed=1, sample_rate=0.01, surge=Surge()).collect()
    wd, we, su = _hourly(monday), _hourly(saturday), _hourly(surged)
    mbps = monday["bytes"].sum() * 100 * 8 / 86400 / subs / 1e6
    weekly = mbps * _WEEK_MEAN / WEEKDAY_SHAPE.mean()
    video = monday.filter(pl.col("service") == "video")["bytes"].sum() / monday["bytes"].sum()
    rows = [
        ["mean download per subscription (weekly mean)", f"{MBPS_PER_SUBSCRIPTION_2024:.2f} Mbps (38.9 Tbps / 43.8M)",
         f"{weekly:.2f} Mbps (Monday {mbps:.2f} × the week's shape)", "MIC Nov 2024; APNIC 2023"],
        ["busiest hour", "21–23h", f"{int(np.argmax(wd))}h (Monday), {int(np.argmax(we))}h (Saturday)", "MIC"],
        ["weekend daytime (9–17h) vs weekday", "higher", f"× {we[9:17].sum() / wd[9:17].sum():.2f}", "MIC"],
        ["stay-at-home surge, weekday daytime", "+30–50 %", f"{su[9:17].sum() / wd[9:17].sum() - 1:+.0%}", "MIC, April 2020"],
        ["stay-at-home surge, night peak (21–23h)", "about +10 %", f"{su[21:23].sum() / wd[21:23].sum() - 1:+.0%}",
         "MIC, April 2020"],
        ["video share of all bytes", "about 65 % of Internet traffic", f"{video:.0%}", "Sandvine 2023"],
    ]
    return _table(["figure", "published", "generated", "source"], rows)


# --- the page ------------------------------------------------------------------------------------------

#: section id -> (title, the test that asserts the same, text before the table, the table's function)
SECTIONS = {
    "routing-reference": (
        "Routing: the compiled core against the reference router",
        "`tests/routing/test_shipped.py` and `tests/routing/test_properties.py`",
        "`netsim.routing.reference.ReferenceRoutes` implements the routing rules again in plain Python and "
        "networkx (BFS for the Gao-Rexford route classes, Dijkstra for the IGP and hot-potato exits), sharing "
        "no code with the compiled core. Per topology: the next hops toward up to "
        f"{ROUTING_DESTINATIONS} sampled destinations, and the link loads of {ROUTING_DEMANDS} random demands "
        "toward them.",
        routing_reference_table),
    "routing-networkx": (
        "Routing: ECMP paths against networkx",
        "`tests/routing/test_known_answers.py::test_single_as_is_plain_ecmp_shortest_paths`",
        "Inside one AS netsim's routes are the IGP's shortest paths: the set of paths with a non-zero "
        "fraction must be exactly `networkx.all_shortest_paths`. Random integer weights 1–3 make ties, "
        "so ECMP is exercised.",
        routing_networkx_table),
    "routing-topohub": (
        "Routing: ECMP link loads against topohub's published loads",
        "`tests/docs/test_validation.py` (on this page's table)",
        "topohub ships each topology with the link loads of per-hop ECMP on hop-count shortest paths, every "
        "demand routed in both directions, in percent of the busiest link, for three demand sets. netsim "
        "reads the same topology (`topohub:` prefix), routes with `igp_weight: hops` and assigns the same "
        "demands. The published values are rounded to 0.01 points, so a difference up to 0.005 is exact "
        "agreement.",
        routing_topohub_table),
    "routing-bgp": (
        "Routing: valley-free AS paths against a BGP path-vector computation",
        "`tests/docs/test_validation.py` (on this page's table); the rules one by one in `tests/routing/test_known_answers.py`",
        "`scripts/validation.py` computes routes as BGP does — ASes announce their best route to their "
        "neighbours round after round until nothing changes, under the Gao-Rexford export rules and "
        "preferences (customer, then peer, then provider; then the shortest AS path; then the lowest next-hop "
        "ASN) — from relationships it reads from the topology itself (IX members peer). Each node pair's AS "
        "path in netsim (single path) must be BGP's. ASes whose own nodes are not connected by their own links "
        "are left out (japan's multi-metro content origins): an AS-level computation treats an AS as one "
        "node, while netsim routes node by node, and such an AS cannot carry traffic between its sites.",
        routing_bgp_table),
    "libcachesim": (
        "Caches: every policy against libCacheSim",
        "`tests/cache/test_oracle.py`",
        "The same request stream (Zipf α 0.9 over 3,000 objects, one lognormal size per object, 40,000 "
        "requests) through netsim's cache and libCacheSim's (0.3.5), at three cache sizes. The two agree "
        "request for request; where their semantics differ (a resident object requested with another size) "
        "is documented in `netsim/cache/policies.py`, and such requests do not occur here.",
        libcachesim_table),
    "che": (
        "Caches: LRU against Che's approximation",
        "`tests/cache/test_che.py` (tolerance: 2 points)",
        "A day of one provider's requests from netsim's own generator (stationary catalogue: no new "
        "releases, which is the independent reference model the approximation assumes), at sample rate "
        "0.01 through an LRU cache of `0.01 × size` bytes; hit ratios over the second half of the day "
        "(the first warms the cache) against `netsim.cache.che.che_lru` of the generator's popularity.",
        che_table),
    "congestion": (
        "Congestion: the max-min kernel against its reference",
        "`tests/sim/test_congestion.py`",
        "`netsim.sim.congestion.max_min_rates` (compiled progressive filling) against "
        "`max_min_rates_reference` (the same algorithm in plain Python), and the max-min conditions checked "
        "independently of both: no demand gets more than it asks, no link carries more than its capacity, "
        "and every demand that is cut crosses a saturated link on which no other demand gets more.",
        congestion_table),
    "traffic": (
        "Traffic: the generators against the published figures",
        "`tests/traffic/test_generators.py`",
        "The `mixed` generator on `examples/two_as` (45,000 subscribers), one day at sample rate 0.01, seed 1 "
        "(a Monday; a Saturday and a surged Monday for the rows that need them). The published figures are "
        "those of [Sources](sources.md).",
        traffic_table),
}

INTRO = """\
# Validation

<!-- Generated by `python scripts/validation.py`; do not edit by hand (a test compares this page with a regeneration). -->

Each table below sets a netsim result beside an independent reference, on fixed seeds. The same
comparisons run as tests (named under each table), which fail when the agreement is lost; this page
shows how close the agreement is. Regenerate it from the repository root (about 15 s; libcachesim and
topohub come with the test extra, `pip install '.[test]'`):

```console
$ python scripts/validation.py            # rewrites docs/validation.md
$ python scripts/validation.py --check    # exit 1 if the page is not what the code gives now
```
"""

OUTRO = """\
## Sample rates

A shipped trace is a spatial sample of the full load; how the headline outputs converge as the
sample rate rises is measured by `scripts/sample_rate_convergence.py` (minutes per scenario, so
not regenerated here): [Sample rates](sample-rates.md).

## Not validated here

- The quality model's access tiers (`docs/quality.md`) and the cost model's prices
  ([Sources](sources.md)) are assumptions with sources, not measurements netsim can be checked
  against.
"""


def section(key: str) -> str:
    title, test, text, fn = SECTIONS[key]
    return f"## {title}\n\n{text}\n\n{fn()}\n\nAsserted by {test}.\n"


def render() -> str:
    return "\n".join([INTRO] + [section(k) for k in SECTIONS] + [OUTRO])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if docs/validation.md is not what this writes")
    ap.add_argument("-o", "--output", type=Path, default=PAGE, help="where to write (default: docs/validation.md)")
    args = ap.parse_args(argv)
    text = render()
    if args.check:
        current = args.output.read_text() if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is not current: python scripts/validation.py", file=sys.stderr)
            return 1
        return 0
    args.output.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
