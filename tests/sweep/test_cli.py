"""`netsim sweep` and `netsim check` as a user runs them (subprocesses), against the shared cluster by
address where a cluster is needed, and once with the default local cluster."""

from __future__ import annotations

import polars as pl
import pytest


def test_check_fails_with_the_violating_rows_when_one_failure_overloads_a_link(cli, tri, cluster):
    r = cli("check", tri, "--failures", "n-1-link", "--max-util", "0.8", "--scheduler", cluster.scheduler_address)
    assert r.returncode == 1, r.stderr
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("VIOLATION")]
    # losing either uplink puts both PoPs' 48% on the other: 96% > 80%, nothing else breaks the bound
    assert len(lines) == 2, r.stdout
    assert any("link t1 -> a2" in ln and "failure: link a1<->t1" in ln and "96.0% > 80.0%" in ln for ln in lines)
    assert any("link t1 -> a1" in ln and "failure: link a2<->t1" in ln for ln in lines)
    assert "check FAILED" in r.stdout


def test_check_one_design_of_several(cli, make_scenario, tmp_path, cluster):
    """--design restricts the grid (a gate for the design a consortium picked); an unknown name lists the designs."""
    sc = make_scenario(tmp_path / "two", designs="[baseline, {name: twin, transforms: [{baseline: {}}]}]")
    args = ("check", sc, "--failures", "n-1-link", "--max-util", "0.8", "--scheduler", cluster.scheduler_address)
    both = [ln for ln in cli(*args).stdout.splitlines() if ln.startswith("VIOLATION")]
    r = cli(*args, "--design", "twin")
    assert r.returncode == 1, r.stderr
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("VIOLATION")]
    assert len(both) == 4 and len(lines) == 2 and all("design: twin" in ln for ln in lines)
    assert "(5 tasks, failures n-1-link)" in r.stdout   # one design: the reference and its four duplex links
    r = cli(*args, "--design", "nope")
    assert r.returncode == 2 and "no design 'nope' in the scenario (it has baseline, twin)" in r.stderr


def test_check_passes_when_the_bounds_hold(cli, tri, cluster):
    r = cli("check", tri, "--failures", "n-1-link", "--max-util", "0.97", "--min-availability", "0.99",
            "--scheduler", cluster.scheduler_address)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "check passed" in r.stdout and "VIOLATION" not in r.stdout


def test_check_availability_bound_names_the_region_and_failure(cli, tri, cluster):
    r = cli("check", tri, "--failures", "n-1-node", "--min-availability", "0.99", "--availability", "all",
            "--scheduler", cluster.scheduler_address)
    assert r.returncode == 1
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("VIOLATION")]
    assert any("region r1" in ln and "failure: node a1" in ln and "availability (all) 0.0%" in ln for ln in lines)
    assert any("region r2" in ln and "failure: node a2" in ln for ln in lines)


def test_check_availability_counts_survivors_by_default(cli, tri, cluster):
    """A region whose only PoP is down has no survivors: no design could serve it, so it is no violation; losing
    the Tokyo node t1 still is (the regions' own PoPs are up and get nothing from the origin)."""
    r = cli("check", tri, "--failures", "n-1-node", "--min-availability", "0.99", "--scheduler", cluster.scheduler_address)
    assert r.returncode == 1
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("VIOLATION")]
    assert lines and all("availability (survivors)" in ln for ln in lines)
    assert not any("failure: node a1" in ln and "region r1" in ln for ln in lines)
    assert any("failure: node t1" in ln and "region r1" in ln for ln in lines)
    r = cli("check", tri, "--min-availability", "0.9", "--availability", "most", "--scheduler", cluster.scheduler_address)
    assert r.returncode == 2 and "--availability" in r.stderr


@pytest.mark.parametrize("args, message", [
    (["--max-util", "-1"], "--max-util"),
    (["--failures", "n-1-everything", "--max-util", "0.8"], "--failures"),
    (["--max-util", "0.8", "--growth", "1,x"], "--growth"),
    (["--max-util", "0.8", "--workers", "0"], "--workers"),
    ([], "at least one bound"),
])
def test_check_bad_flags_exit_2_with_one_line(cli, tri, args, message):
    r = cli("check", tri, *args)
    assert r.returncode == 2, r.stdout + r.stderr
    err = r.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("netsim: error:") and message in err[0], r.stderr


def test_check_unknown_scenario_exits_2(cli, tmp_path):
    r = cli("check", str(tmp_path / "nope.yaml"), "--max-util", "0.8")
    assert r.returncode == 2 and r.stderr.startswith("netsim: error:")


