"""End to end on the shipped Tochigi scenario: run the engine, then cost, quality and the forecast input.

Slow (runs the engine on four designs); skipped until routing, the designs and the Tochigi
scenario are on the branch.
"""

from __future__ import annotations

import polars as pl
import pytest

from netsim.analysis.cost import Prices, design_cost, joint_procurement, member_upstream_series
from netsim.analysis.forecast import forecast, series_from_run
from netsim.analysis.quality import QualityMethod, measure_quality, measurement_servers
from netsim.errors import InputError

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tochigi_run(tmp_path_factory):
    import netsim.routing as routing
    import netsim.topology.designs as designs
    from netsim.scenario import load_scenario
    from netsim.sim.run import run
    from netsim.topology.io import load_topology

    sc = load_scenario("tochigi")
    out = tmp_path_factory.mktemp("tochigi")
    run(sc, out)
    g0 = load_topology(sc.topology)
    graphs = {d.name: designs.apply_design(g0, d.name, d.transforms) for d in sc.designs}
    return sc, out, graphs, routing


def test_cost_quality_and_forecast_input_on_tochigi(tochigi_run):
    sc, out, graphs, routing = tochigi_run
    links = pl.read_parquet(out / "links.parquet")
    totals = {}
    for name, g in graphs.items():
        aggs = {65200: [65001, 65002, 65003, 65004]} if name == "aggregated_isp" else None
        c = design_cost(g, links, prices=Prices(), bin_s=sc.bin_s, design=name, aggregators=aggs)
        assert c.by_member["asn"].to_list() == [65001, 65002, 65003, 65004]
        assert (c.by_member["total"] > 0).all()
        totals[name] = c.total
    # the shared cache takes most traffic off the upstream: transit, and the total, fall
    assert totals["regional_ix+shared_cache"] < totals["regional_ix"]

    base = graphs["baseline"]
    jp = joint_procurement(member_upstream_series(base, links, design="baseline", bin_s=sc.bin_s))
    assert jp.joint["line_gbps"] <= jp.separate["line_gbps"]
    assert jp.members["joint_cost"].sum() == pytest.approx(jp.joint["total"])

    servers = measurement_servers(base, "tokyo")
    for name, g in graphs.items():
        q = measure_quality(g, links, routing.compile(g).route().paths, design=name, bin_s=sc.bin_s,
                            method=QualityMethod(placement="tokyo"), servers=servers)
        assert set(q.summary["asn"]) == {65001, 65002, 65003, 65004}
        assert (q.hourly["throughput_p50_mbps"] > 0).all() and q.hourly.height == 4 * 24

    # one simulated day is too short to fit a daily + weekly model: a clean error, not a traceback
    bb = series_from_run(out, kind="backbone")
    assert bb["series"].n_unique() == len(graphs)
    with pytest.raises(InputError, match="two days of history"):
        forecast(bb, holdout="1d")
