"""Registries and shipped-data lookup."""

from pathlib import Path

import pytest

from netsim.data import resolve_path, shipped_names, shipped_path
from netsim.registry import Registry


def test_registry_rejects_duplicates_and_lists_known():
    r = Registry("thing")
    r.register("a")(1)
    with pytest.raises(ValueError, match="duplicate thing 'a'"):
        r.register("a")(2)
    with pytest.raises(KeyError, match="unknown thing 'b'; known: a"):
        r["b"]
    assert "a" in r and r.names() == ["a"]


def test_shipped_examples_resolve(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert {"examples/two_as", "examples/valley_free"} <= set(shipped_names("topologies"))
    p = shipped_path("topologies", "examples/two_as")
    assert p is not None and p.is_file()
    assert resolve_path("topologies", "examples/two_as") == p
    local = tmp_path / "examples" / "two_as"
    local.parent.mkdir()
    local.write_text("x")
    # a file of the same name in the working directory wins over the shipped one, as written
    assert resolve_path("topologies", "examples/two_as") == Path("examples/two_as")
    # and a file beside the scenario (base) wins over both
    other = tmp_path / "sc" / "examples" / "two_as"
    other.parent.mkdir(parents=True)
    other.write_text("y")
    assert resolve_path("topologies", "examples/two_as", base=tmp_path / "sc") == other
    with pytest.raises(FileNotFoundError, match="not a shipped topology"):
        resolve_path("topologies", "examples/no_such")
