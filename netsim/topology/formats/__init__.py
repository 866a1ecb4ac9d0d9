"""Readers and writers for foreign topology formats; each module registers itself in READERS/WRITERS.

Formats (see each module's docstring for the mapping and the assumptions it makes):
Topology Zoo GraphML and netsim's own GraphML (:mod:`.graphml`, reader ``graphml``, writer
``graphml``), SNDlib native with its demands (:mod:`.sndlib`, ``sndlib``), networkx node-link JSON
as topohub ships it and netsim's own (:mod:`.nodelink`, reader and writer ``nodelink``), CAIDA
AS-relationship files (:mod:`.caida`, ``caida``) and PeeringDB JSON (:mod:`.peeringdb`,
``peeringdb``). ``.txt`` and ``.json`` files are claimed by content (each reader's ``sniff``).
The ``read_*`` functions take keyword options (default AS, capacities, latencies, unit scale)
that ``load_topology`` leaves at their documented defaults.
"""

from netsim.topology.formats.caida import read_caida
from netsim.topology.formats.graphml import read_graphml, write_graphml
from netsim.topology.formats.nodelink import read_nodelink, write_nodelink
from netsim.topology.formats.peeringdb import read_peeringdb
from netsim.topology.formats.sndlib import read_sndlib

__all__ = ["read_caida", "read_graphml", "read_nodelink", "read_peeringdb", "read_sndlib", "write_graphml", "write_nodelink"]
