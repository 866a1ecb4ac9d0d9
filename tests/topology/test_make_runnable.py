"""`netsim topo adopt` and `netsim scenario new`: an imported network made runnable, saying what was assumed."""

from __future__ import annotations

import json

import networkx as nx
import pytest

from netsim.errors import InputError
from netsim.scenario import load_scenario
from netsim.sim.check import check_scenario, starter_scenario, topology_warnings
from netsim.topology import load_topology
from netsim.topology.adopt import from_networkx, make_runnable


def _ring(tmp_path, *, population=True):
    g = nx.cycle_graph(5)
    for i in g:
        g.nodes[i].update(lat=35.0 + i, lon=139.0 + i, label=f"city{i}", **({"population": 100_000 * (i + 1)} if population else {}))
    p = tmp_path / "ring.json"
    p.write_text(json.dumps(nx.node_link_data(g, edges="links")))
    return p


def test_adopt_cli_fills_capacity_subscribers_origins_and_core(tmp_path, cli):
    src = _ring(tmp_path)
    (tmp_path / "subs.csv").write_text("node,subscribers\n0,5000\n3,7000\n")
    r = cli("topo", "adopt", str(src), "-o", str(tmp_path / "a.yaml"), "--capacity-gbps", "40",
            "--subscribers-csv", str(tmp_path / "subs.csv"), "--origin-node", "3", "--providers", "video",
            "--core", "city0")
    assert r.returncode == 0, r.stderr
    assumed = [ln for ln in r.stderr.splitlines() if ln.startswith("assumed: ")]
    assert assumed == ["assumed: every link set to 40 Gbps", "assumed: subscribers of 2 PoPs from the file given",
                       "assumed: origins of video at 3 (the nodes given), AS64700+, 100 Gbps c2p links",
                       "assumed: core metro(s): city0"]
    g = load_topology(tmp_path / "a.yaml")
    assert g.nodes["0"]["subscribers"] == 5000 and g.nodes["1"].get("subscribers", 0) == 0
    assert g.nodes["origin-video-3"]["kind"] == "origin" and g.edges["origin-video-3", "3"]["rel"] == "c2p"
    assert g.graph["metros"]["city0"]["core"] is True
    assert topology_warnings(g) == []


def test_subscribers_from_a_population_attribute(tmp_path):
    g = from_networkx(nx.Graph([("a", "b"), ("b", "c")]), asn=1)
    for i, n in enumerate(("a", "b", "c")):
        g.nodes[n]["population"] = 1000 * (i + 1)
    g, said = make_runnable(g, subscribers_attr="population", per_person=0.5, origins=1)
    assert [g.nodes[n]["subscribers"] for n in ("a", "b", "c")] == [500, 1000, 1500]
    assert said[0] == "subscribers = population x 0.500 per unit"


def test_bad_adopt_inputs_are_one_located_line(tmp_path, cli):
    src = _ring(tmp_path)
    (tmp_path / "bad.csv").write_text("node,subscribers\n0,many\n")
    for args, fragment in [(["--subscribers-csv", str(tmp_path / "bad.csv")], "bad.csv: row 0 (line 2)"),
                           (["--capacity-gbps", "0"], "--capacity-gbps: expected a capacity > 0"),
                           (["--core", "atlantis"], "--core: metro 'atlantis' is not in the topology"),
                           (["--origin-node", "99"], "--origin-node: node '99' is not in the topology")]:
        r = cli("topo", "adopt", str(src), "-o", str(tmp_path / "x.yaml"), *args)
        assert r.returncode == 2 and r.stderr.count("\n") == 1 and fragment in r.stderr, (args, r.stderr)


def test_scenario_new_for_several_isps_adds_a_regional_ix_and_runs_the_check(tmp_path, cli):
    """Two access ASes meeting in one metro: the starter adds a regional IX there; what it writes checks clean."""
    g = load_topology("examples/ix_and_cache")
    access = {d["asn"] for _, d in g.nodes(data=True) if d.get("subscribers", 0) > 0}
    if len(access) < 2:
        pytest.fail("the example needs two access ASes")
    r = cli("scenario", "new", "examples/ix_and_cache", "-o", str(tmp_path / "s.yaml"))
    assert r.returncode == 0, r.stderr
    text = (tmp_path / "s.yaml").read_text()
    assert "regional_ix: {ix: regional-ix" in text and "shared_cache: {host:" in text
    c = check_scenario(load_scenario(tmp_path / "s.yaml"))
    assert list(c.graphs) == ["baseline", "shared_cache", "regional_ix"]
    r = cli("scenario", "new", "examples/ix_and_cache", "-o", str(tmp_path / "s.yaml"))
    assert r.returncode == 2 and "exists" in r.stderr


def test_scenario_new_needs_subscribers():
    g = load_topology("examples/two_as")
    for n in g:
        g.nodes[n]["subscribers"] = 0
    with pytest.raises(InputError, match="no access PoP"):
        starter_scenario("x.yaml", g)


def test_capacity_by_role_and_regions_from_a_file(tmp_path, cli):
    """A star with a tail: the hub's links get more (degree 1 ends: 1 x 10 Gbps; the hub-to-d link, whose smaller end
    has degree 2: 20 Gbps); regions come from a CSV."""
    h = nx.Graph([("hub", "a"), ("hub", "b"), ("hub", "d"), ("d", "e")])
    for i, n in enumerate(sorted(h)):
        h.nodes[n].update(lat=35.0 + i / 10, lon=139.0, label=n)
    g, said = make_runnable(from_networkx(h, asn=1), capacity_per_degree=10, regions_by_node={"a": "west", "e": "east"},
                            origins=1)
    assert g.edges["hub", "a"]["capacity_gbps"] == 10.0 and g.edges["hub", "d"]["capacity_gbps"] == 20.0
    assert g.nodes["a"]["region"] == "west" and g.nodes["e"]["region"] == "east"
    assert said[:2] == ["link capacity = 10 Gbps x the smaller degree of its ends", "regions of 2 nodes from the file given"]
    src = _ring(tmp_path)
    (tmp_path / "r.csv").write_text("node,region\n0,north\n")
    r = cli("topo", "adopt", str(src), "-o", str(tmp_path / "r.yaml"), "--capacity-per-degree", "50",
            "--regions-csv", str(tmp_path / "r.csv"))
    assert r.returncode == 0, r.stderr
    t = load_topology(tmp_path / "r.yaml")
    assert t.nodes["0"]["region"] == "north" and t.edges["0", "1"]["capacity_gbps"] == 100.0   # a ring: degree 2
    r = cli("topo", "adopt", str(src), "-o", str(tmp_path / "x.yaml"), "--capacity-gbps", "1", "--capacity-per-degree", "1")
    assert r.returncode == 2 and "not both" in r.stderr
