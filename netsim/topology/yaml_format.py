"""The native topology format: YAML validated by netsim.topology.schema."""

from __future__ import annotations

import re
from pathlib import Path

import networkx as nx

from netsim.errors import InputError
from netsim.topology.build import graph_to_dict, model_to_graph
from netsim.topology.schema import TopologyModel
from netsim.yamlio import dump_yaml, line_for, load_yaml_model

__all__ = ["read_yaml", "write_yaml"]

_LOC = re.compile(r"(\w+)|\[(\d+)\]")


def _loc_tuple(where: str) -> tuple:
    return tuple(int(i) if i else name for name, i in _LOC.findall(where))


def read_yaml(path: str | Path) -> nx.DiGraph:
    """Read a native YAML topology. Errors are InputErrors naming the file, path and line."""
    model, root = load_yaml_model(path, TopologyModel)
    try:
        return model_to_graph(model)
    except InputError as e:
        line = line_for(root, _loc_tuple(e.where or ""))
        where = f"{e.where} (line {line})" if line and e.where else e.where
        raise InputError(e.message, source=str(path), where=where) from None


def write_yaml(g: nx.DiGraph, path: str | Path) -> None:
    """Write a topology graph as native YAML (duplex pairs folded back into one link)."""
    dump_yaml(graph_to_dict(g), path, header=g.graph.get("header"))
