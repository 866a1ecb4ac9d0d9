"""Reading, writing and validating traces: every error is one line naming file, row and column."""

import polars as pl
import pytest

from netsim.errors import InputError
from netsim.traffic import read_trace, trace_meta, write_trace
from netsim.traffic.io import BATCH_ROWS

from .conftest import make_trace


def test_parquet_round_trip_keeps_rows_types_and_meta(tmp_path, small_trace):
    p = tmp_path / "t.parquet"
    assert write_trace(small_trace, p, meta={"scale": 250.0, "sample_rate": 0.004}) == 5
    back = read_trace(p).collect()
    assert back.equals(small_trace)
    assert back.schema == small_trace.schema
    m = trace_meta(p)
    assert (m["scale"], m["sample_rate"]) == (250.0, 0.004)


def test_csv_round_trip_and_sidecar_meta(tmp_path, small_trace):
    p = tmp_path / "t.csv"
    write_trace(small_trace, p, meta={"scale": 4.0})
    assert (tmp_path / "t.csv.meta.json").is_file()
    assert read_trace(p).collect().equals(small_trace)
    assert trace_meta(p)["scale"] == 4.0


def test_file_without_meta_is_a_full_trace(tmp_path, small_trace):
    p = tmp_path / "plain.parquet"
    small_trace.write_parquet(p)
    assert trace_meta(p)["scale"] == 1.0
    assert read_trace(p).collect().height == 5


def test_write_is_deterministic(tmp_path, small_trace):
    write_trace(small_trace, tmp_path / "a.parquet", meta={"scale": 2.0})
    write_trace(small_trace, tmp_path / "b.parquet", meta={"scale": 2.0})
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()


def test_write_streams_an_iterable_of_chunks(tmp_path, small_trace):
    p = tmp_path / "t.parquet"
    n = write_trace((small_trace.slice(i, 2) for i in range(0, 5, 2)), p, row_group_rows=2)
    assert n == 5 and read_trace(p).collect().equals(small_trace)


def _err(tmp_path, df, name="bad.parquet", **kw) -> str:
    p = tmp_path / name
    if name.endswith(".csv"):
        df.write_csv(p)
    else:
        df.write_parquet(p)
    with pytest.raises(InputError) as e:
        read_trace(p, **kw)
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith(str(p))
    return msg


def test_missing_column(tmp_path, small_trace):
    msg = _err(tmp_path, small_trace.drop("service"))
    assert "column service" in msg and "missing column" in msg


def test_wrong_type_parquet(tmp_path, small_trace):
    msg = _err(tmp_path, small_trace.with_columns(pl.col("bytes").cast(pl.String)))
    assert "column bytes" in msg and "wrong type" in msg


def test_wrong_type_csv_names_row_line_and_column(tmp_path, small_trace):
    df = small_trace.with_columns(pl.col("bytes").cast(pl.String))
    df = df.with_columns(pl.when(pl.int_range(pl.len()) == 3).then(pl.lit("12kB")).otherwise(pl.col("bytes")).alias("bytes"))
    msg = _err(tmp_path, df, "bad.csv")
    assert "row 3 (line 5), column bytes" in msg and "'12kB'" in msg


def test_bytes_not_positive(tmp_path, small_trace):
    msg = _err(tmp_path, small_trace.with_columns(pl.when(pl.int_range(pl.len()) == 2).then(0).otherwise(pl.col("bytes")).alias("bytes")))
    assert "row 2, column bytes" in msg and "bytes must be > 0, found 0" in msg


def test_null_src(tmp_path, small_trace):
    msg = _err(tmp_path, small_trace.with_columns(pl.when(pl.int_range(pl.len()) == 1).then(None).otherwise(pl.col("src")).alias("src")))
    assert "row 1, column src" in msg and "src is null" in msg


