"""Where bytes came from (pairs.served_from): "overseas" is what the topology says, not a map of Japan."""

from __future__ import annotations

import networkx as nx
import numpy as np

from netsim.sim.vocab import SERVED_FROM, Vocab
from netsim.topology import load_topology


def _graph(flag: bool) -> nx.DiGraph:
    g = nx.DiGraph(metros={"home": {"lat": 48.1, "lon": 11.6, "region": "de"},
                           "far": {"lat": 40.7, "lon": -74.0, "region": "us", "overseas": flag},
                           "near": {"lat": 52.5, "lon": 13.4, "region": "de2"}})
    g.add_node("c", metro="home", region="de", asn=1, kind="pop")
    g.add_node("o-far", metro="far", region="us", asn=2, kind="origin")
    g.add_node("o-near", metro="near", region="de2", asn=3, kind="origin")
    return g


def _served(g, src):
    nodes = sorted(g.nodes)
    v = Vocab.of(g, nodes)
    code = v.served_from(np.array([nodes.index(src)]), np.array([nodes.index("c")]), np.zeros(1, bool))
    return SERVED_FROM[int(code[0])]


def test_overseas_is_the_metros_flag_wherever_the_network_is():
    # a German network: New York is abroad only when its metro says so; Berlin never is. The old rule (longitude
    # outside 120-155 E, Japan's) made every node of this network "overseas".
    assert _served(_graph(True), "o-far") == "overseas"
    assert _served(_graph(False), "o-far") == "other region"
    assert _served(_graph(True), "o-near") == "other region"


def test_the_shipped_topologies_mark_los_angeles_abroad():
    for name in ("tochigi", "japan"):
        g = load_topology(name)
        abroad = {m for m, d in g.graph["metros"].items() if d.get("overseas")}
        assert abroad == {"los-angeles"}
        nodes = sorted(g.nodes)
        v = Vocab.of(g, nodes)
        assert {nodes[i] for i in np.flatnonzero(v.node_overseas)} == {
            n for n, d in g.nodes(data=True) if d["metro"] == "los-angeles"}
