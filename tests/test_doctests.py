"""Run the Examples sections of every netsim module's docstrings (against the imported, built package)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import netsim

MODULES = sorted(
    m.name for m in pkgutil.walk_packages(netsim.__path__, prefix="netsim.")
    if not m.name.startswith("netsim._ext") and m.name not in ("netsim.__main__",)
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} doctest(s) failed in {name}"