@pytest.mark.parametrize("row, col", [
    ((0.0, "a1", None, None, None, 10, "p2p"), "dst"),           # nothing says where it goes
    ((0.0, "a1", "a2", "video", 3, 10, "video"), "dst"),         # a request with a dst
    ((0.0, "a1", None, None, 3, 10, "video"), "provider"),       # a request without provider
    ((0.0, "a1", "a2", "video", None, 10, "p2p"), "provider"),   # a flow with a provider
    ((0.0, "a1", None, "video", None, 10, "video"), "obj"),      # provider but no obj
])
def test_neither_flow_nor_request(tmp_path, small_trace, row, col):
    df = pl.concat([small_trace.head(1), make_trace([row]).with_columns(pl.col("ts") + 1.0)])
    msg = _err(tmp_path, df)
    assert f"row 1, column {col}" in msg and "neither a flow" in msg


def test_unknown_service(tmp_path, small_trace):
    msg = _err(tmp_path, small_trace.with_columns(pl.lit("email").alias("service")))
    assert "row 0, column service" in msg and "'email'" in msg


def test_node_not_in_topology(tmp_path, small_trace, two_as):
    df = small_trace.with_columns(pl.when(pl.int_range(pl.len()) == 3).then(pl.lit("zz")).otherwise(pl.col("dst")).alias("dst"))
    msg = _err(tmp_path, df, topology=two_as)
    assert "row 3, column dst" in msg and "'zz' is not a node of topology 'two_as'" in msg
    read_trace(tmp_path / "bad.parquet")  # without a topology, any id is fine


def test_time_going_backwards_and_sort(tmp_path, small_trace):
    df = small_trace.with_columns(pl.when(pl.int_range(pl.len()) == 3).then(0.5).otherwise(pl.col("ts")).alias("ts"))
    msg = _err(tmp_path, df)
    assert "row 3, column ts" in msg and "backwards" in msg and "sort=True" in msg
    out = read_trace(tmp_path / "bad.parquet", sort=True).collect()
    assert out["ts"].is_sorted() and out.height == 5


def test_error_in_a_later_batch_has_the_global_row_number(tmp_path):
    n = BATCH_ROWS + 1000
    df = pl.DataFrame({"ts": pl.arange(0, n, eager=True).cast(pl.Float64), "src": ["a1"] * n, "dst": ["a2"] * n,
                       "provider": pl.Series([None] * n, dtype=pl.String), "obj": pl.Series([None] * n, dtype=pl.UInt64),
                       "bytes": pl.Series([100] * n, dtype=pl.Int64), "service": ["p2p"] * n})
    bad = BATCH_ROWS + 17
    df = df.with_columns(pl.when(pl.int_range(pl.len()) == bad).then(-5).otherwise(pl.col("bytes")).alias("bytes"))
    msg = _err(tmp_path, df)
    assert f"row {bad}, column bytes" in msg


def test_write_validates_too(tmp_path, small_trace):
    with pytest.raises(InputError, match="row 0, column bytes"):
        write_trace(small_trace.with_columns(pl.lit(-1).alias("bytes")), tmp_path / "x.parquet")
    assert not (tmp_path / "x.parquet").exists()


def test_unknown_extension_and_missing_file(tmp_path):
    (tmp_path / "t.txt").write_text("x")
    with pytest.raises(InputError, match="unknown trace file extension"):
        read_trace(tmp_path / "t.txt")
    with pytest.raises(InputError, match="no such file"):
        read_trace(tmp_path / "nope.parquet")


def test_reader_options_are_checked(tmp_path, small_trace):
    p = tmp_path / "t.parquet"
    write_trace(small_trace, p)
    with pytest.raises(InputError, match="unknown reader option 'prefixes'"):
        read_trace(p, options={"prefixes": {}})
    with pytest.raises(InputError, match="unknown trace format 'nope'"):
        read_trace(p, format="nope")


def test_write_trace_makes_the_directory_of_a_new_file(tmp_path):
    from netsim.traffic import write_trace
    from netsim.traffic.schema import SCHEMA

    df = pl.DataFrame([(0.0, "a", "b", None, None, 10, "p2p")], schema=SCHEMA, orient="row")
    p = tmp_path / "new" / "dir" / "t.parquet"
    assert write_trace(df, p) == 1 and p.is_file()
