"""Repository-wide pytest policy, for tests/ and benchmarks/.

Under CI (``CI=true``) a skipped test fails the run unless its reason is an optional tool that is
absent (chromium, for the report's browser test): a skip for any other reason hides a test that
no longer runs. Tests that are opt-in are deselected by a marker (``slow``, ``big``), not skipped.
"""

from __future__ import annotations

import os

#: skip reasons allowed under CI: an optional tool that is absent
ALLOWED_SKIPS = ("chromium not installed",)


def pytest_sessionfinish(session, exitstatus):
    if os.environ.get("CI", "").lower() not in ("1", "true", "yes"):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    bad = []
    for rep in reporter.stats.get("skipped", []):
        reason = rep.longrepr[2] if isinstance(rep.longrepr, tuple) else str(rep.longrepr)
        if not any(a in reason for a in ALLOWED_SKIPS):
            bad.append(f"{rep.nodeid}: {reason}")
    if bad:
        reporter.write_line(f"CI: {len(bad)} test(s) skipped for a reason other than an absent optional tool:", red=True)
        for line in bad:
            reporter.write_line(f"  {line}", red=True)
        session.exitstatus = 1
