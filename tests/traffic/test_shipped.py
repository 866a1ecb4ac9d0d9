"""The shipped traces: valid on their topologies, and regenerated exactly by the commands in traces/README.md."""

import shlex

import polars as pl
import pyarrow.parquet as pq
import pytest

from netsim.cli import main
from netsim.data import resolve_path
from netsim.traffic import read_trace, trace_meta


def _commands():
    readme = resolve_path("traces", "tochigi-1d").parent / "README.md"
    lines = [ln.strip()[2:] for ln in readme.read_text().splitlines() if ln.strip().startswith("$ netsim trace gen")]
    assert len(lines) == 3
    return lines


@pytest.mark.parametrize("name, topology", [("tochigi-1d", "tochigi"), ("tochigi-prev-1d", "tochigi"), ("japan-1h", "japan")])
def test_shipped_trace_is_valid_on_its_topology(name, topology):
    df = read_trace(name, topology).collect()
    meta = trace_meta(name)
    assert meta["topology"] == topology and meta["scale"] == 1 / meta["sample_rate"] > 1
    assert df.height > 50_000 and df["ts"].is_sorted()
    assert set(df["provider"].drop_nulls()) == {"game", "overseas-video", "update", "video", "web"}


@pytest.mark.parametrize("command", _commands(), ids=["tochigi-1d", "tochigi-prev-1d", "japan-1h"])
def test_documented_command_regenerates_the_shipped_trace(tmp_path, command):
    argv = shlex.split(command)[1:]
    i = argv.index("-o")
    shipped = resolve_path("traces", argv[i + 1].split("/")[-1].removesuffix(".parquet"))
    argv[i + 1] = str(tmp_path / "regen.parquet")
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code in (0, None)
    regen = tmp_path / "regen.parquet"
    assert pl.read_parquet(regen).equals(pl.read_parquet(shipped))
    assert trace_meta(regen) == trace_meta(shipped)
    if pq.ParquetFile(regen).metadata.created_by == pq.ParquetFile(shipped).metadata.created_by:
        assert regen.read_bytes() == shipped.read_bytes()



def test_documented_command_regenerates_the_shipped_history(tmp_path):
    readme = resolve_path("traces", "tochigi-1d").parent / "README.md"
    (line,) = [ln.strip()[2:] for ln in readme.read_text().splitlines() if ln.strip().startswith("$ netsim trace history")]
    argv = shlex.split(line)[1:]
    i = argv.index("-o")
    shipped = resolve_path("traces", argv[i + 1].split("/")[-1])
    argv[i + 1] = str(tmp_path / "regen.csv")
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code in (0, None)
    assert (tmp_path / "regen.csv").read_bytes() == shipped.read_bytes()
