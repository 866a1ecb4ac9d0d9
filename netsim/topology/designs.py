"""Designs: named, declarative transforms of a topology (registered by name, keyword-only parameters).

A scenario's design is a list of transforms applied in order to a copy of the topology; the
design's name is what the outputs call it. ``baseline`` is the topology as drawn.
"""

from __future__ import annotations

import inspect

import networkx as nx

from netsim.errors import InputError
from netsim.registry import Registry

__all__ = ["DESIGNS", "apply_design"]

DESIGNS: Registry = Registry("design transform")


@DESIGNS.register("baseline")
def baseline(g: nx.DiGraph) -> nx.DiGraph:
    """The topology as drawn."""
    return g


def apply_design(g: nx.DiGraph, name: str, transforms: list[dict], *, source: str | None = None,
                 where: str = "designs") -> nx.DiGraph:
    """Apply a design's transforms (``[{transform_name: {param: value}}, ...]``) to a copy of ``g``.

    A design with no transforms whose name is a registered transform applies that transform with
    its defaults (so ``designs: [baseline]`` works). Unknown transforms or parameters raise an
    InputError naming the place in the scenario file.

    Examples
    --------
    >>> from netsim import load_topology
    >>> g = load_topology("examples/two_as")
    >>> apply_design(g, "baseline", []).number_of_edges() == g.number_of_edges()
    True
    >>> apply_design(g, "x", [{"nope": {}}])
    Traceback (most recent call last):
    ...
    netsim.errors.InputError: designs.transforms[0]: unknown design transform 'nope'; known: baseline
    """
    out = g.copy()
    steps = transforms or ([{name: {}}] if name in DESIGNS else None)
    if steps is None:
        raise InputError(f"design {name!r} has no transforms and is not a known transform; known: {', '.join(DESIGNS.names())}",
                         source=source, where=where)
    for i, step in enumerate(steps):
        at = f"{where}.transforms[{i}]"
        if not isinstance(step, dict) or len(step) != 1:
            raise InputError("expected one {transform: {parameters}} mapping", source=source, where=at)
        (tname, params), = step.items()
        if tname not in DESIGNS:
            raise InputError(f"unknown design transform {tname!r}; known: {', '.join(DESIGNS.names())}", source=source, where=at)
        fn = DESIGNS[tname]
        params = params or {}
        if not isinstance(params, dict):
            raise InputError(f"parameters of {tname} must be a mapping", source=source, where=f"{at}.{tname}")
        allowed = [p for p in inspect.signature(fn).parameters.values() if p.kind is inspect.Parameter.KEYWORD_ONLY]
        unknown = sorted(set(params) - {p.name for p in allowed})
        if unknown:
            raise InputError(f"unknown parameter {unknown[0]!r} of {tname}; expected one of: {', '.join(p.name for p in allowed) or 'none'}",
                             source=source, where=f"{at}.{tname}.{unknown[0]}")
        try:
            out = fn(out, **params)
        except InputError as e:
            raise e.located(source=source, where_prefix=f"{at}.{tname}") from None
    out.graph["design"] = name
    return out
