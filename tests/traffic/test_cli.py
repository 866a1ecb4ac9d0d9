"""``netsim trace gen|info``: files written, summaries printed, bad input is one line and exit 2."""

import pytest

from netsim.cli import main
from netsim.traffic import read_trace, trace_meta


def _run(argv, capsys):
    try:
        main(argv)
        code = 0
    except SystemExit as e:
        code = e.code or 0
    out = capsys.readouterr()
    return code, out.out, out.err


def test_gen_then_info_with_plot(tmp_path, capsys):
    out = tmp_path / "t.parquet"
    code, so, se = _run(["trace", "gen", "-t", "examples/two_as", "--duration", "2h", "--seed", "3", "-o", str(out),
                         "-p", "0.002", "--surge", "--flash-crowd", "tokyo@01:00", "--update-day", "00:30"], capsys)
    assert code == 0, se
    assert "wrote" in so and "scale 500" in so
    meta = trace_meta(out)
    assert meta["seed"] == 3 and meta["params"]["surge"]["weekday_daytime"] == 0.4
    assert meta["params"]["flash_crowds"][0]["start_s"] == 3600.0 and meta["params"]["update_days"][0]["start_s"] == 1800.0
    assert read_trace(out).collect()["ts"].max() < 7200
    png = tmp_path / "p.png"
    code, so, se = _run(["trace", "info", str(out), "--plot", str(png)], capsys)
    assert code == 0, se
    for word in ("rows", "peak-to-mean", "by service", "by provider", "top pairs", "video"):
        assert word in so
    assert png.stat().st_size > 1000


@pytest.mark.parametrize("argv, msg", [
    (["trace", "gen", "-t", "examples/two_as", "--duration", "1x", "-o", "X"], "bad duration '1x'"),
    (["trace", "gen", "-t", "examples/two_as", "-g", "nope", "-o", "X"], "unknown trace generator 'nope'"),
    (["trace", "gen", "-t", "examples/two_as", "-g", "gravity", "--zipf-alpha", "0.9", "-o", "X"], "--zipf-alpha does not apply"),
    (["trace", "gen", "-t", "examples/two_as", "--flash-crowd", "mars@21:00", "-o", "X"], "no access PoP in region 'mars'"),
    (["trace", "gen", "-t", "examples/two_as", "-p", "2", "-o", "X"], "sample_rate must be in (0, 1]"),
    (["trace", "gen", "-t", "nope-topology", "-o", "X"], "nope-topology"),
    (["trace", "info", "missing.parquet"], "missing.parquet"),
    (["trace", "gen", "-t", "examples/two_as", "-o", "out.txt"], "unknown trace file extension '.txt'"),
])
def test_bad_flags_and_files_are_one_line_exit_2(tmp_path, capsys, argv, msg):
    argv = [str(tmp_path / "x.parquet") if a == "X" else a for a in argv]
    code, so, se = _run(argv, capsys)
    assert code == 2
    assert se.count("\n") == 1 and se.startswith("netsim: error:") and msg in se


def test_info_on_a_bad_file(tmp_path, capsys):
    p = tmp_path / "bad.csv"
    p.write_text("ts,src,dst,provider,obj,bytes,service\n0,a1,a2,,,-3,p2p\n")
    code, so, se = _run(["trace", "info", str(p)], capsys)
    assert code == 2 and "row 0 (line 2), column bytes" in se and se.count("\n") == 1


def test_convert_imports_an_nfdump_export(tmp_path, capsys):
    src = tmp_path / "flows.csv"
    src.write_text("ts,te,td,sa,da,sp,dp,pr,ibyt\n"
                   "2024-11-01 21:00:01,2024-11-01 21:00:02,1.0,10.0.0.1,10.1.0.1,443,50000,TCP,5000\n"
                   "2024-11-01 21:00:00,2024-11-01 21:00:02,2.0,10.1.0.1,10.2.0.1,5060,5060,UDP,700\n"
                   "2024-11-01 21:00:03,2024-11-01 21:00:04,1.0,192.0.2.1,10.2.0.1,1,2,UDP,9\n")
    table = tmp_path / "prefixes.csv"
    table.write_text("prefix,node\n10.0.0.0/16,a1\n10.1.0.0/16,a2\n10.2.0.0/16,a3\n")
    out = tmp_path / "flows.parquet"
    argv = ["trace", "convert", str(src), str(out), "-f", "nfdump", "-O", f"prefixes={table}", "-O", "unmapped=drop",
            "-t", "examples/two_as", "--scale", "10"]
    code, so, se = _run(argv, capsys)
    assert code == 2 and "row 1, column ts" in se and "backwards" in se  # the export is not in time order
    code, so, se = _run(argv + ["--sort"], capsys)
    assert code == 0, se
    df = read_trace(out).collect()
    assert df["src"].to_list() == ["a2", "a1"] and df["service"].to_list() == ["voice", "web"]
    meta = trace_meta(out)
    assert meta["scale"] == 10 and meta["dropped_unmapped"] == 1 and meta["start"].startswith("2024-11-01T21:00")
    code, so, se = _run(["trace", "convert", str(src), str(out), "-f", "nfdump", "-O", "nonsense"], capsys)
    assert code == 2 and "bad reader option 'nonsense'" in se
