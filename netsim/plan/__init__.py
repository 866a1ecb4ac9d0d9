"""``netsim plan``: search regional-IX sites, IX members, cache hosts and sizes for the best design
under an N-1 survivor-availability bound (and a budget), then replay the best few in full.

1. **Candidates** (:mod:`netsim.plan.space`): on top of the scenario's first design (its baseline),
   at most one regional IX with a member set and at most one shared cache (host PoP, size ladder).
2. **Fast evaluation** (:mod:`netsim.plan.fast`): backbone p95 and peak over the trace's bins,
   monthly cost, and the worst single metro or node failure for the survivors, in about a second.
3. **Search** (:func:`search`): every candidate when there are at most ``exhaustive_limit``
   (default 120), else a best-improvement local search from the baseline (one move at a time: an
   IX site, a member, a cache host, a size step), restarted from each IX site with all members.
   Candidates are ranked by: meets the bounds (``min_availability``, ``budget``), then by how far
   they miss them, then the objective, then the other figure (cost, or backbone p95 when the
   objective is cost), then the byte-weighted latency of the delivered bytes.
4. **Replay**: the ``finalists`` best candidates that meet the bounds are written as designs of
   ``best.yaml`` (the scenario with the baseline and the finalists) and replayed by the engine
   (on Dask with ``workers``/``scheduler``); they are ranked again on the replayed figures (figures
   within 0.5 % of each other are a tie, left to the fast ranking).

Outputs in ``out_dir``: ``plan.parquet`` (every evaluated candidate, its fast figures and, for the
finalists, the replayed ones and the fast backbone's error), ``plan.html`` (objective vs cost, the
Pareto front, the finalists), ``best.yaml`` (``netsim run best.yaml`` reproduces the replay) and
``replay/`` (the replay's run directory, when replayed in process).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import polars as pl

from netsim.errors import InputError
from netsim.plan.space import Candidate, CandidateSpace, Space

__all__ = ["OBJECTIVES", "PlanResult", "plan", "search", "rank_key", "replay_best", "Candidate", "CandidateSpace", "Space"]

#: What a plan minimises: the fast/replayed backbone 95th percentile or peak (bps), or the monthly cost.
OBJECTIVES = ("backbone_p95", "backbone_peak", "cost")
_FIELD = {"backbone_p95": "backbone_p95_bps", "backbone_peak": "backbone_peak_bps", "cost": "cost_per_month"}


def rank_key(fig: dict, *, objective: str, min_availability: float, budget: float | None) -> tuple:
    """Sort key of a candidate's figures (smaller is better): meets the bounds, the shortfall, the
    objective, then the other figure, then the byte-weighted latency (a cache nearer its clients first).

    Examples
    --------
    >>> a = {"backbone_p95_bps": 5e10, "cost_per_month": 9e4, "n1_worst_availability": 0.6}
    >>> b = {"backbone_p95_bps": 2e10, "cost_per_month": 8e4, "n1_worst_availability": 0.4}
    >>> sorted(["a", "b"], key=lambda k: rank_key({"a": a, "b": b}[k], objective="backbone_p95",
    ...                                             min_availability=0.5, budget=None))
    ['a', 'b']
    """
    avail = fig.get("n1_worst_availability")
    avail = 0.0 if avail is None or (isinstance(avail, float) and math.isnan(avail)) else float(avail)
    short = max(0.0, min_availability - avail)
    if budget is not None and fig["cost_per_month"] > budget:
        short += (fig["cost_per_month"] - budget) / budget
    other = "backbone_p95_bps" if objective == "cost" else "cost_per_month"
    # NOTE: compared at 1 kbps and 0.01 a month: float noise must not hide a tie the latency should break
    q = {f: round(fig[f] / 1e3) if f.endswith("_bps") else round(fig[f], 2) for f in (_FIELD[objective], other)}
    return (short > 1e-12, round(short, 12), q[_FIELD[objective]], q[other], round(fig.get("latency_ms") or 0.0, 6))


def _ranker(done: dict, **bounds) -> Callable[[Candidate], tuple]:
    """The sort key of an evaluated candidate: :func:`rank_key` of its figures in ``done``, then its own key
    (so that equal figures order the same way in every run)."""
    return lambda c: (rank_key(done[c], **bounds), c.key)


def search(space: Space, evaluate: Callable[[Candidate], dict], *, objective: str, min_availability: float,
           budget: float | None, method: str = "auto", exhaustive_limit: int = 120,
           on_step: Callable[[str], None] | None = None) -> tuple[dict, str]:
    """Evaluate candidates and return ``({candidate: figures}, method used)``; see the module docstring."""
    done: dict[Candidate, dict] = {}
    key = _ranker(done, objective=objective, min_availability=min_availability, budget=budget)

    def ev(c: Candidate) -> dict:
        if c not in done:
            done[c] = evaluate(c)
        return done[c]

    if method == "auto":
        method = "exhaustive" if space.count() <= exhaustive_limit else "local"
    if method == "exhaustive":
        for c in space.all():
            ev(c)
        return done, method
    if method != "local":
        raise InputError(f"unknown search {method!r}; known: auto, exhaustive, local", where="--search")
    starts = [Candidate()] + [Candidate(s, space.members) for s in space.ix_sites]
    for start in starts:
        cur = start
        ev(cur)
        while True:
            nbrs = space.neighbours(cur)
            for c in nbrs:
                ev(c)
            best = min(nbrs + [cur], key=key)
            if best == cur:
                break
            cur = best
            if on_step is not None:
                on_step(f"{cur.label}: {_brief(done[cur])}")
    return done, method


def _brief(f: dict) -> str:
    a = f.get("n1_worst_availability")
    return (f"backbone p95 {f['backbone_p95_bps'] / 1e9:.1f} Gbps, cost {f['cost_per_month'] / 1e3:,.1f}k/month, "
            f"N-1 worst {'-' if a is None else f'{a:.1%}'}")


@dataclass
class PlanResult:
    """What :func:`plan` found: the table of candidates, the finalists' designs, the best one."""

    table: pl.DataFrame
    method: str
    best: str | None                 # the best finalist's design name in best.yaml (None: none meets the bounds)
    reason: str | None = None        # why there is no best
    finalists: list = field(default_factory=list)


