"""Read YAML documents into pydantic models with one-line, located errors (file, path, line)."""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from netsim.errors import InputError, format_loc
from netsim.yaml_fold import ITEMS_TAG, fold_flow_items, item_line

__all__ = ["load_yaml_model", "validation_error", "dump_yaml", "no_bool_numbers", "bool_as_number"]

M = TypeVar("M", bound=BaseModel)


_STR = "tag:yaml.org,2002:str"


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """SafeLoader (libyaml's when PyYAML was built with it: ~10x faster on large topologies) that keeps
    integer keys (ASNs) as ints, never builds Python objects, and refuses a key given twice in one
    mapping (YAML's rule; PyYAML would keep the last one silently)."""

    def __init__(self, stream, runs: list | None = None):
        super().__init__(stream)
        self._tags: dict = {}
        self._runs = runs or []

    def resolve(self, kind, value, implicit):
        # NOTE: a scalar's tag depends on its text alone; a topology repeats most of its texts (kinds, ASNs, node ids
        # as link ends), and PyYAML's resolver runs its regular expressions on every one (1e5 nodes: 2e6 calls)
        if kind is not yaml.ScalarNode or len(self._tags) > 1_000_000:
            return super().resolve(kind, value, implicit)
        key = (value, implicit)
        tag = self._tags.get(key)
        if tag is None:
            tag = self._tags[key] = super().resolve(kind, value, implicit)
        return tag

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            pairs = node.value
            # NOTE: the common case first: all keys plain strings, none twice (one set, no loop in Python)
            if not all(k.tag == _STR for k, _ in pairs) or len({k.value for k, _ in pairs}) != len(pairs):
                self._refuse_repeated_keys(pairs)
        return super().construct_mapping(node, deep=deep)

    def _refuse_repeated_keys(self, pairs) -> None:
        seen: dict = {}
        for key_node, _ in pairs:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            # NOTE: a string key is its text (no constructor call: 1e5 nodes have 1e6 keys)
            key = key_node.value if key_node.tag == _STR else self.construct_object(key_node, deep=True)
            try:
                first = seen.get(key)
            except TypeError:   # an unhashable key: the constructor reports it
                continue
            if first is not None:   # (compared by line, `{id: a, id: b}` on one line passed)
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} given twice (first on line {first})", key_node.start_mark)
            seen[key] = key_node.start_mark.line + 1

    def construct_yaml_timestamp(self, node):
        try:
            return super().construct_yaml_timestamp(node)
        except (ValueError, OverflowError) as e:   # `2020-13-45` matches the pattern; datetime refuses it
            raise yaml.constructor.ConstructorError(None, None, f"{node.value!r} is not a date or time: {e}",
                                                    node.start_mark) from None

    def construct_flow_items(self, node):
        """The list a folded run of flow mappings stands for (:func:`netsim.yaml_fold.fold_flow_items`)."""
        run = None
        if isinstance(node.value, str) and node.value.isdigit() and int(node.value) < len(self._runs):
            run = self._runs[int(node.value)]
        if run is None or node.start_mark.line != run.key_line:
            # the tag in the file itself (`!netsim/flow-items`, `%TAG`, `!<...>`): unknown there, as any other
            return self.construct_undefined(node)
        node.item_lines = run.lines   # for _line_of: the line of each item
        run.used += 1
        return run.items

    def construct_yaml_int(self, node):
        try:
            return super().construct_yaml_int(node)
        except ValueError as e:   # `0x_`, `0b_`, or more digits than Python converts (4300)
            raise yaml.constructor.ConstructorError(None, None, f"{_short(node.value)} is not a number: {e}",
                                                    node.start_mark) from None


_Loader.add_constructor(ITEMS_TAG, _Loader.construct_flow_items)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)
_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)


