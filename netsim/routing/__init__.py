"""Routing: compile a topology to arrays, valley-free inter-AS + ECMP/hot-potato intra-AS routes, demand assignment.

Semantics (also in :mod:`netsim.routing.compiled` and :mod:`netsim.routing.reference`):

* **Between ASes, valley-free (Gao-Rexford)**, per destination AS D: every AS chooses among the
  routes its neighbours export to it: customer-learned > peer-learned > provider-learned, then the
  shortest AS path, then the lowest next-hop ASN (``multipath=True``: all equally-best neighbour
  ASes). Customer-learned and own routes are exported to everyone, peer- and provider-learned
  routes only to customers. Relationships come from links between ASes (``rel``); IXs are
  transparent route servers (their members peer; the IX is never an AS-path hop).
* **Inside an AS**, shortest paths by the IGP weight over the AS's own links. Nodes of D route to
  the destination node t directly. A node u of another AS X leaves X at its cheapest exit toward
  one of X's chosen next-hop ASes (**hot potato**: exit cost = IGP distance to the egress node +
  the exit link's weight; an IX crossing ``egress -> ix -> w`` weighs its two links); only exits
  whose far end reaches t count. After the exit, traffic follows the next AS's routing.
* **ECMP per hop**: at every node, traffic toward t splits equally among all next hops of equal
  cost (relative tolerance 1e-9), exits included.
* Nodes that cannot reach t under these rules are **unreachable** for t; assignment reports
  such demands instead of dropping them silently.
* One AS with internal links is plain ECMP shortest-path routing.

Examples
--------
>>> import netsim.routing
>>> net = netsim.routing.compile(netsim.load_topology("examples/valley_free"))
>>> routes = net.route()
>>> routes.paths("s", "p2")
[(['s', 'c3', 'p2'], 1.0)]
"""

from netsim.routing.compiled import CompiledNet, UnknownNodeError, compile_graph
from netsim.routing.routes import Routes, duplex

__all__ = ["compile", "CompiledNet", "Routes", "UnknownNodeError", "duplex"]


def compile(g, *, igp_weight: str = "latency_ms") -> CompiledNet:  # noqa: A001 - the issue's API name
    """Compile a topology graph for routing (see :func:`netsim.routing.compiled.compile_graph`).

    Examples
    --------
    >>> import netsim.routing
    >>> net = netsim.routing.compile(netsim.load_topology("examples/two_as"), igp_weight="hops")
    >>> len(net.nodes), len(net.links)
    (5, 12)
    """
    return compile_graph(g, igp_weight=igp_weight)
