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
