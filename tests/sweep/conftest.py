"""Sweep test fixtures: a tiny triangle topology where losing one uplink overloads the other, and a real
Dask LocalCluster (2 worker processes) shared by the tests of this directory."""

from __future__ import annotations

import textwrap

import polars as pl
import pytest

from netsim.traffic.schema import SCHEMA
from netsim_testing import TRI_TOPOLOGY

# the triangle a1, a2 - t1 (its capacities: netsim_testing.TRI_TOPOLOGY)
TOPO = TRI_TOPOLOGY

N_BINS = 4
BIN_S = 300
FLOW_BYTES = 45_000_000_000


def make_trace() -> pl.DataFrame:
    rows = []
    for b in range(N_BINS):
        for k in range(4):
            for dst in ("a1", "a2"):
                rows.append((b * BIN_S + 10.0 + k, "t1", dst, None, None, FLOW_BYTES, "web"))
        rows.append((b * BIN_S + 20.0, "a1", "a2", None, None, 1_000_000_000, "game"))
    rows.sort(key=lambda r: r[0])
    return pl.DataFrame(rows, schema=SCHEMA, orient="row")


def write_scenario(d, *, designs="[baseline]", failures="") -> str:
    d.mkdir(parents=True, exist_ok=True)
    (d / "topo.yaml").write_text(TOPO)
    make_trace().write_parquet(d / "trace.parquet")
    (d / "sc.yaml").write_text(textwrap.dedent(f"""\
        name: tri
        topology: topo.yaml
        traffic: {{trace: trace.parquet, scale: 1.0, transfer_mbps: null}}   # exact per-bin bytes
        bin_s: {BIN_S}
        duration: {N_BINS * BIN_S}
        seed: 5
        designs: {designs}
        """) + failures)
    return str(d / "sc.yaml")


@pytest.fixture
def make_scenario():
    """``make_scenario(dir, designs=..., failures=...)`` -> path of a triangle scenario file written there."""
    return write_scenario


@pytest.fixture
def tri(tmp_path):
    """Path of the triangle scenario file (its topology and trace beside it)."""
    return write_scenario(tmp_path / "scenario")


@pytest.fixture(scope="session")
def cluster(tmp_path_factory):
    """A real LocalCluster: 2 worker processes, 1 thread each (what `netsim sweep --workers 2` starts).

    The tests' task wrappers live in ``tests.sweep.test_dask``; Dask pickles them by reference, so the
    worker processes (and the ones a nanny restarts) must be able to import ``tests``. Spawned
    processes start from this process's sys.path, so an entry is appended holding only a link to
    the tests folder: ``netsim`` still comes from the installed package, never from the source tree.
    """
    import sys
    from pathlib import Path

    from dask.distributed import LocalCluster

    shim = tmp_path_factory.mktemp("worker-path")
    (shim / "tests").symlink_to(Path(__file__).resolve().parent.parent, target_is_directory=True)
    sys.path.append(str(shim))
    c = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, scheduler_port=0,
                     silence_logs=40)
    yield c
    c.close()


@pytest.fixture
def client(cluster):
    from dask.distributed import Client

    with Client(cluster) as c:
        c.wait_for_workers(2, timeout=60)
        yield c