def bool_as_number(annotation, value) -> str | None:
    """Where a boolean stands in ``value`` for a number ``annotation`` asks for: ``""`` (the value itself), a
    suffix such as ``"[2]"`` or ``".video"`` (inside a list or mapping), or None (no such boolean).

    pydantic's lax mode reads ``true`` as 1 for an int or float field, and YAML 1.1 reads ``yes``, ``on`` and
    ``y`` as true, so ``asn: yes`` would silently be AS1.

    Examples
    --------
    >>> bool_as_number(int, True), bool_as_number(typing.Optional[float], 2.0), bool_as_number(list[int], [1, False])
    ('', None, '[1]')
    >>> bool_as_number(bool, True), bool_as_number(typing.Union[float, str], True)
    (None, '')
    """
    if isinstance(annotation, type):   # int, str, a model...: not a container
        return "" if annotation in (int, float) and isinstance(value, bool) else None
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return bool_as_number(args[0], value)
    if origin in (typing.Union, types.UnionType):
        if isinstance(value, bool):
            return None if bool in args else ("" if any(bool_as_number(a, value) == "" for a in args) else None)
        return next((w for a in args if (w := bool_as_number(a, value)) is not None), None)
    if origin in (list, tuple) and isinstance(value, (list, tuple)) and args \
            and not (isinstance(args[0], type) and args[0] not in (int, float)):   # NOTE: not a list of 1e5 nodes
        for i, x in enumerate(value):
            if (w := bool_as_number(args[0], x)) is not None:
                return f"[{i}]{w}"
    if origin is dict and isinstance(value, dict) and len(args) == 2:
        for k, x in value.items():
            if isinstance(k, bool) and args[0] in (int, float):
                return f".{k}"
            if (w := bool_as_number(args[1], x)) is not None:
                return f".{k}{w}"
    return None


def no_bool_numbers(*fields: str):
    """A pydantic before-validator for a model's ``fields`` (``"*"``: every field) that refuses a boolean where a
    number is expected (:func:`bool_as_number`); assign it to a class attribute of the model.

    Examples
    --------
    >>> from pydantic import BaseModel
    >>> class M(BaseModel):
    ...     asn: int
    ...     _bools = no_bool_numbers("*")
    >>> M(asn=True)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for M
    asn
      expected a number (true, false, yes, no are booleans) ...
    """
    def check(cls, v, info):
        if isinstance(v, (bool, list, tuple, dict)) and info.field_name in cls.model_fields:
            where = bool_as_number(cls.model_fields[info.field_name].annotation, v)
            if where is not None:
                raise PydanticCustomError("bool_number", "expected a number (true, false, yes, no are booleans)"
                                          + (f" at {info.field_name}{where}" if where else ""))
        return v

    return field_validator(*fields, mode="before", check_fields=False)(check)


def _child(node, part):
    """One step down a composed tree: (the node at ``part``, the line of the key that names it, if a mapping's);
    (None, None) where there is none. A folded run (``item_lines``) has no child nodes."""
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if str(k.value) == str(part):
                return v, k.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        return node.value[part], None
    return None, None


def _mappings(root, loc) -> tuple:
    """The prefixes of ``loc`` that are YAML mappings in the composed tree (for :func:`format_loc`)."""
    out, node = [], root
    for i, part in enumerate(loc):
        if isinstance(node, yaml.MappingNode):
            out.append(tuple(loc[:i]))
        elif getattr(node, "item_lines", None) is not None and isinstance(part, int) and part < len(node.item_lines):
            out.append(tuple(loc[:i + 1]))   # a folded run's items are mappings (of scalars)
            break
        node, _ = _child(node, part)
        if node is None:
            break
    return tuple(out)


def _line_of(root, loc) -> int | None:
    """1-based line of the YAML node at a pydantic location, walking the composed node tree."""
    node, line = root, None
    for i, part in enumerate(loc):
        if node is None or part == "[key]":
            break
        line = node.start_mark.line + 1
        if getattr(node, "item_lines", None) is not None:   # a folded run (its items are on their lines)
            if isinstance(part, int) and part < len(node.item_lines):
                return item_line(node.item_lines[part], tuple(loc[i + 1:]))
            line, node = item_line(node.item_lines[0], ()), None   # (as a sequence starts on its first item)
            break
        node, key_line = _child(node, part)
        line = key_line or line
    if node is not None:   # (a folded run starts, as a sequence does, on its first item)
        line = item_line(node.item_lines[0], ()) if getattr(node, "item_lines", None) else node.start_mark.line + 1
    return line


def _expected(err: dict) -> str:
    t, msg = err["type"], err["msg"]
    if t == "extra_forbidden":
        return "unknown key; check the spelling against the documented fields"
    if t == "missing":
        return "required field is missing"
    if t == "literal_error":
        return f"expected {msg.removeprefix('Input should be ')}"
    return msg[0].lower() + msg[1:] if msg else t


#: loc parts pydantic adds for the member of a union (no schema field has these names)
_UNION_TAGS = frozenset({"float", "int", "str", "bool", "function-after[_dur(), union[float,str]]"})


