"""Forecast: recovers a known seasonal + growth series, intervals cover, threshold crossing, validation, CLI."""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta

import numpy as np
import polars as pl
import pytest

from netsim.analysis.forecast import (
    fit_seasonal_trend, forecast, mape, months_to_threshold, prefetch_candidates, read_series_csv,
    seasonal_naive, series_from_run,
)
from netsim.errors import InputError

START = datetime(2024, 1, 1)


def synthetic(*, weeks: float, step_s: int = 3600, growth: float = 0.3, noise: float = 0.05, level_bps: float = 1e9,
              seed: int = 7) -> tuple[list[datetime], np.ndarray]:
    """Daily shape with a 21-23h peak and a morning dip, weekends +15 % in the daytime, compound growth, lognormal noise."""
    rng = np.random.default_rng(seed)
    n = int(weeks * 7 * 86400 / step_s)
    t_s = np.arange(n) * step_s
    hour = (t_s % 86400) / 3600
    dow = (t_s // 86400) % 7
    daily = 0.35 + 0.65 * np.exp(-0.5 * (((hour - 22 + 12) % 24 - 12) / 2.5) ** 2) + 0.15 * np.sin(np.pi * hour / 24)
    weekend = np.where((dow >= 5) & (hour > 9) & (hour < 19), 1.15, 1.0)
    y = level_bps * daily * weekend * (1 + growth) ** (t_s / (365.25 * 86400)) * np.exp(rng.normal(0, noise, n))
    return [START + timedelta(seconds=int(s)) for s in t_s], y


def frame_of(ts, y, name="link-a", **extra):
    return pl.DataFrame({"timestamp": ts, "series": name, "bps": y, **extra})


def test_recovers_seasonal_growth_series_better_than_seasonal_naive():
    ts, y = synthetic(weeks=8)
    r = forecast(frame_of(ts, y), holdout="7d", horizon="30d")
    ev = r.evaluation.row(0, named=True)
    assert ev["periods"] == "24h+168h"
    assert ev["naive_lag"] == "1w"
    # noise alone (lognormal sigma 5 %) gives ~4 % MAPE for a perfect model; the naive one carries two noises
    assert ev["model_mape"] < 6.0
    assert ev["model_mape"] < 0.9 * ev["naive_mape"], ev
    assert 0.15 < ev["growth_per_year"] < 0.5  # true +30 %/yr, 8 weeks of 5 % noise
    # the forecast continues the daily shape: the evening peak stays at 21-23h
    fc = r.forecast.with_columns(pl.col("timestamp").dt.hour().alias("h"))
    by_hour = fc.group_by("h").agg(pl.col("bps").mean()).sort("bps", descending=True)
    assert by_hour["h"][0] in (21, 22, 23)
    assert r.forecast.height == 30 * 24
    assert (r.forecast["lo95"] <= r.forecast["lo80"]).all() and (r.forecast["lo80"] <= r.forecast["bps"]).all()
    assert (r.forecast["bps"] <= r.forecast["hi80"]).all() and (r.forecast["hi80"] <= r.forecast["hi95"]).all()


def test_interval_coverage_on_holdout_is_sane():
    ts, y = synthetic(weeks=9, seed=11)
    n_test = 7 * 24
    fit = fit_seasonal_trend(y[:-n_test])
    p = fit.predict(n_test)
    test = y[-n_test:]
    c80 = np.mean((test >= p["lo80"]) & (test <= p["hi80"]))
    c95 = np.mean((test >= p["lo95"]) & (test <= p["hi95"]))
    assert 0.65 <= c80 <= 0.97, c80
    assert 0.85 <= c95 <= 1.0, c95
    assert c95 >= c80
    # intervals widen with the horizon (the growth slope's uncertainty): compare the same hour a week later
    w = np.log(fit.predict(2 * n_test)["hi95"]) - np.log(fit.predict(2 * n_test)["lo95"])
    assert w[n_test:].mean() > w[:n_test].mean()


def test_growth_confidence_interval_covers_the_true_growth():
    inside = []
    for seed in range(20):
        _, y = synthetic(weeks=8, seed=seed)
        fit = fit_seasonal_trend(y)
        lo, hi = fit.growth_interval(0.95)
        inside.append(lo < 0.3 < hi)
        assert 0.15 < fit.growth_per_year < 0.5
    assert sum(inside) >= 17, inside  # a 95 % interval: 18 of these 20 seeds at the time of writing


def test_threshold_crossing_months_from_known_growth():
    # 40 %/yr from a 50 % peak utilisation: 0.5 x 1.4^(m/12) = 0.8 -> m = 12 ln 1.6 / ln 1.4
    # = 12 x 0.470004 / 0.336472 = 16.7623 months (by hand, not with the function's formula)
    expected = 16.7623
    assert months_to_threshold(0.5, 0.4, 0.8) == pytest.approx(expected, abs=1e-4)
    # and the inverse: the peak grown for that many months is at the threshold
    assert 0.5 * 1.4 ** (months_to_threshold(0.5, 0.4, 0.8) / 12) == pytest.approx(0.8, rel=1e-12)
    ts, y = synthetic(weeks=16, growth=0.4, noise=0.03, seed=3)
    # scale so the fitted daily peak of the last week is ~50 % of a 10 Gbps link
    y = y * (5e9 / np.max(y[-7 * 24:] / np.exp(0.03)))
    r = forecast(frame_of(ts, y), holdout="7d", horizon="1100d", capacities_gbps={"link-a": 10.0})
    ev = r.evaluation.row(0, named=True)
    assert ev["peak_utilisation"] == pytest.approx(0.5, rel=0.08)
    assert ev["months_to_threshold"] == pytest.approx(expected, rel=0.15), ev
    assert ev["within_horizon"] is True
    short = forecast(frame_of(ts, y), holdout="0", horizon="90d", capacities_gbps={"link-a": 10.0})
    assert short.evaluation["within_horizon"][0] is False
    assert math.isnan(short.evaluation["model_mape"][0])


def test_months_to_threshold_edges():
    assert months_to_threshold(0.85, 0.3, 0.8) == 0.0
    assert months_to_threshold(0.5, -0.1, 0.8) == math.inf
    assert months_to_threshold(0.4, 1.0, 0.8) == pytest.approx(12.0)  # doubling a year: 40 % -> 80 % in 12 months


def test_four_weeks_of_five_minute_data_are_fitted_hourly():
    # (its speed is guarded in benchmarks/test_forecast.py, against a textbook statsmodels fit)
    ts, y = synthetic(weeks=4, step_s=300)
    r = forecast(frame_of(ts, y), holdout="7d", horizon="90d")
    ev = r.evaluation.row(0, named=True)
    assert ev["step_s"] == 3600 and ev["n_points"] == 4 * 7 * 24  # averaged to hourly
    # three weeks of fitting history (>= 2 weeks): weekly seasonality and a one-week naive lag
    assert ev["naive_lag"] == "1w"


def test_short_history_uses_daily_season_and_daily_naive():
    ts, y = synthetic(weeks=10 / 7)
    r = forecast(frame_of(ts, y), holdout="2d", horizon="1d")
    ev = r.evaluation.row(0, named=True)
    assert ev["periods"] == "24h" and ev["naive_lag"] == "1d"
    with pytest.raises(InputError, match="two days of history"):
        forecast(frame_of(ts[:72], y[:72]), holdout="2d")


def test_gaps_are_interpolated_and_counted():
    ts, y = synthetic(weeks=3)
    keep = np.ones(len(ts), dtype=bool)
    keep[100:110] = False
    r = forecast(frame_of([t for t, k in zip(ts, keep) if k], y[keep]), holdout="0", horizon="1d")
    assert r.evaluation["n_filled"][0] == 10
    assert r.evaluation["n_points"][0] == len(ts)


def test_seasonal_naive_and_mape():
    assert seasonal_naive(np.arange(10.0), 3, lag=4).tolist() == [6.0, 7.0, 8.0]
    assert mape([100, 50], [90, 60]) == pytest.approx(15.0)
    assert math.isnan(mape([0, 0], [1, 1]))


# ------------------------------------------------------------------------------------------ input
def write(tmp_path, text, name="t.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


@pytest.mark.parametrize("text, match", [
    ("time,series,bps\n2024-01-01T00:00,a,1\n", r"t\.csv: row 1: missing column 'timestamp'"),
    ("timestamp,series\n2024-01-01T00:00,a\n", r"row 1: missing column 'bps'"),
    ("timestamp,series,bps\n2024-01-01T00:00,a,1\n2024-13-01T00:00,a,1\n",
     r"t\.csv: row 3, column timestamp: expected an ISO 8601 timestamp .* found '2024-13-01T00:00'"),
    ("timestamp,series,bps\n2024-01-01T00:00,a,-5\n", r"row 2, column bps: expected a number >= 0, found '-5'"),
    ("timestamp,series,bps\n2024-01-01T00:00,a,lots\n", r"row 2, column bps: .* found 'lots'"),
    ("timestamp,series,bps\n2024-01-01T00:00,,5\n", r"row 2, column series: empty series name"),
    ("timestamp,series,bps\n2024-01-01T00:00,a,1\n2024-01-01T00:00,a,2\n", r"row 3, column timestamp: .* more than once"),
    ("timestamp,series,bps\n2024-01-01T00:00,a,1\n2024-01-01T01:00+09:00,a,2\n", r"row 3, column timestamp: .* mixes"),
])
def test_csv_validation_errors_name_file_row_and_column(tmp_path, text, match):
    with pytest.raises(InputError, match=match) as e:
        read_series_csv(write(tmp_path, text))
    assert "\n" not in str(e.value)


def test_csv_reads_offsets_as_utc(tmp_path):
    f = read_series_csv(write(tmp_path, "timestamp,series,bps,capacity_gbps\n2024-01-01T09:00:00+09:00,a,1,10\n"
                                        "2024-01-01T01:00:00Z,a,2,10\n"))
    assert f["timestamp"].to_list() == [datetime(2024, 1, 1, 0), datetime(2024, 1, 1, 1)]
    assert f["capacity_gbps"].to_list() == [10.0, 10.0]


def test_series_from_run_links_and_backbone(tmp_path):
    n = 4
    pl.DataFrame({"design": ["base"] * n + ["rix"] * n, "bin": list(range(n)) * 2, "ts_s": [300.0 * i for i in range(n)] * 2,
                  "src": ["a"] * 2 * n, "dst": ["b"] * 2 * n, "load_bytes": [0.0] * 2 * n,
                  "bps": [0.0, 1e9, 2e9, 3e9] * 2, "utilisation": [0.0, 0.1, 0.2, 0.3] * 2,
                  "dropped_bytes": [0.0] * 2 * n, "backbone": [True] * 2 * n}).write_parquet(tmp_path / "links.parquet")
    pl.DataFrame({"design": ["base"] * n, "bin": list(range(n)), "ts_s": [300.0 * i for i in range(n)],
                  "backbone_bps": [5.0, 6.0, 7.0, 8.0]}).write_parquet(tmp_path / "bins.parquet")
    links = series_from_run(tmp_path, kind="links", start=datetime(2025, 6, 1, 12))
    assert links["series"].unique().sort().to_list() == ["base/a->b", "rix/a->b"]
    assert links["capacity_gbps"].unique().to_list() == [pytest.approx(10.0)]
    assert links["timestamp"][3] == datetime(2025, 6, 1, 12, 15)
    bb = series_from_run(tmp_path, kind="backbone")
    assert bb["series"].unique().to_list() == ["base/backbone"] and bb["bps"].to_list() == [5.0, 6.0, 7.0, 8.0]
    with pytest.raises(InputError, match="kind must be"):
        series_from_run(tmp_path, kind="caches")


def test_series_from_run_regions_sum_services_per_region(tmp_path):
    pl.DataFrame({"design": ["base"] * 6, "bin": [0, 0, 0, 1, 1, 1], "ts_s": [0.0, 0.0, 0.0, 300.0, 300.0, 300.0],
                  "service": ["video", "web", "video", "video", "web", "video"],
                  "region": ["tochigi", "tochigi", "tokyo", "tochigi", "tochigi", "tokyo"],
                  "offered_bytes": [300e6, 75e6, 30e6, 600e6, 150e6, 60e6]}).write_parquet(tmp_path / "services.parquet")
    r = series_from_run(tmp_path, kind="regions")
    assert r["series"].unique().sort().to_list() == ["base/tochigi", "base/tokyo"]
    toch = r.filter(pl.col("series") == "base/tochigi")["bps"].to_list()
    assert toch == [pytest.approx(375e6 * 8 / 300), pytest.approx(750e6 * 8 / 300)]


def test_series_from_run_fills_bins_without_a_row_with_zero(tmp_path):
    # the engine writes a link's row only where it carried traffic
    pl.DataFrame({"design": ["base"] * 3, "bin": [0, 2, 3], "ts_s": [0.0, 600.0, 900.0], "src": ["a"] * 3,
                  "dst": ["b"] * 3, "bps": [1e9, 2e9, 3e9], "utilisation": [0.1, 0.2, 0.3]}).write_parquet(
        tmp_path / "links.parquet")
    pl.DataFrame({"design": ["base"] * 5, "bin": list(range(5)), "ts_s": [300.0 * i for i in range(5)],
                  "backbone_bps": [0.0] * 5}).write_parquet(tmp_path / "bins.parquet")
    f = series_from_run(tmp_path)
    assert f["bps"].to_list() == [1e9, 0.0, 2e9, 3e9, 0.0]


# ------------------------------------------------------------------------------------------ prefetch
def test_prefetch_ranks_recent_popularity_and_fills_capacity():
    rng = np.random.default_rng(0)
    rows = []
    # obj 1: popular two days ago, gone since; obj 2: steady; obj 3: rising today
    for ts in rng.uniform(0, 86400, 300):
        rows.append(("v", 1, float(ts), 1000))
    for ts in rng.uniform(0, 3 * 86400, 150):
        rows.append(("v", 2, float(ts), 1000))
    for ts in rng.uniform(2 * 86400, 3 * 86400, 120):
        rows.append(("v", 3, float(ts), 5000))
    h = pl.DataFrame(rows, schema={"provider": pl.Utf8, "obj": pl.UInt64, "ts": pl.Float64, "bytes": pl.Int64}, orient="row")
    ranked = prefetch_candidates(h, now_s=3 * 86400)
    assert ranked["obj"].to_list() == [3, 2, 1]
    # score = expected requests over the next day: obj 2's steady 50/day is estimated near 50
    assert ranked.filter(pl.col("obj") == 2)["score"][0] == pytest.approx(50, rel=0.3)
    assert prefetch_candidates(h, capacity_bytes=5500, now_s=3 * 86400)["obj"].to_list() == [3]
    assert prefetch_candidates(h, capacity_bytes=4000, now_s=3 * 86400)["obj"].to_list() == [2, 1]
    assert prefetch_candidates(h, top_k=2, now_s=3 * 86400)["obj"].to_list() == [3, 2]
    with pytest.raises(InputError):
        prefetch_candidates(h.drop("ts"))


# ------------------------------------------------------------------------------------------ CLI
def test_cli_forecast_ok(cli, tmp_path):
    ts, y = synthetic(weeks=4)
    csv = tmp_path / "traffic.csv"
    pl.DataFrame({"timestamp": [t.isoformat() for t in ts], "series": "tokyo-uplink", "bps": y}).write_csv(csv)
    caps = write(tmp_path, "series,capacity_gbps\ntokyo-uplink,4\n", name="caps.csv")
    out = tmp_path / "out"
    r = cli("forecast", str(csv), "--horizon", "30d", "--capacity-gbps-file", str(caps), "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert "tokyo-uplink" in r.stdout and "seasonal-naive MAPE" in r.stdout
    for name in ("forecast.parquet", "evaluation.csv", "evaluation.json", "forecast.png"):
        assert (out / name).stat().st_size > 0
    ev = json.loads((out / "evaluation.json").read_text())
    row = ev["series"][0]
    assert row["series"] == "tokyo-uplink" and row["capacity_gbps"] == 4.0 and row["model_mape"] < row["naive_mape"]
    assert pl.read_parquet(out / "forecast.parquet").height == 30 * 24
    assert (out / "forecast.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("content, match", [
    ("timestamp,series,bps\nyesterday,a,1\n", "row 2, column timestamp"),
    ("ts,series,bps\n2024-01-01,a,1\n", "missing column 'timestamp'"),
    ("timestamp,series,bps\n2024-01-01T00:00,a,1\n", "two days of history"),
])
def test_cli_forecast_bad_input_exits_2_with_one_line(cli, tmp_path, content, match):
    csv = write(tmp_path, content, name="bad.csv")
    r = cli("forecast", str(csv), "-o", str(tmp_path / "out"))
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr
    assert lines[0].startswith("netsim: error: ") and "bad.csv" in lines[0] and match in lines[0]


def test_cli_forecast_missing_file_exits_2(cli, tmp_path):
    r = cli("forecast", str(tmp_path / "nope.csv"), "-o", str(tmp_path / "out"))
    assert r.returncode == 2 and "nope.csv" in r.stderr and "Traceback" not in r.stderr


def test_cli_forecast_from_a_run_directory(cli, tmp_path):
    n = 15 * 24
    t = np.arange(n) * 3600.0
    bb = 1e10 * (1.2 + np.sin(2 * np.pi * t / 86400)) * (1 + 0.3 * t / (365.25 * 86400))
    pl.DataFrame({"design": "baseline", "bin": np.arange(n), "ts_s": t, "backbone_bps": bb}).write_parquet(
        tmp_path / "bins.parquet")
    out = tmp_path / "fc"
    r = cli("forecast", str(tmp_path), "--kind", "backbone", "--holdout", "2d", "--horizon", "7d", "--no-plot",
            "-o", str(out))
    assert r.returncode == 0, r.stderr
    ev = pl.read_csv(out / "evaluation.csv")
    assert ev["series"].to_list() == ["baseline/backbone"] and ev["model_mape"][0] < 1.0
    assert not (out / "forecast.png").exists()
    r = cli("forecast", str(tmp_path), "--kind", "links", "-o", str(out))
    assert r.returncode == 2 and "no links.parquet" in r.stderr


def test_frisch_waugh_fit_equals_the_full_dummy_regression():
    """The fitted model is statsmodels OLS of log(y + c) on [1, t, one dummy per phase] (the reference)."""
    from statsmodels.regression.linear_model import OLS

    _, y = synthetic(weeks=3, seed=4)
    fit = fit_seasonal_trend(y)
    n, period = len(y), fit.period
    t = np.arange(n + 48)
    x = np.zeros((len(t), period + 1))
    x[:, 0], x[:, 1] = 1.0, t
    ph = t % period
    x[ph > 0, 1 + ph[ph > 0]] = 1.0
    ref = OLS(np.log(y + fit.offset), x[:n]).fit(cov_type="HAC", cov_kwds={"maxlags": 24})
    assert fit.slope == pytest.approx(ref.params[1], rel=1e-9)
    assert fit.slope_var == pytest.approx(ref.cov_params()[1, 1], rel=0.05)  # HAC on the partialled data
    assert np.log(fit.predict(48)["mean"] + fit.offset) == pytest.approx(x[n:] @ ref.params, rel=1e-9)
    assert fit.resid_var == pytest.approx(ref.scale, rel=1e-9)


def test_prefetch_candidates_requests_column_counts_rows():
    """A compacted history (one row per object and hour with a requests count) ranks like the raw one."""
    rng = np.random.default_rng(3)
    raw = pl.DataFrame({"provider": rng.choice(["v", "w"], 3000).tolist(), "obj": rng.zipf(1.3, 3000) % 40,
                        "ts": np.sort(rng.uniform(0, 86400, 3000)), "bytes": 1000})
    compact = (raw.group_by(["provider", "obj", (pl.col("ts") // 3600).alias("h")])
               .agg(pl.len().alias("requests"), pl.col("bytes").last())
               .select("provider", "obj", ((pl.col("h") + 0.5) * 3600).alias("ts"), "bytes", "requests"))
    a = prefetch_candidates(raw, now_s=86400.0)
    b = prefetch_candidates(compact, now_s=86400.0)
    assert a["obj"].head(10).to_list() == b["obj"].head(10).to_list()
    np.testing.assert_allclose(a["score"].to_numpy(), b.join(a.select("provider", "obj"), on=["provider", "obj"])
                               .sort("score", descending=True)["score"].to_numpy(), rtol=0.02)
    assert prefetch_candidates(raw.reverse(), now_s=86400.0).equals(a)   # input order does not matter
