"""The fast path of the YAML reader: a sequence of mappings of plain words, read without libyaml.

``netsim topo adopt`` and ``write_yaml`` write a topology's nodes and links one flow mapping an item
(``- {id: n0, kind: pop, asn: 64512}``, wrapped onto an indented next line when it is long); other tools write one
key a line (``- id: n0`` / ``  kind: pop``). PyYAML composes such a file through libyaml at about 5 us a scalar:
a 1e5-node topology takes ~12 s to parse before any checking. :func:`fold_flow_items` reads such a sequence
itself, resolving and constructing each distinct word once by PyYAML's own SafeLoader rules (so ``yes``, ``1e2``,
``0x1f``, ``~``, ``.inf``, ``2020-01-01`` mean what they mean to the full loader), and folds it into one tagged
scalar on its key's line; the item lines are left blank, so every line number stays. Anything else (quotes,
anchors, tags, comments or blank lines inside, nested values, a key given twice, a word the constructor refuses,
a sequence that goes on in a form not read here) leaves the sequence to libyaml. The reader (:mod:`netsim.yamlio`)
then checks that every run came back as the value of a block mapping key, and reads the text as it is with the
full loader otherwise, and for every error.
"""

from __future__ import annotations

import bisect
import re

import yaml

__all__ = ["ITEMS_TAG", "Run", "fold_flow_items", "item_line"]

#: the tag of a folded run (never in a file: a text carrying it is read back only if every run is where it was)
ITEMS_TAG = "!netsim/flow-items"
_STR = "tag:yaml.org,2002:str"

#: a plain word in a flow mapping: no indicator first, no `:`, `#`, quote or flow punctuation; single inner spaces
_WORD = r"(?:[A-Za-z0-9_.+~/]|-(?=[A-Za-z0-9_.+~/]))[A-Za-z0-9_.+~/\-]*(?: [A-Za-z0-9_.+~/\-]+)*"
_PAIR = re.compile(rf" *({_WORD}): +({_WORD}) *")
_ITEM = re.compile(r"( *)- \{(.*)")
_BLOCK_FIRST = re.compile(rf"( *)- ({_WORD}): +({_WORD}) *")
_BLOCK_MORE = re.compile(rf"( *)({_WORD}): +({_WORD}) *")
_KEY = re.compile(rf"( *)({_WORD}):( +#.*| *)")
#: line breaks to libyaml besides \n (a text with any of them is left to libyaml whole)
_OTHER_BREAKS = ("\r", "\x85", "\u2028", "\u2029")
#: libyaml refuses an implicit key longer than 1024 characters
_MAX_KEY = 1000
#: lines one wrapped item may take
_MAX_ITEM_LINES = 16


class Run:
    """One folded sequence: its items and, for each, its line (an int) or (first line, {key: line of its value})."""

    __slots__ = ("items", "lines", "used", "key_line")

    def __init__(self):
        self.items: list = []
        self.lines: list = []
        self.used = 0
        self.key_line = -1   # 0-based line of the key the run is folded onto


def item_line(entry, rest: tuple) -> int:
    """The line of ``rest`` (a location inside an item: its key, and deeper) for a :class:`Run` line entry."""
    if isinstance(entry, int):
        return entry
    first, by_key = entry
    return by_key.get(str(rest[0]), first) if rest else first


class _NotFoldable(Exception):
    pass


class _Scalars:
    """Each distinct plain word resolved and constructed once, as PyYAML's SafeLoader would."""

    _REFUSED = object()

    def __init__(self):
        self._loader = yaml.SafeLoader("")
        self._values: dict = {}

    def __call__(self, word: str):
        v = self._values.get(word, self._values)
        if v is self._values:
            node = yaml.ScalarNode(self._loader.resolve(yaml.ScalarNode, word, (True, False)), word)
            try:
                v = self._loader.construct_object(node) if node.tag != _STR else word
            except (yaml.YAMLError, ValueError, OverflowError):   # the full loader says what and where
                v = self._REFUSED
            self._values[word] = v
        if v is self._REFUSED:
            raise _NotFoldable
        return v


def _item_text(lines: list[str], j: int, indent: str) -> tuple[str, list[int], int] | None:
    """The body of the flow mapping item starting on line ``j`` (its lines joined by one space, as YAML folds a
    line break inside a flow collection), the offset in the body where each of its lines starts, and the line
    after it; None if it is not one."""
    m = _ITEM.fullmatch(lines[j])
    if m is None or m[1] != indent:
        return None
    text = m[2].rstrip(" ")
    starts = [0]
    k = j + 1
    while not text.endswith("}"):
        if k >= len(lines) or k - j >= _MAX_ITEM_LINES:
            return None
        line = lines[k]
        body = line.strip(" ")
        # NOTE: a continuation line is deeper than the item's dash; blank and comment lines are left to libyaml
        if not body or body.startswith("#") or len(line) - len(line.lstrip(" ")) <= len(indent):
            return None
        starts.append(len(text) + 1)
        text = f"{text} {body}"
        k += 1
    return text[:-1], starts, k


