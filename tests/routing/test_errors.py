"""Bad input: clear InputError/KeyError messages, never a traceback from deep inside."""

import networkx as nx
import numpy as np
import pytest

import netsim.routing
from netsim import InputError
from netsim.routing import UnknownNodeError


def two_as():
    return netsim.load_topology("examples/two_as")


def test_unknown_igp_weight_attribute_names_the_link():
    with pytest.raises(InputError, match=r"link a1->a2 has no attribute 'igp_metric'"):
        netsim.routing.compile(two_as(), igp_weight="igp_metric")


def test_non_positive_weight():
    g = two_as()
    g.edges["a1", "a2"]["latency_ms"] = 0.0
    with pytest.raises(InputError, match=r"a1->a2.*> 0"):
        netsim.routing.compile(g)


def test_inconsistent_relationship():
    g = two_as()
    g.edges["t2", "a3"]["rel"] = "p2p"   # a3->t2 is c2p, so t2->a3 must be p2c
    with pytest.raises(InputError, match=r"inconsistent relationship between AS65002 and AS65001: link t2->a3 says p2p"):
        netsim.routing.compile(g)
    g = two_as()
    g.edges["a1", "t1"]["rel"] = "p2c"   # and t1->a1 still says p2c
    with pytest.raises(InputError, match="inconsistent"):
        netsim.routing.compile(g)


def test_internal_link_between_ases():
    g = two_as()
    g.edges["a1", "t1"]["rel"] = "internal"
    with pytest.raises(InputError, match=r"joins AS65001 and AS65002 but has rel 'internal'"):
        netsim.routing.compile(g)


def test_missing_asn():
    g = nx.DiGraph()
    g.add_edge("a", "b", latency_ms=1.0)
    with pytest.raises(InputError, match="node 'a' has no asn"):
        netsim.routing.compile(g)


def test_unknown_node_in_assign_and_paths():
    r = netsim.routing.compile(two_as()).route()
    with pytest.raises(KeyError, match="unknown destination id.*'zz'"):
        r.assign(["a1"], ["zz"], [1.0])
    with pytest.raises(UnknownNodeError, match="unknown source id.*'nope'"):
        r.paths("nope", "a1")
    with pytest.raises(InputError, match="out of range"):
        r.assign(np.array([0], dtype=np.int32), np.array([9], dtype=np.int32), [1.0])
    with pytest.raises(InputError, match="volume has 2 values for 1 demands"):
        r.assign(["a1"], ["a2"], [1.0, 2.0])
    with pytest.raises(InputError, match=">= 0"):
        r.assign(["a1"], ["a2"], [-1.0])
    with pytest.raises(KeyError, match="no link a1->t2"):
        r.without(links=[("a1", "t2")])


def test_unknown_node_error_prints_one_line():
    err = UnknownNodeError("unknown node id(s) 'x'")
    assert str(err) == "unknown node id(s) 'x'" and isinstance(err, KeyError) and isinstance(err, InputError)


def test_bench_cli_figures_and_json(tmp_path):
    from netsim.cli import main

    out = tmp_path / "b.json"
    with pytest.raises(SystemExit) as e:  # typer exits 0 after the command
        main(["bench", "examples/two_as", "--demands", "uniform", "--json", str(out), "--repeat", "1"])
    assert e.value.code in (0, None)
    import json

    r = json.loads(out.read_text())
    assert r["nodes"] == 5 and r["demands"] == 20 and r["unreachable_demands"] == 0
    assert r["routes_per_s"] > 0 and r["demands_per_s"] > 0 and r["scipy_dijkstra_s"] > 0


def test_bench_cli_bad_demands_exits_2(capsys):
    from netsim.cli import main

    with pytest.raises(SystemExit) as e:
        main(["bench", "examples/two_as", "--demands", "bogus"])
    assert e.value.code == 2
    assert "--demands must be one of uniform, gravity" in capsys.readouterr().err
