"""netsim plan: the candidate space, the search (local search finds the exhaustive optimum), the fast
evaluator against the engine's replay, best.yaml, and bad input."""

from __future__ import annotations

import json

import polars as pl
import pytest

from netsim.plan import CandidateSpace, Candidate, Space, plan, rank_key, search
from netsim.plan.fast import FastEvaluator
from netsim.scenario import load_scenario
from netsim.sim.check import check_scenario
from netsim.yamlio import dump_yaml

from netsim_testing import small

SPACE = CandidateSpace(ix=["tochigi-ix"], members=[65001, 65002, 65003], hosts=["isp-a-utsunomiya", "isp-b-utsunomiya"],
                       sizes_tb=[1, 10])


def small_tochigi():
    """Tochigi at a 0.001 sample rate, the baseline only, no forecast (the planner builds on the first design)."""
    sc = small(load_scenario("tochigi"))
    sc.designs = sc.designs[:1]
    sc.forecast = None
    return sc


@pytest.fixture(scope="module")
def evaluator():
    sc = small_tochigi()
    g0 = check_scenario(sc).topology
    space = Space(g0, SPACE)
    return sc, space, FastEvaluator(sc, g0, space)


def test_the_candidate_set_is_counted_by_hand(evaluator):
    _, space, _ = evaluator
    # member sets of 3 ASes with at least 2: 3 pairs + 1 triple. Without an IX: no cache or one of
    # 2 hosts x 2 sizes = 5. With the IX a cache's host must be a member: {65001,65002} and the triple
    # take either host (1 + 4 each), {65001,65003} and {65002,65003} one (1 + 2 each): 5 + 5 + 3 + 3 = 16.
    assert len(space.member_sets()) == 4
    assert space.count() == 5 + 16 == len(set(space.all()))
    assert all(space.valid(c) for c in space.all())
    assert not space.valid(Candidate("tochigi-ix", (65001, 65003), "isp-b-utsunomiya", 1.0))


def test_neighbours_are_one_move_away(evaluator):
    _, space, _ = evaluator
    n = space.neighbours(Candidate())
    assert Candidate("tochigi-ix", (65001, 65002, 65003)) in n            # the IX with every member
    assert Candidate(None, (), "isp-a-utsunomiya", 10.0) in n             # a cache at the ladder's middle
    c = Candidate("tochigi-ix", (65001, 65002, 65003), "isp-a-utsunomiya", 1.0)
    n = space.neighbours(c)
    assert Candidate("tochigi-ix", (65001, 65002, 65003), "isp-a-utsunomiya", 10.0) in n   # a size up
    assert Candidate("tochigi-ix", (65001, 65002), "isp-a-utsunomiya", 1.0) in n            # a member out
    assert Candidate("tochigi-ix", (65002, 65003), "isp-a-utsunomiya", 1.0) not in n        # host not a member
    assert c not in n


def test_rank_prefers_meeting_the_bound_then_the_objective_then_cost():
    fig = lambda bb, cost, a: {"backbone_p95_bps": bb, "cost_per_month": cost, "n1_worst_availability": a}  # noqa: E731
    k = lambda f, **kw: rank_key(f, objective=kw.get("objective", "backbone_p95"), min_availability=0.5,  # noqa: E731
                                 budget=kw.get("budget"))
    assert k(fig(9e9, 1.0, 0.5)) < k(fig(1e9, 1.0, 0.49))          # the bound first
    assert k(fig(1e9, 1.0, 0.3)) < k(fig(1e9, 1.0, 0.2))           # then how far it is missed
    assert k(fig(1e9, 9.0, 0.9)) < k(fig(2e9, 1.0, 0.9))           # then the objective
    assert k(fig(1e9, 1.0, 0.9)) < k(fig(1e9, 2.0, 0.9))           # then the cost
    assert k(fig(2e9, 1.0, 0.9), objective="cost") < k(fig(1e9, 2.0, 0.9), objective="cost")
    assert k(fig(1e9, 2.0, 0.9), budget=1.5) > k(fig(9e9, 1.0, 0.9), budget=1.5)   # over budget misses the bound