def _portable(sc, value: str | None) -> str | None:
    """A scenario file reference that still resolves from another directory (absolute when it is a user file)."""
    if value is None:
        return None
    p = Path(value)
    if not p.is_absolute() and sc.base_dir is not None and (Path(sc.base_dir) / p).exists():
        return str((Path(sc.base_dir) / p).resolve())
    return value


def _best_scenario(sc, designs: list[tuple[str, list]]) -> dict:
    doc = sc.model_dump(mode="json", exclude={"base_dir", "source"}, exclude_none=True)
    doc["name"] = f"{sc.name}-plan"
    doc["topology"] = _portable(sc, sc.topology)
    if sc.traffic.trace is not None:
        doc["traffic"]["trace"] = _portable(sc, sc.traffic.trace)
    if sc.caches.warmup:
        doc["caches"]["warmup"] = _portable(sc, sc.caches.warmup)
    if (doc.get("forecast") or {}).get("history"):
        doc["forecast"]["history"] = _portable(sc, sc.forecast.history)
    first = doc["designs"][0]
    doc["designs"] = [first] + [{"name": n, "transforms": t} for n, t in designs]
    return doc


#: Replayed figures closer than this (relative) are a tie, left to the fast ranking (a replay differs from
#: another by its caches' hit sequence, a few hundredths of a percent between equivalent hosts).
REPLAY_TIE = 0.005


def replay_best(replayed: dict, order: list, *, objective: str, min_availability: float, budget: float | None):
    """The best finalist on its replayed figures: meeting the bounds first, then the objective, then the
    other figure, each better only by more than :data:`REPLAY_TIE` (relative); ties keep the fast ranking
    (``order``: the finalists, best first by their fast figures).

    Examples
    --------
    >>> r = {"a": {"backbone_p95_bps": 100.0, "cost_per_month": 10.0, "n1_worst_availability": 0.9},
    ...      "b": {"backbone_p95_bps": 100.2, "cost_per_month": 9.0, "n1_worst_availability": 0.9},
    ...      "c": {"backbone_p95_bps": 90.0, "cost_per_month": 20.0, "n1_worst_availability": 0.4}}
    >>> replay_best(r, ["a", "b", "c"], objective="backbone_p95", min_availability=0.5, budget=None)
    'b'
    """
    other = "backbone_p95_bps" if objective == "cost" else "cost_per_month"
    obj = _FIELD[objective]

    def short(c):
        return rank_key({**replayed[c], "latency_ms": 0.0}, objective=objective, min_availability=min_availability,
                        budget=budget)[1]

    def better(a, b) -> bool:
        sa, sb = short(a), short(b)
        if sa != sb:
            return sa < sb
        fa, fb = replayed[a], replayed[b]
        for k in (obj, other):
            if abs(fa[k] - fb[k]) > REPLAY_TIE * max(abs(fb[k]), 1e-9):
                return fa[k] < fb[k]
        return False

    best = order[0]
    for c in order[1:]:
        if better(c, best):
            best = c
    return best


def _replayed(res, name: str, metro_only: bool) -> dict:
    """A replayed design's figures: its summary, with the N-1 worst case over the plan's failure set."""
    s = dict(next(x for x in res.summary if x["design"] == name))
    r = res.resilience.filter((pl.col("design") == name) & pl.col("availability").is_not_null())
    if metro_only:
        r = r.filter(pl.col("kind") == "metro")
    r = r.sort("availability", "kind", "element")
    s["n1_worst_availability"] = float(r["availability"][0]) if r.height else None
    return s


