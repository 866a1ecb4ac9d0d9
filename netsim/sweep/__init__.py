"""What-if sweeps on Dask: designs × failure sets × growth × seeds, resumable, with worst-case tables and a CI gate.

See :func:`netsim.sweep.run.run_sweep` (the API), ``netsim sweep`` and ``netsim check`` (the CLI)::

    netsim sweep tochigi --failures n-1-metro --growth 1.0,1.2,1.5 --workers 2 -o out/
    netsim sweep SCENARIO --failures n-2-metro:20 --scheduler tcp://host:8786 -o out/   # an existing cluster
    netsim check SCENARIO --failures n-1-link --max-util 0.8 --min-availability 0.99    # exit 1 on a violation

Each failure set is down for the whole run (a steady-state what-if). Re-running a sweep into the
same directory resumes it: tasks whose result file exists are not recomputed.
"""

from netsim.sweep.grid import expand_failures, expand_grid, failure_label, load_failure_file
from netsim.sweep.run import SweepResult, run_sweep
from netsim.sweep.worst import link_violations, region_violations, worst_links, worst_regions

__all__ = ["run_sweep", "SweepResult", "expand_grid", "expand_failures", "failure_label", "load_failure_file",
           "worst_links", "worst_regions", "link_violations", "region_violations"]
