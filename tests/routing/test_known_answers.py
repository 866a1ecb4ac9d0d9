"""Known answers: ECMP splits, hot potato, valley-free textbook cases, IX route servers, unreachable demands."""

import itertools

import networkx as nx
import numpy as np
import pytest

import netsim.routing
from netsim.routing import duplex
from netsim.routing.synthetic import single_as

BACK = {"internal": "internal", "c2p": "p2c", "p2c": "c2p", "p2p": "p2p"}


def graph(nodes, links):
    """nodes: {id: asn or 'ix'}; links: [(u, v, rel, latency_ms)] made duplex."""
    g = nx.DiGraph()
    for n, a in nodes.items():
        g.add_node(n, kind="ix", asn=64999) if a == "ix" else g.add_node(n, kind="pop", asn=a)
    for u, v, rel, lat in links:
        g.add_edge(u, v, rel=rel, latency_ms=lat)
        g.add_edge(v, u, rel=BACK[rel], latency_ms=lat)
    return g


def load_of(routes, src, dst, vol=1.0):
    loads = routes.assign([src], [dst], [vol])
    return {uv: float(x) for uv, x in zip(routes.net.links, loads) if x}


def test_diamond_splits_half_half():
    g = graph({"s": 1, "a": 1, "b": 1, "t": 1},
              [("s", "a", "internal", 1), ("s", "b", "internal", 1), ("a", "t", "internal", 1), ("b", "t", "internal", 1)])
    r = netsim.routing.compile(g).route()
    assert sorted(r.paths("s", "t")) == [(["s", "a", "t"], 0.5), (["s", "b", "t"], 0.5)]
    assert load_of(r, "s", "t", 8.0) == {("s", "a"): 4.0, ("s", "b"): 4.0, ("a", "t"): 4.0, ("b", "t"): 4.0}


def test_three_way_split_then_merge_per_hop():
    # s has three equal next hops; a and b both continue through m (per-hop ECMP: m gets 2/3).
    g = graph({"s": 1, "a": 1, "b": 1, "c": 1, "m": 1, "t": 1},
              [("s", "a", "internal", 1), ("s", "b", "internal", 1), ("s", "c", "internal", 1),
               ("a", "m", "internal", 1), ("b", "m", "internal", 1), ("m", "t", "internal", 1),
               ("c", "t", "internal", 2)])
    r = netsim.routing.compile(g).route()
    fr = {tuple(p): f for p, f in r.paths("s", "t")}
    assert fr == pytest.approx({("s", "a", "m", "t"): 1 / 3, ("s", "b", "m", "t"): 1 / 3, ("s", "c", "t"): 1 / 3})
    loads = load_of(r, "s", "t", 3.0)
    assert loads[("m", "t")] == pytest.approx(2.0) and loads[("c", "t")] == pytest.approx(1.0)


def test_unequal_weights_take_the_shortest():
    g = graph({"s": 1, "a": 1, "b": 1, "t": 1},
              [("s", "a", "internal", 1), ("s", "b", "internal", 1.5), ("a", "t", "internal", 1), ("b", "t", "internal", 1)])
    r = netsim.routing.compile(g).route()
    assert r.paths("s", "t") == [(["s", "a", "t"], 1.0)]
    assert r.distance_ms(["s"], ["t"])[0] == pytest.approx(2.0)
    assert netsim.routing.compile(g, igp_weight="hops").route().distance_ms(["s"], ["t"])[0] == pytest.approx(2.25)


def test_hot_potato_takes_the_nearest_exit_even_if_longer_overall():
    # AS1: x1 - x2 - x3 (x2 is 1 ms from x1, 5 ms from x3). Exits x1->y1 and x3->y2 to AS2.
    # Inside AS2, y1 is 100 ms from the destination y2: hot potato still leaves at x1.
    g = graph({"x1": 1, "x2": 1, "x3": 1, "y1": 2, "y2": 2},
              [("x1", "x2", "internal", 1), ("x2", "x3", "internal", 5),
               ("x1", "y1", "c2p", 1), ("x3", "y2", "c2p", 1), ("y1", "y2", "internal", 100)])
    r = netsim.routing.compile(g).route()
    assert r.paths("x2", "y2") == [(["x2", "x1", "y1", "y2"], 1.0)]
    assert r.paths("x3", "y2") == [(["x3", "y2"], 1.0)]
    assert r.distance_ms(["x2"], ["y2"])[0] == pytest.approx(102.0)


def test_equal_cost_exits_split():
    g = graph({"x1": 1, "x2": 1, "x3": 1, "y1": 2, "y2": 2, "y3": 2},
              [("x2", "x1", "internal", 1), ("x2", "x3", "internal", 1),
               ("x1", "y1", "c2p", 1), ("x3", "y2", "c2p", 1), ("y1", "y3", "internal", 1), ("y2", "y3", "internal", 3)])
    r = netsim.routing.compile(g).route()
    assert sorted(r.paths("x2", "y3")) == [(["x2", "x1", "y1", "y3"], 0.5), (["x2", "x3", "y2", "y3"], 0.5)]


