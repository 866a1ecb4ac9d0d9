"""The planner on the shipped Tochigi scenario (slow: about 3 minutes of search and replay, plus the
hand-written designs' run): it finds a design whose replayed backbone p95 is no higher than the best
hand-written design meeting the same N-1 survivor bound, at no higher monthly cost."""

from __future__ import annotations

import polars as pl
import pytest

from netsim.plan import plan
from netsim.sim.run import run

pytestmark = pytest.mark.slow

BOUND = 0.5


def test_plan_beats_the_best_hand_written_design_under_the_same_bound(tmp_path):
    hand = run("tochigi", tmp_path / "hand")
    worst = (hand.resilience.filter(pl.col("kind") == "metro").group_by("design")
             .agg(pl.col("availability").min()))
    ok = {r["design"] for r in worst.iter_rows(named=True) if r["availability"] >= BOUND}
    assert ok == {"regional_ix+shared_cache"}  # the aggregated ISP's Utsunomiya PoP is a single point of failure
    ref = min((s for s in hand.summary if s["design"] in ok), key=lambda s: s["backbone_p95_bps"])
    res = plan("tochigi", tmp_path / "plan", min_availability=BOUND, failures="n-1-metro")
    t = pl.read_parquet(tmp_path / "plan" / "plan.parquet")
    best = t.filter(pl.col("design") == res.best).row(0, named=True)
    assert best["replay_n1_worst_availability"] >= BOUND
    assert best["replay_backbone_p95_bps"] <= ref["backbone_p95_bps"]
    assert best["replay_cost_per_month"] <= ref["cost_per_month"]
    assert abs(best["fast_backbone_error"]) <= 0.10
