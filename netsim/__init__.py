"""netsim: what-if simulation of Internet traffic distribution (regional IXs, shared caches, aggregated ISPs, failures)."""

from netsim.errors import InputError
from netsim.topology import load_topology, save_topology

__version__ = "0.1.0"
__all__ = ["InputError", "load_topology", "save_topology", "__version__"]
