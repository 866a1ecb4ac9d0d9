"""Grid expansion (no Dask): N-1 / N-2 task counts, failure files, keys, bad input."""

from __future__ import annotations

import pytest

from netsim import InputError
from netsim.scenario import load_scenario
from netsim.sweep.grid import expand_grid, failure_label, load_failure_file, parse_growth
from netsim.sweep.task import task_scenario


def labels(tasks):
    return [t.label for t in tasks]


def test_n1_expansions_count_every_element_once_plus_the_reference(tri):
    sc = load_scenario(tri)
    # 4 duplex links (a1-t1, a2-t1, a1-a2, o1-t1), each once although the graph holds both directions
    assert labels(expand_grid(sc, failures="n-1-link")) == [
        "none", "link a1<->a2", "link a1<->t1", "link a2<->t1", "link o1<->t1"]
    # the origin o1 is not failed as a node
    assert labels(expand_grid(sc, failures="n-1-node")) == ["none", "node a1", "node a2", "node t1"]
    assert labels(expand_grid(sc, failures="n-1-metro")) == ["none", "metro m1", "metro m2", "metro tk"]
    assert labels(expand_grid(sc, failures="none")) == ["none"]


def test_n2_metro_samples_distinct_pairs_with_the_scenario_seed(tri):
    sc = load_scenario(tri)
    two = expand_grid(sc, failures="n-2-metro:2")
    assert len(two) == 3 and all(t.label.count("metro") == 2 for t in two[1:])
    assert labels(two) == labels(expand_grid(sc, failures="n-2-metro:2"))  # same seed, same sample
    assert len({t.failure for t in two}) == 3
    # more pairs asked than exist (3 metros -> 3 pairs): all of them
    assert labels(expand_grid(sc, failures="n-2-metro:50")) == [
        "none", "metro m1 + metro m2", "metro m1 + metro tk", "metro m2 + metro tk"]


def test_grid_is_designs_x_failures_x_growth_x_seeds(tmp_path, make_scenario):
    sc = load_scenario(make_scenario(tmp_path, designs="[baseline, {name: alt, transforms: [{baseline: {}}]}]"))
    tasks = expand_grid(sc, failures="n-1-metro", growth=[1.0, 1.2, 1.5], seeds=2)
    assert len(tasks) == 2 * 4 * 3 * 2
    assert len({t.key for t in tasks}) == len(tasks)
    assert {t.seed for t in tasks} == {5, 6}  # scenario seed 5, then 6
    assert {t.design.name for t in tasks} == {"baseline", "alt"}


def test_keys_are_stable_and_follow_the_content(tmp_path, make_scenario):
    p = make_scenario(tmp_path)
    k1 = [t.key for t in expand_grid(load_scenario(p), failures="n-1-link")]
    assert k1 == [t.key for t in expand_grid(load_scenario(p), failures="n-1-link")]
    topo = tmp_path / "topo.yaml"
    topo.write_text(topo.read_text().replace("capacity_gbps: 100", "capacity_gbps: 200"))
    k2 = [t.key for t in expand_grid(load_scenario(p), failures="n-1-link")]
    assert not set(k1) & set(k2)  # a changed topology file is a different sweep


def test_failure_file_sets_and_located_errors(tri, tmp_path):
    sc = load_scenario(tri)
    f = tmp_path / "f.yaml"
    f.write_text("- {metro: m1}\n- fail: [{link: [t1, a2]}, {node: a1}]\n- fail: []\n- {metro: m1}\n")
    assert [failure_label(s) for s in load_failure_file(f)] == ["none", "metro m1", "link a2<->t1 + node a1"]
    assert labels(expand_grid(sc, failures=str(f))) == ["none", "metro m1", "link a2<->t1 + node a1"]
    f.write_text("- {metro: m1}\n- {metro: nowhere}\n")
    with pytest.raises(InputError, match="nowhere"):
        expand_grid(sc, failures=str(f))
    f.write_text("- {metro: m1, node: a1}\n")
    with pytest.raises(InputError, match=r"f\.yaml: \[0\]: give exactly one target"):
        load_failure_file(f)
    f.write_text("metro: m1\n")
    with pytest.raises(InputError, match="non-empty YAML list"):
        load_failure_file(f)


@pytest.mark.parametrize("mode", ["n-1-everything", "n-2-metro:0", "n-2-metro:x", "missing.yaml"])
def test_bad_failure_modes(tri, mode):
    with pytest.raises(InputError, match="--failures"):
        expand_grid(load_scenario(tri), failures=mode)


@pytest.mark.parametrize("text", ["0", "-1", "1,x", "inf", ""])
def test_bad_growth(text):
    with pytest.raises(InputError, match="--growth"):
        parse_growth(text)


def test_task_scenario_fails_the_set_for_the_whole_run_and_scales_traffic(tri):
    from netsim.sim.run import run

    sc = load_scenario(tri)
    t = next(t for t in expand_grid(sc, failures="n-1-link", growth=[2.0]) if t.label == "link a1<->t1")
    res = run(task_scenario(sc, design=t.design, failure=t.failure, growth=t.growth, seed=t.seed))
    assert (res.bins["failures_active"] == 2).all()  # both directions, every bin
    base = run(sc)
    assert res.summary[0]["offered_bytes"] == pytest.approx(2 * base.summary[0]["offered_bytes"])


def test_worker_topology_cache_sees_an_edited_file(tri):
    import json
    from pathlib import Path

    from netsim.sweep.task import run_task, task_payload

    sc = load_scenario(tri)
    t = expand_grid(sc, failures="n-1-link")[2]  # link a1<->t1: 96% on t1 -> a2
    first = run_task(json.loads(json.dumps(task_payload(sc, t))))
    topo = Path(tri).with_name("topo.yaml")
    topo.write_text(topo.read_text().replace("{src: a2, dst: t1, capacity_gbps: 10,", "{src: a2, dst: t1, capacity_gbps: 20,"))
    second = run_task(task_payload(load_scenario(tri), t))
    peak = {(r["src"], r["dst"]): r["demand_utilisation"] for r in second["links"]}
    assert max(r["demand_utilisation"] for r in first["links"]) == pytest.approx(0.96)
    assert peak[("t1", "a2")] == pytest.approx(0.48)
