"""Shipped topologies, traces and scenarios, found with importlib.resources (works from an installed wheel)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["shipped_path", "shipped_names", "resolve_path"]

_KINDS = {"topologies": ".yaml", "traces": ".parquet", "scenarios": ".yaml"}
_SINGULAR = {"topologies": "topology", "traces": "trace", "scenarios": "scenario"}


def _root(kind: str):
    if kind not in _KINDS:
        raise ValueError(f"unknown data kind {kind!r}; known: {', '.join(_KINDS)}")
    installed = resources.files("netsim._data").joinpath(kind)
    if installed.is_dir():  # a wheel install: the data is package data under netsim/_data/
        return installed
    # NOTE: an editable install or a source checkout keeps the data at the top of the repository.
    checkout = Path(__file__).resolve().parent.parent / kind
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"netsim's shipped {kind} are missing from this installation")


def shipped_names(kind: str) -> list[str]:
    """Names of the shipped items of one kind (``topologies``, ``traces``, ``scenarios``).

    Examples
    --------
    >>> "examples/two_as" in shipped_names("topologies")
    True
    """
    ext = _KINDS[kind]
    root = _root(kind)
    names = set()
    if kind == "traces":
        from netsim.traffic.recipes import recipes

        names.update(recipes())
    for entry in root.iterdir():
        if entry.is_dir() and (entry / f"{entry.name}{ext}").is_file():
            names.add(entry.name)
        elif entry.is_dir():
            for sub in entry.iterdir():
                if sub.name.endswith(ext):
                    names.add(f"{entry.name}/{sub.name[: -len(ext)]}")
        elif entry.name.endswith(ext):
            names.add(entry.name[: -len(ext)])
    return sorted(names)


def shipped_path(kind: str, name: str) -> Path | None:
    """Path of a shipped item by name (``tochigi``, ``examples/two_as``), or None if there is none.

    A shipped trace that is a recipe (``traces/recipes.yaml``) is generated on first use and its
    path in the user's cache returned (:func:`netsim.traffic.recipes.materialize`).
    """
    ext = _KINDS[kind]
    root = _root(kind)
    for cand in (f"{name}/{Path(name).name}{ext}", f"{name}{ext}", name):
        entry = root.joinpath(*cand.split("/"))
        if entry.is_file():
            return Path(str(entry))
    if kind == "traces":
        from netsim.traffic.recipes import materialize

        return materialize(str(name))
    return None


def resolve_path(kind: str, name_or_path: str | Path, *, base: Path | None = None) -> Path:
    """An existing file path, else a path relative to ``base``, else a shipped name; FileNotFoundError otherwise."""
    p = Path(name_or_path)
    if base is not None and not p.is_absolute() and (base / p).exists():
        return base / p
    if p.exists():
        return p
    shipped = shipped_path(kind, str(name_or_path))
    if shipped is not None:
        return shipped
    known = ", ".join(shipped_names(kind))
    raise FileNotFoundError(f"{name_or_path}: no such file, and not a shipped {_SINGULAR[kind]} (shipped: {known})")
