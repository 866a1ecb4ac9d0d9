"""The native YAML topology format: defaults, located validation errors, warnings, round trip."""

from __future__ import annotations

import math
import textwrap
import warnings

import networkx as nx
import numpy as np
import pytest

from netsim import InputError, load_topology, save_topology
from netsim.topology import TopologyWarning, check_reachability, default_latency_ms, from_networkx, great_circle_km

BASE = """\
name: t
metros:
  m1: {lat: 35.0, lon: 139.0, region: r1}
  m2: {lat: 36.0, lon: 139.0}
nodes:
  - {id: a, kind: pop, asn: 1, metro: m1, subscribers: 10}
  - {id: b, kind: pop, asn: 1, metro: m2}
  - {id: c, kind: pop, asn: 2, metro: m2}
links:
  - {src: a, dst: b, capacity_gbps: 10}
  - {src: b, dst: c, capacity_gbps: 40, rel: c2p, tags: [transit, upstream]}
"""


def write(tmp_path, text, name="t.yaml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


def load_err(tmp_path, text) -> str:
    with pytest.raises(InputError) as ei:
        load_topology(write(tmp_path, text))
    msg = str(ei.value)
    assert "\n" not in msg
    assert msg.startswith(str(tmp_path / "t.yaml"))
    return msg


def test_valid_file_builds_duplex_edges_with_defaults(tmp_path):
    g = load_topology(write(tmp_path, BASE))
    assert sorted(g.edges()) == [("a", "b"), ("b", "a"), ("b", "c"), ("c", "b")]
    assert g.edges["b", "c"]["rel"] == "c2p" and g.edges["c", "b"]["rel"] == "p2c"
    assert g.edges["a", "b"]["rel"] == "internal"
    assert g.edges["b", "c"]["tags"] == ("transit", "upstream")
    # latency: great circle × 1.5 × 0.005 ms/km; one degree of latitude on a sphere of the mean Earth radius is
    # 6371.0088 km × π / 180 = 111.195 km (by hand): 111.195 × 1.5 × 0.005 = 0.83396 ms
    assert g.edges["a", "b"]["latency_ms"] == pytest.approx(0.83396, rel=1e-4)
    # nodes inherit metro coordinates and region (default: the metro itself)
    assert g.nodes["a"]["lat"] == 35.0 and g.nodes["a"]["region"] == "r1"
    assert g.nodes["b"]["region"] == "m2"
    assert g.nodes["a"]["subscribers"] == 10


def test_latency_floor_and_explicit_values(tmp_path):
    assert default_latency_ms(0.0) == 0.01
    text = BASE.replace("{src: a, dst: b, capacity_gbps: 10}", "{src: a, dst: b, capacity_gbps: 10, latency_ms: 2.5, duplex: false}")
    text = text.replace("  - {src: b, dst: c", "  - {src: b, dst: a, capacity_gbps: 10, latency_ms: 3.0, duplex: false}\n  - {src: b, dst: c")
    g = load_topology(write(tmp_path, text))
    assert g.edges["a", "b"]["latency_ms"] == 2.5
    assert g.edges["b", "a"]["latency_ms"] == 3.0


@pytest.mark.parametrize(
    "old, new, expect",
    [
        ("kind: pop, asn: 1, metro: m1", "kind: router, asn: 1, metro: m1", "nodes[0].kind (line 6): expected 'pop', 'ix', 'cache' or 'origin', found 'router'"),
        ("subscribers: 10}", "subscribers: 10, colour: red}", "nodes[0].colour (line 6): unknown key"),
        ("{id: c, kind: pop, asn: 2, metro: m2}", "{id: a, kind: pop, asn: 2, metro: m2}", "nodes[2].id (line 8): duplicate node id 'a' (first defined at nodes[0])"),
        ("{src: a, dst: b, capacity_gbps: 10}", "{src: a, dst: zz, capacity_gbps: 10}", "links[0].dst (line 10): link endpoint 'zz' is not a node"),
        ("{src: a, dst: b, capacity_gbps: 10}", "{src: a, dst: b, capacity_gbps: -1}", "links[0].capacity_gbps (line 10): input should be greater than 0, found -1"),
        ("{src: a, dst: b, capacity_gbps: 10}", "{src: a, dst: b, capacity_gbps: 0}", "links[0].capacity_gbps (line 10): input should be greater than 0, found 0"),
        ("{src: a, dst: b, capacity_gbps: 10}", "{src: a, dst: a, capacity_gbps: 10}", "links[0] (line 10): self-loop on 'a'"),
        ("{id: b, kind: pop, asn: 1, metro: m2}", "{id: b, kind: pop, metro: m2}", "nodes[1].asn (line 7): required field is missing"),
        ("rel: c2p, tags", "rel: internal, tags", "links[1].rel (line 11): internal link b->c joins different ASes"),
        ("{src: b, dst: c, capacity_gbps: 40, rel: c2p, tags: [transit, upstream]}",
         "{src: b, dst: c, capacity_gbps: 40, tags: [transit]}", "links[1].rel (line 11): link b->c joins AS1 and AS2; rel is required"),
        ("{id: c, kind: pop, asn: 2, metro: m2}", "{id: c, kind: cache, asn: 2, metro: m2}", "nodes[2].capacity_bytes (line 8): cache node 'c' has no capacity_bytes"),
        ("m2: {lat: 36.0, lon: 139.0}", "m2: {lat: 96.0, lon: 139.0}", "metros.m2.lat (line 4): input should be less than or equal to 90, found 96.0"),
    ],
)
def test_errors_are_located(tmp_path, old, new, expect):
    assert old in BASE
    msg = load_err(tmp_path, BASE.replace(old, new))
    assert expect in msg, msg


def test_c2p_reverse_must_be_p2c(tmp_path):
    text = BASE.replace("rel: c2p, tags: [transit, upstream]}", "rel: c2p, duplex: false}")
    text += "  - {src: c, dst: b, capacity_gbps: 40, rel: p2p, duplex: false}\n"
    msg = load_err(tmp_path, text)
    assert "links[1].rel (line 11): c2p link b->c has reverse c->b with rel 'p2p'; expected 'p2c'" in msg
    ok = text.replace("rel: p2p, duplex", "rel: p2c, duplex")
    g = load_topology(write(tmp_path, ok))
    assert g.edges["c", "b"]["rel"] == "p2c"


def test_link_defined_twice(tmp_path):
    msg = load_err(tmp_path, BASE + "  - {src: b, dst: a, capacity_gbps: 10}\n")
    assert "links[2]" in msg and "defined twice" in msg


def test_yaml_syntax_error_has_line(tmp_path):
    msg = load_err(tmp_path, BASE + "  - {src: a, dst: b, capacity_gbps: [10\n")
    assert "line 13" in msg and "YAML syntax error" in msg


def test_top_level_must_be_mapping(tmp_path):
    msg = load_err(tmp_path, "- a\n- b\n")
    assert "expected a mapping at the top level" in msg


def test_missing_file_and_unknown_shipped_name(tmp_path):
    with pytest.raises(InputError, match="no such file, and not a shipped topology"):
        load_topology(tmp_path / "nope.yaml")


def test_unknown_extension(tmp_path):
    p = tmp_path / "t.xyz"
    p.write_text("x")
    with pytest.raises(InputError, match="unknown topology file extension '.xyz'"):
        load_topology(p)


def test_latency_needs_coordinates(tmp_path):
    text = BASE.replace("m2: {lat: 36.0, lon: 139.0}", "m9: {lat: 36.0, lon: 139.0}")
    msg = load_err(tmp_path, text)
    # the culprit is the node's metro, which metros does not have, not the link
    assert "nodes[1].metro (line 7): metro 'm2' is not in metros, so node 'b' has no coordinates for the latency " \
           "of link a->b" in msg
    # without any metros table, the link is where latency_ms is missing
    text = "\n".join(ln for ln in BASE.splitlines() if not ln.startswith(("metros:", "  m1:", "  m2:"))) + "\n"
    assert "latency_ms is not given and node 'a' has no coordinates" in load_err(tmp_path, text)


def test_cache_fields_and_defaults(tmp_path):
    text = BASE + "  - {src: d, dst: b, capacity_gbps: 100}\n"
    text = text.replace("links:\n", "  - {id: d, kind: cache, asn: 1, metro: m2, capacity_bytes: 1000000000}\nlinks:\n")
    g = load_topology(write(tmp_path, text))
    d = g.nodes["d"]
    assert d["policy"] == "lru" and d["serves"] == (1,) and d["providers"] is None and d["capacity_bytes"] == 10**9
    bad = text.replace("{id: a, kind: pop, asn: 1, metro: m1, subscribers: 10}", "{id: a, kind: pop, asn: 1, metro: m1, policy: lru}")
    assert "nodes[0].policy (line 6): policy is only valid on cache nodes" in load_err(tmp_path, bad)


def test_unreachable_access_pop_is_a_warning_not_an_error(tmp_path):
    text = BASE.replace("links:\n", "  - {id: lonely, kind: pop, asn: 1, metro: m1, subscribers: 5}\nlinks:\n")
    with pytest.warns(TopologyWarning, match="access PoP 'lonely' \\(AS1\\) cannot reach any other AS"):
        g = load_topology(write(tmp_path, text))
    assert "lonely" in g
    assert check_reachability(g) == ["access PoP 'lonely' (AS1) cannot reach any other AS"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_topology(write(tmp_path, BASE))  # the valid file warns nothing


def test_round_trip_yaml(tmp_path):
    g = load_topology(write(tmp_path, BASE))
    out = tmp_path / "out.yaml"
    save_topology(g, out)
    g2 = load_topology(out)
    assert sorted(g.nodes) == sorted(g2.nodes) and sorted(g.edges) == sorted(g2.edges)
    assert dict(g.nodes(data=True)) == dict(g2.nodes(data=True))
    assert {e: g.edges[e] for e in g.edges} == {e: g2.edges[e] for e in g2.edges}


def test_from_networkx_fills_defaults():
    h = nx.Graph()
    h.add_node("x", Latitude=35.0, Longitude=139.0, label="X")
    h.add_node("y", Latitude=36.0, Longitude=139.0)
    h.add_node("z")
    h.add_edge("x", "y")
    h.add_edge("y", "z", dist=200.0)
    g = from_networkx(h, asn=7, capacity_gbps=5.0)
    # the metro id is a slug of the label, as every file reader makes it; the name keeps the label
    assert g.nodes["x"]["asn"] == 7 and g.nodes["x"]["metro"] == "x" and g.nodes["x"]["name"] == "X"
    assert g.nodes["z"]["metro"] == "z"
    assert g.edges["x", "y"]["capacity_gbps"] == 5.0 and g.edges["y", "x"]["rel"] == "internal"
    assert g.edges["x", "y"]["latency_ms"] == pytest.approx(111.195 * 0.0075, rel=1e-4)  # 1° of latitude × 1.5 × 0.005
    assert g.edges["y", "z"]["latency_ms"] == pytest.approx(1.0)  # 200 km of route × 0.005 ms/km
    with pytest.raises(InputError, match="has no latency_ms"):
        from_networkx(nx.Graph([("p", "q")]), default_latency_ms=None)


def _great_circle_reference_km(lat1, lon1, lat2, lon2, radius_km=6371.0088):
    """The central angle as atan2(|a × b|, a · b) of the two unit vectors: another formula than the kernel's haversine."""
    def unit(lat, lon):
        la, lo = math.radians(lat), math.radians(lon)
        return (math.cos(la) * math.cos(lo), math.cos(la) * math.sin(lo), math.sin(la))

    a, b = unit(lat1, lon1), unit(lat2, lon2)
    cross = (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])
    return radius_km * math.atan2(math.hypot(*cross), sum(x * y for x, y in zip(a, b)))


def test_great_circle_km_against_hand_values_and_a_vector_reference():
    # a quarter meridian and a quarter of the equator: π / 2 × 6371.0088 = 10,007.557 km; antipodes: twice that
    assert float(great_circle_km(0.0, 0.0, 90.0, 0.0)) == pytest.approx(10007.557, abs=1e-3)
    assert float(great_circle_km(0.0, 0.0, 0.0, 90.0)) == pytest.approx(10007.557, abs=1e-3)
    assert float(great_circle_km(0.0, 10.0, 0.0, -170.0)) == pytest.approx(20015.114, abs=1e-3)
    assert float(great_circle_km(35.0, 139.0, 36.0, 139.0)) == pytest.approx(111.195, abs=1e-3)
    assert float(great_circle_km(35.0, 139.0, 35.0, 139.0)) == 0.0
    rng = np.random.default_rng(8)
    lat1, lat2 = rng.uniform(-90, 90, 200), rng.uniform(-90, 90, 200)
    lon1, lon2 = rng.uniform(-180, 180, 200), rng.uniform(-180, 180, 200)
    got = great_circle_km(lat1, lon1, lat2, lon2)
    want = [_great_circle_reference_km(*p) for p in zip(lat1, lon1, lat2, lon2)]
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-6)
