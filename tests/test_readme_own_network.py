"""The README's "Your own network" block runs as written, in an empty folder, and ends with a report whose
availability in normal operation (bins without a failure) is above 99 %."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import polars as pl

README = Path(__file__).resolve().parent.parent / "README.md"


def _block() -> list[str]:
    text = README.read_text()
    section = text.split("## Your own network", 1)[1].split("\n## ", 1)[0]
    code = re.search(r"```bash\n(.*?)```", section, flags=re.S).group(1)
    return [ln.split("#", 1)[0].strip() for ln in code.splitlines() if ln.strip() and not ln.startswith("#")]


def test_the_own_network_block_runs_from_import_to_report(tmp_path, cli):
    cmds = _block()
    assert cmds[0] == "pip install topohub" and all(c.startswith("netsim ") for c in cmds[1:])
    import topohub  # noqa: F401  (the test extra installs it: the first line, already done)

    for c in cmds[1:]:
        r = cli(*shlex.split(c)[1:], cwd=tmp_path)
        assert r.returncode == 0, (c, r.stderr)
    out = tmp_path / "out" / "abilene"
    assert (out / "report.html").is_file()
    b = pl.read_parquet(out / "bins.parquet").filter((pl.col("design") == "baseline") & (pl.col("failures_active") == 0))
    assert b["delivered_bytes"].sum() / b["offered_bytes"].sum() > 0.99