def _short(value, limit: int = 60) -> str:
    """``repr(value)``, cut to ``limit`` characters (a 400-digit integer is not worth a 400-character line)."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit - 20]}... ({len(text):,} characters)"


def validation_error(exc: ValidationError, *, source: str | None, root_node=None, prefix: tuple = ()) -> InputError:
    """The first error of a pydantic ValidationError as an InputError naming the path, the value found and what was expected."""
    err = exc.errors()[0]
    # pydantic puts the member of a union it tried in the loc (`duration.float`): keep only real path parts
    loc = prefix + tuple(p for p in err["loc"] if p not in _UNION_TAGS)
    where = format_loc(loc, _mappings(root_node, loc) if root_node is not None else ())
    line = _line_of(root_node, loc) if root_node is not None else None
    found = err.get("input")
    found_s = "" if err["type"] in ("missing",) or isinstance(found, (dict, list)) else f", found {_short(found)}"
    if line is not None:
        where = f"{where} (line {line})" if where else f"line {line}"
    expected = _expected(err)
    if loc and loc[-1] == "[key]" and err["type"] == "string_type":   # `5:` in YAML is the number 5
        expected, found_s = f"expected a name (text); YAML reads {_short(found)} as a number: quote it, '{found}'", ""
    if found_s and (found_s[2:] in expected or isinstance(found, str) and repr(found) in expected):   # named already
        found_s = ""
    return InputError(f"{expected}{found_s}", source=source, where=where)


#: The largest YAML file read (a 1e5-node topology is 13 MB; checking it takes 4-7 s and ~0.5 GB in the forms
#: netsim.yaml_fold reads, ~18 s and ~1.2 GB when libyaml reads all of it)
MAX_YAML_BYTES = 512 * 2**20


def _compose(text: str, runs: list | None = None):
    loader = _Loader(text, runs)
    try:
        root = loader.get_single_node()
        return (loader.construct_document(root) if root is not None else None), root
    finally:
        loader.dispose()


def _parse(text: str):
    """(data, composed node tree) of a YAML text: one parse, the tree kept for error lines. Runs of one-line flow
    mappings take the fast path (:func:`netsim.yaml_fold.fold_flow_items`) when the folded text reads back with each run in place;
    otherwise, and for every error, the full loader reads the text as it is."""
    folded, runs = fold_flow_items(text)
    if runs:
        try:
            data, root = _compose(folded, runs)
            if all(run.used == 1 for run in runs) and _folded_in_block_mappings(root, len(runs)):
                return data, root
        except yaml.YAMLError:
            pass
    return _compose(text)


def _folded_in_block_mappings(root, n_runs: int) -> bool:
    """Whether each folded run came back as the value of a key of a block mapping (inside a flow mapping, the
    original lines are no YAML sequence: the full loader refuses them)."""
    found, stack, seen = 0, [root], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:   # (an alias is the node itself: a chain of them, or one inside itself)
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for _, value in node.value:
                if value.tag == ITEMS_TAG:
                    if node.flow_style:
                        return False
                    found += 1
                elif not isinstance(value, yaml.ScalarNode):
                    stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(v for v in node.value if not isinstance(v, yaml.ScalarNode))
    return found == n_runs


def load_yaml_model(path: str | Path, model: type[M]) -> tuple[M, Any]:
    """Parse a YAML file and validate it with a pydantic model. Returns (model instance, composed node tree).

    Raises InputError: file missing, YAML syntax (with line and column), not a mapping, or a schema error.
    """
    path = Path(path)
    try:
        # NOTE: a device or a pipe (`scenario check /dev/zero`) was read until the memory ran out
        if path.exists() and not path.is_file():
            raise InputError("not a regular file; expected a YAML file", source=str(path))
        if path.is_file() and path.stat().st_size > MAX_YAML_BYTES:
            raise InputError(f"{path.stat().st_size:,} bytes; a YAML file may have at most {MAX_YAML_BYTES:,} "
                             "(about 4 million nodes)", source=str(path))
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("no such file", source=str(path)) from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"cannot read: {e}", source=str(path)) from None
    try:
        data, root = _parse(text)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        raise InputError(f"YAML syntax error: {e.problem or e.context}", source=str(path), where=where) from None
    except yaml.YAMLError as e:
        raise InputError(f"YAML error: {e}", source=str(path)) from None
    if not isinstance(data, dict):
        raise InputError(f"expected a mapping at the top level, found {type(data).__name__}", source=str(path))
    try:
        return model.model_validate(data), root
    except ValidationError as e:
        raise validation_error(e, source=str(path), root_node=root) from None


def line_for(root, where_loc: tuple) -> int | None:
    """Line of a location in a composed tree (for cross-field errors raised after validation)."""
    return _line_of(root, where_loc)


def dump_yaml(doc: Any, path: str | Path, *, header: str | None = None) -> None:
    """Write a document as YAML (block style, keys in insertion order), with an optional # header comment."""
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, default_flow_style=None, width=120)
    if header:
        text = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines()) + text
    Path(path).write_text(text, encoding="utf-8")
