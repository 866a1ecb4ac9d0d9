"""A run's planning outputs: scenario prices / cost / quality / forecast keys, the capacity plan under the
forecast growth, joint procurement of an aggregated ISP, quality outside failure windows, and the synthetic
measurement history the shipped forecast uses."""

from __future__ import annotations

import math
from datetime import datetime

import networkx as nx
import numpy as np
import polars as pl
import pytest

from netsim import load_topology
from netsim.analysis.forecast import forecast
from netsim.analysis.quality import measure_quality
from netsim.errors import InputError
from netsim.scenario import load_scenario
from netsim.sim.run import run
from netsim.traffic.history import synth_history, write_history

from netsim_testing import SMALL, small as _small


def _short(tmp_path, text: str, *, hours: int = 3) -> str:
    """The shipped Tochigi scenario cut to its first hours, with extra YAML appended, written beside tmp_path."""
    sc = _small(load_scenario("tochigi"))
    base = sc.source
    body = open(base).read()
    p = tmp_path / "s.yaml"
    body = body.replace("traffic:\n  trace: tochigi-1d", f"duration: {hours}h\ntraffic:\n  trace: {SMALL['trace']}")
    body = body.replace("warmup: tochigi-prev-1d", f"warmup: {SMALL['warmup']}")
    # a top-level key the extra YAML gives replaces the scenario's own (a key given twice is an error)
    keys = {ln.split(":")[0] for ln in text.splitlines() if ln and not ln[0].isspace() and ":" in ln}
    body = "".join(ln for ln in body.splitlines(keepends=True) if ln.split(":")[0] not in keys or ln[0].isspace())
    p.write_text(body + text)
    return str(p)


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    """Tochigi, first 3 hours, baseline + aggregated_isp, with the shipped forecast history."""
    d = tmp_path_factory.mktemp("plan")
    sc = _small(load_scenario("tochigi"))
    sc.duration = 3 * 3600.0
    sc.designs = [sc.designs[0], sc.designs[-1]]
    return sc, run(sc, d), d


def test_capacity_plan_grows_each_links_peak_at_its_series_growth(planned):
    sc, res, out = planned
    growth = {r["series"]: r["growth_per_year"] for r in res.forecast.evaluation.iter_rows(named=True)}
    assert set(growth) == {"AS65001", "AS65002", "AS65003", "AS65004", "total"}
    plan = res.capacity_plan
    assert plan.height > 0 and set(plan["design"]) == {"baseline", "aggregated_isp"}
    g = res.graphs["baseline"]
    calm = res.bins.filter(pl.col("failures_active") == 0)
    for r in plan.filter(pl.col("design") == "baseline").iter_rows(named=True):
        asns = {f"AS{g.nodes[n]['asn']}" for n in (r["src"], r["dst"])} & set(growth)
        shared = {g.nodes[n]["kind"] for n in (r["src"], r["dst"])} & {"ix", "cache"}
        assert r["growth_series"] == (asns.pop() if len(asns) == 1 and not shared else "total")
        assert r["growth_per_year"] == growth[r["growth_series"]]
        link = res.links.filter((pl.col("design") == "baseline") & (pl.col("src") == r["src"]) & (pl.col("dst") == r["dst"])
                                & pl.col("bin").is_in(calm.filter(pl.col("design") == "baseline")["bin"].implode()))
        assert r["peak_utilisation"] == pytest.approx(link["utilisation"].max())
        # independent of the function: the peak grown for that many months is at the 80% threshold
        m, u, gy = r["months_to_threshold"], r["peak_utilisation"], r["growth_per_year"]
        if u >= 0.8:
            assert m == 0.0
        elif gy <= 0:
            assert m == math.inf
        else:
            assert u * (1 + gy) ** (m / 12) == pytest.approx(0.8, rel=1e-9)
    agg = plan.filter(pl.col("design") == "aggregated_isp")
    assert set(agg.filter(pl.col("src").str.contains("-ix$|^cache-") | pl.col("dst").str.contains("-ix$|^cache-"))
               ["growth_series"]) == {"total"}
    months = plan.filter(pl.col("design") == "baseline")["months_to_threshold"].to_list()
    assert months == sorted(months)
    first = [s for s in res.summary if s["design"] == "baseline"][0]
    assert first["capacity_months_to_threshold"] == months[0]
    assert (out / "forecast" / "evaluation.json").is_file() and (out / "capacity_plan.parquet").is_file()


