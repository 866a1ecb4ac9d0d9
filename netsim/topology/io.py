"""Load and save topologies in any supported format (chosen by extension, or sniffed)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import networkx as nx

from netsim.data import resolve_path
from netsim.errors import InputError
from netsim.registry import Registry
from netsim.topology.build import check_reachability, warn_all
from netsim.topology.yaml_format import read_yaml, write_yaml

__all__ = ["READERS", "WRITERS", "Reader", "load_topology", "save_topology"]


@dataclass(frozen=True)
class Reader:
    """A topology reader: ``read(path) -> DiGraph``; ``sniff(path) -> bool`` claims a file by content."""

    read: Callable[[Path], nx.DiGraph]
    extensions: tuple[str, ...]
    sniff: Callable[[Path], bool] | None = None


READERS: Registry[Reader] = Registry("topology format")
WRITERS: Registry[Callable[[nx.DiGraph, Path], None]] = Registry("topology writer")

READERS.register("yaml")(Reader(read=read_yaml, extensions=(".yaml", ".yml")))
WRITERS.register("yaml")(write_yaml)
_WRITER_EXT = {".yaml": "yaml", ".yml": "yaml", ".graphml": "graphml", ".json": "nodelink"}


def _pick_reader(path: Path) -> str:
    suffix = path.suffix.lower()
    candidates = [n for n in READERS if suffix in READERS[n].extensions]
    if len(candidates) > 1:
        for n in candidates:
            sniff = READERS[n].sniff
            if sniff is not None and sniff(path):
                return n
    if candidates:
        return candidates[0]
    known = sorted({e for n in READERS for e in READERS[n].extensions})
    raise InputError(f"unknown topology file extension {suffix!r}; expected one of {', '.join(known)} (or pass format=)", source=str(path))


def _topohub_file(spec: str) -> Path:
    """``topohub:GROUP/NAME`` (e.g. ``topohub:sndlib/abilene``): the topology as the topohub package ships it
    (``pip install topohub``), written to netsim's cache as node-link JSON for the ``nodelink`` reader."""
    import json

    key = spec.split(":", 1)[1]
    try:
        import topohub
    except ImportError:
        raise InputError("the topohub package is not installed (pip install topohub)", where=spec) from None
    try:
        try:
            doc = topohub.get(key, use_names=True)   # the cities' names as node ids, where topohub can
        except (ValueError, AssertionError):
            doc = topohub.get(key)
    except (KeyError, OSError, ValueError):
        raise InputError(f"topohub has no topology {key!r} (keys look like sndlib/abilene, topozoo/Geant2012)",
                         where=spec) from None
    from netsim.traffic.recipes import cache_dir

    out = cache_dir() / "topohub" / (key.replace("/", "__") + ".json")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(doc, sort_keys=True))
    tmp.replace(out)
    return out


def load_topology(path: str | Path, *, format: str | None = None, warn: bool = True) -> nx.DiGraph:
    """Load a topology file (YAML, GraphML, SNDlib, node-link JSON, CAIDA, PeeringDB) or a shipped name.

    Parameters
    ----------
    path : a file path, a shipped topology name such as ``"tochigi"`` or ``"japan"``, or ``topohub:GROUP/NAME``
        (a topology of the topohub package, when installed: ``topohub:sndlib/abilene``).
    format : a reader name (see ``READERS.names()``); default: by extension, sniffing content if ambiguous.
    warn : emit ``TopologyWarning`` for legal but suspicious things (an access PoP with no way out of its AS).

    Raises
    ------
    InputError : one line naming the file, the place inside it and what was expected.

    Examples
    --------
    >>> g = load_topology("examples/two_as")
    >>> g.nodes["a1"]["kind"], g.edges["a1", "t1"]["rel"]
    ('pop', 'c2p')
    """
    _load_formats()
    if isinstance(path, str) and path.startswith("topohub:"):
        p = _topohub_file(path)
    else:
        try:
            p = resolve_path("topologies", path)
        except FileNotFoundError as e:
            raise InputError(str(e)) from None
    name = format or _pick_reader(p)
    if format is not None and format not in READERS:
        raise InputError(f"unknown topology format {format!r}; known: {', '.join(READERS.names())}")
    g = READERS[name].read(p)
    g.graph.setdefault("source", str(p))
    if warn:
        warn_all(check_reachability(g), source=str(p))
    return g


def save_topology(g: nx.DiGraph, path: str | Path, *, format: str | None = None) -> None:
    """Write a topology: ``.yaml`` (native), ``.graphml`` or ``.json`` (networkx node-link), by extension.

    Examples
    --------
    >>> import tempfile, os
    >>> g = load_topology("examples/two_as")
    >>> p = os.path.join(tempfile.mkdtemp(), "t.yaml")
    >>> save_topology(g, p)
    >>> sorted(load_topology(p).edges()) == sorted(g.edges())
    True
    """
    _load_formats()
    p = Path(path)
    name = format or _WRITER_EXT.get(p.suffix.lower())
    if name is None or name not in WRITERS:
        raise InputError(f"cannot write topology format {p.suffix!r}; expected .yaml, .graphml or .json", source=str(p))
    WRITERS[name](g, p)


def _load_formats() -> None:
    # Readers for foreign formats register themselves on import.
    import netsim.topology.formats  # noqa: F401
