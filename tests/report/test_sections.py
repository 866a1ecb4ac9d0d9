"""The optional report sections (prefetch, broadband quality, cost, joint procurement, forecast and capacity plan):
each from fixture files written in the run's shapes (conftest.add_optional_files), numbers recomputed here from
those tables; each section absent when its data is absent; names escaped."""

from __future__ import annotations

import html as htmllib
import json
import math
import re
import shutil

import polars as pl
import pytest

from netsim import InputError
from netsim.report import compare_runs, load_run, render

EVIL = "<script>alert(1)</script>"
EVIL_ESC = "&lt;script&gt;alert(1)&lt;/script&gt;"
ALL = ["headline", "backbone", "prefetch", "served", "local", "availability", "rtt", "quality", "cost", "procurement",
       "forecast", "maps", "summary"]


@pytest.fixture(scope="module")
def rendered(full_run_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("sections") / "run"
    shutil.copytree(full_run_dir, out)
    return out, render(out).read_text()


def section(html: str, sid: str) -> str | None:
    m = re.search(rf'<section id="{sid}">(.*?)</section>', html, flags=re.S)
    return m.group(1) if m else None


def cells(fragment: str) -> list[list[str]]:
    """The text of each table row's cells (tags stripped, entities decoded, whitespace collapsed)."""
    rows = []
    for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", fragment, flags=re.S):
        row = [" ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", c)).split())
               for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", tr, flags=re.S)]
        rows.append(row)
    return rows


def money(x: float) -> str:
    return f"{x:,.0f}"


def test_every_section_in_order_each_figure_drawn(rendered):
    _, html = rendered
    assert re.findall(r'<section id="([^"]+)">', html) == ALL
    for sid in ("prefetch", "quality", "cost", "forecast"):
        assert "<svg" in section(html, sid), sid
    assert "<svg" not in section(html, "procurement")  # a table and figures, no figure
    for sid in ("prefetch", "quality", "cost", "procurement", "forecast"):
        assert f'href="#{sid}"' in html  # in the navigation bar
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids))


def test_cost_section_numbers(rendered, full_run):
    out, html = rendered
    cost = pl.read_parquet(out / "cost.parquet")
    sec = section(html, "cost")
    assert "in JPY" in sec and "JPY per month" in sec
    assert "netsim/analysis/cost.py" in sec and "scenario inputs" in sec
    rows = cells(sec.split("<h3>By component")[1].split("</table>")[0])
    assert rows[0] == ["design", "lines", "IX ports", "cache sites", "transit (95th percentile)",
                       "shared (aggregated ISP)", "total", "vs baseline"]
    totals = {}
    for d, row in zip(("baseline", "other"), rows[1:]):
        part = cost.filter(pl.col("design") == d)
        totals[d] = part["total"].sum()
        want = [money(part[c].sum()) for c in ("line", "ix_port", "cache_site", "transit", "shared")]
        assert row[0] == d and row[1:6] == want and row[6] == money(totals[d])
    # other: transit halved (1400 -> 700) and 250 shared: -450 vs baseline
    delta = totals["other"] - totals["baseline"]
    assert delta == pytest.approx(-450.0)
    assert rows[2][7] == f"−450 ({100 * delta / totals['baseline']:+.1f}%)"
    assert rows[1][7] == "(reference)"
    members = cells(sec.split("<h3>Per member")[1].split("</table>")[0])
    assert members[0] == ["member", "baseline", "other"]
    assert members[1][0] == "ISP A & co (AS64601)" and members[2][0] == f"{EVIL} (AS64602)"
    a = cost.filter(pl.col("asn") == 64601).sort("design")["total"].to_list()
    assert members[1][1:] == [money(a[0]), f"{money(a[1])} −{money(a[0] - a[1])}"]
    b = cost.filter(pl.col("asn") == 64602).sort("design")["total"].to_list()
    assert b[1] - b[0] == pytest.approx(50.0)  # 250 shared - 200 transit
    assert members[2][1:] == [money(b[0]), f"{money(b[1])} +50"]
    # cheaper = green, dearer = red
    assert re.search(r'class="diff better">−' + money(a[0] - a[1]), sec)
    assert re.search(r'class="diff worse">\+50<', sec)