def test_joint_procurement_is_reported_for_the_aggregated_design_only(planned):
    _, res, _ = planned
    pr = res.procurement
    assert set(pr["design"]) == {"aggregated_isp"}
    assert pr["share"].sum() == pytest.approx(1.0)
    s = [x for x in res.summary if x["design"] == "aggregated_isp"][0]
    assert s["procurement_joint_line_gbps"] <= s["procurement_separate_line_gbps"]
    assert pr["joint_cost"].sum() == pytest.approx(s["procurement_joint_per_month"])
    assert pr["separate_cost"].sum() == pytest.approx(s["procurement_separate_per_month"])
    np.testing.assert_allclose(pr["saving"].to_numpy(), (pr["separate_cost"] - pr["joint_cost"]).to_numpy())
    assert "procurement_joint_per_month" not in [x for x in res.summary if x["design"] == "baseline"][0]


def test_quality_tables_and_placement(planned):
    sc, res, _ = planned
    assert sc.quality.placement == "regional"
    assert {s["quality_placement"] for s in res.summary} == {"regional"}
    hourly = res.quality_hourly
    assert sorted(set(hourly["hour"])) == [0, 1, 2]
    assert {"failure_throughput_p50_mbps", "failure_unreachable_share"} <= set(res.quality.columns)


def test_scenario_prices_set_the_cost(tmp_path):
    base = run(_short(tmp_path, "", hours=1))
    # in euros at 1 EUR per USD: transit given in euros, the rest converted from the USD defaults
    dear = run(_short(tmp_path, "prices: {transit_per_mbps_month: 2.5, currency: EUR, usd_rate: 1.0}\n", hours=1))
    a = base.cost.filter(pl.col("design") == "baseline").sort("asn")
    b = dear.cost.filter(pl.col("design") == "baseline").sort("asn")
    assert (a["transit"] > 0).all()
    np.testing.assert_allclose(b["transit"].to_numpy(), 2.5 * a["transit"].to_numpy())
    np.testing.assert_allclose(b["line"].to_numpy(), a["line"].to_numpy())
    assert {s["cost_currency"] for s in dear.summary} == {"EUR"}


@pytest.mark.parametrize("extra, where", [
    ("prices: {transit_usd: 1}\n", "prices.transit_usd"),
    # yen transit beside the dollar defaults: one currency per run, so an error, not dollars labelled yen
    ("prices: {currency: JPY, transit_per_mbps_month: 150}\n", "the defaults of ix_port_per_month"),
    ("prices: {currency: USD, usd_rate: 150}\n", "usd_rate is 150 but the currency is USD"),
    ("quality: {placement: moon}\n", "quality.placement"),
    ("cost: {split: coin}\n", "cost.split"),
    ("forecast: {history: tochigi-history.csv, holdout: soon}\n", "forecast.holdout"),
])
def test_bad_planning_keys_are_located(tmp_path, extra, where):
    with pytest.raises(InputError) as e:
        load_scenario(_short(tmp_path, extra))
    assert where in str(e.value) and "s.yaml" in str(e.value)


def test_missing_or_bad_history_fails_before_simulating(tmp_path):
    p = _short(tmp_path, "").replace("tochigi-history.csv", "nope.csv")
    text = open(p).read().replace("history: tochigi-history.csv", "history: nope.csv")
    open(p, "w").write(text)
    with pytest.raises(InputError) as e:
        run(p, tmp_path / "out")
    assert "forecast.history" in str(e.value) and "nope.csv" in str(e.value)
    assert not (tmp_path / "out" / "bins.parquet").exists()
    (tmp_path / "bad.csv").write_text("timestamp,series,bps\n2024-01-01T00:00:00,AS1,lots\n")
    open(p, "w").write(text.replace("history: nope.csv", "history: bad.csv"))
    with pytest.raises(InputError) as e:
        run(p)
    assert "bad.csv: row 2, column bps" in str(e.value)


