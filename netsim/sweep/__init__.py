"""What-if sweeps on Dask: designs × failure sets × growth × seeds, resumable, with worst-case tables and a CI gate.

See :func:`netsim.sweep.run.run_sweep` (the API), ``netsim sweep`` and ``netsim check`` (the CLI).
"""

from netsim.sweep.grid import expand_failures, expand_grid, failure_label, load_failure_file
from netsim.sweep.run import SweepResult, run_sweep
from netsim.sweep.worst import link_violations, region_violations, worst_links, worst_regions

__all__ = ["run_sweep", "SweepResult", "expand_grid", "expand_failures", "failure_label", "load_failure_file",
           "worst_links", "worst_regions", "link_violations", "region_violations"]
