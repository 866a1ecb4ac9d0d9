"""Cache warm-up (``caches.warmup``): the day before is replayed through the caches, nothing of it is measured."""

from __future__ import annotations

import polars as pl
import pytest

from netsim.errors import InputError
from netsim.scenario import load_scenario
from netsim.sim.run import run

from netsim_testing import SMALL, small as _small



def _scenario(warmup, *, designs=(2,), hours=1.0):
    sc = _small(load_scenario("tochigi"))
    sc.duration = hours * 3600.0
    sc.forecast = None
    sc.failures.schedule = []
    sc.designs = [sc.designs[i] for i in designs]
    sc.caches = sc.caches.model_copy(update={"warmup": warmup})
    return sc


@pytest.fixture(scope="module")
def cold_and_warm():
    return run(_scenario(None)), run(_scenario(SMALL["warmup"]))


def test_warm_caches_hit_more_in_the_first_bins_and_fill_less(cold_and_warm):
    cold, warm = cold_and_warm
    first = lambda r: r.caches.filter(pl.col("bin") == 0).row(0, named=True)  # noqa: E731
    assert first(warm)["hits"] > first(cold)["hits"]
    assert first(warm)["fill_bytes"] < 0.5 * first(cold)["fill_bytes"]
    assert warm.bins["backbone_bps"][0] < cold.bins["backbone_bps"][0]
    assert warm.summary[0]["cache_warmup_requests"] > 100_000 and cold.summary[0]["cache_warmup_requests"] == 0


def test_warm_up_is_not_measured(cold_and_warm):
    cold, warm = cold_and_warm
    # the same requests reach the caches in the run; the warm-up's own requests are in no table
    assert warm.caches["requests"].sum() == cold.caches["requests"].sum() == warm.bins["cache_requests"].sum()
    assert (warm.caches["hits"] <= warm.caches["requests"]).all()
    assert warm.bins["offered_bytes"].sum() == pytest.approx(cold.bins["offered_bytes"].sum())


def test_warm_up_is_deterministic_and_idle_without_caches():
    a, b = run(_scenario(SMALL["warmup"])), run(_scenario(SMALL["warmup"]))
    assert a.bins.equals(b.bins) and a.caches.equals(b.caches)
    plain = run(_scenario(SMALL["warmup"], designs=(0,)))
    assert plain.summary[0]["cache_warmup_requests"] == 0
    assert plain.bins.equals(run(_scenario(None, designs=(0,))).bins)


def test_warm_up_trace_errors_are_located(tmp_path):
    with pytest.raises(InputError, match="caches.warmup.*no such file"):
        run(_scenario("nope-trace"))
    with pytest.raises(InputError, match="caches.warmup.*no such file"):   # checked even with no cache to warm
        run(_scenario("nope-trace", designs=(0,)), tmp_path / "out")
    assert not (tmp_path / "out").exists()
    with pytest.raises(InputError, match="caches.warmup.*sample"):
        run(_scenario("japan-1h@0.0001"))


def test_warm_up_request_from_an_unknown_node_is_located(tmp_path):
    from netsim.traffic import read_trace, trace_meta, write_trace

    f = read_trace(SMALL["warmup"]).head(200).collect()
    f = f.with_columns(pl.when(pl.int_range(pl.len()) == 5).then(pl.lit("nope-node")).otherwise(pl.col("src")).alias("src"))
    meta = trace_meta(SMALL["warmup"])
    bad = tmp_path / "bad.parquet"
    write_trace(f, bad, meta={"scale": meta["scale"], "sample_rate": meta["sample_rate"]}, validate=False)
    with pytest.raises(InputError) as e:
        run(_scenario(str(bad)))
    assert "caches.warmup" in str(e.value) and "nope-node" in str(e.value)


def test_a_second_run_of_a_design_starts_from_the_first_runs_warm_up(monkeypatch):
    """The failure-free replay for planning restores the caches the run's warm-up left (the warm-up does not
    depend on failures), and gives the tables a warm-up of its own would."""
    from netsim.sim import engine
    from netsim.sim.check import check_scenario
    from netsim.sim.sources import traffic_source

    sc = _scenario(SMALL["warmup"])
    design = sc.designs[0]
    g = check_scenario(sc).graphs[design.name]
    alone = engine.run_design(sc, design, g, traffic_source(sc, g))
    warm: dict = {}
    first = engine.run_design(sc, design, g, traffic_source(sc, g), warm=warm)
    assert warm["trace"] == SMALL["warmup"] and warm["states"] and warm["requests"] > 100_000

    def no_second_warm_up(self, name):
        raise AssertionError("the warm-up was replayed again")

    monkeypatch.setattr(engine._DesignRun, "warm_up", no_second_warm_up)
    second = engine.run_design(sc, design, g, traffic_source(sc, g), warm=warm)
    for r in (first, second):
        for table in ("bins", "links", "caches", "pairs", "services", "access"):
            assert getattr(r, table).equals(getattr(alone, table)), table
        assert r.summary["cache_warmup_requests"] == alone.summary["cache_warmup_requests"]
    # a snapshot of another warm-up trace is not used
    other = sc.model_copy(update={"caches": sc.caches.model_copy(update={"warmup": "elsewhere"})})
    with pytest.raises(AssertionError, match="replayed again"):
        engine.run_design(other, design, g, traffic_source(other, g), warm=warm)