def test_quality_peak_is_of_normal_operation_and_failures_are_reported_apart():
    g = nx.DiGraph(metros={"m": {"core": True}})
    g.add_node("s", kind="ix", asn=9, region="r", metro="m")
    g.add_node("c", kind="pop", asn=1, region="r", metro="m", subscribers=100)
    g.add_edge("s", "c", capacity_gbps=10.0, latency_ms=1.0)
    # 48 hourly bins: the peak hour 21 is congested on day 1 (a failure elsewhere pushed traffic here)
    util = [0.995 if b == 21 else 0.2 for b in range(48)]
    lt = pl.DataFrame({"design": "d", "bin": list(range(48)), "src": "s", "dst": "c", "utilisation": util})
    q = measure_quality(g, lt, lambda s, d: [(["s", "c"], 1.0)], bin_s=3600, failure_bins=[21])
    r = q.summary.row(0, named=True)
    assert r["peak_throughput_p50_mbps"] == pytest.approx(1000.0)
    assert r["failure_throughput_p50_mbps"] < 50
    plain = measure_quality(g, lt, lambda s, d: [(["s", "c"], 1.0)], bin_s=3600).summary.row(0, named=True)
    assert plain["peak_throughput_p10_mbps"] < 50 and math.isnan(plain["failure_throughput_p50_mbps"])


def test_history_is_calibrated_and_its_growth_is_recovered():
    g = load_topology("tochigi")
    h = synth_history(g, weeks=16, growth_per_year=0.3, noise=0.03, seed=4)
    subs = {}
    for _, d in g.nodes(data=True):
        if d.get("subscribers", 0) > 0:
            subs[f"AS{d['asn']}"] = subs.get(f"AS{d['asn']}", 0) + d["subscribers"]
    assert sorted(set(h["series"])) == sorted(subs)
    assert h["timestamp"].max() == datetime(2023, 12, 31, 23) and h["timestamp"].min() == datetime(2023, 9, 11)
    last_week = h.filter(pl.col("timestamp") >= datetime(2023, 12, 25)).group_by("series").agg(pl.col("bps").mean())
    for s, mean in last_week.iter_rows():
        assert mean == pytest.approx(subs[s] * 38.9 / 43.8 * 1e6, rel=0.03)  # 0.89 Mbps a subscription, MIC 2024
    hour = h.filter(pl.col("series") == "AS65001").with_columns(pl.col("timestamp").dt.hour().alias("h")).group_by("h").agg(
        pl.col("bps").mean()).sort("bps")
    assert hour["h"][-1] in (21, 22) and hour["h"][0] in (3, 4, 5)   # docs/sources.md: the 21-23h peak, early-morning trough
    ev = forecast(h, holdout="7d", horizon="30d").evaluation
    for r in ev.iter_rows(named=True):
        assert 0.2 < r["growth_per_year"] < 0.4 and r["growth_lo95"] < 0.3 < r["growth_hi95"]
        assert r["model_mape"] < r["naive_mape"]


def test_history_is_deterministic_and_rejects_bad_arguments(tmp_path):
    g = load_topology("tochigi")
    a, b = synth_history(g, weeks=2, seed=1), synth_history(g, weeks=2, seed=1)
    assert a.equals(b) and not a.equals(synth_history(g, weeks=2, seed=2))
    p = write_history(a, tmp_path / "h.csv")
    from netsim.analysis.forecast import read_series_csv

    back = read_series_csv(p)
    np.testing.assert_allclose(back["bps"].to_numpy(), a["bps"].to_numpy(), atol=0.5)
    with pytest.raises(InputError, match="Monday"):
        synth_history(g, end=datetime(2024, 1, 2))
    with pytest.raises(InputError, match="weeks"):
        synth_history(g, weeks=0)
    with pytest.raises(InputError, match="access PoP"):
        synth_history(nx.DiGraph())


def test_trace_history_cli(cli, tmp_path):
    r = cli("trace", "history", "-t", "tochigi", "--weeks", "1", "-o", str(tmp_path / "h.csv"))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "h.csv").read_text().startswith("timestamp,series,bps\n")
    r = cli("trace", "history", "-t", "tochigi", "-o", str(tmp_path / "h.txt"))
    assert r.returncode == 2 and "--output" in r.stderr and "Traceback" not in r.stderr
    r = cli("trace", "history", "-t", "tochigi", "--weeks", "0", "-o", str(tmp_path / "h.csv"))
    assert r.returncode == 2 and "--weeks" in r.stderr