@pytest.mark.parametrize("objective,bound", [("backbone_p95", 0.1), ("backbone_p95", 0.3), ("cost", 0.1)])
def test_local_search_finds_the_exhaustive_optimum(evaluator, objective, bound):
    _, space, fast = evaluator
    memo: dict = {}

    def evaluate(c):
        if c not in memo:
            f = fast.evaluate(c)
            memo[c] = {"backbone_p95_bps": f.backbone_p95_bps, "backbone_peak_bps": f.backbone_peak_bps,
                       "cost_per_month": f.cost_per_month, "n1_worst_availability": f.n1_worst_availability,
                       "latency_ms": f.latency_ms}
        return memo[c]

    key = lambda d: lambda c: (rank_key(d[c], objective=objective, min_availability=bound, budget=None), c.key)  # noqa: E731
    every, used = search(space, evaluate, objective=objective, min_availability=bound, budget=None, method="exhaustive")
    assert used == "exhaustive" and set(every) == set(space.all())
    local, used = search(space, evaluate, objective=objective, min_availability=bound, budget=None, method="local")
    assert used == "local"
    assert min(local, key=key(local)) == min(every, key=key(every))


def test_fast_figures_of_the_baseline_are_the_replays(evaluator):
    # the baseline candidate is the scenario's first design: its replay is the scenario's own run
    from netsim.sim.run import run

    sc, _, fast = evaluator
    f = fast.evaluate(Candidate())
    s = run(sc).summary[0]
    assert f.backbone_p95_bps == pytest.approx(s["backbone_p95_bps"], rel=0.10)
    assert f.backbone_peak_bps == pytest.approx(s["backbone_peak_bps"], rel=0.10)
    assert f.cost_per_month == pytest.approx(s["cost_per_month"], rel=0.05)
    assert f.n1_worst_availability == pytest.approx(s["n1_worst_availability"], abs=0.02)


def test_offload_grows_with_the_cache_and_is_a_share(evaluator):
    _, _, fast = evaluator
    small_, big = fast.offload((65001, 65002), 1.0), fast.offload((65001, 65002), 100.0)
    assert 0.0 < small_ < big < 1.0


def _write(sc, path):
    doc = sc.model_dump(mode="json", exclude={"base_dir", "source"}, exclude_none=True)
    dump_yaml(doc, path)
    return path


def test_plan_replays_its_finalists_and_best_yaml_reproduces_them(tmp_path):
    from netsim.sim.run import run

    out = tmp_path / "plan"
    res = plan(small_tochigi(), out, min_availability=0.1, candidates=SPACE, finalists=2)
    t = pl.read_parquet(out / "plan.parquet")
    fin = t.filter(pl.col("design").is_not_null()).sort("design")
    assert fin["design"].to_list() == ["plan-1", "plan-2"] and res.best in ("plan-1", "plan-2")
    assert fin["meets_bounds"].all() and (fin["replay_n1_worst_availability"] >= 0.1).all()
    # the fast backbone within 10 % of the replay for the finalists
    assert (fin["fast_backbone_error"].abs() <= 0.10).all(), fin.select("design", "fast_backbone_error")
    # netsim run best.yaml reproduces the replayed figures exactly
    again = {s["design"]: s for s in run(load_scenario(out / "best.yaml")).summary}
    for r in fin.iter_rows(named=True):
        assert again[r["design"]]["backbone_p95_bps"] == r["replay_backbone_p95_bps"]
        assert again[r["design"]]["cost_per_month"] == r["replay_cost_per_month"]
    meta = json.loads((out / "plan.json").read_text())
    assert meta["best"] == res.best and meta["evaluated"] == t.height == 21
    assert "Pareto front" in (out / "plan.html").read_text()


