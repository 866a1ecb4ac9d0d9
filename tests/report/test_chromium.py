"""Open report.html in headless Chromium (Debian package ``chromium``): every figure rendered, no console errors,
a full-page screenshot saved in the test's tmp dir.

Chromium is driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``: commands on fd 3,
replies on fd 4, NUL-separated JSON), so no port and no websocket library are needed.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (Debian: apt-get install chromium)")

FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars", "--no-first-run",
         "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
         "--remote-debugging-pipe"]


class Browser:
    """A headless Chromium and one page, spoken to over the DevTools pipe."""

    def __init__(self, profile: Path, timeout_s: float = 60.0):
        self.timeout_s = timeout_s
        cmd_r, self._cmd_w = os.pipe()  # we write commands; chromium reads fd 3
        self._out_r, out_w = os.pipe()  # chromium writes fd 4; we read

        def child_fds():  # runs in the child before exec; fds 3 and 4 are then kept open (pass_fds)
            a, b = os.dup(cmd_r), os.dup(out_w)  # (cmd_r or out_w may themselves be 3 or 4)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                                     pass_fds=(3, 4), preexec_fn=child_fds,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(cmd_r)
        os.close(out_w)
        self._buf = b""
        self._id = 0
        self.events: list[dict] = []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable", session=True)

    def _read_message(self, deadline: float) -> dict:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no reply from chromium")
            ready, _, _ = select.select([self._out_r], [], [], left)
            if ready:
                chunk = os.read(self._out_r, 1 << 20)
                if not chunk:
                    raise RuntimeError("chromium closed the DevTools pipe")
                self._buf += chunk
        msg, self._buf = self._buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method: str, *, session: bool = False, **params) -> dict:
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params}
        if session:
            msg["sessionId"] = self.session
        os.write(self._cmd_w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + self.timeout_s
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_event(self, method: str) -> dict:
        deadline = time.monotonic() + self.timeout_s
        for i, e in enumerate(self.events):
            if e.get("method") == method:
                return self.events.pop(i)
        while True:
            e = self._read_message(deadline)
            self.events.append(e)
            if e.get("method") == method:
                return e

    def evaluate(self, expression: str):
        r = self.call("Runtime.evaluate", session=True, expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError(f"page script failed: {r['exceptionDetails']}")
        return r["result"].get("value")

    def open(self, url: str) -> None:
        self.call("Page.navigate", session=True, url=url)
        self.wait_event("Page.loadEventFired")

    def problems(self) -> list[str]:
        """Console errors/warnings, uncaught exceptions and error log entries (e.g. a resource that failed to load)."""
        out = []
        for e in self.events:
            m, p = e.get("method"), e.get("params", {})
            if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "warning", "assert"):
                out.append(f"console.{p['type']}: " + " ".join(str(a.get("value", a.get("description")))
                                                               for a in p.get("args", [])))
            elif m == "Runtime.exceptionThrown":
                out.append(f"exception: {p['exceptionDetails'].get('text')}")
            elif m == "Log.entryAdded" and p["entry"].get("level") in ("error", "warning"):
                out.append(f"log {p['entry'].get('source')}: {p['entry'].get('text')} {p['entry'].get('url', '')}")
        return out

    def screenshot(self, path: Path, *, width: int = 1400) -> tuple[int, int]:
        # lay the page out at the final width first: its height depends on it
        self.call("Emulation.setDeviceMetricsOverride", session=True, width=width, height=1000,
                  deviceScaleFactor=1, mobile=False)
        height = int(self.evaluate("Math.ceil(document.documentElement.scrollHeight)"))
        self.call("Emulation.setDeviceMetricsOverride", session=True, width=width, height=height,
                  deviceScaleFactor=1, mobile=False)
        data = self.call("Page.captureScreenshot", session=True, format="png", captureBeyondViewport=True)["data"]
        path.write_bytes(base64.b64decode(data))
        return width, height

    def close(self) -> None:
        try:
            self.call("Browser.close")
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._cmd_w)
        os.close(self._out_r)


@pytest.fixture
def browser(tmp_path):
    b = Browser(tmp_path / "chromium-profile")
    yield b
    b.close()


CHECK = """(() => {
  const svgs = [...document.querySelectorAll('svg')];
  const imgs = [...document.images];
  return {
    svgs: svgs.length,
    svgs_drawn: svgs.filter(s => { const r = s.getBoundingClientRect(); return r.width > 100 && r.height > 50; }).length,
    svgs_with_content: svgs.filter(s => s.querySelectorAll('path, text, use').length > 5).length,
    imgs: imgs.length,
    imgs_broken: imgs.filter(i => !i.complete || i.naturalWidth === 0).length,
    scripts: document.scripts.length,
    sections: [...document.querySelectorAll('section')].map(s => s.id),
    title: document.title,
    evil_text: [...document.querySelectorAll('td')].some(td => td.textContent.includes('<script>alert(1)</script>')),
  };
})()"""


def test_harness_sees_console_errors_and_broken_images(browser, tmp_path):
    """The checks below could fail: a page with a console error and a broken image is caught."""
    page = tmp_path / "bad.html"
    page.write_text('<!DOCTYPE html><html><body><img src="missing.png"><script>console.error("boom")</script>'
                    "</body></html>")
    browser.open(page.as_uri())
    state = browser.evaluate(CHECK)
    assert state["imgs_broken"] == 1
    problems = browser.problems()
    assert any("boom" in p for p in problems), problems
    assert any("missing.png" in p for p in problems), problems


def test_report_in_headless_chromium(browser, fresh_run, tmp_path):
    from netsim.report import render

    report = render(fresh_run)
    n_svg = report.read_text().count("<svg")
    browser.open(report.as_uri())
    state = browser.evaluate(CHECK)
    assert state["sections"] == ["headline", "backbone", "served", "local", "availability", "rtt", "quality", "cost",
                                 "maps", "summary"]
    assert state["svgs"] == n_svg == 9  # 8 figures + the quality section's hourly figure (quality_hourly.parquet)
    assert state["svgs_drawn"] == n_svg, state  # every figure laid out at a real size
    assert state["svgs_with_content"] == n_svg, state
    assert state["imgs"] == 0 and state["imgs_broken"] == 0
    assert state["scripts"] == 0  # the node named <script>... is text, not a script
    assert state["evil_text"]
    assert state["title"] == "netsim report: small"
    assert browser.problems() == []
    shot = tmp_path / "report.png"
    w, h = browser.screenshot(shot)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert h > 2000 and shot.stat().st_size > 50_000
    if os.environ.get("NETSIM_REPORT_SCREENSHOT"):  # keep a copy for people (e.g. the README)
        shutil.copy(shot, os.environ["NETSIM_REPORT_SCREENSHOT"])


def test_report_with_every_section_in_headless_chromium(browser, full_run, tmp_path):
    """The run with cost, quality (hourly), procurement, forecast, capacity plan and prefetch files: every section
    there, every figure drawn, no console problems."""
    from netsim.report import render

    report = render(full_run)
    n_svg = report.read_text().count("<svg")
    browser.open(report.as_uri())
    state = browser.evaluate(CHECK)
    assert state["sections"] == ["headline", "backbone", "prefetch", "served", "local", "availability", "rtt", "quality",
                                 "cost", "procurement", "forecast", "maps", "summary"]
    # 4 time series + prefetch + served-from + quality + cost + forecast + 2 maps
    assert state["svgs"] == n_svg == 11
    assert state["svgs_drawn"] == n_svg, state
    assert state["svgs_with_content"] == n_svg, state
    assert state["scripts"] == 0 and state["evil_text"]
    assert browser.problems() == []
    shot = tmp_path / "report-full.png"
    browser.screenshot(shot)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
