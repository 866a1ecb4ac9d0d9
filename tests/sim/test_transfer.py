"""Transfer time: a row's bytes are spread over size / traffic.transfer_mbps from its ts, across the bins it spans."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from netsim.scenario import load_scenario
from netsim.sim.demands import Spread
from netsim.sim.run import run
from netsim.traffic.schema import SCHEMA


def test_spread_splits_a_row_by_time_and_keeps_every_byte():
    s = Spread(b=0, bin_s=300.0, rate_bps=20e6)
    here, (rows, ahead, amount) = s.in_bin(np.array([100.0, 10.0]), np.array([5e9, 1e6]))
    # 5 GB at 20 Mbit/s: 2,000 s from t = 100: 200 s in bin 0, then six whole bins (1,800 s)
    assert here[0] == pytest.approx(5e9 * 200 / 2000) and here[1] == 1e6
    assert rows.tolist() == [0] * 6 and ahead.tolist() == [1, 2, 3, 4, 5, 6]
    np.testing.assert_allclose(amount, 5e9 * 300 / 2000)
    assert here[0] + amount.sum() == 5e9


def _scenario(tmp_path, transfer):
    rows = [(100.0, "a1", "a3", None, None, 5_000_000_000, "p2p"), (200.0, "a2", "a1", None, None, 1_000_000, "p2p")]
    pl.DataFrame(rows, schema=SCHEMA, orient="row").write_parquet(tmp_path / "t.parquet")
    (tmp_path / "sc.yaml").write_text(
        "name: x\ntopology: examples/two_as\n"
        f"traffic: {{trace: t.parquet, scale: 1, transfer_mbps: {transfer}}}\nbin_s: 300\nduration: 1h\n")
    return load_scenario(tmp_path / "sc.yaml")


@pytest.mark.parametrize("transfer", ["null", 20, 5])
def test_the_engine_spreads_bytes_and_conserves_them(tmp_path, transfer):
    b = run(_scenario(tmp_path, transfer)).bins
    off = b["offered_bytes"].to_numpy()
    np.testing.assert_allclose(off, (b["delivered_bytes"] + b["dropped_bytes"] + b["unreachable_bytes"]).to_numpy(),
                               rtol=1e-9)
    if transfer == "null":
        assert off[0] == 5_001_000_000 and off[1:].sum() == 0
    elif transfer == 20:      # 2,000 s: bins 0..6, every byte inside the hour
        assert off.sum() == pytest.approx(5_001_000_000)
        assert (off[1:7] > 0).all() and off[7:].sum() == 0
        assert off.max() < 0.2 * off.sum()
    else:                     # 8,000 s at 5 Mbit/s: what runs past the hour is not simulated
        assert 0 < off.sum() < 5e9 * 3600 / 8000 + 2e6
        assert (off > 0).all()


def test_spreading_is_deterministic_and_counts_requests_once(tmp_path):
    a, b = run(_scenario(tmp_path, 20)), run(_scenario(tmp_path, 20))
    assert a.bins.equals(b.bins) and a.links.equals(b.links)
