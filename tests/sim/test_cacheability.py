"""Cacheability: a share of each service's objects (or a provider's) may be stored; the rest goes to the origin."""

from __future__ import annotations

import polars as pl
import pytest

from netsim.errors import InputError
from netsim.scenario import Scenario, load_scenario
from netsim.sim.run import run

from netsim_testing import SMALL, small as _small



def _scenario(**caches):
    sc = _small(load_scenario("tochigi"))
    sc.duration = 2 * 3600.0
    sc.forecast = None
    sc.failures.schedule = []
    sc.designs = [sc.designs[2]]      # regional_ix + shared_cache
    sc.caches = sc.caches.model_copy(update={"warmup": None, **caches})
    return sc


@pytest.fixture(scope="module")
def runs():
    every = {s: 1.0 for s in ("video", "web", "game", "update", "other")}
    return {"all": run(_scenario(cacheable=every)), "default": run(_scenario()),
            "none": run(_scenario(cacheable={s: 0.0 for s in every}))}


def test_share_of_content_bytes_through_the_cache(runs):
    def via(r):
        b = r.bins
        return float(b["cache_bytes_requested"].sum() / b["content_bytes"].sum())

    assert via(runs["all"]) == pytest.approx(1.0)
    assert via(runs["none"]) == 0.0
    assert 0.6 < via(runs["default"]) < 0.95   # the defaults: 0.9 video, 0.5 web, ... (see cacheability)
    assert runs["none"].summary[0]["cache_offload"] == 0.0


def test_non_cacheable_requests_are_served_from_origins_and_conserved(runs):
    for r in runs.values():
        b = r.bins
        assert (b["offered_bytes"] - b["delivered_bytes"] - b["dropped_bytes"] - b["unreachable_bytes"]).abs().max() \
            <= 1e-6 * b["offered_bytes"].max()
        assert (b["cache_served_bytes"] <= b["content_bytes"] * (1 + 1e-12)).all()
    # nothing cacheable: the pairs table has no byte served by a cache
    pairs = runs["none"].pairs
    assert pairs.filter(pl.col("served_from").is_in(["shared cache", "own cache"]))["offered_bytes"].sum() == 0
    # offload = cacheable share x byte hit ratio, in expectation: the default lies between none and all
    off = {k: r.summary[0]["cache_offload"] for k, r in runs.items()}
    assert off["none"] < off["default"] < off["all"]


def test_a_provider_override_wins_over_its_service():
    r = run(_scenario(cacheable={s: 0.0 for s in ("video", "web", "game", "update", "other")},
                      cacheable_providers={"video": 1.0}))
    from netsim.traffic import read_trace

    # only video requests consulted the cache: its requests equal the video provider's rows in the two hours of
    # the trace (counted here from the trace itself; the shared cache serves all four ISPs, so every one of them)
    window = read_trace(SMALL["trace"]).filter(pl.col("ts") < 2 * 3600.0).collect()
    video = window.filter(pl.col("provider") == "video").height
    assert 0 < video < window.filter(pl.col("provider").is_not_null()).height   # other providers' requests exist
    assert r.bins["cache_requests"].sum() == video
    assert r.summary[0]["cache_offload"] > 0


def test_bad_cacheability_is_located():
    with pytest.raises(Exception) as e:
        Scenario.model_validate({"name": "x", "topology": "tochigi", "traffic": {"trace": "tochigi-1d"},
                                 "caches": {"cacheable": {"video": 1.5}}})
    assert "cacheable" in str(e.value)
    with pytest.raises(InputError, match="caches.cacheable_providers.nope"):
        run(_scenario(cacheable_providers={"nope": 0.5}))
