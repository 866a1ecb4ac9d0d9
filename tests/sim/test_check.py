"""`netsim scenario check`: a scenario validated without simulating; `netsim run` checks the same before the first
design; warnings about what makes the figures misleading reach the run's output and report."""

from __future__ import annotations

import json
import warnings

import pytest

from netsim.data import resolve_path
from netsim.report import render
from netsim.scenario import load_scenario
from netsim.sim.check import check_scenario, topology_warnings
from netsim.sim.run import ScenarioWarning, run
from netsim.topology import load_topology


@pytest.mark.parametrize("name", ["tochigi", "japan"])
def test_shipped_scenarios_check_clean(cli, name):
    r = cli("scenario", "check", name)
    assert r.returncode == 0, r.stderr
    assert f"scenario {name} OK" in r.stdout and "0 warning(s)" in r.stdout and "warning:" not in r.stderr


def _tochigi_text() -> str:
    return resolve_path("scenarios", "tochigi").read_text()


def test_a_misspelt_node_in_the_third_design_fails_fast_before_anything_is_simulated(cli, tmp_path):
    text = _tochigi_text()
    assert "shared_cache: {host: isp-a-utsunomiya" in text
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("shared_cache: {host: isp-a-utsunomiya", "shared_cache: {host: isp-a-utsunomyia", 1))
    where = "designs[2].transforms[1].shared_cache.host: node 'isp-a-utsunomyia' is not in the topology"
    r = cli("scenario", "check", str(bad))
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and f"{bad}: {where}" in r.stderr, r.stderr
    out = tmp_path / "out"
    r = cli("run", str(bad), "-o", str(out))
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and where in r.stderr, r.stderr
    assert not out.exists()   # nothing simulated, nothing written


@pytest.mark.parametrize("old, new, where", [
    ("{at: \"20:00\", duration: 2h, metro: tokyo-otemachi}", "{at: \"20:00\", duration: 2h, metro: tokyo-otemachy}",
     "failures.schedule[0].metro"),
    ("trace: tochigi-1d\n", "trace: tochigi-1d@2\n", "traffic.trace"),
    ("trace: tochigi-1d\n", "trace: no-such-trace\n", "traffic.trace"),
    ("history: tochigi-history.csv", "history: nope.csv", "forecast.history"),
])
def test_every_reference_is_checked_and_located(tmp_path, old, new, where):
    text = _tochigi_text()
    assert old in text
    p = tmp_path / "s.yaml"
    p.write_text(text.replace(old, new, 1))
    with pytest.raises(Exception) as e:
        check_scenario(load_scenario(p))
    assert f"{p}: {where}" in str(e.value), str(e.value)


def test_a_trace_file_is_checked_on_its_first_rows(tmp_path):
    (tmp_path / "t.csv").write_text("ts,src,dst,provider,obj,bytes,service\n1,isp-a-nikko,isp-b-nowhere,,,10,p2p\n")
    p = tmp_path / "s.yaml"
    p.write_text("name: s\ntopology: tochigi\ntraffic: {trace: t.csv}\n")
    with pytest.raises(Exception) as e:
        check_scenario(load_scenario(p))
    assert "t.csv" in str(e.value) and "isp-b-nowhere" in str(e.value)


_TOPO = """\
name: bare
metros:
  m: {lat: 36.5, lon: 139.9, region: r}
  far: {lat: 43.0, lon: 141.3, region: north}
nodes:
  - {id: a, kind: pop, asn: 1, metro: m, subscribers: 10}
  - {id: b, kind: pop, asn: 2, metro: m, subscribers: 10}
links:
  - {src: a, dst: b, capacity_gbps: 10, rel: p2p}
"""


def test_warnings_reach_the_run_output_and_the_report(tmp_path, cli):
    """A network with no origin and no backbone, and a region with no node: the run still works (flows only), but
    its content and backbone figures would be silently empty; the warnings say so everywhere the user looks."""
    (tmp_path / "topo.yaml").write_text(_TOPO)
    (tmp_path / "t.csv").write_text("ts,src,dst,provider,obj,bytes,service\n1,a,b,,,1000000,p2p\n400,b,a,,,1000000,p2p\n")
    p = tmp_path / "s.yaml"
    p.write_text("name: s\ntopology: topo.yaml\ntraffic: {trace: t.csv}\nbin_s: 300\nresilience: {n1: false}\n")
    expected = topology_warnings(load_topology(tmp_path / "topo.yaml"))
    assert [w.split(":")[0].split(" (")[0] for w in expected] == [
        "no origin node", "no backbone link", "region 'north'"]
    r = cli("scenario", "check", str(p))
    assert r.returncode == 0 and "3 warning(s)" in r.stdout
    assert [ln.removeprefix("warning: ") for ln in r.stderr.splitlines()] == expected
    out = tmp_path / "out"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run(p, out)
    assert [str(w.message).removeprefix(f"{p}: ") for w in caught if issubclass(w.category, ScenarioWarning)] == expected
    assert json.loads((out / "summary.json").read_text())["warnings"] == expected
    html = render(out).read_text()
    assert 'id="warnings"' in html and "no origin node" in html and "no backbone link" in html
    assert "region &#39;north&#39; (metros far) has no node" in html


def test_a_failure_after_the_end_of_the_run_is_said_not_dropped(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text(_tochigi_text().replace("trace: tochigi-1d\n", "trace: tochigi-1d\n  duration: 2h\n", 1))
    c = check_scenario(load_scenario(p))
    assert c.warnings == ["failures.schedule[0] starts at 72,000 s, after the run ends (7,200 s): it will not happen "
                          "(times count from the run's start: 00:10 is ten minutes in)"]


def test_a_metro_is_found_by_the_name_a_file_gave_it_and_a_misspelling_gets_a_suggestion(tmp_path):
    """Readers turn place names into ids (Utsunomiya -> utsunomiya); a failure naming the place as written finds
    it, and a misspelt one is told the nearest id instead of a list of eight."""
    text = _tochigi_text()
    p = tmp_path / "s.yaml"
    p.write_text(text.replace("metro: tokyo-otemachi}", "metro: Tokyo Otemachi}", 1))
    check_scenario(load_scenario(p))
    p.write_text(text.replace("metro: tokyo-otemachi}", "metro: tokyo-otemachy}", 1))
    with pytest.raises(Exception, match=r"no node has metro 'tokyo-otemachy' \(did you mean tokyo-otemachi\?\)"):
        check_scenario(load_scenario(p))