def test_procurement_section(rendered):
    _, html = rendered
    sec = section(html, "procurement")
    assert "20 → 10 Gbps" in sec  # separate vs joint line
    assert "8,500 → 8,000" in sec and "(JPY)" in sec
    assert "+500 (+5.9%)" in sec and "p95" in sec
    rows = cells(sec)
    by = {r[0]: r for r in rows[1:]}
    assert by["ISP A & co"] == ["ISP A & co", "6.0", "5.0", "10", "5,900", "70.0%", "5,250", "+650"]
    assert by[EVIL] == [EVIL, "3.0", "2.0", "10", "2,600", "30.0%", "2,750", "−150"]
    assert re.search(r'class="bad">−150<', sec)  # a negative saving shown as such
    assert "Negative saving" in sec and EVIL_ESC in sec


def test_procurement_reconciled_with_the_monthly_cost(rendered):
    """The bridge from the reference's monthly cost to the design's adds up, component by component, and splits the
    difference into what pooling alone saves and the rest (conftest: baseline 8,580 -> other 8,130; pooling 500)."""
    _, html = rendered
    bridge = section(html, "procurement").split("<h4>")[1]
    assert bridge.startswith("From baseline's monthly cost to other's (JPY per month)")
    rows = {r[0]: r[1:] for r in cells(bridge)[1:]}
    num = lambda t: float(t.replace(",", "").replace("−", "-").replace("±", "") or 0)  # noqa: E731
    comps = [k for k in rows if not k.startswith(("monthly cost", "of which"))]
    assert comps == ["lines", "IX ports", "cache sites", "transit (95th percentile)", "shared (aggregated ISP)"]
    total = rows["monthly cost, all members"]
    assert total == ["8,580", "8,130", "−450"]
    assert sum(num(rows[c][0]) for c in comps) == 8580 and sum(num(rows[c][1]) for c in comps) == 8130
    assert sum(num(rows[c][2]) for c in comps) == -450
    pool = rows["of which: joint procurement alone (the comparison above)"][-1]
    rest = rows["of which: the rest of the design (its traffic, lines, ports, cache)"][-1]
    assert (pool, rest) == ("−500", "+50") and num(pool) + num(rest) == num(total[2])


def test_quality_section(rendered):
    out, html = rendered
    q = pl.read_parquet(out / "quality.parquet")
    sec = section(html, "quality")
    assert "Server placement: tokyo" in sec and "Mathis" in sec
    rows = cells(sec.split("Peak vs off-peak")[1])
    assert rows[1][-3:] == ["median (Mbps)", "p10 (Mbps)", "unreachable"]  # failure-window columns present
    body = rows[2:]
    assert len(body) == q.height
    # the first row of each ISP carries its name (rowspan), the second only the design
    r = q.filter((pl.col("design") == "other") & (pl.col("asn") == 64602)).row(0, named=True)
    got = body[3]
    assert got[0] == "other"
    assert got[1:] == [f"{r['peak_throughput_p50_mbps']:,.0f}", f"{r['peak_throughput_p10_mbps']:,.0f}",
                       f"{r['offpeak_throughput_p50_mbps']:,.0f}", f"{r['offpeak_throughput_p10_mbps']:,.0f}",
                       f"{r['peak_rtt_p50_ms']:.2f}", f"{r['offpeak_rtt_p50_ms']:.2f}", "50%", "pppoe-nte (75%)", "0.0%",
                       f"{r['failure_throughput_p50_mbps']:,.0f}", "0", f"{100 * r['failure_unreachable_share']:.1f}%"]
    assert body[2][0] == EVIL and body[2][1] == "baseline"
    # each ISP whose peak median moved in "other" is listed with what limits it in each design: the reason
    changes = re.findall(r"<li>(.*?)</li>", sec.split("Where a design changes the peak-hour median")[1], flags=re.S)
    assert len(changes) == 2 and all("(limited by home (cpe) (75%) in baseline, by pppoe-nte (75%) in other)" in c
                                     for c in changes)
    assert "450 → 400 Mbps" in changes[0] and "425 → 375 Mbps" in changes[1] and 'class="bad"' in changes[0]
    assert EVIL_ESC in sec and EVIL not in sec
    svg = re.search(r"<svg.*?</svg>", sec, flags=re.S).group(0)
    assert "failure window" in svg and EVIL_ESC in svg  # shaded; the ISP name drawn as escaped text


