"""Errors for a user's mistakes in files and flags: one line naming the file, the place and what was expected."""

from __future__ import annotations

__all__ = ["InputError", "format_loc"]


def format_loc(loc, mappings=()) -> str:
    """Render a pydantic-style location tuple as a path, e.g. ``('links', 12, 'capacity_gbps')`` -> ``links[12].capacity_gbps``.

    An integer is a list index (``[12]``) unless the location before it is in ``mappings`` (then it is a key of a
    mapping: ``ases.65001``).

    Examples
    --------
    >>> format_loc(("links", 12, "capacity_gbps"))
    'links[12].capacity_gbps'
    >>> format_loc(())
    ''
    >>> format_loc(("metros", 5, "[key]"), mappings=(("metros",),))   # pydantic's loc of a bad key: the key 5
    'metros key 5'
    >>> format_loc(("metros", "tokyo.otemachi", "[key]"))
    'metros key tokyo.otemachi'
    """
    out = ""
    for i, part in enumerate(loc):
        if part == "[key]":
            continue
        if tuple(loc[i + 1:i + 2]) == ("[key]",):   # (pydantic: this key is wrong, not its value)
            out += f" key {part}" if out else f"key {part}"
        elif isinstance(part, int) and tuple(loc[:i]) not in mappings:
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


class InputError(ValueError):
    """A user's input (a file, a flag, an argument) is invalid.

    ``str(err)`` is one line: ``FILE: PLACE: MESSAGE`` (parts that are unknown are left out).
    The CLI prints it and exits with status 2.

    Examples
    --------
    >>> str(InputError("capacity must be > 0, found -1", source="t.yaml", where="links[3].capacity_gbps"))
    't.yaml: links[3].capacity_gbps: capacity must be > 0, found -1'
    """

    def __init__(self, message: str, *, source: str | None = None, where: str | None = None):
        self.message = " ".join(str(message).split())
        self.source = None if source is None else str(source)
        self.where = where or None
        super().__init__(str(self))

    def __str__(self) -> str:
        return ": ".join(p for p in (self.source, self.where, self.message) if p)

    def located(self, *, source: str | None = None, where_prefix: str | None = None) -> "InputError":
        """Return a copy with a file name filled in and/or a path prefix added."""
        where = self.where
        if where_prefix:
            where = where_prefix + ("" if not where or where.startswith("[") else ".") + (where or "")
        return InputError(self.message, source=self.source or source, where=where)
