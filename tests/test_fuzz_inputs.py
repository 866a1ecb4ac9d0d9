"""Fuzz the topology and scenario readers: a mutated file is accepted (exit 0) or refused with one line (exit 2),
never a traceback, never a hang (issue 18).

Each example starts from a valid document (shipped or minimal), changes one to three places in it (drops a key,
or puts a string, a negative, huge or non-finite number, a boolean, a list, a nested mapping, unicode or null
there), writes it as YAML and sometimes damages the text (a key given twice, the text cut short, a stray
character), then runs ``netsim topo check`` or ``netsim scenario check`` in process (neither simulates). A crash
found here is fixed in netsim and its input added to tests/test_bad_inputs.py.
"""

from __future__ import annotations

import copy
import math
import signal
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netsim.data import resolve_path
from netsim_testing import TRI_TOPOLOGY, run_cli_inprocess

#: seconds one check may take before it counts as a hang (they take 0.01-0.3 s)
LIMIT_S = 10
#: examples per test in the default run (about 25 ms each in process: ~8 s a test)
EXAMPLES = 300

_TRACE = "ts,src,dst,provider,obj,bytes,service\n" + "".join(
    f"{i * 30},a1,,video,{i % 5},1000000000,video\n{i * 30 + 1},a1,a2,,,100000000,p2p\n" for i in range(40))

_MINIMAL_SCENARIO = """\
name: s
topology: tri.yaml
traffic: {trace: t.csv, scale: 2.0, transfer_mbps: 20}
bin_s: 300
duration: 20m
seed: 1
routing: {igp_weight: latency_ms, multipath: false}
caches: {restart: warm, cacheable: {video: 0.9}}
failures:
  schedule:
    - {at: 60, duration: 5m, node: a1}
    - {at: "00:02", duration: 1m, link: [a1, t1]}
  random:
    link: {mtbf_h: 2000, mttr_h: 4}
designs:
  - baseline
  - name: ix
    transforms:
      - regional_ix: {ix: ix-x, metro: m1, asn: 65301, members: [64601], port_gbps: 100}
      - shared_cache: {host: a1, capacity_tb: 1, link_gbps: 100}
prices: {transit_per_mbps_month: 1.0, ix_port_per_month: {10: 5000}}
cost: {split: p95, headroom: 1.25}
quality: {placement: regional, flow_mbps: 25}
resilience: {n1: true, spof_below: 0.5}
"""

#: values put in place of a document's value (and their kind, for the examples' labels)
_ODD = st.one_of(
    st.sampled_from(["", "abc", "1e2", "-1", "nan", ".inf", "00:10", "1000w", "../../x", "/etc/passwd", "a/b",
                     "\u00e9\u6771\u4eac\U0001f600", "\x00", " " * 3, "yes", "baseline", "a1", "m1"]),
    st.sampled_from([0, -1, -1e300, 1e300, 10**30, 10**400, 2**63, 0.5, 1e-300, math.inf, -math.inf, math.nan]),
    st.booleans(), st.none(),
    st.lists(st.sampled_from([1, "a1", None, True, [], {}]), max_size=3),
    st.dictionaries(st.sampled_from(["a", "id", "at", "node", 1]), st.sampled_from([1, "x", None, [1]]), max_size=2),
    st.text(max_size=12), st.integers(), st.floats(),
)


def _places(doc, at=()):
    """Every (path to a container, key or index in it) of a document."""
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield at, k
            yield from _places(v, at + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield at, i
            yield from _places(v, at + (i,))


def _get(doc, path):
    for p in path:
        doc = doc[p]
    return doc


@st.composite
def _mutated(draw, docs: dict[str, dict]) -> str:
    name = draw(st.sampled_from(sorted(docs)))
    doc = copy.deepcopy(docs[name])
    for _ in range(draw(st.integers(1, 3))):
        places = list(_places(doc))
        if not places:
            break
        path, key = draw(st.sampled_from(places))
        parent = _get(doc, path)
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[key]
        else:
            parent[key] = draw(_ODD)
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=1000)
    damage = draw(st.sampled_from(["none", "none", "duplicate", "truncate", "stray"]))
    lines = text.splitlines(keepends=True)
    if damage == "duplicate" and lines:
        i = draw(st.integers(0, len(lines) - 1))
        lines.insert(i, lines[i])
        text = "".join(lines)
    elif damage == "truncate":
        text = text[:draw(st.integers(0, len(text)))]
    elif damage == "stray":
        i = draw(st.integers(0, len(text)))
        text = text[:i] + draw(st.sampled_from(["\t", ":", "- ", "{", "&a ", "*a", "!!python/name:os.system ", "\x85"])) + text[i:]
    return text


class _Hang(BaseException):
    """Raised by the alarm: a BaseException, so run_cli_inprocess does not take it for netsim's traceback."""


def _check(args: list[str], text: str) -> None:
    """The one property: exit 0, or exit 2 with one line on stderr; never a traceback; within LIMIT_S."""
    def alarm(signum, frame):
        raise _Hang(f"netsim {' '.join(args)} took more than {LIMIT_S} s on\n{text}")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(LIMIT_S)
    t0 = time.perf_counter()
    try:
        r = run_cli_inprocess(*args)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    assert time.perf_counter() - t0 < LIMIT_S
    errors = [ln for ln in r.stderr.splitlines() if ln.strip() and not ln.startswith("warning: ")]
    assert "Traceback" not in r.stderr, f"{r.stderr}\n--- input ---\n{text}"
    assert r.returncode in (0, 2), f"exit {r.returncode}: {r.stderr}\n--- input ---\n{text}"
    if r.returncode == 2:
        assert len(errors) == 1 and errors[0].startswith("netsim: error: "), f"{r.stderr}\n--- input ---\n{text}"
    else:
        assert errors == [], f"{r.stderr}\n--- input ---\n{text}"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    d = tmp_path_factory.mktemp("fuzz")
    (d / "tri.yaml").write_text(TRI_TOPOLOGY)
    (d / "t.csv").write_text(_TRACE)
    return d


_TOPOLOGIES = {
    "tri": yaml.safe_load(TRI_TOPOLOGY),
    "two_as": yaml.safe_load(resolve_path("topologies", "examples/two_as").read_text()),
    "ix_and_cache": yaml.safe_load(resolve_path("topologies", "examples/ix_and_cache").read_text()),
}
_SCENARIOS = {
    "minimal": yaml.safe_load(_MINIMAL_SCENARIO),
    # the shipped scenario as it is, but on the small triangle: its designs and failures name Tochigi's nodes, so
    # most of its mutations end at a located error in a design or failure
    "tochigi": yaml.safe_load(resolve_path("scenarios", "tochigi").read_text()),
}


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                                        HealthCheck.function_scoped_fixture])
@given(text=_mutated(_TOPOLOGIES))
def test_a_mutated_topology_is_accepted_or_one_line(workdir, text):
    p = Path(workdir) / "fuzz-topology.yaml"
    p.write_text(text, encoding="utf-8", errors="surrogatepass")
    _check(["topo", "check", str(p)], text)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                                        HealthCheck.function_scoped_fixture])
@given(text=_mutated(_SCENARIOS))
def test_a_mutated_scenario_is_accepted_or_one_line(workdir, text):
    p = Path(workdir) / "fuzz-scenario.yaml"
    p.write_text(text, encoding="utf-8", errors="surrogatepass")
    _check(["scenario", "check", str(p)], text)
