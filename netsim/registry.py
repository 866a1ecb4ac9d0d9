"""Name -> plugin registries (cache policies, designs, generators, readers)."""

from __future__ import annotations

from typing import Callable, Generic, Iterator, TypeVar

__all__ = ["Registry"]

T = TypeVar("T")


class Registry(Generic[T]):
    """A registry of plugins by name: a duplicate name raises, an unknown name lists the known ones.

    Examples
    --------
    >>> COLORS = Registry("color")
    >>> @COLORS.register("red")
    ... def red():
    ...     return "#f00"
    >>> COLORS["red"]()
    '#f00'
    >>> COLORS["blue"]
    Traceback (most recent call last):
    ...
    KeyError: "unknown color 'blue'; known: red"
    """

    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def deco(obj: T) -> T:
            if name in self._items:
                raise ValueError(f"duplicate {self.kind} {name!r}")
            self._items[name] = obj
            return obj

        return deco

    def __getitem__(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            raise KeyError(f"unknown {self.kind} {name!r}; known: {', '.join(sorted(self._items))}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._items))

    def names(self) -> list[str]:
        return sorted(self._items)
