"""Failure timelines: scheduled events (node, link, whole metro, whole AS) and random failures (MTBF/MTTR).

A timeline is a sorted list of :class:`Change` (time, +1 down / -1 up, element). Elements are
``("node", id)`` or ``("link", (u, v))`` for one direction; a link failure in a scenario takes
both directions. An element down for two overlapping reasons is up only when both are repaired,
so the state keeps a down-count per element.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

from netsim.errors import InputError
from netsim.scenario import FailureSpec

__all__ = ["Change", "FailureState", "build_timeline", "check_random_failures", "random_elements", "resolve_target", "MAX_RANDOM_FAILURES"]


@dataclass(frozen=True, order=True)
class Change:
    t_s: float
    order: int  # tie-break: repairs before failures at the same instant, then by cause index
    delta: int  # +1 = goes down, -1 = comes back up
    kind: str  # "node" or "link"
    element: object
    cause: str


def resolve_target(g: nx.DiGraph, kind: str, value, *, where: str, source: str | None = None) -> list[tuple[str, object]]:
    """The elements one failure target takes down; InputError if the target names nothing in the topology."""
    if kind == "node":
        if value not in g:
            raise InputError(f"node {value!r} is not in the topology", source=source, where=where)
        return [("node", value)]
    if kind == "link":
        u, v = value
        edges = [(a, b) for a, b in ((u, v), (v, u)) if g.has_edge(a, b)]
        if not edges:
            raise InputError(f"link {u}-{v} is not in the topology", source=source, where=where)
        return [("link", e) for e in edges]
    attr = {"metro": "metro", "asn": "asn"}[kind]
    nodes = sorted(n for n, d in g.nodes(data=True) if d.get(attr) == value)
    if not nodes and kind == "metro":
        # the readers turn place names into ids (New York -> new-york): accept the name as written in the file
        from netsim.topology.formats._common import slug

        nodes = sorted(n for n, d in g.nodes(data=True) if slug(str(d.get("metro"))) == slug(str(value)))
    if not nodes:
        import difflib

        known = sorted({str(d.get(attr)) for _, d in g.nodes(data=True)})
        close = difflib.get_close_matches(str(value), known, n=3)
        hint = (f"did you mean {', '.join(close)}?" if close else
                "known: " + ", ".join(known[:8]) + (", ..." if len(known) > 8 else ""))
        raise InputError(f"no node has {attr} {value!r} ({hint})", source=source, where=where)
    return [("node", n) for n in nodes]


#: The most random failures a run may draw (a failure and its repair each change the routes): `mtbf_h: 1e-9`
#: drew until a MemoryError after 7 GB
MAX_RANDOM_FAILURES = 100_000


def check_random_failures(kind: str, rates, n_elements: int, duration_s: float, *, source: str | None = None) -> None:
    """InputError when ``n_elements`` failing at ``rates`` (mtbf_h, mttr_h) would draw more than
    :data:`MAX_RANDOM_FAILURES` failures over ``duration_s`` (expected count: one per mtbf + mttr per element).

    Examples
    --------
    >>> from netsim.scenario import RandomFailures
    >>> check_random_failures("link", RandomFailures(mtbf_h=1e-6, mttr_h=1e-6), 10, 3600.0)
    Traceback (most recent call last):
    ...
    netsim.errors.InputError: failures.random.link.mtbf_h: about 5,000,000 random link failures over the run (10 links, ...
    """
    cycle_s = (rates.mtbf_h + rates.mttr_h) * 3600.0
    expected = n_elements * duration_s / cycle_s
    if expected > MAX_RANDOM_FAILURES:
        raise InputError(f"about {expected:,.0f} random {kind} failures over the run ({n_elements:,} {kind}s, "
                         f"{duration_s:,.0f} s, mtbf_h {rates.mtbf_h:g} + mttr_h {rates.mttr_h:g}); at most "
                         f"{MAX_RANDOM_FAILURES:,}: expected a larger mtbf_h", source=source,
                         where=f"failures.random.{kind}.mtbf_h")


def random_elements(g: nx.DiGraph, kind: str) -> list[list[tuple[str, object]]]:
    """What random failures of ``kind`` take down, one entry each: a non-origin node, or a link's two directions."""
    if kind == "node":
        return [[("node", n)] for n in sorted(g.nodes, key=str) if g.nodes[n]["kind"] != "origin"]
    pairs = sorted({tuple(sorted((u, v), key=str)) for u, v in g.edges}, key=lambda e: (str(e[0]), str(e[1])))
    return [[("link", e) for e in ((u, v), (v, u)) if g.has_edge(*e)] for u, v in pairs]


def build_timeline(g: nx.DiGraph, spec: FailureSpec, *, duration_s: float, seed: int, source: str | None = None) -> list[Change]:
    """All changes over ``[0, duration_s)``, sorted. Random failures are drawn per element in sorted order from ``seed``."""
    out: list[Change] = []
    for i, ev in enumerate(spec.schedule):
        kind, value = ev.target
        where = f"failures.schedule[{i}].{kind}"
        cause = f"{kind} {'-'.join(value) if kind == 'link' else value} at {ev.at:g}s"
        for ek, el in resolve_target(g, kind, value, where=where, source=source):
            out.append(Change(ev.at, 1, +1, ek, el, cause))
            out.append(Change(ev.at + ev.duration, 0, -1, ek, el, cause))
    rng = np.random.default_rng(seed)
    for kind in ("link", "node"):
        rates = spec.random.get(kind)
        if rates is None:
            continue
        elements = random_elements(g, kind)
        check_random_failures(kind, rates, len(elements), duration_s, source=source)
        for els in elements:
            t = 0.0
            while True:
                t += rng.exponential(rates.mtbf_h * 3600.0)
                if t >= duration_s:
                    break
                repair = rng.exponential(rates.mttr_h * 3600.0)
                cause = f"random {kind} {els[0][1]}"
                for ek, el in els:
                    out.append(Change(t, 1, +1, ek, el, cause))
                    out.append(Change(t + repair, 0, -1, ek, el, cause))
                t += repair
    out.sort(key=lambda c: (c.t_s, c.order, c.kind, str(c.element), c.cause))
    return out


class FailureState:
    """Which nodes and links are down now (down-counts, so overlapping causes nest)."""

    def __init__(self) -> None:
        self._count: dict[tuple[str, object], int] = {}

    def apply(self, change: Change) -> None:
        key = (change.kind, change.element)
        n = self._count.get(key, 0) + change.delta
        if n < 0:
            raise AssertionError(f"{key} repaired more often than it failed")
        if n:
            self._count[key] = n
        else:
            self._count.pop(key, None)

    @property
    def nodes(self) -> frozenset:
        return frozenset(e for (k, e) in self._count if k == "node")

    @property
    def links(self) -> frozenset:
        return frozenset(e for (k, e) in self._count if k == "link")

    def key(self) -> tuple:
        """A hashable, order-independent snapshot (for caching routes per failure state)."""
        return (tuple(sorted(map(str, self.nodes))), tuple(sorted((str(u), str(v)) for u, v in self.links)))