def test_regional_ix_port_per_member():
    from netsim.topology.designs import apply_design

    g = load_topology("tochigi")
    out = apply_design(g, "x", [{"regional_ix": {"ix": "tochigi-ix", "members": [65001, 65002], "port_gbps": 100,
                                                 "ports": {65001: 200}}}])
    caps = {v: out.edges[v, "tochigi-ix"]["capacity_gbps"] for v in out.predecessors("tochigi-ix")}
    assert caps == {"isp-a-utsunomiya": 200.0, "isp-b-utsunomiya": 100.0}
    assert out.edges["tochigi-ix", "isp-a-utsunomiya"]["capacity_gbps"] == 200.0
    for ports, where in (({65009: 200}, "ports.65009"), ({65001: 0}, "ports.65001")):
        with pytest.raises(InputError, match=where.replace(".", r"\.")):
            apply_design(g, "x", [{"regional_ix": {"ix": "tochigi-ix", "members": [65001, 65002], "ports": ports}}])


def test_quality_during_failures_in_the_summary(tmp_path):
    """Tokyo dark for the first hour: in the baseline every test from another ISP's server crosses Tokyo and fails;
    with the regional IX the tests to the region's server stay in Tochigi (only kenpoku, with no server of its
    own, falls back to Tokyo)."""
    text = ("failures:\n  schedule:\n    - {at: \"00:00\", duration: 1h, metro: tokyo-otemachi}\n")
    p = _short(tmp_path, "", hours=2)
    body = open(p).read()
    body = body[:body.index("failures:")] + text + body[body.index("designs:"):]
    open(p, "w").write(body)
    res = run(p)
    s = {x["design"]: x for x in res.summary}
    q = res.quality
    g = res.graphs["baseline"]
    subs: dict = {}
    for _, d in g.nodes(data=True):
        if d.get("subscribers", 0) > 0:
            subs[d["asn"]] = subs.get(d["asn"], 0) + d["subscribers"]
    for d, rec in s.items():
        part = q.filter(pl.col("design") == d)
        expect = sum(r["failure_unreachable_share"] * subs[r["asn"]] for r in part.iter_rows(named=True)) / sum(subs.values())
        assert rec["quality_failure_unreachable_share"] == pytest.approx(expect)
    assert s["regional_ix"]["quality_failure_unreachable_share"] < 0.1 < 0.5 < s["baseline"]["quality_failure_unreachable_share"]
    assert {x["quality_server_fallbacks"] for x in s.values()} == {1}   # isp-c-nasushiobara
    assert s["regional_ix"]["quality_failure_p50_mbps"] >= s["baseline"]["quality_failure_p50_mbps"]


def test_prefetch_designs_are_linked_to_what_they_are_compared_with():
    sc = _small(load_scenario("tochigi-prefetch"))
    sc.duration = 6 * 3600.0
    res = run(sc)
    s = {x["design"]: x for x in res.summary}
    assert s["shared_cache+prefetch"]["prefetch_of"] == "shared_cache"      # same transforms but the prefetch
    assert s["static+prefetch"]["prefetch_of"] == "shared_cache"            # compare_with
    assert "prefetch_of" not in s["shared_cache"]
    for d in ("shared_cache+prefetch", "static+prefetch"):
        assert s[d]["prefetch_bytes"] > 0
        assert s[d]["prefetch_peak_backbone_saved_bps"] == pytest.approx(
            s["shared_cache"]["backbone_peak_bps"] - s[d]["backbone_peak_bps"])
        assert s[d]["prefetch_p95_backbone_saved_bps"] == pytest.approx(
            s["shared_cache"]["backbone_p95_bps"] - s[d]["backbone_p95_bps"])


