"""The package's layers import one way (issue 19): shared statistics at the bottom, the configuration
(netsim.scenario, netsim.settings) beside routing, caches, topology and traffic, then the engine and
the analyses (neither imports the other), then the orchestration of a run (netsim.sim.run,
netsim.sim.check, netsim.plan) and the command lines.

Checked on the source's import statements, function-level imports included, so a lazy import
cannot hide a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import netsim

PKG = Path(netsim.__file__).parent


def imported_modules(path: Path) -> set[str]:
    """Every netsim module a source file imports (absolute, at any depth of the file)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("netsim")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                raise AssertionError(f"{path}: relative import (the package uses absolute ones)")
            if node.module and node.module.startswith("netsim"):
                out.add(node.module)
                out |= {f"{node.module}.{a.name}" for a in node.names}
    return out


def modules(sub: str) -> list[Path]:
    base = PKG / sub
    return sorted(base.rglob("*.py")) if base.is_dir() else [base.with_suffix(".py")]


#: package (or module) -> packages it must never import; command-line modules (cli.py) are exempt:
#: they sit on top of everything.
FORBIDDEN = {
    "stats": ["netsim."],  # nothing from netsim at all
    # the configuration layer: a scenario and its settings are read without the engine or the analyses
    "scenario": ["netsim.sim", "netsim.analysis", "netsim.report", "netsim.sweep", "netsim.plan"],
    "settings": ["netsim.sim", "netsim.analysis", "netsim.report", "netsim.sweep", "netsim.plan"],
    "routing": ["netsim.sim", "netsim.analysis", "netsim.report", "netsim.sweep", "netsim.cache"],
    "cache": ["netsim.sim", "netsim.analysis", "netsim.report", "netsim.sweep"],
    "traffic": ["netsim.sim", "netsim.analysis", "netsim.report", "netsim.sweep"],
    "topology": ["netsim.sim", "netsim.analysis", "netsim.report", "netsim.sweep"],
    "analysis": ["netsim.sim", "netsim.report", "netsim.sweep"],
    "sim/engine": ["netsim.analysis", "netsim.report", "netsim.sweep"],
    "sim/congestion": ["netsim.analysis", "netsim.report", "netsim.sweep"],
    "sim/summary": ["netsim.analysis", "netsim.report", "netsim.sweep"],
}


@pytest.mark.parametrize("sub", sorted(FORBIDDEN))
def test_lower_layers_do_not_import_upper_ones(sub):
    bad = []
    for path in modules(sub):
        if path.name == "cli.py":
            continue
        for mod in imported_modules(path):
            if any(mod == f.rstrip(".") or mod.startswith(f if f.endswith(".") else f + ".") for f in FORBIDDEN[sub]):
                bad.append(f"{path.relative_to(PKG)} imports {mod}")
    assert not bad, "\n".join(bad)


def test_the_checker_sees_function_level_imports(tmp_path):
    src = tmp_path / "m.py"
    src.write_text("def f():\n    from netsim.sim.engine import run_design\n    import netsim.analysis.cost\n")
    assert {"netsim.sim.engine", "netsim.analysis.cost"} <= imported_modules(src)