def _block_item(lines: list[str], j: int, indent: str, scalar):
    """(the mapping, its line entry, the line after it) of a block mapping item of plain words, one key a line
    (``- id: n0`` / ``  kind: pop``), starting on line ``j``; None if it is not one."""
    m = _BLOCK_FIRST.fullmatch(lines[j])
    if m is None or m[1] != indent or len(m[2]) > _MAX_KEY:
        return None
    column = len(indent) + 2
    words = [(m[2], m[3], j + 1)]
    k = j + 1
    while k < len(lines):
        more = _BLOCK_MORE.fullmatch(lines[k])
        if more is None or len(more[1]) != column:
            break
        if len(more[2]) > _MAX_KEY:
            return None
        words.append((more[2], more[3], k + 1))
        k += 1
    # NOTE: the item ends at a line no deeper than its dash (a deeper one would be a nested value or a scalar
    # going on over lines), at a blank line, or at the end
    if k < len(lines) and lines[k].strip(" ") and len(lines[k]) - len(lines[k].lstrip(" ")) > len(indent):
        return None
    item: dict = {}
    for key_word, value_word, _ in words:
        key = scalar(key_word)
        if key in item:
            return None
        item[key] = scalar(value_word)
    entry = j + 1 if len(words) == 1 else (j + 1, {w[0]: w[2] for w in words})
    return item, entry, k


def _flow_item(body: str, starts: list[int], first_line: int, scalar):
    """(the mapping, its line entry) of a flow mapping's body, or None when it is not all plain words."""
    item: dict = {}
    by_key: dict = {}
    one_line = len(starts) == 1
    if not body.strip(" "):
        return (item, first_line) if one_line else None
    offset = 0
    for part in body.split(","):
        m = _PAIR.fullmatch(part)
        if m is None or len(m[1]) > _MAX_KEY:
            return None
        if not one_line:
            line = bisect.bisect_right(starts, offset + m.start(1))
            if bisect.bisect_right(starts, offset + m.end(1)) != line:   # a key and its ':' are on one line
                return None
            by_key[m[1]] = first_line + bisect.bisect_right(starts, offset + m.start(2)) - 1
        key = scalar(m[1])
        if key in item:
            return None   # the full loader names the repeated key and its line
        item[key] = scalar(m[2])
        offset += len(part) + 1
    return item, (first_line if one_line else (first_line, by_key))


def _one_item(lines: list[str], j: int, indent: str, scalar):
    """(mapping, line entry, the line after it) of the flow or block mapping item on line ``j``, or None."""
    found = _item_text(lines, j, indent)
    if found is None:
        return _block_item(lines, j, indent, scalar)
    body, starts, after = found
    parsed = _flow_item(body, starts, j + 1, scalar)
    return None if parsed is None else (*parsed, after)


def fold_flow_items(text: str) -> tuple[str, list[Run]]:
    """``text`` with every foldable run of flow mappings (see the module) replaced, and the runs."""
    if any(c in text for c in _OTHER_BREAKS):   # libyaml breaks lines there too: the lines would not match
        return text, []
    lines = text.split("\n")
    scalar = _Scalars()
    runs: list[Run] = []
    out = lines
    i, n = 0, len(lines)
    while i < n - 1:
        key = _KEY.fullmatch(lines[i])
        first = (_ITEM.fullmatch(lines[i + 1]) or _BLOCK_FIRST.fullmatch(lines[i + 1])) if key is not None else None
        if first is None or len(first[1]) < len(key[1]):
            i += 1
            continue
        indent, run, j = first[1], Run(), i + 1
        while j < n:
            try:
                parsed = _one_item(lines, j, indent, scalar)
            except (_NotFoldable, TypeError):   # (TypeError: an unhashable key)
                parsed = None
            if parsed is None:
                break
            run.items.append(parsed[0])
            run.lines.append(parsed[1])
            j = parsed[2]
        # the run must be the whole sequence: next comes the end, or a line no deeper than the key's that is not
        # one more item of an indentless sequence
        k = j
        while k < n and (not lines[k].strip(" ") or lines[k].lstrip(" ").startswith("#")):
            k += 1
        rest = lines[k] if k < n else ""
        depth = len(rest) - len(rest.lstrip(" "))
        ends = k == n or (depth <= len(key[1]) and not (depth == len(indent) and rest.lstrip(" ").startswith("-")))
        if ends and run.items:
            if out is lines:
                out = list(lines)
            # NOTE: the key line's comment stays for libyaml to read (a control character in it is an error)
            out[i] = f"{key[1]}{key[2]}: {ITEMS_TAG} {len(runs)}{key[3] if '#' in key[3] else ''}"
            run.key_line = i
            for line in range(i + 1, j):
                out[line] = ""
            runs.append(run)
        i = max(j, i + 1)
    return ("\n".join(out) if runs else text), runs