def test_forecast_section(rendered):
    out, html = rendered
    doc = json.loads((out / "forecast" / "evaluation.json").read_text())
    sec = section(html, "forecast")
    assert "reaches 80%" in sec and "horizon 365 days" in sec
    rows = cells(sec.split("</table>")[0])
    assert rows[0][:3] == ["series", "holdout MAPE", "seasonal naive"]
    body = {r[0]: r for r in rows[1:]}
    assert set(body) == {s["series"] for s in doc["series"]}
    for s in doc["series"]:
        r = body[s["series"]]
        assert r[1] == f"{s['model_mape']:.1f}%"
        assert r[2] == f"{s['naive_mape']:.1f}% ({s['naive_lag']})"
        assert r[3] == f"{100 * s['growth_per_year']:.1f}%"
        assert r[4] == f"{100 * s['growth_lo95']:.1f}% to {100 * s['growth_hi95']:.1f}%"
        if s["capacity_gbps"]:
            assert r[6] == f"{100 * s['peak_utilisation']:.0f}%" and r[7] == f"{s['months_to_threshold']:.1f}"
        else:
            assert r[6] == r[7] == "-"
    # sorted: the series that crosses soonest first, one without a capacity last
    crossing = sorted((s for s in doc["series"] if s["months_to_threshold"] is not None),
                      key=lambda s: s["months_to_threshold"])
    assert [r[0] for r in rows[1:]][:len(crossing)] == [s["series"] for s in crossing]
    assert rows[-1][0] == "baseline/backbone"
    svg = re.search(r"<svg.*?</svg>", sec, flags=re.S).group(0)
    assert "80% interval" in svg and "95% interval" in svg and "80% of capacity" in svg
    assert EVIL_ESC in svg  # series name as a panel title


def test_capacity_plan_table(rendered):
    out, html = rendered
    plan = pl.read_parquet(out / "capacity_plan.parquet")
    sec = section(html, "forecast").split("Capacity plan")[1]
    tables = sec.split("</table>")[:-1]
    assert len(tables) == 2
    base = cells(tables[0])[1:]
    # soonest first: already over (0 months -> "now"), then 10.3, then 60
    assert [r[0] for r in base] == [f"{EVIL} → t1", "a1 → t1", "a2 → a1"]
    assert [r[-1] for r in base] == ["now", "10.3", "60.0"]
    assert base[1][1:6] == ["1", "60%", "40.0%", "baseline/backbone", "80%"]
    other = cells(tables[1])[1:]
    assert [r[-1] for r in other] == ["64.5", "never"]  # inf months: never crosses
    # counted within the forecast's horizon (the fixture's evaluation.json: 365 days = 12 months): 60 months is not
    horizon_m = json.loads((out / "forecast" / "evaluation.json").read_text())["horizon_days"] / (365.25 / 12)
    n_cross = plan.filter((pl.col("design") == "baseline") & (pl.col("months_to_threshold") <= horizon_m)).height
    assert n_cross == 2
    assert f"{n_cross} of 3 loaded links cross (threshold 80%) within 12 months" in sec
    assert "0 of 2 loaded links cross" in sec
    assert re.search(r'class="bad">now<', sec) and re.search(r'class="bad">10.3<', sec)
    assert not re.search(r'class="bad">60.0<', sec)


