"""The tutorial notebook (docs/tutorial.md, jupytext Markdown) executes from top to bottom, figures included.

Needs the docs extra (jupytext, nbclient, ipykernel), so it carries the ``docs`` marker and is left
out of the default run; CI's docs step runs it: ``pytest -m docs tests/docs``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[2] / "docs" / "tutorial.md"

pytestmark = pytest.mark.docs


def test_tutorial_notebook_runs(tmp_path):
    import jupytext
    from nbclient import NotebookClient

    nb = jupytext.read(NOTEBOOK)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert len(code) >= 6, "the tutorial lost its code cells (is docs/tutorial.md still a jupytext notebook?)"
    # run where it can write what it likes; a cell that raises fails the test with its traceback
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for c in code for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 2, f"expected the two figures, found {len(images)}"
    tables = [o for o in outputs if "text/html" in o.get("data", {}) and "shape:" in o["data"].get("text/plain", "")]
    assert len(tables) >= 3, "expected the polars tables (bins, summary, served-from, comparison) as outputs"
