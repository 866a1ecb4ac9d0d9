"""Shipped topologies: compiled == reference, and the Tochigi done-when check (local traffic trombones via Tokyo)."""

import numpy as np
import pytest

import netsim.routing
from netsim.data import resolve_path
from netsim.routing.reference import ReferenceRoutes


def load_or_skip(name):
    """The shipped topology (they are all shipped: a missing one fails the test, it is not skipped)."""
    resolve_path("topologies", name)
    return netsim.load_topology(name)


def close(a, b):
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


@pytest.mark.parametrize("name", ["examples/two_as", "examples/valley_free", "japan", "tochigi"])
@pytest.mark.parametrize("multipath", [False, True])
def test_compiled_equals_reference_on_shipped(name, multipath):
    g = load_or_skip(name)
    net = netsim.routing.compile(g)
    routes = net.route(multipath=multipath)
    ref = ReferenceRoutes(g, multipath=multipath)
    ends = [n for i, n in enumerate(net.nodes) if not net.is_ix[i]]
    rng = np.random.default_rng(0)
    sample = ends if len(ends) <= 40 else sorted(rng.choice(ends, 40, replace=False).tolist())
    for t in sample:
        got = {u: sorted(h) for u, h in routes.next_hops(t).items()}
        want = {u: sorted(h) for u, h in ref.next_hops(t).items()}
        assert got == want, t
    src = rng.choice(ends, 200)
    dst = rng.choice(sample, 200)
    vol = rng.uniform(0, 1, 200)
    loads, lost = routes.assign(src, dst, vol, return_unreachable=True)
    ref_loads, ref_lost = ref.assign(zip(src, dst, vol))
    assert lost.tolist() == ref_lost
    for i, uv in enumerate(net.links):
        assert close(loads[i], ref_loads.get(uv, 0.0)), uv


def test_tochigi_local_traffic_goes_through_tokyo():
    """Done-when of issue 3: two Tochigi ISPs exchange local traffic via Tokyo (no regional IX yet)."""
    g = load_or_skip("tochigi")
    routes = netsim.routing.compile(g).route()
    tokyo = {n for n, d in g.nodes(data=True) if d.get("region") == "tokyo"}
    access = [n for n, d in g.nodes(data=True)
              if d.get("kind") == "pop" and d.get("subscribers", 0) > 0 and d.get("region") != "tokyo"
              and d.get("metro") == "utsunomiya"]
    pairs = [(a, b) for a in sorted(access) for b in sorted(access) if g.nodes[a]["asn"] != g.nodes[b]["asn"]]
    assert pairs, "expected access PoPs of two ISPs in Utsunomiya"
    a, b = pairs[0]
    paths = routes.paths(a, b)
    assert paths, f"{a} cannot reach {b}"
    for nodes, frac in paths:
        assert any(n in tokyo for n in nodes), f"{a}->{b} stays local: {nodes}"
    assert sum(f for _, f in paths) == pytest.approx(1.0)


def test_tochigi_tokyo_outage_cuts_local_traffic_and_matches_fresh_compile():
    """Without a regional IX, a Tokyo outage leaves two Utsunomiya ISPs unable to reach each other."""
    g = load_or_skip("tochigi")
    routes = netsim.routing.compile(g).route()
    tokyo = sorted(n for n, d in g.nodes(data=True) if d.get("region") == "tokyo")
    after = routes.without(nodes=tokyo)
    a, b = "isp-a-utsunomiya", "isp-b-utsunomiya"
    assert routes.paths(a, b) and after.paths(a, b) == []
    assert after.unreachable([a], [b]).tolist() == [True]
    h = g.copy()
    h.remove_nodes_from(tokyo)
    fresh = netsim.routing.compile(h).route()
    for t in sorted(h.nodes):
        if h.nodes[t].get("kind") != "ix":
            assert after.next_hops(t) == fresh.next_hops(t), t
