"""Traffic traces: the schema, streaming readers and writers, time bins, spatial sampling, synthetic generators."""

from netsim.traffic.binning import bins
from netsim.traffic.generators import (
    GENERATORS, FlashCrowd, GeneratedTrace, Surge, UpdateDay, content, gravity, mixed,
)
from netsim.traffic.io import READERS, read_trace, trace_meta, write_trace
from netsim.traffic import importers as _importers  # noqa: F401, E402  (registers nfdump, libCacheSim, oracleGeneral)
from netsim.traffic.sampling import in_sample, sample_trace
from netsim.traffic.schema import SCHEMA, SERVICES

__all__ = [
    "GENERATORS", "READERS", "SCHEMA", "SERVICES", "FlashCrowd", "GeneratedTrace", "Surge", "UpdateDay", "bins",
    "content", "gravity", "in_sample", "mixed", "read_trace", "sample_trace", "trace_meta", "write_trace",
]
