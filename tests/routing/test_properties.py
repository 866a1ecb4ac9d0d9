"""Property tests: compiled core == networkx reference; load conservation; without() == fresh compile."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import netsim.routing
from netsim.routing.reference import ReferenceRoutes
from netsim.routing.synthetic import random_multi_as

@pytest.fixture(autouse=True, scope="module")
def _parallel_even_when_small():
    """Small test graphs would run on one thread; force the OpenMP paths to be exercised."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("netsim.routing.routes._WORK_PER_THREAD", 1)
        yield


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
WEIGHTS = st.sampled_from(["latency_ms", "hops", "igp_metric"])


def endpoints(net):
    return [n for i, n in enumerate(net.nodes) if not net.is_ix[i]]


def close(a, b, rel=1e-9):
    return abs(a - b) <= rel * max(1.0, abs(a), abs(b))


def assert_same_routes(routes, ref, net):
    for t in endpoints(net):
        got = {u: sorted(h) for u, h in routes.next_hops(t).items()}
        want = {u: sorted(h) for u, h in ref.next_hops(t).items()}
        assert got == want, t
        lat = routes.latency_ms[routes.row_of[net.index([t])[0]]]
        for u, x in ref.latency_ms(t).items():
            assert close(lat[net.index([u])[0]], x), (t, u)


def random_demands(net, seed, k=40):
    rng = np.random.default_rng(seed)
    ends = endpoints(net)
    return rng.choice(ends, k), rng.choice(ends, k), rng.uniform(0.0, 10.0, k)


@SETTINGS
@given(seed=st.integers(0, 2**31 - 1), weight=WEIGHTS, multipath=st.booleans(), integer=st.booleans())
def test_compiled_equals_reference(seed, weight, multipath, integer):
    g = random_multi_as(seed, integer_weights=integer)
    net = netsim.routing.compile(g, igp_weight=weight)
    routes = net.route(multipath=multipath, threads=2)
    ref = ReferenceRoutes(g, igp_weight=weight, multipath=multipath)
    assert_same_routes(routes, ref, net)
    src, dst, vol = random_demands(net, seed)
    loads, lost = routes.assign(src, dst, vol, return_unreachable=True)
    ref_loads, ref_lost = ref.assign(zip(src, dst, vol))
    assert lost.tolist() == ref_lost
    assert routes.unreachable(src, dst).tolist() == ref_lost
    for i, uv in enumerate(net.links):
        assert close(loads[i], ref_loads.get(uv, 0.0)), uv


@SETTINGS
@given(seed=st.integers(0, 2**31 - 1), multipath=st.booleans())
def test_load_equals_demand_times_path_length(seed, multipath):
    g = random_multi_as(seed)
    net = netsim.routing.compile(g)
    routes = net.route(multipath=multipath)
    src, dst, vol = random_demands(net, seed, k=25)
    for s, t, v in zip(src, dst, vol):
        loads, lost = routes.assign([s], [t], [v], return_unreachable=True)
        paths = routes.paths(s, t)
        assert lost[0] == (not paths)
        expect = v * sum(f * (len(nodes) - 1) for nodes, f in paths)
        assert close(float(loads.sum()), expect)
        if paths:
            assert close(sum(f for _, f in paths), 1.0)
    # and all demands at once (the per-destination accumulation)
    loads = routes.assign(src, dst, vol)
    total = sum(v * sum(f * (len(n) - 1) for n, f in routes.paths(s, t)) for s, t, v in zip(src, dst, vol))
    assert close(float(loads.sum()), total)


def _fresh_without(g, nodes, links):
    h = g.copy()
    h.remove_nodes_from(nodes)
    h.remove_edges_from(links)
    return h


@SETTINGS
@given(seed=st.integers(0, 2**31 - 1), multipath=st.booleans(), data=st.data())
def test_without_equals_fresh_compile(seed, multipath, data):
    g = random_multi_as(seed)
    net = netsim.routing.compile(g)
    routes = net.route(multipath=multipath)
    nodes = sorted(g.nodes)
    edges = sorted(g.edges)
    failed_nodes = data.draw(st.lists(st.sampled_from(nodes), max_size=2, unique=True))
    failed_links = data.draw(st.lists(st.sampled_from(edges), max_size=3, unique=True)) if edges else []
    after = routes.without(nodes=failed_nodes, links=failed_links, threads=1)
    h = _fresh_without(g, failed_nodes, failed_links)
    fresh = netsim.routing.compile(h).route(multipath=multipath)
    for t in endpoints(net):
        if t in failed_nodes:
            assert after.next_hops(t) == {}
            continue
        assert after.next_hops(t) == fresh.next_hops(t), t
    src, dst, vol = random_demands(net, seed)
    loads, lost = after.assign(src, dst, vol, return_unreachable=True)
    alive = np.array([s not in failed_nodes and d not in failed_nodes for s, d in zip(src, dst)])
    assert lost[~alive].all()
    fl, flost = fresh.assign(src[alive], dst[alive], vol[alive], return_unreachable=True)
    assert lost[alive].tolist() == flost.tolist()
    fresh_load = dict(zip(fresh.net.links, fl))
    for i, uv in enumerate(net.links):
        assert close(loads[i], fresh_load.get(uv, 0.0)), uv


def test_without_recomputes_only_touched_destinations():
    from netsim.routing.synthetic import single_as

    g = single_as("geometric", 300, seed=5)
    routes = netsim.routing.compile(g).route()
    u, v = sorted(g.edges)[17]
    after = routes.without(links=[(u, v)])
    assert 0 < after.recomputed < 300
    fresh = netsim.routing.compile(_fresh_without(g, [], [(u, v)])).route()
    for t in ["v00000", "v00150", v]:
        assert after.next_hops(t) == fresh.next_hops(t)
    np.testing.assert_array_equal(after.latency_ms, fresh.latency_ms)


def test_threads_do_not_change_results():
    g = random_multi_as(7, max_as=6, max_nodes_per_as=6)
    net = netsim.routing.compile(g)
    r1, r2 = net.route(threads=1), net.route(threads=2)
    np.testing.assert_array_equal(r1.bits, r2.bits)
    src, dst, vol = random_demands(net, 7, k=200)
    np.testing.assert_array_equal(r1.assign(src, dst, vol, threads=1), r2.assign(src, dst, vol, threads=2))
