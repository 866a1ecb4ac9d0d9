"""The fast N-1 pass: survivors' busy-hour availability per single failure, against hand-computed cases."""

from __future__ import annotations

import polars as pl
import pytest

from netsim.analysis.resilience import busy_hour_demand, n1_resilience
from netsim.errors import InputError
from netsim.topology import load_topology
from netsim_testing import TRI_TOPOLOGY



@pytest.fixture
def tri(tmp_path):
    p = tmp_path / "tri.yaml"
    p.write_text(TRI_TOPOLOGY)   # the sweep tests' triangle: a1, a2 under Tokyo t1, a side link a1-a2
    return load_topology(p)


def _demand():
    # content: 100 B/s to each PoP; a flow of 10 B/s from a1 to a2
    return pl.DataFrame({"src": ["a1", "a2", "a1"], "dst": [None, None, "a2"], "provider": ["video", "video", None],
                         "bytes_per_s": [100.0, 100.0, 10.0]}, schema={"src": pl.Utf8, "dst": pl.Utf8,
                                                                        "provider": pl.Utf8, "bytes_per_s": pl.Float64})


def test_hand_computed_failures(tri):
    r = {(x["kind"], x["element"]): x for x in n1_resilience(tri, _demand()).iter_rows(named=True)}
    # Tokyo dark: both PoPs survive, no content reaches them, the side-link flow does
    assert r["metro", "tk"]["availability"] == pytest.approx(10 / 210)
    assert r["metro", "tk"]["survivor_gbps"] == pytest.approx(210 * 8e-9)
    # a1 down: its own subscribers are no survivors; a2 still gets its content, not the flow from a1
    assert r["node", "a1"]["availability"] == pytest.approx(100 / 110)
    # the side link is no element here (nodes and metros only); the origin down is the same as Tokyo's content loss
    assert r["node", "o1"]["availability"] == pytest.approx(10 / 210)
    # worst first
    rows = n1_resilience(tri, _demand())
    assert rows["availability"].drop_nulls().is_sorted()


def test_cache_offload_credits_a_reachable_live_cache():
    from netsim.scenario import load_scenario
    from netsim.topology.designs import apply_design
    from netsim.traffic.generators import expected_demand

    sc = load_scenario("tochigi")
    g0 = load_topology("tochigi")
    design = sc.designs[2]   # regional_ix + shared_cache
    g = apply_design(g0, design.name, design.transforms)
    d = expected_demand(g0, provider_weights={"overseas-video": 0.18})
    none = {x["element"]: x["availability"] for x in n1_resilience(g, d).iter_rows(named=True) if x["kind"] == "metro"}
    half = {x["element"]: x["availability"] for x in n1_resilience(g, d, cache_offload=0.5).iter_rows(named=True)
            if x["kind"] == "metro"}
    # with Tokyo dark only the cache can serve content: crediting half of it raises the survivors' share
    assert half["tokyo-otemachi"] > none["tokyo-otemachi"] + 0.3
    # and it changes nothing where the origins are reachable
    assert half["nikko"] == pytest.approx(none["nikko"])
    with pytest.raises(InputError, match="cache_offload"):
        n1_resilience(g, d, cache_offload=1.5)


def test_busy_hour_demand_is_the_busiest_hour_at_full_scale():
    df = pl.DataFrame({"ts": [10.0, 20.0, 3700.0, 3800.0, 3900.0], "src": ["a1", "a1", "a1", "a2", "a2"],
                       "dst": [None] * 5, "provider": ["video"] * 5, "obj": [1, 2, 3, 4, 5],
                       "bytes": [100, 100, 100, 100, 150], "service": ["video"] * 5},
                      schema={"ts": pl.Float64, "src": pl.Utf8, "dst": pl.Utf8, "provider": pl.Utf8, "obj": pl.UInt64,
                              "bytes": pl.Int64, "service": pl.Utf8})
    d = busy_hour_demand(df, scale=10.0)
    assert dict(zip(d["src"], d["bytes_per_s"])) == {"a1": pytest.approx(100 * 10 / 3600), "a2": pytest.approx(250 * 10 / 3600)}
    with pytest.raises(InputError, match="no rows"):
        busy_hour_demand(df.head(0))


def test_the_pass_can_be_turned_off():
    from netsim_testing import small

    from netsim.scenario import load_scenario
    from netsim.sim.run import run

    sc = small(load_scenario("tochigi"))
    sc.duration, sc.forecast, sc.designs = 3600.0, None, sc.designs[:1]
    on = run(sc)
    assert on.resilience.height > 0 and on.summary[0]["n1_worst_failure"] == "metro tokyo-otemachi"
    sc.resilience = sc.resilience.model_copy(update={"n1": False})
    off = run(sc)
    assert off.resilience.height == 0 and "n1_worst_failure" not in off.summary[0]
