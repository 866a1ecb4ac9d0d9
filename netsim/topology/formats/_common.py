"""Shared plumbing of the foreign-format readers: reading files, validating a schema document, locating errors."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterable

import networkx as nx
from pydantic import ValidationError

from netsim.errors import InputError
from netsim.topology.build import model_to_graph
from netsim.topology.schema import NodeModel, TopologyModel
from netsim.yamlio import validation_error

__all__ = [
    "NETSIM_FORMAT", "NODE_FIELDS", "LINK_FIELDS", "read_text", "read_head", "read_json", "build_graph",
    "netsim_doc", "graph_meta", "slug", "check_keywords", "sniff_json",
]

#: Marker a netsim writer puts in the graph attributes: a file carrying it is read back exactly.
NETSIM_FORMAT = "netsim-topology-1"
NODE_FIELDS = tuple(f for f in NodeModel.model_fields if f != "id")
LINK_FIELDS = ("capacity_gbps", "latency_ms", "rel", "cost", "tags", "igp_metric")

_WHERE = re.compile(r"^(nodes|links)\[(\d+)\]\.?(.*)$")


def read_text(path: Path) -> str:
    """The text of a file; a missing, unreadable or non-UTF-8 file is an InputError."""
    if Path(path).exists() and not Path(path).is_file():   # a device or a pipe: read until the memory ran out
        raise InputError("not a regular file; expected a topology file", source=str(path))
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("no such file", source=str(path)) from None
    except UnicodeDecodeError as e:
        raise InputError(f"not UTF-8 text (byte {e.start}); expected a text file", source=str(path)) from None
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror or e}", source=str(path)) from None


def read_head(path: Path, nbytes: int = 1 << 20) -> str:
    """Up to ``nbytes`` of a file as text, for sniffing; never raises (an unreadable file sniffs as '')."""
    try:
        with open(path, "rb") as f:
            return f.read(nbytes).decode("utf-8", errors="replace")
    except OSError:
        return ""


def read_json(path: Path) -> Any:
    """Parse a JSON file (or take the document sniffing just parsed); a syntax error is an InputError naming line and column."""
    key = _sniff_key(path)
    if key is not None and key in _SNIFF_CACHE:
        return _SNIFF_CACHE.pop(key)
    text = read_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"JSON syntax error: {e.msg}", source=str(path), where=f"line {e.lineno}, column {e.colno}") from None


def slug(text: str) -> str:
    """Lower-case ``text`` with runs of anything but letters and digits turned into one ``-``.

    Examples
    --------
    >>> slug("  New York City ")
    'new-york-city'
    >>> slug("Frankfurt am Main")
    'frankfurt-am-main'
    """
    return re.sub(r"[^0-9a-z]+", "-", str(text).strip().lower()).strip("-")


def build_graph(doc: dict, *, source: str, nodes_at: list[str] | None = None, links_at: list[str] | None = None) -> nx.DiGraph:
    """Validate a schema document (TopologyModel) and build its DiGraph: the one path every reader takes.

    ``nodes_at[i]`` / ``links_at[i]`` say where node/link ``i`` came from in the foreign file (e.g.
    ``"line 17"``); an error about ``links[i].capacity_gbps`` is then reported at that place.
    """
    try:
        model = TopologyModel.model_validate(doc)
        return model_to_graph(model)
    except ValidationError as e:
        err = validation_error(e, source=source)
    except InputError as e:
        err = e.located(source=source)
    raise InputError(err.message, source=err.source, where=_relocate(err.where, nodes_at, links_at)) from None


def _relocate(where: str | None, nodes_at: list[str] | None, links_at: list[str] | None) -> str | None:
    m = _WHERE.match(where or "")
    if not m:
        return where
    table = nodes_at if m.group(1) == "nodes" else links_at
    i = int(m.group(2))
    if table is None or i >= len(table):
        return where
    return ", ".join(p for p in (table[i], m.group(3)) if p)


def graph_meta(g: nx.DiGraph) -> dict[str, Any]:
    """The graph-level part of a topology (name, description, metros, ases) as plain JSON-able data."""
    meta: dict[str, Any] = {"name": str(g.graph.get("name", "topology"))}
    if g.graph.get("description"):
        meta["description"] = str(g.graph["description"])
    meta["metros"] = {str(k): dict(v) for k, v in (g.graph.get("metros") or {}).items()}
    names, types = g.graph.get("as_names") or {}, g.graph.get("as_types") or {}
    ases = {}
    for a in sorted({int(x) for x in names} | {int(x) for x in types}):
        entry = {k: v for k, v in (("name", names.get(a)), ("type", types.get(a))) if v is not None}
        ases[str(a)] = entry
    meta["ases"] = ases
    return meta


def netsim_doc(meta: dict[str, Any], nodes: Iterable[tuple[str, dict]], edges: Iterable[tuple[str, str, dict]]) -> dict:
    """A schema document from a netsim-written file: every directed edge becomes one non-duplex link.

    Only the schema's node and link fields are kept (the file may carry others, e.g. the node-link
    ``id`` or a GraphML edge id); None values mean "absent".
    """
    doc: dict[str, Any] = {"name": meta.get("name") or "topology"}
    if meta.get("description"):
        doc["description"] = meta["description"]
    if meta.get("metros"):
        doc["metros"] = meta["metros"]
    if meta.get("ases"):
        doc["ases"] = meta["ases"]
    doc["nodes"] = [{"id": n, **{k: v for k, v in d.items() if k in NODE_FIELDS and v is not None}} for n, d in nodes]
    doc["links"] = [{"src": u, "dst": v, "duplex": False, **{k: x for k, x in d.items() if k in LINK_FIELDS and x is not None}}
                    for u, v, d in edges]
    return doc


def check_keywords(**checks: tuple[bool, str]) -> None:
    """Raise InputError for the first keyword whose check failed: ``name=(ok, expected)``."""
    for name, (ok, expected) in checks.items():
        if not ok:
            raise InputError(f"{name}: expected {expected}")



_SNIFF_CACHE: dict[tuple[str, int, int], Any] = {}


def sniff_json(path: Path) -> Any:
    """The parsed JSON document of a file for sniffing, or None if it is not JSON; never raises.

    NOTE: two readers sniff ``.json`` files before one reads them; the parse is cached per
    (path, mtime, size) so a large PeeringDB dump is not parsed three times.
    """
    key = _sniff_key(path)
    if key is None or not Path(path).is_file():
        return None
    try:
        if key not in _SNIFF_CACHE:
            _SNIFF_CACHE.clear()
            with open(path, "rb") as f:
                _SNIFF_CACHE[key] = json.loads(f.read().decode("utf-8"))
        return _SNIFF_CACHE[key]
    except (OSError, ValueError):
        return None


def _sniff_key(path: Path) -> tuple[str, int, int] | None:
    try:
        st = Path(path).stat()
        return (str(Path(path).resolve()), st.st_mtime_ns, st.st_size)
    except OSError:
        return None
