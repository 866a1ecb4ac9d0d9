"""The report of a run (OUT/report.html) and the side-by-side comparison of runs (``netsim compare``)."""

from netsim.report.compare import compare_runs
from netsim.report.data import RunOutput, load_run, load_summary
from netsim.report.render import render

__all__ = ["render", "compare_runs", "load_run", "load_summary", "RunOutput"]
