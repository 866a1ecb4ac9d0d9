"""The DAG fraction kernels (congestion incidence, local turnaround, backbone crossing) against ECMP path enumeration.

``Routes.link_fractions``, ``Routes.confined_fractions`` and ``Routes.crossing_fractions`` push a unit of flow down a destination's
DAG; ``Routes.paths`` enumerates every ECMP path with its fraction. Both must agree on random
multi-AS graphs (with IX crossings), intact and after failures, and on the shipped topologies.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import netsim
import netsim.routing
from netsim.routing.routes import duplex
from netsim.routing.synthetic import random_multi_as

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _endpoints(net):
    return [n for i, n in enumerate(net.nodes) if not net.is_ix[i]]


def _by_paths(routes, links, src, dst):
    """(fraction on each link, per demand) from the enumerated paths."""
    col = {e: j for j, e in enumerate(links)}
    out = np.zeros((len(src), len(links)))
    for i, (s, d) in enumerate(zip(src, dst)):
        for path, f in routes.paths(s, d):
            for u, v in zip(path[:-1], path[1:]):
                j = col.get((u, v))
                if j is not None:
                    out[i, j] += f
    return out


def _confined_by_paths(routes, zone_of, src, dst):
    return np.array([sum(f for path, f in routes.paths(s, d) if all(zone_of[n] == zone_of[d] for n in path))
                     for s, d in zip(src, dst)])


def _check(net, routes, rng, k=30):
    ends = _endpoints(net)
    if not ends or net.n_links == 0:
        return
    src = list(rng.choice(ends, k))
    dst = list(rng.choice(ends, k))
    si, di = net.index(src), net.index(dst)
    pick = rng.choice(net.n_links, size=min(8, net.n_links), replace=False)
    links = [net.links[int(i)] for i in pick]
    got = routes.link_fractions(si, di, pick)
    np.testing.assert_allclose(got, _by_paths(routes, links, src, dst), rtol=1e-12, atol=1e-12)
    zone = rng.integers(0, 3, net.n_nodes).astype(np.int32)
    zone_of = {n: int(zone[i]) for i, n in enumerate(net.nodes)}
    got = routes.confined_fractions(si, di, zone)
    np.testing.assert_allclose(got, _confined_by_paths(routes, zone_of, src, dst), rtol=1e-12, atol=1e-12)
    mask = rng.random(net.n_links) < 0.2
    marked = {e for e, m in zip(net.links, mask) if m}
    want = [sum(f for path, f in routes.paths(s, d) if any(e in marked for e in zip(path[:-1], path[1:])))
            for s, d in zip(src, dst)]
    np.testing.assert_allclose(routes.crossing_fractions(si, di, mask), want, rtol=1e-12, atol=1e-12)


@SETTINGS
@given(seed=st.integers(0, 2**31 - 1), multipath=st.booleans())
def test_fractions_equal_enumerated_paths(seed, multipath):
    g = random_multi_as(seed)
    net = netsim.routing.compile(g)
    routes = net.route(multipath=multipath)
    rng = np.random.default_rng(seed)
    _check(net, routes, rng)
    if net.n_links == 0:
        return
    # after a failure: the routes of the failed state
    u, v = net.links[int(rng.integers(net.n_links))]
    _check(net, routes.without(links=duplex([(u, v)])), rng)


def test_link_fractions_sum_to_the_assigned_loads():
    """Σ_demands volume × fraction on a link = the load assign() puts there."""
    g = random_multi_as(7)
    net = netsim.routing.compile(g)
    routes = net.route()
    rng = np.random.default_rng(1)
    ends = _endpoints(net)
    src, dst = rng.choice(ends, 50), rng.choice(ends, 50)
    vol = rng.uniform(1, 10, 50)
    loads = routes.assign(src, dst, vol)
    frac = routes.link_fractions(net.index(src), net.index(dst), np.arange(net.n_links))
    np.testing.assert_allclose(vol @ frac, loads, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("name", ["tochigi", "japan"])
def test_fractions_on_shipped_topologies(name):
    net = netsim.routing.compile(netsim.load_topology(name))
    routes = net.route()
    _check(net, routes, np.random.default_rng(3), k=40)


def test_unreachable_and_self_demands():
    net = netsim.routing.compile(netsim.load_topology("examples/two_as"))
    routes = net.route().without(nodes=["a1"])
    s, d = net.index(["a1", "a2"]), net.index(["t1", "a2"])
    assert routes.link_fractions(s, d, np.arange(net.n_links)).sum(axis=1).tolist() == [0.0, 0.0]
    zone = np.zeros(net.n_nodes, dtype=np.int32)
    assert routes.confined_fractions(s, d, zone).tolist() == [0.0, 1.0]
    assert routes.crossing_fractions(s, d, np.ones(net.n_links, dtype=bool)).tolist() == [0.0, 0.0]
