"""Shared test helpers."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# Hypothesis: under CI (CI=true) the examples are derandomized, so a run is reproducible and a red CI is a
# real regression, not a new draw; locally each run draws new examples (and keeps failures in .hypothesis/).
from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile("ci", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI", "").lower() in ("1", "true", "yes") else "dev")


def run_cli(*args: str, cwd: str | Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``python -m netsim ARGS`` in a subprocess with the same interpreter (and sys.path) as the tests."""
    import netsim

    env = dict(os.environ)
    pkg_parent = str(Path(netsim.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = pkg_parent + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    # NOTE: `python -m` puts the working directory first on sys.path; running from the repository
    # root would import the source tree (without compiled kernels) instead of the installed package.
    if cwd is None:
        cwd = tempfile.mkdtemp(prefix="netsim-cli-")
    return subprocess.run([sys.executable, "-m", "netsim", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=timeout)


@pytest.fixture
def cli():
    return run_cli
