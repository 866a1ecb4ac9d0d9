"""MkDocs hook: the Sphinx roles netsim's numpy-style docstrings use (:func:`x`, :class:`x`, :meth:`x`,
:mod:`x`, :data:`x`, :attr:`x`) render as the plain code span they name on the API page, instead of
the raw role text mkdocstrings leaves in front of it."""

from __future__ import annotations

import re

ROLE = re.compile(r":(?:func|class|meth|mod|data|attr|obj|exc):(?=<code>)")


def on_page_content(html: str, **kwargs) -> str:
    return ROLE.sub("", html)
