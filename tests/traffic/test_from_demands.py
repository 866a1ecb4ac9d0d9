"""A flow trace from a demand matrix: its mean is the demand, it follows the diurnal shape, it replays."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from netsim.errors import InputError
from netsim.traffic.demands import flows_from_demands


def test_each_pair_s_mean_rate_is_its_demand_and_the_evening_is_the_peak():
    demands = [("a", "b", 2.0), ("b", "c", 0.5), ("c", "a", 1.0)]
    df, meta = flows_from_demands(demands, unit="Gbps", duration_s=86400, sample_rate=0.05, seed=3)
    assert meta["scale"] == 20.0 and meta["demand_unit"] == "Gbps"
    got = df.group_by("src", "dst").agg((pl.col("bytes").sum() * 8 * meta["scale"] / 86400).alias("bps")).sort("src")
    for (s, d, v), bps in zip(sorted(demands), got["bps"].to_list()):
        assert bps == pytest.approx(v * 1e9, rel=0.03), (s, d)   # ~17,000 rows per Gbps-day: ~1 % noise
    hourly = df.group_by((pl.col("ts") // 3600).alias("h")).agg(pl.col("bytes").sum()).sort("h")["bytes"].to_numpy()
    assert int(np.argmax(hourly)) in (20, 21, 22) and hourly.max() / hourly.mean() > 1.3
    again, _ = flows_from_demands(demands, unit="Gbps", duration_s=86400, sample_rate=0.05, seed=3)
    assert again.equals(df)


def test_bad_inputs():
    with pytest.raises(InputError, match="--unit"):
        flows_from_demands([("a", "b", 1.0)], unit="furlongs")
    with pytest.raises(InputError, match="--sample-rate"):
        flows_from_demands([("a", "b", 1.0)], unit="Mbps", sample_rate=2)
    with pytest.raises(InputError, match="no demand"):
        flows_from_demands([("a", "a", 1.0)], unit="Mbps")


def test_the_cli_writes_a_trace_that_replays_on_the_network(tmp_path, cli):
    """topohub's Abilene: adopt it, make its demands a trace (kbps: ~3 Gbps in all), replay it; every flow is
    delivered between two PoPs of the network."""
    pytest.importorskip("topohub")
    r = cli("topo", "adopt", "topohub:sndlib/abilene", "-o", str(tmp_path / "ab.yaml"), "--capacity-gbps", "100",
            cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = cli("trace", "from-demands", "topohub:sndlib/abilene", "-o", str(tmp_path / "d.parquet"), "--unit", "kbps",
            "--duration", "1h", "--start-hour", "20", "--sample-rate", "0.1", cwd=tmp_path)
    assert r.returncode == 0 and "from 132 demands" in r.stdout, r.stderr
    (tmp_path / "s.yaml").write_text("name: s\ntopology: ab.yaml\ntraffic: {trace: d.parquet}\nresilience: {n1: false}\n")
    r = cli("run", str(tmp_path / "s.yaml"), "-o", str(tmp_path / "out"), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    b = pl.read_parquet(tmp_path / "out" / "bins.parquet")
    assert b["unreachable_bytes"].sum() == 0 and b["delivered_bytes"].sum() == pytest.approx(b["offered_bytes"].sum())
    r = cli("trace", "from-demands", "examples/two_as", "-o", str(tmp_path / "x.parquet"), "--unit", "Mbps")
    assert r.returncode == 2 and "no demand matrix" in r.stderr
