"""The netsim command: help everywhere, one-line errors with exit 2, topo check/convert/show."""

from __future__ import annotations

import pytest



def test_help_lists_commands(cli):
    r = cli("--help")
    assert r.returncode == 0 and "topo" in r.stdout
    for sub in (["topo", "--help"], ["topo", "check", "--help"], ["topo", "show", "--help"], ["topo", "convert", "--help"]):
        assert cli(*sub).returncode == 0, sub


def test_topo_check_prints_summary(cli):
    r = cli("topo", "check", "examples/two_as")
    assert r.returncode == 0, r.stderr
    assert "two_as: OK" in r.stdout and "45,000" in r.stdout and "c2p 2" in r.stdout


def test_bad_file_exits_2_with_one_line(tmp_path, cli):
    p = tmp_path / "bad.yaml"
    p.write_text("name: x\nnodes:\n  - {id: a, kind: pop, asn: 1, metro: m, lat: 1, lon: 1}\nlinks:\n  - {src: a, dst: b, capacity_gbps: 1}\n")
    r = cli("topo", "check", str(p))
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert lines == [f"netsim: error: {p}: links[0].dst (line 5): link endpoint 'b' is not a node"]


def test_missing_path_exits_2(tmp_path, cli):
    r = cli("topo", "check", str(tmp_path / "missing.yaml"))
    assert r.returncode == 2 and "Traceback" not in r.stderr and "no such file" in r.stderr


def test_convert_round_trip_and_show(tmp_path, cli):
    out = tmp_path / "t.yaml"
    r = cli("topo", "convert", "examples/valley_free", str(out))
    assert r.returncode == 0, r.stderr
    assert cli("topo", "check", str(out)).returncode == 0
    png = tmp_path / "t.png"
    r = cli("topo", "show", "examples/two_as", "-o", str(png))
    assert r.returncode == 0, r.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    r = cli("topo", "show", "examples/two_as", "-o", str(tmp_path / "t.bmp"))
    assert r.returncode == 2 and "expected .png, .svg or .pdf" in r.stderr


@pytest.mark.parametrize("args", [["topo", "check"], ["nosuchcommand"]])
def test_usage_errors_exit_2(args, cli):
    r = cli(*args)
    assert r.returncode == 2 and "Traceback" not in r.stderr
