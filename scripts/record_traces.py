#!/usr/bin/env python
"""Record the rows and digest of every shipped trace recipe in ``traces/recipes.yaml``.

Run after changing a recipe, the generator or a library it draws numbers with; the shipped
numbers in the README change with it, so re-run the shipped cases and update the README too.

Usage::

    PYTHONPATH=. python scripts/record_traces.py            # generate each recipe, rewrite rows + digest
    PYTHONPATH=. python scripts/record_traces.py --check    # only say which recipes' traces differ
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RECIPES = REPO / "traces" / "recipes.yaml"


def main(argv: list[str] | None = None) -> int:
    from netsim.traffic import recipes as rc

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="compare only; exit 1 if a trace differs")
    ap.add_argument("names", nargs="*", help="recipes to record (default: all)")
    args = ap.parse_args(argv)
    text = RECIPES.read_text()
    differ = 0
    for name, r in rc.recipes().items():
        if args.names and name not in args.names:
            continue
        with tempfile.TemporaryDirectory() as d:
            out = Path(d) / f"{name}.parquet"
            rows = rc._generate(r, out)
            digest = rc.trace_digest(out)
            size = out.stat().st_size
        same = digest == r.digest and rows == r.rows
        differ += not same
        print(f"{name}: {rows:,} rows, {size / 1e6:.1f} MB, digest {digest[:16]} ({'unchanged' if same else 'CHANGED'})")
        if not args.check:
            # rewrite the two lines of this recipe in place (comments and order stay)
            block = re.compile(rf"(^{re.escape(name)}:\n(?:[ #].*\n|\n)*?)(  rows: .*\n)(  digest: .*\n)", re.M)
            text, n = block.subn(lambda m: f"{m.group(1)}  rows: {rows}\n  digest: {digest}\n", text, count=1)
            if n != 1:
                raise SystemExit(f"{RECIPES}: recipe {name} needs 'rows:' and 'digest:' lines, last in its block")
    if not args.check:
        RECIPES.write_text(text)
    return 1 if args.check and differ else 0


if __name__ == "__main__":
    sys.exit(main())
