"""Time bins: every row in exactly one bin, empty bins yielded, same result from a path, a LazyFrame or a DataFrame."""

import polars as pl
import pytest

from netsim.errors import InputError
from netsim.traffic import bins, mixed, read_trace, write_trace


def test_bins_of_a_small_trace(small_trace):
    out = list(bins(small_trace, bin_s=300))
    assert [b for b, _ in out] == [0.0, 300.0, 600.0, 900.0]
    assert [f.height for _, f in out] == [4, 0, 0, 1]
    assert out[1][1].schema == small_trace.schema


def test_path_lazy_and_frame_agree_across_batches(tmp_path, two_as):
    df = mixed(two_as, duration_s=3 * 3600, seed=1, sample_rate=0.01).collect()
    p = tmp_path / "t.parquet"
    write_trace(df, p, row_group_rows=5000)
    a = list(bins(p, bin_s=60, batch_rows=4096))
    b = list(bins(read_trace(p), bin_s=60, batch_rows=777))
    c = list(bins(df, bin_s=60))
    assert len(a) == len(b) == len(c) == 180
    for (ta, fa), (tb, fb), (tc, fc) in zip(a, b, c):
        assert ta == tb == tc
        assert fa.equals(fb) and fa.equals(fc)
        if fa.height:
            assert fa["ts"].min() >= ta and fa["ts"].max() < ta + 60
    assert sum(f.height for _, f in a) == df.height


def test_bins_validate_a_path_while_streaming(tmp_path, small_trace):
    p = tmp_path / "bad.parquet"
    small_trace.with_columns(pl.when(pl.col("ts") > 800).then(-1).otherwise(pl.col("bytes")).alias("bytes")).write_parquet(p)
    it = bins(p, bin_s=300)
    with pytest.raises(InputError, match="row 4, column bytes"):
        list(it)


def test_bins_reject_unsorted_frames_and_bad_width(small_trace):
    with pytest.raises(InputError, match="backwards"):
        list(bins(small_trace.reverse(), bin_s=300))
    with pytest.raises(InputError, match="bin_s must be > 0"):
        bins(small_trace, bin_s=0)


def test_bins_without_validation_give_the_same_bins(tmp_path, small_trace):
    p = tmp_path / "t.parquet"
    write_trace(small_trace, p)
    a = [(t, f.height) for t, f in bins(p, bin_s=300)]
    assert a == [(t, f.height) for t, f in bins(p, bin_s=300, validate=False)] == [(0.0, 4), (300.0, 0), (600.0, 0), (900.0, 1)]