def test_prefetch_section(rendered):
    out, html = rendered
    bins = pl.read_parquet(out / "bins.parquet")
    summary = {r["design"]: r for r in json.loads((out / "summary.json").read_text())["designs"]}
    sec = section(html, "prefetch")
    pushed = bins.filter(pl.col("design") == "other")["prefetch_bytes"].sum()
    assert f"{pushed / 1e12:,.2f} TB" in sec
    assert "1,234" in sec and "vs baseline" in sec
    peak0 = summary["baseline"]["backbone_peak_bps"]
    assert f"0.2 Gbps ({100 * 2.5e8 / peak0:.1f}%)" in sec  # 0.25 Gbps saved, shown to 0.1
    assert re.search(r'class="v good">0.2 Gbps', sec)
    p95_0 = summary["baseline"]["backbone_p95_bps"]
    assert re.search(rf'class="v bad">-0.1 Gbps \({-100 * 1.5e8 / p95_0:.1f}%\)', sec)  # more, not saved
    svg = re.search(r"<svg.*?</svg>", sec, flags=re.S).group(0)
    assert "push window" in svg and "pushed by prefetch" in svg and "baseline" in svg
    assert "baseline" not in section(html, "prefetch").split("<h3>")[0]  # only "other" has a card
    assert sec.count("<h3>") == 1


def test_summary_and_compare_have_cost_quality_and_prefetch_rows(rendered):
    out, html = rendered
    summ = cells(section(html, "summary"))
    labels = [r[0] for r in summ]
    for lab in ("monthly cost (JPY)", "joint procurement saves (members' upstream line + transit) (JPY)", "pushed by prefetch",
                "backbone peak saved by prefetch", "peak-hour throughput p50"):
        assert lab in labels, lab
    c = compare_runs([out])
    keys = [m["key"] for m in c["metrics"]]
    for k in ("cost_per_month", "quality_peak_p50_mbps", "quality_peak_p10_mbps", "quality_peak_rtt_p50_ms",
              "prefetch_bytes", "prefetch_peak_backbone_saved_bps"):
        assert k in keys, k
    q = next(m for m in c["metrics"] if m["key"] == "quality_peak_p50_mbps")
    assert q["text"] == ["437.5 Mbps", "387.5 Mbps"] and q["tone"][1] == "worse"
    cost = next(m for m in c["metrics"] if m["key"] == "cost_per_month")
    assert cost["label"] == "monthly cost (JPY)"
    # the fixture's totals by hand: baseline 3,100 + 5,480 = 8,580; other 2,600 + 5,530 = 8,130 -> -450 a month,
    # shown in thousands (k/month)
    assert cost["delta"][1] == pytest.approx(-0.45)
    assert cost["tone"][1] == "better"


def test_sections_absent_without_their_data(run_dir, tmp_path):
    """The plain small run has cost, quality and hourly quality tables but no procurement, forecast, capacity plan
    or prefetch: those sections (and their nav links and summary rows) are not there; without the hourly table the
    quality section has no figure."""
    out = tmp_path / "plain"
    shutil.copytree(run_dir, out)
    assert "Measured throughput across the day" in section(render(out).read_text(), "quality")
    (out / "quality_hourly.parquet").unlink()
    html = render(out).read_text()
    secs = re.findall(r'<section id="([^"]+)">', html)
    assert secs == ["headline", "backbone", "served", "local", "availability", "rtt", "quality", "cost", "maps", "summary"]
    assert "Measured throughput across the day" not in section(html, "quality")  # no hourly table, no figure
    assert "<svg" not in section(html, "quality")
    for sid in ("prefetch", "procurement", "forecast"):
        assert f'href="#{sid}"' not in html
    assert "pushed by prefetch" not in html
    (out / "cost.parquet").unlink()
    (out / "quality.parquet").unlink()
    html = render(out).read_text()
    assert re.findall(r'<section id="([^"]+)">', html) == ["headline", "backbone", "served", "local", "availability",
                                                          "rtt", "maps", "summary"]