def test_bad_input_is_one_located_line(cli, tmp_path):
    sc = _write(small_tochigi(), tmp_path / "sc.yaml")
    r = cli("plan", str(sc), "-o", str(tmp_path / "o"), "--objective", "speed")
    assert r.returncode == 2 and "--objective" in r.stderr and "backbone_p95" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    r = cli("plan", str(sc), "-o", str(tmp_path / "o"), "--min-availability", "1.5")
    assert r.returncode == 2 and "--min-availability" in r.stderr
    bad = tmp_path / "cand.yaml"
    bad.write_text("hosts: [isp-a-utsunomiya]\nsize_tb: [1]\n")
    r = cli("plan", str(sc), "-o", str(tmp_path / "o"), "--candidates", str(bad))
    assert r.returncode == 2 and "size_tb" in r.stderr and str(bad) in r.stderr
    bad.write_text("hosts: [no-such-pop]\n")
    r = cli("plan", str(sc), "-o", str(tmp_path / "o"), "--candidates", str(bad))
    assert r.returncode == 2 and "hosts[0]" in r.stderr and "no-such-pop" in r.stderr
    bad.write_text("sizes_tb: [1]\npolicy: arc\n")   # named at the file's key, not at the design made from it
    r = cli("plan", str(sc), "-o", str(tmp_path / "o"), "--candidates", str(bad))
    assert r.returncode == 2 and f"{bad}: policy (line 2): value error, unknown cache policy 'arc'" in r.stderr
    assert r.stderr.count("'arc'") == 1


def test_no_candidate_meeting_the_bound_says_why_and_keeps_the_table(cli, tmp_path):
    sc = _write(small_tochigi(), tmp_path / "sc.yaml")
    cand = tmp_path / "cand.yaml"
    cand.write_text("ix: [tochigi-ix]\nmembers: [65001, 65002]\nhosts: [isp-a-utsunomiya]\nsizes_tb: [1]\n")
    (tmp_path / "o" / "replay").mkdir(parents=True)   # an earlier plan's files, which must not pass for this one's
    (tmp_path / "o" / "best.yaml").write_text("name: old\n")
    r = cli("plan", str(sc), "-o", str(tmp_path / "o"), "--candidates", str(cand), "--min-availability", "1.0",
            "--no-replay")
    assert r.returncode == 2, r.stderr
    assert "no candidate keeps 100.0%" in r.stderr and "the closest" in r.stderr
    t = pl.read_parquet(tmp_path / "o" / "plan.parquet")
    # no IX: none or the cache (2); the IX with both members: none or the cache (2)
    assert t.height == 4 and not t["meets_bounds"].any() and t["design"].is_null().all()
    assert not (tmp_path / "o" / "best.yaml").exists() and not (tmp_path / "o" / "replay").exists()


def test_finalists_replayed_on_dask_give_the_in_process_figures(tmp_path):
    # the Dask path replays each finalist alone on a worker: the same figures as one in-process run
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        res = plan(small_tochigi(), tmp_path / "d", min_availability=0.1, candidates=SPACE, finalists=2,
                   scheduler=cluster.scheduler_address)
    assert not (tmp_path / "d" / "replay").exists()
    from netsim.sim.run import run

    again = {s["design"]: s for s in run(load_scenario(tmp_path / "d" / "best.yaml")).summary}
    fin = pl.read_parquet(tmp_path / "d" / "plan.parquet").filter(pl.col("design").is_not_null())
    assert fin.height == 2 and res.best in fin["design"].to_list()
    for r in fin.iter_rows(named=True):
        assert r["replay_backbone_p95_bps"] == again[r["design"]]["backbone_p95_bps"]
        assert r["replay_cost_per_month"] == again[r["design"]]["cost_per_month"]


def test_a_budget_is_a_bound_like_availability(evaluator, tmp_path):
    # on the fast figures only (no replay): every candidate said to meet the bounds costs at most the budget,
    # and the best is the lowest backbone among them
    sc, _, _ = evaluator
    free = plan(sc, tmp_path / "free", min_availability=0.1, candidates=SPACE, replay=False)
    t = pl.read_parquet(tmp_path / "free" / "plan.parquet")
    budget = float(t.filter(pl.col("meets_bounds"))["fast_cost_per_month"].median())
    res = plan(sc, tmp_path / "b", min_availability=0.1, candidates=SPACE, replay=False, budget=budget)
    t = pl.read_parquet(tmp_path / "b" / "plan.parquet")
    ok = t.filter(pl.col("meets_bounds"))
    assert ok.height and (ok["fast_cost_per_month"] <= budget).all()
    assert t.filter(~pl.col("meets_bounds") & (pl.col("fast_n1_worst_availability") >= 0.1))["fast_cost_per_month"].min() > budget
    best = t.filter(pl.col("design") == res.best).row(0, named=True)
    assert best["fast_backbone_p95_bps"] == ok["fast_backbone_p95_bps"].min()
    assert free.best is not None and json.loads((tmp_path / "b" / "plan.json").read_text())["budget"] == budget
