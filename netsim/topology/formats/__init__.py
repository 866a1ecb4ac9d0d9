"""Readers and writers for foreign topology formats; each module registers itself in READERS/WRITERS.

Formats: Topology Zoo GraphML and netsim's own GraphML (:mod:`.graphml`), SNDlib native
(:mod:`.sndlib`), networkx node-link JSON as topohub ships it (:mod:`.nodelink`), CAIDA
AS-relationship files (:mod:`.caida`) and PeeringDB JSON (:mod:`.peeringdb`).
"""

from netsim.topology.formats import caida, graphml, nodelink, peeringdb, sndlib  # noqa: F401

__all__: list[str] = []
