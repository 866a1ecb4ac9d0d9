"""Read YAML documents into pydantic models with one-line, located errors (file, path, line)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from netsim.errors import InputError, format_loc

__all__ = ["load_yaml_model", "validation_error", "dump_yaml"]

M = TypeVar("M", bound=BaseModel)


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """SafeLoader (libyaml's when PyYAML was built with it: ~10x faster on large topologies) that keeps
    integer keys (ASNs) as ints, never builds Python objects, and refuses a key given twice in one
    mapping (YAML's rule; PyYAML would keep the last one silently)."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.setdefault(key, key_node.start_mark.line + 1)
                except TypeError:   # an unhashable key: the constructor reports it
                    continue
                if first != key_node.start_mark.line + 1:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"key {key!r} given twice (first on line {first})", key_node.start_mark)
        return super().construct_mapping(node, deep=deep)


def _line_of(root, loc) -> int | None:
    """1-based line of the YAML node at a pydantic location, walking the composed node tree."""
    node, line = root, None
    for part in loc:
        if node is None:
            break
        line = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            nxt = None
            for k, v in node.value:
                if str(k.value) == str(part):
                    nxt = v
                    line = k.start_mark.line + 1
                    break
            node = nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            node = None
    if node is not None:
        line = node.start_mark.line + 1
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


def validation_error(exc: ValidationError, *, source: str | None, root_node=None, prefix: tuple = ()) -> InputError:
    """The first error of a pydantic ValidationError as an InputError naming the path, the value found and what was expected."""
    err = exc.errors()[0]
    # pydantic puts the member of a union it tried in the loc (`duration.float`): keep only real path parts
    loc = prefix + tuple(p for p in err["loc"] if p not in _UNION_TAGS)
    where = format_loc(loc)
    line = _line_of(root_node, loc) if root_node is not None else None
    found = err.get("input")
    found_s = "" if err["type"] in ("missing",) or isinstance(found, (dict, list)) else f", found {found!r}"
    if line is not None:
        where = f"{where} (line {line})" if where else f"line {line}"
    expected = _expected(err)
    if found_s and found_s[2:] in expected:   # the validator's own message already says what it found
        found_s = ""
    return InputError(f"{expected}{found_s}", source=source, where=where)


def load_yaml_model(path: str | Path, model: type[M]) -> tuple[M, Any]:
    """Parse a YAML file and validate it with a pydantic model. Returns (model instance, composed node tree).

    Raises InputError: file missing, YAML syntax (with line and column), not a mapping, or a schema error.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("no such file", source=str(path)) from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"cannot read: {e}", source=str(path)) from None
    try:
        # one parse: the composed node tree (kept for error lines) is then constructed into data
        loader = _Loader(text)
        try:
            root = loader.get_single_node()
            data = loader.construct_document(root) if root is not None else None
        finally:
            loader.dispose()
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