def as_path(net, nodes):
    """AS sequence of a node path (IX nodes skipped, repeats collapsed)."""
    out = []
    for n in nodes:
        a = int(net.node_as[net.index([n])[0]])
        if a >= 0 and (not out or out[-1] != a):
            out.append(a)
    return out


def test_valley_free_shipped_example_has_no_valleys():
    g = netsim.load_topology("examples/valley_free")
    net = netsim.routing.compile(g)
    r = net.route()
    rel = {}
    for u, v, d in g.edges(data=True):
        rel[(int(net.node_as[net.index([u])[0]]), int(net.node_as[net.index([v])[0]]))] = d["rel"]
    n_paths = 0
    for s, t in itertools.permutations(net.nodes, 2):
        for nodes, _ in r.paths(s, t):
            seq = [rel[(a, b)] for a, b in zip(as_path(net, nodes), as_path(net, nodes)[1:])]
            # valley-free: c2p* then at most one p2p then p2c*
            phase = 0
            for x in seq:
                step = {"c2p": 0, "p2p": 1, "p2c": 2}[x]
                assert step >= phase and not (step == 1 and phase == 1), (s, t, nodes, seq)
                phase = max(phase, step) if step != 1 else 2
            n_paths += 1
    assert n_paths == 30  # every pair is reachable in this example
    assert r.paths("c2", "s") == [(["c2", "c1", "s"], 1.0)]       # peer route beats provider route
    assert r.paths("c1", "c3") == [(["c1", "p1", "p2", "c3"], 1.0)]  # not through customer s


def test_peer_route_not_exported_to_provider():
    # A peers with B; P is A's provider and has no other way to B: A must not carry P's traffic.
    g = graph({"a": 10, "b": 20, "p": 30}, [("a", "b", "p2p", 1), ("a", "p", "c2p", 1)])
    r = netsim.routing.compile(g).route()
    assert r.paths("p", "b") == []
    assert r.unreachable(["p", "a", "b"], ["b", "b", "p"]).tolist() == [True, False, True]
    loads, lost = r.assign(["p", "a"], ["b", "b"], [5.0, 1.0], return_unreachable=True)
    assert lost.tolist() == [True, False]
    assert float(loads.sum()) == pytest.approx(1.0)  # only a->b carried
    assert np.isnan(r.distance_ms(["p"], ["b"])[0])


def test_customer_route_preferred_over_shorter_provider_route():
    # X reaches D through a chain of customers (AS path 3) or through its provider P (AS path 2).
    g = graph({"x": 1, "c1": 2, "c2": 3, "d": 4, "p": 5},
              [("c1", "x", "c2p", 1), ("c2", "c1", "c2p", 1), ("d", "c2", "c2p", 1),
               ("x", "p", "c2p", 1), ("d", "p", "c2p", 1)])
    r = netsim.routing.compile(g).route()
    assert r.paths("x", "d") == [(["x", "c1", "c2", "d"], 1.0)]
    assert r.paths("p", "d") == [(["p", "d"], 1.0)]


def test_lowest_next_hop_asn_and_multipath():
    g = graph({"s": 1, "m": 3, "n": 2, "d": 9},
              [("s", "m", "c2p", 1), ("s", "n", "c2p", 1), ("d", "m", "c2p", 1), ("d", "n", "c2p", 1)])
    net = netsim.routing.compile(g)
    assert net.route().paths("s", "d") == [(["s", "n", "d"], 1.0)]  # AS2 < AS3
    assert sorted(net.route(multipath=True).paths("s", "d")) == [(["s", "m", "d"], 0.5), (["s", "n", "d"], 0.5)]


def test_ix_route_server_peering_is_transparent():
    # a (AS1) and b (AS2) meet only at the IX; c (AS3) is a's customer. The IX's ASN is no hop.
    g = graph({"a": 1, "b": 2, "c": 3, "ix": "ix"},
              [("a", "ix", "p2p", 1), ("b", "ix", "p2p", 2), ("c", "a", "c2p", 1)])
    net = netsim.routing.compile(g)
    r = net.route()
    assert r.paths("a", "b") == [(["a", "ix", "b"], 1.0)]
    assert r.paths("c", "b") == [(["c", "a", "ix", "b"], 1.0)]       # customer reaches a's peer
    assert r.paths("b", "c") == [(["b", "ix", "a", "c"], 1.0)]       # a exports its customer to peers
    assert load_of(r, "c", "b", 2.0) == {("c", "a"): 2.0, ("a", "ix"): 2.0, ("ix", "b"): 2.0}
    assert r.distance_ms(["a"], ["b"])[0] == pytest.approx(3.0)
    with pytest.raises(netsim.InputError, match="IX node"):
        r.paths("a", "ix")


