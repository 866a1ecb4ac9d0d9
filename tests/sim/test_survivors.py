"""Availability over survivors: subscribers whose own PoP is up (a dark metro's own cannot be served by any design)."""

from __future__ import annotations

import pytest

from netsim.scenario import FailureEvent, load_scenario
from netsim.sim.run import run

from netsim_testing import small as _small



@pytest.fixture(scope="module")
def dark_utsunomiya():
    sc = _small(load_scenario("tochigi"))
    sc.duration = 2 * 3600.0
    sc.forecast = None
    sc.caches = sc.caches.model_copy(update={"warmup": None})
    sc.designs = [sc.designs[0], sc.designs[2]]
    sc.failures.schedule = [FailureEvent(at=0.0, duration=3600.0, metro="utsunomiya")]
    return run(sc)


def test_survivors_exclude_the_dark_metros_own_subscribers(dark_utsunomiya):
    for s in dark_utsunomiya.summary:
        # Utsunomiya's own subscribers are unreachable whatever the design: survivors do better
        assert s["availability_during_failures_survivors"] > s["availability_during_failures"]
        assert 0.0 <= s["availability_during_failures"] <= s["availability_during_failures_survivors"] <= 1.0
    b = dark_utsunomiya.bins
    assert (b["survivor_offered_bytes"] <= b["offered_bytes"] * (1 + 1e-12)).all()
    assert (b["survivor_delivered_bytes"] <= b["delivered_bytes"] * (1 + 1e-12)).all()
    # outside the failure every subscriber survives
    calm = b.filter(b["failures_active"] == 0)
    assert (calm["survivor_offered_bytes"] == calm["offered_bytes"]).all()
