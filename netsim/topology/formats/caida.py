"""CAIDA AS-relationship files (https://www.caida.org/catalog/datasets/as-relationships/), serial-1 and serial-2.

Each non-comment line is ``a|b|rel`` (serial-1) or ``a|b|rel|source`` (serial-2; the source,
e.g. ``bgp`` or ``mlp``, is ignored). ``rel`` = ``-1``: *a* is a provider of *b*; ``0``: *a* and
*b* are peers. Lines starting with ``#`` are comments.

Each AS becomes one ``pop`` node ``AS<asn>`` (``asn``, ``metro`` = ``as<asn>``, no coordinates,
no subscribers). ``a|b|-1`` becomes the link ``AS<b> -> AS<a>`` with ``rel: c2p`` (and, duplex,
``AS<a> -> AS<b>`` with ``p2c``); ``a|b|0`` a duplex ``p2p`` link. The file has no geography or
capacities: every link gets ``latency_ms`` (default 10.0 ms, a typical one-way delay between
neighbouring ASes' routers within a continent) and ``capacity_gbps`` (default 100 Gbps), both
keywords of :func:`read_caida`. A pair listed twice with the same relationship is one link; with
a different one it is an error naming both lines.
"""

from __future__ import annotations

import re
from pathlib import Path

import networkx as nx

from netsim.errors import InputError
from netsim.topology.formats._common import build_graph, check_keywords, read_head, read_text
from netsim.topology.io import READERS, Reader

__all__ = ["read_caida"]

_LINE = re.compile(r"^\d+\|\d+\|-?\d+(\|[^|]*)?$")
_EXPECTED = "'a|b|rel' or 'a|b|rel|source' with AS numbers a, b and rel -1 (a is provider of b) or 0 (peers)"


def read_caida(path: str | Path, *, capacity_gbps: float = 100.0, latency_ms: float = 10.0) -> nx.DiGraph:
    """Read a CAIDA AS-relationship file (serial-1 or serial-2) as an AS-level topology.

    Parameters
    ----------
    path : the file (e.g. ``20260101.as-rel2.txt``, decompressed).
    capacity_gbps : capacity given to every AS-AS link.
    latency_ms : one-way latency given to every AS-AS link.

    Raises
    ------
    InputError : a malformed line, naming its number and the expected ``a|b|rel``.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "x.as-rel2.txt")
    >>> _ = open(p, "w").write("# comment\\n1|2|-1|bgp\\n1|3|0|bgp\\n")
    >>> g = read_caida(p)
    >>> g.edges["AS2", "AS1"]["rel"], g.edges["AS1", "AS2"]["rel"], g.edges["AS1", "AS3"]["rel"]
    ('c2p', 'p2c', 'p2p')
    """
    check_keywords(capacity_gbps=(capacity_gbps > 0, "a capacity > 0"), latency_ms=(latency_ms > 0, "a latency > 0"))
    path = Path(path)
    source = str(path)
    pairs: dict[tuple[int, int], tuple[str, int, int]] = {}  # sorted pair -> (p2c|p2p, provider or -1, line)
    links: list[dict] = []
    links_at: list[str] = []
    for lineno, raw in enumerate(read_text(path).splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split("|")
        try:
            if len(parts) not in (3, 4):
                raise ValueError
            a, b, rel = int(parts[0]), int(parts[1]), int(parts[2])
        except ValueError:
            raise InputError(f"malformed line {line[:80]!r}; expected {_EXPECTED}", source=source, where=f"line {lineno}") from None
        for asn in (a, b):
            if not 0 <= asn <= 4294967295:
                shown = str(asn) if len(str(asn)) <= 20 else f"{str(asn)[:12]}... ({len(str(asn)):,} digits)"
                raise InputError(f"AS number {shown} is out of range; expected 0..4294967295", source=source,
                                 where=f"line {lineno}")
        if rel not in (-1, 0):
            raise InputError(f"relationship {parts[2]!r}; expected -1 (a is provider of b) or 0 (peers)", source=source, where=f"line {lineno}")
        if a == b:
            raise InputError(f"AS{a} related to itself; expected two different ASes", source=source, where=f"line {lineno}")
        key = (min(a, b), max(a, b))
        kind = ("p2c", a) if rel == -1 else ("p2p", -1)
        if key in pairs:
            prev_kind, prev_line = pairs[key][:2], pairs[key][2]
            if prev_kind != kind:
                raise InputError(f"AS{a}-AS{b} relationship contradicts line {prev_line}; expected one relationship per AS pair",
                                 source=source, where=f"line {lineno}")
            continue
        pairs[key] = (*kind, lineno)
        if rel == -1:
            links.append({"src": f"AS{b}", "dst": f"AS{a}", "rel": "c2p"})
        else:
            links.append({"src": f"AS{a}", "dst": f"AS{b}", "rel": "p2p"})
        links[-1].update(capacity_gbps=capacity_gbps, latency_ms=latency_ms)
        links_at.append(f"line {lineno}")
    if not pairs:
        raise InputError(f"no AS relationships found; expected lines {_EXPECTED}", source=source)
    asns = sorted({x for pair in pairs for x in pair})
    nodes = [{"id": f"AS{n}", "kind": "pop", "asn": n, "metro": f"as{n}"} for n in asns]
    return build_graph({"name": path.name.split(".")[0] or "caida", "nodes": nodes, "links": links}, source=source,
                       links_at=links_at)


def _sniff(path: Path) -> bool:
    head = read_head(path, 1 << 16)
    lines = head.splitlines()
    if len(head) >= (1 << 16) - 4:
        lines = lines[:-1]  # the last line may be cut
    data = [s for s in (ln.strip() for ln in lines) if s and not s.startswith("#")]
    return bool(data) and all(_LINE.match(ln) for ln in data[:50])


READERS.register("caida")(Reader(read=read_caida, extensions=(".txt",), sniff=_sniff))
