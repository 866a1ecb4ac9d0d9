"""The MkDocs hook that turns the docstrings' Sphinx roles into the code spans they name."""

import importlib.util
from pathlib import Path

HOOK = Path(__file__).resolve().parents[2] / "scripts" / "mkdocs_roles.py"


def test_roles_before_a_code_span_are_dropped_and_other_text_kept():
    spec = importlib.util.spec_from_file_location("mkdocs_roles", HOOK)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    html = "<p>see :func:<code>netsim.run</code> and :class:<code>Results</code>; a ratio 3:1, :func: alone</p>"
    assert mod.on_page_content(html) == ("<p>see <code>netsim.run</code> and <code>Results</code>; "
                                         "a ratio 3:1, :func: alone</p>")