def test_sweep_cli_local_cluster_writes_tables_and_resumes(cli, tri, tmp_path):
    out = tmp_path / "out"
    r = cli("sweep", tri, "--failures", "n-1-metro", "--growth", "1.0,2.0", "--workers", "1", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert "8 tasks: 8 run now, 0 already done" in r.stderr
    assert "worst-case links" in r.stdout and "worst-case availability by region" in r.stdout
    res = pl.read_parquet(out / "results.parquet")
    assert res.height == 8 and set(res["growth"]) == {1.0, 2.0}
    wl = pl.read_parquet(out / "worst_links.parquet")
    # a metro failure cuts off its PoP rather than rerouting: the worst is twice the traffic with nothing down
    top = wl.row(0, named=True)
    assert (top["growth"], top["failure"], top["demand_utilisation"]) == (2.0, "none", pytest.approx(0.96))
    wr = pl.read_parquet(out / "worst_regions.parquet")
    # over survivors (the default), a region's own dark metro leaves none of it to serve; the worst failure is
    # Tokyo's: r1 gets nothing, r2 only the a1 -> a2 flow (1 GB of 181 GB a bin)
    assert sorted(wr.select("region", "growth", "failure", "availability").rows()) == [
        ("r1", 1.0, "metro tk", 0.0), ("r1", 2.0, "metro tk", 0.0),
        ("r2", 1.0, "metro tk", pytest.approx(1 / 181)), ("r2", 2.0, "metro tk", pytest.approx(1 / 181))]
    regions = pl.read_parquet(out / "regions.parquet")
    # over all subscribers, each region is cut off by its own metro
    own = regions.filter(pl.col("failure") == "metro m1", pl.col("region") == "r1")
    assert own["availability_all"].to_list() == [0.0, 0.0] and own["availability"].null_count() == 2
    # without tk only the a1 -> a2 flow (1 GB of 181 GB a bin) still arrives
    tk = regions.filter(pl.col("failure") == "metro tk").sort("region", "growth")
    assert tk["availability"].to_list() == [0.0, 0.0, pytest.approx(1 / 181), pytest.approx(1 / 181)]
    html = (out / "sweep.html").read_text()
    assert "<table>" in html and "t1 &rarr; a2" in html
    assert len(list((out / "tasks").glob("*.json"))) == 8
    r = cli("sweep", tri, "--failures", "n-1-metro", "--growth", "1.0,2.0", "--workers", "1", "-o", str(out))
    assert r.returncode == 0 and "8 tasks: 0 run now, 8 already done" in r.stderr


@pytest.mark.slow
def test_unreachable_scheduler_is_one_error_line(cli, tri):
    r = cli("check", tri, "--max-util", "0.8", "--scheduler", "tcp://127.0.0.1:1")
    assert r.returncode == 2
    err = r.stderr.strip().splitlines()
    assert len(err) == 1 and "cannot connect to the Dask scheduler" in err[0], r.stderr


@pytest.mark.slow
@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_a_signal_to_the_process_group_ends_a_sweep_promptly_with_one_line(tmp_path, sig):
    """As a script or a job scheduler stops it: the signal reaches the sweep and its worker processes alike; the
    sweep cancels what is left, keeps the tasks done, exits 130 with one line and no worker tracebacks."""
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "sw"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    p = subprocess.Popen([sys.executable, "-m", "netsim", "sweep", "tochigi", "--failures", "n-1-metro", "--workers", "2",
                          "-o", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True, cwd=tmp_path, env=env)
    try:
        deadline = time.monotonic() + 300   # until the first task is written (the cluster started, work is under way)
        while time.monotonic() < deadline and p.poll() is None and not any(out.glob("tasks/*.json")):
            time.sleep(0.5)
        assert p.poll() is None, p.stderr.read()
        t0 = time.monotonic()
        os.killpg(p.pid, getattr(signal, sig))
        _, err = p.communicate(timeout=60)
        took = time.monotonic() - t0
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
    assert p.returncode == 130 and took < 30, (p.returncode, took, err[-2000:])
    lines = [ln for ln in err.splitlines() if ln.strip() and "━" not in ln and not ln.startswith(("sweep", "tasks"))]
    assert "Traceback" not in err and lines[-1].startswith("interrupted: the tasks already done are kept"), err[-2000:]
    assert any(out.joinpath("tasks").glob("*.json"))