def test_forecast_without_capacity_plan_and_plan_without_forecast(full_run):
    shutil.rmtree(full_run / "forecast")
    html = render(full_run).read_text()
    sec = section(html, "forecast")
    assert "Capacity plan" in sec and "holdout MAPE" not in sec and "<svg" not in sec
    (full_run / "capacity_plan.parquet").unlink()
    assert section(render(full_run).read_text(), "forecast") is None


def test_forecast_table_is_capped(full_run):
    from netsim.report.sections import forecast_section

    s = forecast_section(load_run(full_run), max_rows=2)
    assert len(s["series"]) == 2 and s["more"] == 1


def test_damaged_optional_files_are_input_errors(full_run):
    (full_run / "procurement.parquet").write_bytes(b"not parquet")
    with pytest.raises(InputError, match="procurement.parquet"):
        load_run(full_run)
    (full_run / "procurement.parquet").unlink()
    pl.DataFrame({"design": ["x"]}).write_parquet(full_run / "capacity_plan.parquet")
    with pytest.raises(InputError, match=r"capacity_plan.parquet.*no column src"):
        load_run(full_run)
    (full_run / "capacity_plan.parquet").unlink()
    (full_run / "forecast" / "evaluation.json").write_text("[1, 2]")
    with pytest.raises(InputError, match="evaluation.json"):
        load_run(full_run)


def test_prefetch_without_a_design_to_compare(full_run):
    doc = json.loads((full_run / "summary.json").read_text())
    for rec in doc["designs"]:
        rec["prefetch_of"] = None
    (full_run / "summary.json").write_text(json.dumps(doc))
    sec = section(render(full_run).read_text(), "prefetch")
    assert "no design without prefetch to compare with" in sec
    assert "backbone peak saved" not in sec


def test_prefetch_saved_falls_back_to_the_summaries(full_run):
    """Without the saved fields, the saving is the difference of the two designs' backbone figures."""
    doc = json.loads((full_run / "summary.json").read_text())
    other = next(r for r in doc["designs"] if r["design"] == "other")
    del other["prefetch_peak_backbone_saved_bps"], other["prefetch_p95_backbone_saved_bps"]
    base = next(r for r in doc["designs"] if r["design"] == "baseline")
    other["backbone_peak_bps"] = base["backbone_peak_bps"] - 3e9
    (full_run / "summary.json").write_text(json.dumps(doc))
    sec = section(render(full_run).read_text(), "prefetch")
    assert f"3.0 Gbps ({100 * 3e9 / base['backbone_peak_bps']:.1f}%)" in sec


def test_quality_without_failure_columns(full_run):
    q = pl.read_parquet(full_run / "quality.parquet")
    q.drop([c for c in q.columns if c.startswith("failure_")]).write_parquet(full_run / "quality.parquet")
    sec = section(render(full_run).read_text(), "quality")
    assert "during failures" not in sec
    assert not math.isnan(q["peak_throughput_p50_mbps"][0])


def test_prefetch_rows_hidden_when_nobody_prefetches(run_dir):
    from netsim.report.metrics import present_metrics

    recs = [{"design": "a", "prefetch_bytes": 0.0, "prefetch_objects": 0}, {"design": "b", "prefetch_bytes": 0.0}]
    keys = [m.key for m in present_metrics(recs)]
    assert "prefetch_bytes" not in keys and "backbone_peak_bps" in keys and "cost_per_month" not in keys
    recs[1]["prefetch_bytes"] = 1e9
    assert "prefetch_bytes" in [m.key for m in present_metrics(recs)]


def test_quality_figure_with_many_isps_says_how_many_are_left_out(full_run):
    from netsim.report.sections import quality_section

    s = quality_section(load_run(full_run), [], max_isps=1)
    assert s["hidden_isps"] == 1 and s["figure"] is not None


def test_rendering_with_every_section_is_deterministic(rendered, full_run):
    assert render(full_run).read_text() == rendered[1]