def test_compare_with_must_name_another_design(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text("topology: tochigi\ntraffic: {trace: tochigi-1d@0.001}\ndesigns:\n  - baseline\n"
                 "  - {name: b, compare_with: nope, transforms: [{baseline: {}}]}\n")
    with pytest.raises(InputError, match="compare_with must name another design"):
        load_scenario(p)


def test_quality_clock_starts_at_the_traces_start_hour(tmp_path):
    """A trace of the 21:00 peak hour (like japan-1h) is measured as peak hours, not as 00:00-01:00."""
    p = tmp_path / "s.yaml"
    p.write_text("topology: tochigi\ntraffic: {generator: mixed, duration: 30m, options: {start_hour: 21, "
                 "sample_rate: 0.0001}}\nbin_s: 300\ndesigns: [baseline]\n")
    res = run(str(p))
    assert sorted(set(res.quality_hourly["hour"])) == [21]
    assert res.summary[0]["quality_peak_p50_mbps"] is not None
    p.write_text(p.read_text() + "quality: {start_hour: 3}\n")   # the scenario's own clock wins
    assert sorted(set(run(str(p)).quality_hourly["hour"])) == [3]


def test_procurement_is_of_the_separate_design_in_normal_operation():
    """Sized on the baseline (members buying separately) on an ordinary day, whatever the design order: by
    default a failure-free replay; with planning.basis as_run, the run's bins without a failure. A run without
    a design of separate buyers has no procurement table."""
    from netsim.analysis.cost import member_upstream_series
    from netsim.scenario import FailureSpec

    sc = _small(load_scenario("tochigi"))
    sc.duration = 3 * 3600.0
    sc.forecast = None
    sc.failures.schedule[0].at = 3600.0     # Tokyo dark 01:00-03:00
    agg, base_spec = sc.designs[-1], sc.designs[0]
    sc.designs = [agg]
    alone = run(sc)
    assert alone.summary[0]["procurement_reference"] is None and alone.procurement.height == 0
    sc.designs = [agg, base_spec]   # the aggregated design first: its procurement is completed once baseline ran
    calm_day = run(sc.model_copy(update={"failures": FailureSpec(), "designs": [base_spec]}))
    members = [65001, 65002, 65003, 65004]
    for basis, links in (("normal", calm_day.links), ("as_run", None)):
        res = run(sc.model_copy(update={"planning": sc.planning.model_copy(update={"basis": basis})}))
        s = {x["design"]: x for x in res.summary}
        assert s["aggregated_isp"]["procurement_reference"] == "baseline"
        if links is None:   # the calm bins: 00:00-01:00
            links = res.links.filter((pl.col("design") == "baseline") & (pl.col("bin") < 12))
        series = member_upstream_series(res.graphs["baseline"], links, design="baseline", bin_s=300, members=members)
        for r in res.procurement.sort("member").iter_rows(named=True):
            assert r["peak_bps"] == pytest.approx(float(series[r["member"]].max()))
            # the 95th percentile too: counting the dark hours as 0 bps samples would lower it (numpy's
            # inverted-CDF percentile is the billing rule: the top 5 % of the samples discarded)
            assert r["p95_bps"] == pytest.approx(float(np.percentile(series[r["member"]], 95, method="inverted_cdf")))
        if basis == "normal":   # the cost is billed on the ordinary day as well
            from netsim.analysis.cost import design_cost

            # design_cost is checked by hand in tests/analysis/test_cost.py; here: which day it was given
            c = design_cost(res.graphs["baseline"], calm_day.links, bin_s=300, design="baseline")
            dark = design_cost(res.graphs["baseline"], res.links, bin_s=300, design="baseline")
            assert s["baseline"]["cost_per_month"] == pytest.approx(c.total)
            assert c.total != pytest.approx(dark.total)   # billing the run with Tokyo dark would differ


def test_run_directory_files_are_current_valid_and_rerunnable(tmp_path):
    """The forecast of an earlier run into the same directory is removed; summary.json is strict JSON (a link
    that never crosses has no month, not Infinity); the scenario.yaml written can be run again."""
    import json

    out = tmp_path / "out"
    hist = tmp_path / "h.csv"
    write_history(synth_history(load_topology("tochigi"), weeks=3, growth_per_year=-0.5, noise=0.0), hist)
    p = _short(tmp_path, "", hours=1)
    text = open(p).read().replace("history: tochigi-history.csv", f"history: {hist}")
    open(p, "w").write(text)
    run(p, out)
    doc = json.loads((out / "summary.json").read_text(), parse_constant=lambda c: pytest.fail(f"{c} in summary.json"))
    plan = pl.read_parquet(out / "capacity_plan.parquet")
    for d in doc["designs"]:   # shrinking traffic: a link not already above the threshold never crosses it
        first = plan.filter(pl.col("design") == d["design"])["months_to_threshold"].min()
        assert d["capacity_months_to_threshold"] == (first if math.isfinite(first) else None)
    assert any(d["capacity_months_to_threshold"] is None for d in doc["designs"])
    assert (out / "forecast" / "evaluation.json").is_file()
    again = run(str(out / "scenario.yaml"), tmp_path / "again")   # ports: {'65001': 200} in the JSON-style dump
    assert [s["design"] for s in again.summary] == [s["design"] for s in doc["designs"]]
    open(p, "w").write(text.replace(f"forecast: {{history: {hist}, holdout: 7d, horizon: 365d, threshold: 0.8}}\n", ""))
    run(p, out)
    assert not (out / "forecast").exists()


@pytest.mark.parametrize("extra, where, what", [
    ("forecast: {history: tochigi-1d}\n", "forecast.history", "expected a CSV"),
    ("cost: {headroom: .inf}\n", "cost.headroom", ""),
])
def test_more_planning_input_errors(tmp_path, extra, where, what):
    p = _short(tmp_path, extra, hours=1)
    if not extra.startswith("forecast:"):   # no forecast: the error must come from the key under test
        text = open(p).read()
        text = text[:text.index("forecast:")] + text[text.index("\n", text.index("forecast:")) + 1:]
        open(p, "w").write(text)
    with pytest.raises(InputError) as e:
        run(p)
    assert where in str(e.value) and what in str(e.value)


def test_shipped_history_by_name_without_csv(tmp_path):
    p = _short(tmp_path, "", hours=1)
    text = open(p).read()
    open(p, "w").write(text.replace("history: tochigi-history.csv", "history: tochigi-history"))
    assert run(p).forecast.evaluation.height == 5


@pytest.mark.parametrize("ports, where", [([200], "ports"), (200, "ports"), ({65001: True}, "ports.65001"),
                                          ({"65001": 200}, None)])
def test_regional_ix_ports_types(ports, where):
    from netsim.topology.designs import apply_design

    spec = [{"regional_ix": {"ix": "tochigi-ix", "members": [65001, 65002], "ports": ports}}]
    if where is None:
        g = apply_design(load_topology("tochigi"), "x", spec)
        assert g.edges["isp-a-utsunomiya", "tochigi-ix"]["capacity_gbps"] == 200.0
        return
    with pytest.raises(InputError) as e:
        apply_design(load_topology("tochigi"), "x", spec)
    assert f"regional_ix.{where}" in str(e.value)


def test_trace_history_cli_names_the_topology_flag(cli, tmp_path):
    r = cli("trace", "history", "-t", "nope", "-o", str(tmp_path / "h.csv"))
    assert r.returncode == 2 and "--topology" in r.stderr and "--weeks" not in r.stderr


def test_planning_basis_is_in_the_summary_and_the_report(tmp_path):
    from netsim.report import render

    p = _short(tmp_path, "", hours=1)
    text = open(p).read().replace('at: "20:00"', 'at: "00:10"').replace("duration: 2h, metro", "duration: 20m, metro")
    open(p, "w").write(text)
    res = run(p, tmp_path / "out")
    assert {s["planning_basis"] for s in res.summary} == {"failure-free replay"}
    assert "each design replayed without the failures" in render(tmp_path / "out").read_text()
    open(p, "w").write(text + "planning: {basis: as_run}\n")
    assert {s["planning_basis"] for s in run(p).summary} == {"run, failure bins left out"}


def test_report_clock_starts_at_the_traces_start_hour(tmp_path):
    from netsim.report import render

    p = tmp_path / "s.yaml"
    p.write_text("topology: tochigi\ntraffic: {generator: mixed, duration: 30m, options: {start_hour: 21, "
                 "sample_rate: 0.0001}}\nbin_s: 300\nfailures: {schedule: [{at: 600, duration: 5m, metro: oyama}]}\n"
                 "designs: [baseline]\n")
    run(str(p), tmp_path / "out")
    html = render(tmp_path / "out").read_text()
    assert "failure window: 21:10–21:15" in html or "failure windows: 21:10–21:15" in html
    assert "busiest bin 21:" in html and "00:10–00:15" not in html
