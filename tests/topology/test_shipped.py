"""The shipped topologies: they load cleanly, follow the naming conventions and have the properties studies rely on."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import warnings
from pathlib import Path

import networkx as nx
import pytest
from typer.testing import CliRunner

from netsim.data import shipped_names, shipped_path
from netsim.topology import load_topology

REPO = Path(__file__).resolve().parents[2]
NATIONAL_SUBS = 43_800_000
PEAK_GBPS_PER_SUB = 38.9e12 * 1.527 / 43.8e6 / 1e9  # MIC Nov 2024 average x busy-hour factor / APNIC subscriptions
PRIVATE_ASNS = range(64512, 65535)
SHIPPED = shipped_names("topologies")


def _load(name: str) -> nx.DiGraph:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return load_topology(name)


@pytest.fixture(scope="module")
def japan() -> nx.DiGraph:
    return _load("japan")


@pytest.fixture(scope="module")
def tochigi() -> nx.DiGraph:
    return _load("tochigi")


@pytest.fixture(scope="module")
def cli():
    from netsim.cli import _register_groups, app

    _register_groups()
    return app


def _access(g: nx.DiGraph) -> list[str]:
    return sorted(n for n, d in g.nodes(data=True) if d["kind"] == "pop" and d.get("subscribers", 0) > 0)


def _tokyo_nodes(g: nx.DiGraph) -> set[str]:
    return {n for n, d in g.nodes(data=True) if g.graph["metros"][d["metro"]].get("region") == "tokyo"}


def test_the_expected_topologies_are_shipped():
    for name in ("japan", "tochigi", "examples/ix_and_cache", "examples/two_as", "examples/valley_free"):
        assert name in SHIPPED


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_topology_loads_without_warnings_and_checks(name, cli):
    g = _load(name)
    assert g.number_of_nodes() > 0
    result = CliRunner().invoke(cli, ["topo", "check", name])
    assert result.exit_code == 0, result.output
    assert "OK" in result.output


@pytest.mark.parametrize("name", ["japan", "tochigi", "examples/ix_and_cache"])
def test_conventions_private_asns_metros_and_ids(name):
    g = _load(name)
    metros = g.graph["metros"]
    assert metros["tokyo-otemachi"].get("core") is True
    for n, d in g.nodes(data=True):
        assert d["asn"] in PRIVATE_ASNS, n
        assert d["metro"] in metros, n
        if d["kind"] == "origin":
            assert n == f"origin-{d['provider']}-{d['metro']}"
    for asn in {d["asn"] for _, d in g.nodes(data=True)}:
        assert asn in g.graph["as_names"] and asn in g.graph["as_types"]
    # Every edge tagged backbone joins two metros and reaches a core metro.
    for u, v, d in g.edges(data=True):
        mu, mv = g.nodes[u]["metro"], g.nodes[v]["metro"]
        if "backbone" in d["tags"]:
            assert mu != mv and (metros[mu].get("core") or metros[mv].get("core")), (u, v)


def test_generator_reproduces_the_committed_files_byte_for_byte(tmp_path):
    import netsim

    # the script sizes links with netsim's router: it needs the package with its compiled kernels (the installed
    # one; the source tree has none in a non-editable install)
    env = dict(os.environ, PYTHONPATH=str(Path(netsim.__file__).resolve().parent.parent))
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "build_topologies.py"), "--out", str(tmp_path)],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    for name in ("japan", "tochigi"):
        fresh = (tmp_path / name / f"{name}.yaml").read_bytes()
        assert fresh == (REPO / "topologies" / name / f"{name}.yaml").read_bytes(), f"{name}.yaml is stale: re-run the script"


# --- Japan ----------------------------------------------------------------------------------------

def _prefectures() -> list[dict]:
    with open(REPO / "topologies" / "japan" / "jp_prefectures.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_japan_has_47_prefecture_regions_with_access_pops(japan):
    prefs = _prefectures()
    assert len(prefs) == 47
    regions = {japan.nodes[n]["region"] for n in _access(japan)}
    assert regions == {p["prefecture"].lower() for p in prefs}
    for p in prefs:  # the metro of each prefecture is its lowercase capital, at the capital's coordinates
        m = japan.graph["metros"][p["capital"].lower()]
        assert m["region"] == p["prefecture"].lower()
        assert (m["lat"], m["lon"]) == (float(p["lat"]), float(p["lon"]))


def test_japan_core_metros_and_interconnection_only_in_tokyo_and_osaka(japan):
    metros = japan.graph["metros"]
    assert sorted(m for m, d in metros.items() if d.get("core")) == ["osaka-dojima", "tokyo-otemachi"]
    assert {japan.nodes[n]["metro"] for n, d in japan.nodes(data=True) if d["kind"] == "ix"} == {"tokyo-otemachi", "osaka-dojima"}
    for u, v, d in japan.edges(data=True):
        if japan.nodes[u]["asn"] != japan.nodes[v]["asn"]:
            assert {japan.nodes[u]["metro"], japan.nodes[v]["metro"]} <= {"tokyo-otemachi", "osaka-dojima", "los-angeles"}, (u, v)


def test_japan_subscribers_total_and_proportional_to_population(japan):
    subs_by_region: dict[str, int] = {}
    for n in _access(japan):
        r = japan.nodes[n]["region"]
        subs_by_region[r] = subs_by_region.get(r, 0) + japan.nodes[n]["subscribers"]
    total = sum(subs_by_region.values())
    assert abs(total - NATIONAL_SUBS) / NATIONAL_SUBS < 0.02
    pop = {p["prefecture"].lower(): int(p["population_2020"]) for p in _prefectures()}
    # Tokyo has ~25x Tottori's people: the subscriptions must have the same ratio.
    assert subs_by_region["tokyo"] / subs_by_region["tottori"] == pytest.approx(pop["tokyo"] / pop["tottori"], rel=1e-3)
    per_person = [subs_by_region[r] / pop[r] for r in pop]
    assert max(per_person) / min(per_person) < 1.001


def test_japan_three_carriers_with_market_shares(japan):
    subs_by_asn: dict[int, int] = {}
    for n in _access(japan):
        subs_by_asn[japan.nodes[n]["asn"]] = subs_by_asn.get(japan.nodes[n]["asn"], 0) + japan.nodes[n]["subscribers"]
    assert len(subs_by_asn) == 3
    assert all(japan.graph["as_types"][a] == "carrier" for a in subs_by_asn)
    shares = sorted(s / NATIONAL_SUBS for s in subs_by_asn.values())
    assert shares == pytest.approx([0.23, 0.32, 0.45], abs=1e-3)


def test_japan_every_access_pop_reaches_every_other_as(japan):
    assert nx.is_strongly_connected(japan)
    dist = nx.single_source_shortest_path_length(japan, "carrier-c-naha")
    asns_reached = {japan.nodes[n]["asn"] for n in dist}
    assert asns_reached == {d["asn"] for _, d in japan.nodes(data=True)}


def test_japan_access_uplinks_carry_their_peak_and_home_to_hubs(japan):
    for n in _access(japan):
        ups = [v for v in japan.successors(n)]
        assert 1 <= len(ups) <= 2, n
        peak = japan.nodes[n]["subscribers"] * PEAK_GBPS_PER_SUB
        for v in ups:
            e = japan.edges[n, v]
            assert japan.nodes[v]["asn"] == japan.nodes[n]["asn"] and not japan.nodes[v].get("subscribers")
            assert "access" in e["tags"]
            # N-1: either uplink alone carries the PoP's busy hour (some carry more: with a long-haul link cut,
            # the IGP routes hub-to-hub traffic through a dual-homed PoP, and the sizing gives its uplinks that)
            assert peak <= e["capacity_gbps"] <= max(peak / 0.6 * 1.1 + 100, 4000), (n, v, peak, e["capacity_gbps"])
    # Tokyo's own access PoP is right next to Otemachi; Naha's is at the Naha hub.
    assert set(japan.successors("carrier-a-tokyo")) == {"carrier-a-tokyo-otemachi"}
    assert set(japan.successors("carrier-a-naha")) == {"carrier-a-naha-hub"}


def test_japan_backbone_links_and_latencies(japan):
    e = japan.edges["carrier-a-tokyo-otemachi", "carrier-a-osaka-dojima"]
    assert "backbone" in e["tags"]
    assert 2.5 < e["latency_ms"] < 3.5  # ~400 km x 1.5 x 0.005 ms/km
    # Naha is on submarine cables to Fukuoka, Osaka and Tokyo.
    naha = {v for v in japan.successors("carrier-a-naha-hub") if japan.nodes[v]["metro"] != "naha"}
    assert {japan.nodes[v]["metro"] for v in naha} == {"fukuoka", "osaka-dojima", "tokyo-otemachi"}
    pacific = [(u, v, d) for u, v, d in japan.edges(data=True) if "trans-pacific" in d["tags"]]
    assert len(pacific) == 2  # one duplex link
    assert all(60 < d["latency_ms"] < 110 and "backbone" not in d["tags"] for _, _, d in pacific)
    # The national peak fits through the core: the carriers' backbone capacity out of the two cores
    # exceeds the peak download (58 Tbps) served from there.
    out_of_cores = sum(d["capacity_gbps"] for u, v, d in japan.edges(data=True)
                       if "backbone" in d["tags"] and japan.nodes[u]["metro"] in ("tokyo-otemachi", "osaka-dojima"))
    assert out_of_cores > NATIONAL_SUBS * PEAK_GBPS_PER_SUB


# --- Tochigi --------------------------------------------------------------------------------------

def _isp_asns(g: nx.DiGraph) -> list[int]:
    return sorted({g.nodes[n]["asn"] for n in _access(g)})


def test_tochigi_has_four_regional_isps_in_the_nine_cities(tochigi):
    isps = _isp_asns(tochigi)
    assert len(isps) == 4
    assert {tochigi.graph["as_types"][a] for a in isps} <= {"cable", "regional-isp"}
    regions = {"utsunomiya": "kenoh", "kanuma": "kenoh", "moka": "kenoh", "nikko": "kenoh", "oyama": "kennan",
               "tochigi": "kennan", "sano": "kennan", "ashikaga": "kennan", "nasushiobara": "kenpoku"}
    for m, r in regions.items():
        assert tochigi.graph["metros"][m]["region"] == r
    assert {tochigi.nodes[n]["metro"] for n in _access(tochigi)} == set(regions)
    total = sum(tochigi.nodes[n]["subscribers"] for n in _access(tochigi))
    tochigi_broadband = NATIONAL_SUBS * 1_933_146 / 126_146_099
    assert 0.15 <= total / tochigi_broadband <= 0.20


def test_tochigi_ix_is_present_but_unconnected(tochigi):
    d = tochigi.nodes["tochigi-ix"]
    assert d["kind"] == "ix" and d["metro"] == "utsunomiya"
    assert d["asn"] not in _isp_asns(tochigi)
    assert tochigi.degree("tochigi-ix") == 0


def test_tochigi_isps_have_their_own_upstream_to_tokyo_and_buy_transit(tochigi):
    tokyo = _tokyo_nodes(tochigi)
    for asn in _isp_asns(tochigi):
        ups = [(u, v) for u, v, d in tochigi.edges(data=True)
               if "upstream" in d["tags"] and tochigi.nodes[u]["asn"] == asn and u not in tokyo and v in tokyo]
        assert ups, asn
        assert all(tochigi.edges[e]["rel"] == "internal" and "backbone" in tochigi.edges[e]["tags"] for e in ups)
        transit = [(u, v) for u, v, d in tochigi.edges(data=True) if tochigi.nodes[u]["asn"] == asn and d["rel"] == "c2p"]
        assert transit and all(u in tokyo and v in tokyo for u, v in transit)


def test_tochigi_traffic_between_isps_must_go_via_tokyo(tochigi):
    tokyo = _tokyo_nodes(tochigi)
    assert tokyo
    local = tochigi.subgraph(set(tochigi) - tokyo).to_undirected()
    comp = {n: i for i, c in enumerate(nx.connected_components(local)) for n in c}
    by_isp: dict[int, set[int]] = {}
    for n in _access(tochigi):
        by_isp.setdefault(tochigi.nodes[n]["asn"], set()).add(comp[n])
    isps = sorted(by_isp)
    for i, a in enumerate(isps):
        assert len(by_isp[a]) == 1  # each ISP's own PoPs are connected without Tokyo (metro ring)
        for b in isps[i + 1:]:
            assert by_isp[a].isdisjoint(by_isp[b]), (a, b)
    # ... while with Tokyo they reach each other (and the content).
    assert nx.is_strongly_connected(tochigi.subgraph(set(tochigi) - {"tochigi-ix"}))


def test_tochigi_content_in_tokyo_and_overseas(tochigi):
    origins = {d["provider"]: d["metro"] for _, d in tochigi.nodes(data=True) if d["kind"] == "origin"}
    assert origins["video"] == "tokyo-otemachi"
    assert tochigi.graph["metros"][origins["overseas-video"]]["region"] == "overseas"
    assert any("trans-pacific" in d["tags"] for _, _, d in tochigi.edges(data=True))
    members = {u for u in tochigi.predecessors("jpix-tokyo-otemachi")}
    assert {"carrier-a-tokyo-otemachi", "carrier-b-tokyo-otemachi", "origin-video-tokyo-otemachi"} <= members
    assert not any(tochigi.nodes[m]["asn"] in _isp_asns(tochigi) for m in members)


# --- examples/ix_and_cache ------------------------------------------------------------------------

def test_ix_and_cache_example():
    g = _load("examples/ix_and_cache")
    caches = [n for n, d in g.nodes(data=True) if d["kind"] == "cache"]
    assert len(caches) == 1
    c = g.nodes[caches[0]]
    assert c["policy"] == "lru" and c["capacity_bytes"] > 0
    assert set(c["serves"]) == set(_isp_asns(g)) and len(c["serves"]) == 2
    ix = [n for n, d in g.nodes(data=True) if d["kind"] == "ix"][0]
    assert all(g.edges[u, ix]["rel"] == "p2p" for u in g.predecessors(ix))
    assert {g.nodes[u]["kind"] for u in g.predecessors(ix)} == {"pop", "cache", "origin"}


# --- pictures -------------------------------------------------------------------------------------

def test_topo_show_japan_writes_a_png(tmp_path, cli):
    out = tmp_path / "x.png"
    result = CliRunner().invoke(cli, ["topo", "show", "japan", "-o", str(out)])
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000


def test_plot_keeps_japan_on_its_coordinates_and_pulls_los_angeles_in(japan):
    from netsim.topology.plot import _pull_in_outliers, layout_positions

    pos, moved = _pull_in_outliers(layout_positions(japan))
    assert set(moved) == {n for n, d in japan.nodes(data=True) if d["metro"] == "los-angeles"}
    assert pos["carrier-a-sapporo"] == (141.3469, 43.0642)
    x, _ = pos["origin-overseas-video-los-angeles"]
    assert 141.3 < x < 150  # just east of Japan, where the Pacific crossing goes


def test_shipped_path_finds_the_generated_files():
    # the installed package data (a wheel install) or the checkout (editable): the same bytes
    for name in ("japan", "tochigi"):
        p = shipped_path("topologies", name)
        assert p is not None and p.read_bytes() == (REPO / "topologies" / name / f"{name}.yaml").read_bytes()


# --- policy reachability (valley-free, IX transparent) ----------------------------------------------

def _as_relations(g: nx.DiGraph) -> tuple[dict[int, set[int]], dict[int, set[int]]]:
    """(providers of each AS, peers of each AS); members of one IX peer with each other (route server)."""
    providers: dict[int, set[int]] = {}
    peers: dict[int, set[int]] = {}
    ix_members: dict[str, set[int]] = {}
    for u, v, d in g.edges(data=True):
        a, b = g.nodes[u]["asn"], g.nodes[v]["asn"]
        if g.nodes[v]["kind"] == "ix":
            ix_members.setdefault(v, set()).add(a)
        elif g.nodes[u]["kind"] == "ix" or a == b:
            continue
        elif d["rel"] == "c2p":
            providers.setdefault(a, set()).add(b)
        elif d["rel"] == "p2p":
            peers.setdefault(a, set()).add(b)
    for members in ix_members.values():
        for a in members:
            peers.setdefault(a, set()).update(members - {a})
    return providers, peers


def _valley_free_sources(g: nx.DiGraph, dst: int) -> set[int]:
    """ASes with a valley-free path (up*, at most one peer step, down*) to ``dst``."""
    providers, peers = _as_relations(g)
    customers: dict[int, set[int]] = {}
    for c, ps in providers.items():
        for p in ps:
            customers.setdefault(p, set()).add(c)
    down = {dst}  # reach dst going only down: dst and its providers, transitively
    stack = [dst]
    while stack:
        for p in providers.get(stack.pop(), ()):
            if p not in down:
                down.add(p)
                stack.append(p)
    across = set(down)
    for x in down:
        across |= peers.get(x, set())
    up = set(across)  # reach `across` going only up: their customers, transitively
    stack = list(across)
    while stack:
        for c in customers.get(stack.pop(), ()):
            if c not in up:
                up.add(c)
                stack.append(c)
    return up


@pytest.mark.parametrize("name", ["japan", "tochigi", "examples/ix_and_cache"])
def test_access_and_content_ases_reach_each_other_valley_free(name):
    g = _load(name)
    access = set(_isp_asns(g))
    content = {d["asn"] for _, d in g.nodes(data=True) if d["kind"] in ("origin", "cache")}
    assert len(access) >= 2 and content
    # subscribers reach every other access AS and every content AS, and content reaches every subscriber
    for dst in sorted(access | content):
        missing = access - _valley_free_sources(g, dst)
        assert not missing, f"no valley-free route to AS{dst} from {sorted(missing)}"
    for dst in sorted(access):
        missing = content - _valley_free_sources(g, dst)
        assert not missing, f"no valley-free route to AS{dst} from {sorted(missing)}"


def test_valley_free_check_catches_a_valley():
    # Guard for the helper above: two customers of different providers that do not peer cannot reach each other.
    g = _load("examples/valley_free")
    assert 100 in _valley_free_sources(g, 12)  # s -> c1 -> c2 (c1 peers c2)
    g2 = g.copy()
    g2.remove_edges_from([("p1", "p2"), ("p2", "p1")])
    assert 13 not in _valley_free_sources(g2, 12)  # c3 -> p2 -/-> p1 -> c2 without the p1-p2 peering


@pytest.mark.parametrize("name", ["japan", "tochigi"])
def test_headers_cite_the_sources(name):
    head = "".join(line for line in (REPO / "topologies" / name / f"{name}.yaml").read_text(encoding="utf-8").splitlines(True)
                   if line.startswith("#"))
    for needle in ("2020 census", "APNIC", "MIC", "route factor 1.5", "0.005 ms/km", "GENERATED by scripts/build_topologies.py"):
        assert needle in head, needle


def test_draw_topology_colours_links_by_value_and_rejects_unknown_formats(tmp_path, tochigi):
    from netsim.errors import InputError
    from netsim.topology.plot import draw_topology

    values = {(u, v): (0.9 if "upstream" in d["tags"] else 0.1) for u, v, d in tochigi.edges(data=True)}
    out = tmp_path / "u.svg"
    draw_topology(tochigi, out, title="utilisation", edge_values=values)
    text = out.read_text(encoding="utf-8")
    assert text.lstrip().startswith("<?xml") and "utilisation" in text
    with pytest.raises(InputError, match="expected .png, .svg or .pdf"):
        draw_topology(tochigi, tmp_path / "u.gif")
