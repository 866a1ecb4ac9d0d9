"""Topologies: the schema, file formats, adoption of networkx graphs, checks and summaries."""

from netsim.topology.adopt import from_networkx
from netsim.topology.build import TopologyWarning, check_reachability, default_latency_ms, great_circle_km
from netsim.topology.io import READERS, WRITERS, Reader, load_topology, save_topology
from netsim.topology.summary import summarize

__all__ = [
    "READERS", "WRITERS", "Reader", "TopologyWarning", "check_reachability", "default_latency_ms",
    "from_networkx", "great_circle_km", "load_topology", "save_topology", "summarize",
]