def _replay_one(sc, name: str, metro_only: bool) -> dict:
    """One design of a scenario replayed alone (a Dask task): its figures."""
    from netsim.sim.run import run

    one = sc.model_copy(update={"designs": [d for d in sc.designs if d.name == name]})
    return _replayed(run(one), name, metro_only)


def plan(scenario, out_dir: str | Path, *, objective: str = "backbone_p95", min_availability: float = 0.5,
         failures: str = "n-1-metro", budget: float | None = None, candidates: CandidateSpace | None = None,
         finalists: int = 3, method: str = "auto", exhaustive_limit: int = 120, replay: bool = True,
         workers: int | None = None, scheduler: str | None = None,
         on_step: Callable[[str], None] | None = None) -> PlanResult:
    """Search the candidates of a scenario and replay the best; see the module docstring.

    ``failures``: the failure set the availability bound is checked against; ``n-1-metro`` (every
    single metro) or ``n-1`` (every single metro and node), both from the fast N-1 pass.
    """
    from netsim.scenario import Scenario, load_scenario
    from netsim.sim.check import check_scenario

    if objective not in OBJECTIVES:
        raise InputError(f"unknown objective {objective!r}; known: {', '.join(OBJECTIVES)}", where="--objective")
    if failures not in ("n-1-metro", "n-1"):
        raise InputError(f"unknown failure set {failures!r}; known: n-1-metro, n-1", where="--failures")
    if not 0.0 <= min_availability <= 1.0:
        raise InputError(f"expected a fraction in [0, 1], found {min_availability!r}", where="--min-availability")
    if budget is not None and not (math.isfinite(budget) and budget > 0):
        raise InputError(f"expected a monthly budget > 0, found {budget!r}", where="--budget")
    if finalists < 1:
        raise InputError(f"expected at least one finalist, found {finalists}", where="--finalists")
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    checked = check_scenario(sc)
    from netsim.sim.run import claim_output

    # -o checked and locked as a run's is (an unusable directory, or another plan or run writing there, is said at
    # once); the finalists' in-process replay claims out/replay in turn
    with claim_output(out_dir) as out:
        return _plan(sc, checked, out, objective=objective, min_availability=min_availability, failures=failures,
                     budget=budget, candidates=candidates, finalists=finalists, method=method,
                     exhaustive_limit=exhaustive_limit, replay=replay, workers=workers, scheduler=scheduler,
                     on_step=on_step)


