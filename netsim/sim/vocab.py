"""The integer vocabulary of one design run: node, region, service and served-from codes.

Inside a bin every id is an integer; strings appear only when the tables are written. Node codes
are the routing core's node indices (``CompiledNet.nodes``, the sorted node ids), which the cache
system numbers the same way. Regions, services and served-from classes are numbered in sorted
order of their names, so sorting by code sorts by name (the tables are sorted by name).
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

from netsim.traffic.schema import SERVICES

__all__ = ["Vocab", "SERVED_FROM", "NO_COPY"]

#: Where the bytes a client received came from (the ``served_from`` column of the pairs table), sorted.
SERVED_FROM: tuple[str, ...] = tuple(sorted((
    "core metro", "no copy reachable", "other region", "overseas", "own ISP", "own cache", "regional peer",
    "shared cache")))
NO_COPY = SERVED_FROM.index("no copy reachable")


@dataclass
class Vocab:
    """Codes of a run and the per-node attributes the per-bin arrays need."""

    nodes: list[str]
    regions: list[str]
    services: list[str]
    node_region: np.ndarray    # int32 region code per node
    node_asn: np.ndarray       # int64 ASN code per node (equal ASNs, equal codes)
    node_cache: np.ndarray     # bool: a cache node
    node_overseas: np.ndarray  # bool: in a metro the topology marks ``overseas``
    node_core: np.ndarray      # bool: in a core metro

    @classmethod
    def of(cls, g: nx.DiGraph, nodes: list[str]) -> "Vocab":
        if sorted(str(n) for n in g.nodes) != list(nodes):
            raise ValueError("the node order must be the sorted node ids")
        attrs = [g.nodes[n] for n in nodes]
        regions = sorted({str(d["region"]) for d in attrs})
        rcode = {r: i for i, r in enumerate(regions)}
        asns = sorted({str(d.get("asn")) for d in attrs})
        acode = {a: i for i, a in enumerate(asns)}
        metros = g.graph.get("metros", {})
        core = {m for m, d in metros.items() if d.get("core")}
        abroad = {m for m, d in metros.items() if d.get("overseas")}
        return cls(
            nodes=list(nodes), regions=regions, services=sorted(SERVICES),
            node_region=np.array([rcode[str(d["region"])] for d in attrs], dtype=np.int32),
            node_asn=np.array([acode[str(d.get("asn"))] for d in attrs], dtype=np.int64),
            node_cache=np.array([d.get("kind") == "cache" for d in attrs], dtype=bool),
            node_overseas=np.array([d.get("metro") in abroad for d in attrs], dtype=bool),
            node_core=np.array([d.get("metro") in core for d in attrs], dtype=bool),
        )

    def served_from(self, src: np.ndarray, client: np.ndarray, no_copy: np.ndarray) -> np.ndarray:
        """Code in :data:`SERVED_FROM` of where bytes sent by ``src`` to ``client`` came from (see :meth:`_classify`);
        from a table of every (sender, client) pair when the topology is small enough (≤ 3,000 nodes)."""
        n = len(self.nodes)
        if n <= 3000:
            table = getattr(self, "_served_table", None)
            if table is None:
                s, c = np.divmod(np.arange(n * n), n)
                table = self._served_table = self._classify(s, c, np.zeros(n * n, bool)).astype(np.int8).reshape(n, n)
            out = table[src, client].astype(np.int32)
            out[no_copy] = NO_COPY
            return out
        return self._classify(src, client, no_copy)

    def _classify(self, src: np.ndarray, client: np.ndarray, no_copy: np.ndarray) -> np.ndarray:
        """Code in :data:`SERVED_FROM` of where bytes sent by ``src`` to ``client`` came from.

        Own or shared cache (a cache node, of the client's AS or not), own ISP (the client's AS), overseas,
        a core metro, a regional peer (same region) or another region; ``no copy reachable`` where
        ``no_copy``.
        """
        same_as = self.node_asn[src] == self.node_asn[client]
        cond = [no_copy, self.node_cache[src] & ~same_as, self.node_cache[src], same_as, self.node_overseas[src],
                self.node_core[src], self.node_region[src] == self.node_region[client]]
        names = ["no copy reachable", "shared cache", "own cache", "own ISP", "overseas", "core metro", "regional peer"]
        return np.select(cond, [SERVED_FROM.index(x) for x in names],
                         default=SERVED_FROM.index("other region")).astype(np.int32)