def test_ix_peer_route_not_passed_to_another_peer():
    # a, b, c all at the IX; d is b's customer. c must not reach d through a (a learns d as a peer route).
    g = graph({"a": 1, "b": 2, "c": 3, "d": 4, "ix": "ix"},
              [("a", "ix", "p2p", 1), ("b", "ix", "p2p", 1), ("c", "ix", "p2p", 1), ("d", "b", "c2p", 1)])
    r = netsim.routing.compile(g).route()
    assert r.paths("c", "d") == [(["c", "ix", "b", "d"], 1.0)]
    # A direct c2p relationship wins over IX peering between the same two ASes.
    g2 = graph({"a": 1, "b": 2, "ix": "ix"}, [("a", "ix", "p2p", 1), ("b", "ix", "p2p", 1), ("a", "b", "c2p", 10)])
    assert netsim.routing.compile(g2).route().paths("a", "b") == [(["a", "b"], 1.0)]


def test_partitioned_igp_is_unreachable_not_dropped():
    g = graph({"a": 1, "b": 1, "c": 1}, [("a", "b", "internal", 1)])
    r = netsim.routing.compile(g).route()
    loads, lost = r.assign(["a", "c", "c"], ["b", "a", "c"], [1.0, 2.0, 3.0], return_unreachable=True)
    assert lost.tolist() == [False, True, False]  # c -> c is delivered locally
    assert float(loads.sum()) == 1.0


def test_single_as_is_plain_ecmp_shortest_paths():
    g = single_as("geometric", 60, seed=3)
    for (u, v) in list(g.edges):  # integer weights make ties
        g.edges[u, v]["w"] = 1 + (hash((min(u, v), max(u, v))) % 3)
    net = netsim.routing.compile(g, igp_weight="w")
    r = net.route()
    for s, t in [("v00000", "v00059"), ("v00010", "v00042"), ("v00033", "v00007")]:
        expect = sorted(nx.all_shortest_paths(g, s, t, weight="w"))
        got = sorted(p for p, _ in r.paths(s, t))
        assert got == expect
        assert sum(f for _, f in r.paths(s, t)) == pytest.approx(1.0)


def test_without_link_and_node():
    g = netsim.load_topology("examples/two_as")
    r = netsim.routing.compile(g, igp_weight="hops").route()
    r2 = r.without(links=duplex([("a1", "t1")]))
    assert r2.paths("a2", "t2") == [(["a2", "a3", "t2"], 1.0)]
    assert r.paths("a2", "t2") == [(["a2", "a1", "t1", "t2"], 0.5), (["a2", "a3", "t2"], 0.5)]  # unchanged
    r3 = r.without(nodes=["a3"])
    assert r3.paths("a2", "t2") == [(["a2", "a1", "t1", "t2"], 1.0)]
    assert r3.unreachable(["a3", "a2"], ["a1", "a3"]).tolist() == [True, True]
    # One direction only: t2 can still send to a3 when a3->t2 is down.
    r4 = r.without(links=[("a3", "t2")])
    assert r4.paths("t2", "a3") == [(["t2", "a3"], 1.0)]
    assert r4.paths("a3", "t2") == [(["a3", "a1", "t1", "t2"], 1.0)]


def test_equal_cost_tolerance_on_float_weights():
    # 0.1 + 0.2 != 0.3 in floating point, but within 1e-9: routers would call these equal.
    g = graph({"s": 1, "a": 1, "t": 1}, [("s", "a", "internal", 0.1), ("a", "t", "internal", 0.2), ("s", "t", "internal", 0.3)])
    assert sorted(netsim.routing.compile(g).route().paths("s", "t")) == [(["s", "a", "t"], 0.5), (["s", "t"], 0.5)]
    g = graph({"s": 1, "a": 1, "t": 1}, [("s", "a", "internal", 0.1), ("a", "t", "internal", 0.2), ("s", "t", "internal", 0.3000001)])
    assert netsim.routing.compile(g).route().paths("s", "t") == [(["s", "a", "t"], 1.0)]


def test_routes_report_memory_and_recomputed():
    r = netsim.routing.compile(netsim.load_topology("examples/two_as")).route()
    # every array the object holds, found here rather than listed as the property lists them (a new array left
    # out of the count would show); and by hand, two_as's 5 destinations x 5 nodes of float64 latencies alone
    # are 200 bytes
    held = [a for a in vars(r).values() if isinstance(a, np.ndarray)]
    assert len(held) >= 7 and r.nbytes == sum(a.nbytes for a in held)
    assert r.nbytes > 5 * 5 * 8
    assert r.recomputed == 5
    assert r.without(links=[("t1", "t2")]).recomputed < 5
