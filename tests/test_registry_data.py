"""Registries and shipped-data lookup."""

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
    assert resolve_path("topologies", "examples/two_as") == local.relative_to(tmp_path) or resolve_path("topologies", "examples/two_as").exists()
