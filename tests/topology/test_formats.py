"""Foreign topology formats: each reader on a hand-written fixture, the writers' round trips, sniffing, bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import networkx as nx
import polars as pl
import pytest

from netsim.errors import InputError
from netsim.topology import load_topology, save_topology
from netsim.topology.formats.caida import read_caida
from netsim.topology.formats.graphml import read_graphml
from netsim.topology.formats.nodelink import read_nodelink
from netsim.topology.formats.peeringdb import IX_ASN_BASE, read_peeringdb
from netsim.topology.formats.sndlib import read_sndlib
from netsim.topology.io import _pick_reader

ROOT = Path(__file__).resolve().parents[2]
FIX = ROOT / "tests" / "fixtures" / "topology"
GRAPH_KEYS = ("name", "description", "metros", "as_names", "as_types")


def _edges(g: nx.DiGraph) -> dict:
    return {(u, v): d for u, v, d in g.edges(data=True)}


def assert_same_topology(a: nx.DiGraph, b: nx.DiGraph) -> None:
    assert dict(a.nodes(data=True)) == dict(b.nodes(data=True))
    assert _edges(a) == _edges(b)
    for k in GRAPH_KEYS:
        assert a.graph.get(k) == b.graph.get(k), k


# --- Topology Zoo GraphML ---------------------------------------------------------------------

def test_zoo_graphml_nodes_links_and_capacities():
    g = load_topology(FIX / "zoo_small.graphml")
    assert g.graph["name"] == "Kanto Research Net"
    assert sorted(g.nodes) == ["Maebashi", "Tokyo", "Upstream Peer", "Utsunomiya", "Yokohama"]
    assert g.number_of_edges() == 10  # 5 undirected links (two parallel Zoo edges merged), both directions
    assert {d["asn"] for _, d in g.nodes(data=True)} == {64512}
    assert g.nodes["Upstream Peer"]["metro"] == "upstream-peer" and "lat" not in g.nodes["Upstream Peer"]
    assert g.nodes["Tokyo"]["lat"] == pytest.approx(35.68536)
    assert g.edges["Tokyo", "Utsunomiya"]["capacity_gbps"] == pytest.approx(10.0)  # LinkSpeedRaw 1e10 bps
    assert g.edges["Tokyo", "Yokohama"]["capacity_gbps"] == pytest.approx(3.5)  # 2.5 G + 1 G in parallel
    assert g.edges["Utsunomiya", "Maebashi"]["capacity_gbps"] == pytest.approx(0.622)  # LinkSpeed 622 M, no Raw
    assert g.edges["Maebashi", "Tokyo"]["capacity_gbps"] == 10.0  # no speed at all: the default
    assert g.edges["Tokyo", "Upstream Peer"]["capacity_gbps"] == pytest.approx(40.0)
    assert g.edges["Tokyo", "Upstream Peer"]["latency_ms"] == 1.0  # no coordinates on one end
    # Tokyo (35.68536, 139.75309) to Utsunomiya (36.56583, 139.88361): Δlat 0.88047°, Δlon 0.13052° × cos 36.1°
    # = 0.10545°, so 6371.0 km × π/180 × √(0.88047² + 0.10545²) = 111.195 × 0.88676 = 98.60 km; × 1.5 × 0.005 = 0.7395 ms
    assert g.edges["Tokyo", "Utsunomiya"]["latency_ms"] == pytest.approx(0.7395, rel=1e-3)
    assert {d["rel"] for _, _, d in g.edges(data=True)} == {"internal"}


def test_zoo_graphml_keywords():
    g = read_graphml(FIX / "zoo_small.graphml", asn=65010, capacity_gbps=1.0, default_latency_ms=3.0)
    assert g.nodes["Tokyo"]["asn"] == 65010
    assert g.edges["Maebashi", "Tokyo"]["capacity_gbps"] == 1.0
    assert g.edges["Upstream Peer", "Tokyo"]["latency_ms"] == 3.0
    with pytest.raises(InputError, match="asn"):
        read_graphml(FIX / "zoo_small.graphml", asn=-1)


def test_zoo_graphml_duplicate_labels_keep_graphml_ids(tmp_path):
    text = (FIX / "zoo_small.graphml").read_text().replace(">Yokohama<", ">Tokyo<")
    p = tmp_path / "dup.graphml"
    p.write_text(text)
    g = load_topology(p)
    assert sorted(g.nodes) == ["0", "1", "2", "3", "4"]
    assert g.nodes["2"]["name"] == "Tokyo" and g.nodes["2"]["metro"] == "tokyo"


def test_broken_graphml_is_an_input_error_with_line(tmp_path):
    p = tmp_path / "broken.graphml"
    p.write_text((FIX / "zoo_small.graphml").read_text().replace("</node>", "</nod>", 1))
    with pytest.raises(InputError) as e:
        load_topology(p)
    assert str(p) in str(e.value) and "XML syntax error" in str(e.value)
    assert e.value.where.startswith("line 56,")  # the first </node> (now </nod>)


def test_graphml_not_graphml(tmp_path):
    p = tmp_path / "x.graphml"
    p.write_text("<?xml version='1.0'?><html><body/></html>")
    with pytest.raises(InputError, match="not readable as GraphML"):
        load_topology(p)


# --- SNDlib ---------------------------------------------------------------------------------------

def test_sndlib_network_and_demands():
    g, demands = read_sndlib(FIX / "sndlib_small.txt")
    assert g.graph["name"] == "abilene5"
    assert g.number_of_nodes() == 5 and g.number_of_edges() == 10
    assert (g.nodes["ATLAng"]["lat"], g.nodes["ATLAng"]["lon"]) == (34.5, -85.5)
    cap = {tuple(sorted(e)): d["capacity_gbps"] for *e, d in g.edges(data=True)}
    assert cap[("ATLAng", "HSTNng")] == pytest.approx(9.92)  # pre-installed 9920 Mbit/s
    assert cap[("ATLAng", "IPLSng")] == pytest.approx(2.48)
    assert cap[("ATLAng", "WASHng")] == pytest.approx(40.0)  # no pre-installed: the largest module
    assert cap[("CHINng", "WASHng")] == 10.0  # neither: the default
    assert g.edges["HSTNng", "ATLAng"]["capacity_gbps"] == g.edges["ATLAng", "HSTNng"]["capacity_gbps"]
    assert isinstance(demands, pl.DataFrame) and demands.columns == ["src", "dst", "demand_value"]
    assert demands.rows() == [("ATLAng", "CHINng", 25.37), ("CHINng", "ATLAng", 36.74),
                              ("HSTNng", "WASHng", 15.10), ("WASHng", "IPLSng", 10.06)]


def test_sndlib_capacity_scale_and_load_topology_demands():
    g, _ = read_sndlib(FIX / "sndlib_small.txt", capacity_scale=1.0)
    assert g.edges["ATLAng", "HSTNng"]["capacity_gbps"] == 9920.0
    g = load_topology(FIX / "sndlib_small.txt")
    assert g.graph["demands"][0] == ("ATLAng", "CHINng", 25.37) and len(g.graph["demands"]) == 4


SND_HEAD = "NODES (\n  A ( 13.40 52.52 )\n  B ( 11.58 48.14 )\n)\n"


def test_sndlib_link_to_unknown_node(tmp_path):
    p = tmp_path / "bad.txt"
    p.write_text(SND_HEAD + "LINKS (\n  L1 ( A B ) 10 0 0 0 ( )\n  L2 ( A C ) 10 0 0 0 ( )\n)\n")
    with pytest.raises(InputError) as e:
        read_sndlib(p)
    assert e.value.where == "line 7" and "'C'" in e.value.message and "not in NODES" in e.value.message
    with pytest.raises(InputError, match="line 7"):
        load_topology(p)  # sniffed as SNDlib, not CAIDA


def test_sndlib_malformed_and_unclosed(tmp_path):
    p = tmp_path / "bad.txt"
    p.write_text(SND_HEAD + "LINKS (\n  L1 ( A B ) ten 0 0 0 ( )\n)\n")
    with pytest.raises(InputError, match="pre_installed_capacity 'ten' is not a number"):
        read_sndlib(p)
    p.write_text(SND_HEAD + "LINKS (\n  L1 ( A B ) 10 0 0 0\n)\n")
    with pytest.raises(InputError, match="malformed LINKS entry"):
        read_sndlib(p)
    p.write_text(SND_HEAD + "LINKS (\n  L1 ( A B ) 10 0 0 0 ( )\n")
    with pytest.raises(InputError, match="not closed"):
        read_sndlib(p)


def test_sndlib_planar_coordinates_and_directed_pairs(tmp_path):
    p = tmp_path / "planar.sndlib"
    p.write_text("NODES (\n  A ( 500 900 )\n  B ( 800 100 )\n)\nLINKS (\n  L1 ( A B ) 100 0 0 0 ( )\n"
                 "  L2 ( B A ) 300 0 0 0 ( )\n  L3 ( A B ) 50 0 0 0 ( )\n)\n")
    g, demands = read_sndlib(p, default_latency_ms=2.0)
    assert "lat" not in g.nodes["A"] and g.edges["A", "B"]["latency_ms"] == 2.0
    assert g.edges["A", "B"]["capacity_gbps"] == pytest.approx(0.15)  # L1 + L3
    assert g.edges["B", "A"]["capacity_gbps"] == pytest.approx(0.3)
    assert demands.height == 0


# --- node-link JSON (topohub) ---------------------------------------------------------------------

def test_topohub_nodelink():
    g = load_topology(FIX / "topohub_small.json")
    assert g.graph["name"] == "kanto5"
    assert g.number_of_nodes() == 5 and g.number_of_edges() == 10
    assert (g.nodes["Mito"]["lat"], g.nodes["Mito"]["lon"]) == (36.37, 140.47)  # pos = [lon, lat]
    assert g.nodes["Mito"]["metro"] == "mito"
    # dist is topohub's straight-line km: route = dist × 1.5, at 0.005 ms/km
    assert g.edges["Tokyo", "Utsunomiya"]["latency_ms"] == round(98.55 * 1.5 * 0.005, 6)
    assert g.edges["Utsunomiya", "Tokyo"]["latency_ms"] == round(98.55 * 1.5 * 0.005, 6)
    assert g.edges["Tokyo", "Yokohama"]["capacity_gbps"] == 10.0
    assert g.graph["demands"] == [("Tokyo", "Mito", 45.0), ("Tokyo", "Utsunomiya", 120.5), ("Utsunomiya", "Tokyo", 80.25)]
    g1 = read_nodelink(FIX / "topohub_small.json", dist_factor=1.0, asn=65001)
    assert g1.edges["Tokyo", "Utsunomiya"]["latency_ms"] == round(98.55 * 0.005, 6) and g1.nodes["Tokyo"]["asn"] == 65001


def test_nodelink_edges_key_and_directed(tmp_path):
    doc = {"directed": True, "multigraph": False, "graph": {},
           "nodes": [{"id": 1, "lat": 35.0, "lon": 139.0}, {"id": 2, "lat": 35.5, "lon": 139.5}, {"id": 3}],
           "edges": [{"source": 1, "target": 2, "capacity_gbps": 40}, {"source": 2, "target": 3}]}
    p = tmp_path / "g.json"
    p.write_text(json.dumps(doc))
    g = load_topology(p)
    assert sorted(g.edges) == [("1", "2"), ("2", "3")]
    assert g.edges["1", "2"]["capacity_gbps"] == 40.0
    assert g.edges["2", "3"]["latency_ms"] == 1.0  # node 3 has no coordinates


def test_nodelink_bad_input(tmp_path):
    p = tmp_path / "bad.json"
    p.write_text('{"nodes": [{"id": "a"}], "links": [\n{"source": "a", "target": }]}')
    with pytest.raises(InputError) as e:
        load_topology(p)
    assert e.value.where == "line 2, column 27" and "JSON syntax error" in e.value.message
    p.write_text(json.dumps({"nodes": [{"id": "a"}, {"name": "b"}], "links": []}))
    with pytest.raises(InputError) as e:
        load_topology(p)
    assert e.value.where == "nodes[1]" and "'id'" in e.value.message
    p.write_text(json.dumps({"nodes": [{"id": "a", "pos": "north"}], "links": []}))
    with pytest.raises(InputError, match=r"nodes\[0\].pos: pos is 'north'; expected \[longitude, latitude\]"):
        load_topology(p)


# --- round trips through the writers --------------------------------------------------------------

@pytest.mark.parametrize("ext", [".graphml", ".json"])
@pytest.mark.parametrize("topo", ["examples/two_as", "examples/valley_free", str(FIX / "rich.yaml")])
def test_yaml_foreign_yaml_round_trip(tmp_path, topo, ext):
    g = load_topology(topo)
    save_topology(g, tmp_path / f"t{ext}")
    h = load_topology(tmp_path / f"t{ext}")
    assert_same_topology(g, h)
    save_topology(h, tmp_path / "back.yaml")
    assert_same_topology(g, load_topology(tmp_path / "back.yaml"))


def test_rich_round_trip_keeps_cache_and_link_details(tmp_path):
    g = load_topology(FIX / "rich.yaml")
    for ext in (".graphml", ".json"):
        save_topology(g, tmp_path / f"r{ext}")
        h = load_topology(tmp_path / f"r{ext}")
        c = h.nodes["cache-video-tokyo"]
        assert (c["serves"], c["providers"], c["parent"], c["capacity_bytes"]) == ((64600, 64700), ("video",), "origin-video-tokyo",
                                                                                  20_000_000_000_000)
        assert h.nodes["cache-shared-utsunomiya"]["providers"] == ()  # empty, not None (= all providers)
        assert h.edges["isp-oyama", "carrier-tokyo"]["tags"] == ("transit", "upstream")
        assert h.edges["isp-utsunomiya", "isp-oyama"]["igp_metric"] == 20.0
        assert not h.has_edge("isp-oyama", "carrier-utsunomiya")  # the one-way p2c link stays one-way
        assert h.graph["metros"]["tokyo-otemachi"]["core"] is True
        assert h.graph["as_names"][4200000001] == "Example-IX"


def test_netsim_graphml_error_names_the_edge(tmp_path):
    g = load_topology("examples/two_as")
    save_topology(g, tmp_path / "t.graphml")
    text = (tmp_path / "t.graphml").read_text()
    # make one edge's capacity negative
    i = text.index('<edge source="a1" target="a2">')
    j = text.index("</edge>", i)
    block = text[i:j]
    cap_key = [ln for ln in text.splitlines() if 'attr.name="capacity_gbps"' in ln][0].split('id="')[1].split('"')[0]
    start = block.index(f'<data key="{cap_key}">') + len(f'<data key="{cap_key}">')
    end = block.index("</data>", start)
    (tmp_path / "t.graphml").write_text(text[:i] + block[:start] + "-5.0" + block[end:] + text[j:])
    with pytest.raises(InputError) as e:
        load_topology(tmp_path / "t.graphml")
    assert e.value.where == "edge a1->a2, capacity_gbps" and "greater than 0" in e.value.message


# --- CAIDA -----------------------------------------------------------------------------------------

def test_caida_serial2():
    g = load_topology(FIX / "caida_small.as-rel2.txt")
    assert sorted(g.nodes) == ["AS64500", "AS64501", "AS64510", "AS64511", "AS64520"]
    assert g.number_of_edges() == 12
    assert g.nodes["AS64511"] == {"kind": "pop", "asn": 64511, "metro": "as64511", "region": "as64511", "subscribers": 0}
    # 64500|64510|-1: 64500 is the provider, so AS64510 -> AS64500 is customer-to-provider
    assert g.edges["AS64510", "AS64500"]["rel"] == "c2p"
    assert g.edges["AS64500", "AS64510"]["rel"] == "p2c"
    assert g.edges["AS64500", "AS64501"]["rel"] == g.edges["AS64501", "AS64500"]["rel"] == "p2p"
    assert g.edges["AS64520", "AS64511"]["rel"] == "c2p"
    assert {(d["capacity_gbps"], d["latency_ms"]) for _, _, d in g.edges(data=True)} == {(100.0, 10.0)}


def test_caida_serial1_and_keywords():
    g = read_caida(FIX / "caida_small.as-rel.txt", capacity_gbps=400.0, latency_ms=5.0)
    assert g.number_of_nodes() == 4 and g.number_of_edges() == 6
    assert g.edges["AS64520", "AS64501"]["rel"] == "c2p"
    assert g.edges["AS64501", "AS64520"]["capacity_gbps"] == 400.0 and g.edges["AS64501", "AS64520"]["latency_ms"] == 5.0


@pytest.mark.parametrize("line, match", [
    ("64500|64510", "malformed line '64500|64510'; expected 'a|b|rel'"),
    ("64500|x|-1|bgp", "malformed line"),
    ("64500|64510|2|bgp", "relationship '2'; expected -1"),
    ("64500|64500|0", "related to itself"),
    ("64510|64500|0|bgp", "contradicts line 7"),
])
def test_caida_malformed_line(tmp_path, line, match):
    p = tmp_path / "bad.as-rel2.txt"
    p.write_text((FIX / "caida_small.as-rel2.txt").read_text().replace("64510|64511|0|mlp", line))
    with pytest.raises(InputError, match=match) as e:
        read_caida(p)
    assert e.value.where == "line 11" and e.value.source == str(p)


def test_empty_txt_is_not_an_empty_topology(tmp_path):
    p = tmp_path / "empty.txt"
    p.write_text("# nothing here\n")
    with pytest.raises(InputError, match="no AS relationships found"):
        load_topology(p)


# --- PeeringDB -------------------------------------------------------------------------------------

def test_peeringdb_ixs_members_and_port_speeds():
    g = load_topology(FIX / "peeringdb_small.json")
    assert sorted(g.nodes) == ["AS64600", "AS64601", "AS64602-osaka", "AS64602-tokyo", "IX1", "IX2"]
    assert g.number_of_edges() == 8
    ix = g.nodes["IX1"]
    assert (ix["kind"], ix["asn"], ix["metro"], ix["name"]) == ("ix", IX_ASN_BASE + 1, "tokyo", "Example-IX Tokyo")
    # three 10G ports of AS64600 at Example-IX Tokyo (two on one ixlan, one on its second LAN) add up
    assert g.edges["AS64600", "IX1"]["capacity_gbps"] == 30.0
    assert g.edges["IX1", "AS64600"]["rel"] == g.edges["AS64600", "IX1"]["rel"] == "p2p"
    assert g.edges["AS64602-osaka", "IX2"]["capacity_gbps"] == 40.0
    assert g.nodes["AS64602-tokyo"]["asn"] == g.nodes["AS64602-osaka"]["asn"] == 64602
    assert g.nodes["AS64601"]["name"] == "Kanto Fiber" and g.graph["as_names"][64601] == "Kanto Fiber"
    assert g.graph["as_types"][IX_ASN_BASE + 2] == "ix-operator"
    assert "AS64603" not in g  # its only port is deleted
    assert g.edges["AS64601", "IX1"]["latency_ms"] == 0.5


def test_peeringdb_city_coords_and_plain_lists(tmp_path):
    g = read_peeringdb(FIX / "peeringdb_small.json", city_coords={"Tokyo": (35.6867, 139.7660)}, latency_ms=0.2)
    assert (g.nodes["AS64601"]["lat"], g.nodes["IX1"]["lon"]) == (35.6867, 139.7660)
    assert "lat" not in g.nodes["IX2"] and g.edges["AS64600", "IX1"]["latency_ms"] == 0.2
    data = json.loads((FIX / "peeringdb_small.json").read_text())
    plain = {k: v["data"] for k, v in data.items()}
    p = tmp_path / "plain.json"
    p.write_text(json.dumps(plain))
    h = load_topology(p)
    assert sorted(h.edges(data=True)) == sorted(load_topology(FIX / "peeringdb_small.json").edges(data=True))


def test_peeringdb_bad_references(tmp_path):
    data = json.loads((FIX / "peeringdb_small.json").read_text())
    data["netixlan"]["data"][3]["ixlan_id"] = 99
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(data))
    with pytest.raises(InputError) as e:
        load_topology(p)
    assert e.value.where == "netixlan.data[3].ixlan_id" and "ixlan_id 99 is not an ixlan" in e.value.message
    data["netixlan"]["data"][3]["ixlan_id"] = 11
    data["netixlan"]["data"][4]["speed"] = "fast"
    p.write_text(json.dumps(data))
    with pytest.raises(InputError, match=r"netixlan.data\[4\].speed: speed found 'fast'; expected an integer > 0"):
        load_topology(p)
    p.write_text(json.dumps({"ix": [], "net": []}))
    with pytest.raises(InputError, match="no ixlan, netixlan at the top level"):
        load_topology(p)


# --- sniffing ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, reader", [
    ("topohub_small.json", "nodelink"), ("peeringdb_small.json", "peeringdb"),
    ("sndlib_small.txt", "sndlib"), ("caida_small.as-rel2.txt", "caida"), ("caida_small.as-rel.txt", "caida"),
    ("zoo_small.graphml", "graphml"), ("rich.yaml", "yaml"),
])
def test_sniffing_picks_the_reader(name, reader):
    assert _pick_reader(FIX / name) == reader


def test_sniffing_netsim_json(tmp_path):
    save_topology(load_topology("examples/two_as"), tmp_path / "t.json")
    assert _pick_reader(tmp_path / "t.json") == "nodelink"


# --- CLI -----------------------------------------------------------------------------------------------

def _netsim(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """``python -m netsim ARGS`` with the netsim the tests imported (run outside the source tree, as tests/conftest.py does)."""
    import netsim

    pkg_parent = str(Path(netsim.__file__).resolve().parent.parent)
    env = dict(os.environ, PYTHONPATH=pkg_parent + (os.pathsep + os.environ["PYTHONPATH"] if os.environ.get("PYTHONPATH") else ""))
    return subprocess.run([sys.executable, "-m", "netsim", *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120)


def test_cli_convert_graphml_to_yaml_and_broken_file(tmp_path):
    out = tmp_path / "out.yaml"
    r = _netsim("topo", "convert", str(FIX / "zoo_small.graphml"), str(out), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "5 nodes, 10 links" in r.stdout
    assert sorted(load_topology(out).edges) == sorted(load_topology(FIX / "zoo_small.graphml").edges)
    bad = tmp_path / "bad.as-rel2.txt"
    bad.write_text("# header\n1|2|-1|bgp\n1|2|x|bgp\n")
    r = _netsim("topo", "convert", str(bad), str(tmp_path / "x.yaml"), cwd=tmp_path)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert r.stderr.strip().count("\n") == 0
    assert r.stderr.startswith(f"netsim: error: {bad}: line 3: malformed line")


def test_peeringdb_single_api_response_is_explained(tmp_path):
    p = tmp_path / "netixlan.json"
    p.write_text(json.dumps({"data": [{"id": 1, "asn": 64600, "ixlan_id": 11, "speed": 1000}], "meta": {}}))
    assert _pick_reader(p) == "peeringdb"
    with pytest.raises(InputError, match="one PeeringDB API response"):
        load_topology(p)