def _plan(sc, checked, out: Path, *, objective, min_availability, failures, budget, candidates, finalists, method,
          exhaustive_limit, replay, workers, scheduler, on_step) -> PlanResult:
    from netsim.scenario import load_scenario
    from netsim.yamlio import dump_yaml

    # an earlier plan's files must not pass for this one's (a best.yaml left beside a plan that found none)
    import shutil

    for name in ("best.yaml", "plan.json", "plan.html", "plan.parquet"):
        (out / name).unlink(missing_ok=True)
    if (out / "replay").is_dir():
        shutil.rmtree(out / "replay")
    from netsim.plan.fast import FastEvaluator

    space = Space(checked.topology, candidates, source=None)
    fast = FastEvaluator(sc, checked.topology, space)
    metro_only = failures == "n-1-metro"

    def evaluate(c: Candidate) -> dict:
        f = fast.evaluate(c, availability=True, metro_only=metro_only)
        return {"backbone_p95_bps": f.backbone_p95_bps, "backbone_peak_bps": f.backbone_peak_bps,
                "cost_per_month": f.cost_per_month, "offload": f.offload, "latency_ms": f.latency_ms,
                "n1_worst_availability": f.n1_worst_availability, "n1_worst_failure": f.n1_worst_failure,
                "transforms": f.transforms}

    done, used = search(space, evaluate, objective=objective, min_availability=min_availability, budget=budget,
                        method=method, exhaustive_limit=exhaustive_limit, on_step=on_step)
    rk = _ranker(done, objective=objective, min_availability=min_availability, budget=budget)
    order = sorted(done, key=rk)
    feasible = [c for c in order if not rk(c)[0][0]]
    # finalists that differ: the best of each (IX, members, cache size); the same cache at another host is
    # nearly the same design to the backbone and the bill (Tochigi: the same figures within 0.1 %)
    chosen, seen = [], set()
    for c in feasible:
        group = (c.ix, c.members, c.size_tb)
        if group not in seen:
            seen.add(group)
            chosen.append(c)
        if len(chosen) == finalists:
            break
    names = {c: f"plan-{i + 1}" for i, c in enumerate(chosen)}
    replayed: dict[Candidate, dict] = {}
    reason = None
    if not chosen:
        best_c = order[0]
        reason = (f"no candidate keeps {min_availability:.1%} of the survivors' busy hour in every single "
                  f"{'metro' if metro_only else 'metro or node'} failure"
                  + (f" within a budget of {budget:,.0f}" if budget is not None else "")
                  + f"; the closest, {best_c.label}, has {_brief(done[best_c])}")
    else:
        doc = _best_scenario(sc, [(names[c], done[c]["transforms"][len(fast.base_transforms):]) for c in chosen])
        dump_yaml(doc, out / "best.yaml", header=f"netsim plan of {sc.source or sc.name}: the baseline and the "
                  f"{len(chosen)} best candidates ({objective}, N-1 survivors >= {min_availability:g}); "
                  "netsim run replays it as is")
        if replay:
            best_sc = load_scenario(out / "best.yaml")
            if workers or scheduler:
                from netsim.sweep.run import _make_client

                client, cluster = _make_client(workers=workers, scheduler=scheduler)
                try:
                    futs = {c: client.submit(_replay_one, best_sc, names[c], metro_only, pure=False) for c in chosen}
                    replayed = {c: f.result() for c, f in futs.items()}
                finally:
                    client.close()
                    if cluster is not None:
                        cluster.close()
            else:
                from netsim.sim.run import run

                res = run(best_sc, out / "replay")
                replayed = {c: _replayed(res, names[c], metro_only) for c in chosen}
    table = _table(done, order, names, replayed, rk)
    best = None
    if replayed:
        best_c = replay_best(replayed, chosen, objective=objective, min_availability=min_availability, budget=budget)
        best = names[best_c]
    elif chosen:
        best = names[chosen[0]]
    tmp = out / ".plan.parquet.tmp"
    table.write_parquet(tmp, statistics=False)
    tmp.replace(out / "plan.parquet")
    meta = {"scenario": sc.name, "objective": objective, "min_availability": min_availability, "failures": failures,
            "budget": budget, "method": used, "evaluated": len(done), "candidates": space.count(), "best": best,
            "reason": reason}
    (out / "plan.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    from netsim.plan.html import write_plan_html

    write_plan_html(out / "plan.html", table, meta)
    return PlanResult(table=table, method=used, best=best, reason=reason, finalists=[names[c] for c in chosen])


def _table(done: dict, order: list, names: dict, replayed: dict, rk) -> pl.DataFrame:
    rows = []
    for i, c in enumerate(order):
        f, r = done[c], replayed.get(c)
        rows.append({
            "rank": i + 1, "candidate": c.key, "label": c.label, "ix": c.ix, "members": list(c.members),
            "cache_host": c.host, "cache_tb": c.size_tb, "meets_bounds": not rk(c)[0][0],
            "design": names.get(c), "transforms": json.dumps(f["transforms"], sort_keys=True),
            "fast_backbone_p95_bps": f["backbone_p95_bps"], "fast_backbone_peak_bps": f["backbone_peak_bps"],
            "fast_cost_per_month": f["cost_per_month"], "fast_offload": f["offload"], "fast_latency_ms": f["latency_ms"],
            "fast_n1_worst_availability": f["n1_worst_availability"], "fast_n1_worst_failure": f["n1_worst_failure"],
            "replay_backbone_p95_bps": r["backbone_p95_bps"] if r else None,
            "replay_backbone_peak_bps": r["backbone_peak_bps"] if r else None,
            "replay_cost_per_month": r.get("cost_per_month") if r else None,
            "replay_n1_worst_availability": r.get("n1_worst_availability") if r else None,
            "replay_availability": r.get("availability") if r else None,
            "fast_backbone_error": (f["backbone_p95_bps"] / r["backbone_p95_bps"] - 1.0)
            if r and r.get("backbone_p95_bps") else None,
        })
    schema = {"rank": pl.Int64, "candidate": pl.Utf8, "label": pl.Utf8, "ix": pl.Utf8, "members": pl.List(pl.Int64),
              "cache_host": pl.Utf8, "cache_tb": pl.Float64, "meets_bounds": pl.Boolean, "design": pl.Utf8,
              "transforms": pl.Utf8, "fast_backbone_p95_bps": pl.Float64, "fast_backbone_peak_bps": pl.Float64,
              "fast_cost_per_month": pl.Float64, "fast_offload": pl.Float64, "fast_latency_ms": pl.Float64, "fast_n1_worst_availability": pl.Float64,
              "fast_n1_worst_failure": pl.Utf8, "replay_backbone_p95_bps": pl.Float64,
              "replay_backbone_peak_bps": pl.Float64, "replay_cost_per_month": pl.Float64,
              "replay_n1_worst_availability": pl.Float64, "replay_availability": pl.Float64,
              "fast_backbone_error": pl.Float64}
    return pl.DataFrame(rows, schema=schema)
