"""What importing netsim pulls in: a scenario loads without networkx and polars (fast start of every CLI
command and of a Dask worker), and the trace readers are all registered once netsim.traffic is imported."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path


def _fresh(code: str) -> str:
    """``code`` in a new interpreter importing the netsim the tests use (not the source tree of the working directory)."""
    import netsim

    env = dict(os.environ, PYTHONPATH=str(Path(netsim.__file__).resolve().parent.parent))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env,
                          cwd=tempfile.gettempdir()).stdout.strip()


def test_importing_the_scenario_model_does_not_import_the_heavy_libraries():
    out = _fresh("import sys, netsim.scenario; print(sorted(m for m in ('networkx', 'polars', 'statsmodels', 'scipy') "
                 "if m in sys.modules))")
    assert out == "[]"


def test_netsim_load_topology_is_still_there():
    assert _fresh("import netsim; print(netsim.load_topology('examples/two_as').number_of_nodes() > 0)") == "True"


def test_every_trace_reader_is_registered_by_importing_netsim_traffic():
    out = _fresh("import netsim.traffic as t; print(','.join(t.READERS.names()))")
    assert set(out.split(",")) == {"csv", "parquet", "nfdump", "libcachesim-csv", "oracle-general"}
