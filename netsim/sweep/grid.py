"""The sweep grid: failure sets (N-1 link/node/metro, sampled N-2 metro, a file), growth factors, seeds, designs.

A *failure set* is a tuple of targets that are down for the whole run (a steady-state what-if, unlike
the engine's timed events). A target is ``(kind, value)`` with kind ``node``, ``link`` (a pair: both
directions), ``metro`` or ``asn`` — the same targets a scenario's failure schedule names. The empty
set ``()`` is the no-failure reference every sweep includes.

A *task* is one design under one failure set at one growth factor and seed. Its key is a hash of
everything that determines its result (the scenario's content, including the bytes of its topology
and trace files, the design, the failure set, the growth factor, the seed and netsim's version), so
a re-run of the same sweep finds the tasks it already has.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import networkx as nx
import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from netsim.errors import InputError
from netsim.scenario import DesignSpec, Scenario
from netsim.sim.manifest import sha256_file

__all__ = ["FailureSet", "Task", "expand_failures", "failure_label", "load_failure_file", "parse_growth",
           "scenario_hash", "task_key", "check_failures", "expand_grid", "FAILURE_MODES"]

#: the built-in ``--failures`` modes (besides ``n-2-metro:K`` and a file)
FAILURE_MODES = ("none", "n-1-link", "n-1-node", "n-1-metro")

FailureSet = tuple  # tuple of (kind, value) targets; value is a (u, v) tuple for a link


def failure_label(fs: FailureSet) -> str:
    """A readable, stable name for a failure set.

    Examples
    --------
    >>> failure_label(())
    'none'
    >>> failure_label((("metro", "tokyo"), ("link", ("a", "b"))))
    'metro tokyo + link a<->b'
    """
    if not fs:
        return "none"
    parts = []
    for kind, value in fs:
        parts.append(f"link {value[0]}<->{value[1]}" if kind == "link" else f"{kind} {value}")
    return " + ".join(parts)


def _canonical(fs) -> FailureSet:
    """Targets sorted, links with their ends in sorted order, duplicates removed."""
    out = set()
    for kind, value in fs:
        if kind == "link":
            value = tuple(sorted((str(value[0]), str(value[1]))))
        elif kind == "asn":
            value = int(value)
        else:
            value = str(value)
        out.add((kind, value))
    return tuple(sorted(out, key=lambda t: (t[0], str(t[1]))))


def _metros(g: nx.DiGraph) -> list[str]:
    return sorted({str(d["metro"]) for _, d in g.nodes(data=True) if d.get("metro") is not None})


def expand_failures(g: nx.DiGraph, mode: str, *, seed: int = 0) -> list[FailureSet]:
    """The failure sets of a built-in mode on a topology, the no-failure reference ``()`` first.

    ``n-1-link``: every duplex link once (both directions fail together); ``n-1-node``: every node
    that is not a content origin; ``n-1-metro``: every metro that has a node; ``n-2-metro:K``: K
    distinct pairs of metros drawn with ``seed`` (all pairs when there are fewer than K);
    ``none``: only the reference.

    Examples
    --------
    >>> from netsim import load_topology
    >>> g = load_topology("examples/two_as")
    >>> len(expand_failures(g, "n-1-link"))  # 6 duplex links + the reference
    7
    >>> [failure_label(f) for f in expand_failures(g, "n-1-metro")][:3]
    ['none', 'metro ikebukuro', 'metro otemachi']
    >>> [failure_label(f) for f in expand_failures(g, "n-2-metro:2", seed=1)]
    ['none', 'metro otemachi + metro shibuya', 'metro otemachi + metro shinjuku']
    """
    sets: list[FailureSet] = [()]
    if mode == "none":
        pass
    elif mode == "n-1-link":
        pairs = sorted({tuple(sorted((str(u), str(v)))) for u, v in g.edges})
        sets += [(("link", p),) for p in pairs]
    elif mode == "n-1-node":
        sets += [(("node", str(n)),) for n in sorted(g.nodes, key=str) if g.nodes[n].get("kind") != "origin"]
    elif mode == "n-1-metro":
        sets += [(("metro", m),) for m in _metros(g)]
    elif mode.startswith("n-2-metro:"):
        k_text = mode.split(":", 1)[1]
        try:
            k = int(k_text)
        except ValueError:
            k = -1
        if k < 1:
            raise InputError(f"expected n-2-metro:K with K a positive integer, found {mode!r}", where="--failures")
        metros = _metros(g)
        pairs = [(a, b) for i, a in enumerate(metros) for b in metros[i + 1:]]
        if k < len(pairs):
            rng = np.random.default_rng(seed)
            pick = sorted(rng.choice(len(pairs), size=k, replace=False).tolist())
            pairs = [pairs[i] for i in pick]
        sets += [(("metro", a), ("metro", b)) for a, b in pairs]
    else:
        raise InputError(f"unknown failure mode {mode!r}; expected one of {', '.join(FAILURE_MODES)}, "
                         "n-2-metro:K or a YAML file", where="--failures")
    return sets


# -- failure sets from a file ------------------------------------------------------------------
class _Target(BaseModel):
    model_config = ConfigDict(extra="forbid")
    node: Optional[str] = None
    link: Optional[list[str]] = Field(default=None, min_length=2, max_length=2)
    metro: Optional[str] = None
    asn: Optional[int] = None

    @model_validator(mode="after")
    def _one(self):
        if sum(getattr(self, t) is not None for t in ("node", "link", "metro", "asn")) != 1:
            raise ValueError("give exactly one target: node, link, metro or asn")
        return self

    def target(self) -> tuple:
        for t in ("node", "link", "metro", "asn"):
            v = getattr(self, t)
            if v is not None:
                return (t, tuple(v) if t == "link" else v)
        raise AssertionError


class _FailureSetSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    fail: list[_Target] = Field(default_factory=list)


def load_failure_file(path: str | Path) -> list[FailureSet]:
    """Failure sets from a YAML list; each entry is one target or ``{fail: [targets]}`` (``fail: []`` = none).

    A target is ``{metro: M}``, ``{node: N}``, ``{link: [A, B]}`` or ``{asn: N}``. The no-failure
    reference is added first if the file does not list it. Raises InputError with the entry's place.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "f.yaml")
    >>> _ = open(p, "w").write("- {metro: tokyo}\\n- fail: [{link: [b, a]}, {node: x}]\\n")
    >>> [failure_label(f) for f in load_failure_file(p)]
    ['none', 'metro tokyo', 'link a<->b + node x']
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text)
    except OSError as e:
        raise InputError(f"cannot read: {e}", source=str(path)) from None
    except yaml.YAMLError as e:
        raise InputError(f"YAML error: {e}", source=str(path)) from None
    if not isinstance(data, list) or not data:
        raise InputError("expected a non-empty YAML list of failure sets ({metro: M}, {link: [A, B]}, "
                         "{node: N}, {asn: N} or {fail: [targets]})", source=str(path))
    from netsim.errors import format_loc

    entries = []
    for i, item in enumerate(data):
        model = _FailureSetSpec if isinstance(item, dict) and "fail" in item else _Target
        try:
            entries.append(model.model_validate(item))
        except ValidationError as e:
            err = e.errors()[0]
            msg = err["msg"].removeprefix("Value error, ")
            raise InputError(msg, source=str(path), where=format_loc((i,) + tuple(err["loc"]))) from None
    out: list[FailureSet] = []
    for e in entries:
        fs = _canonical([t.target() for t in (e.fail if isinstance(e, _FailureSetSpec) else [e])])
        if fs not in out:
            out.append(fs)
    if () in out:
        out.remove(())
    return [()] + out


def check_failures(g: nx.DiGraph, sets: list[FailureSet], *, source: str | None = None) -> None:
    """InputError if a target of any set names nothing in the topology ``g``.

    Examples
    --------
    >>> from netsim import load_topology
    >>> g = load_topology("examples/two_as")
    >>> check_failures(g, [(), (("metro", "otemachi"),)])
    >>> check_failures(g, [(("node", "zz"),)])
    Traceback (most recent call last):
    ...
    netsim.errors.InputError: node zz: node 'zz' is not in the topology
    """
    from netsim.sim.failures import resolve_target

    for fs in sets:
        for kind, value in fs:
            resolve_target(g, kind, value, where=failure_label(fs), source=source)


def parse_growth(text: str) -> list[float]:
    """Growth factors from ``"1.0,1.2,1.5"``; InputError on anything but positive numbers.

    Examples
    --------
    >>> parse_growth("1, 1.2,1.5")
    [1.0, 1.2, 1.5]
    """
    out = []
    for part in str(text).split(","):
        try:
            v = float(part)
        except ValueError:
            v = float("nan")
        if not v > 0 or v == float("inf"):
            raise InputError(f"expected comma-separated positive numbers, found {part.strip()!r}", where="--growth")
        if v not in out:
            out.append(v)
    return out


# -- tasks ---------------------------------------------------------------------------------------
def scenario_hash(sc: Scenario) -> str:
    """A hash of what a scenario simulates: its settings (without name, description, designs, failures and
    seed, which the sweep sets per task) and the contents of its topology and trace files.

    Examples
    --------
    >>> from netsim.scenario import load_scenario
    >>> sc = load_scenario("tochigi")
    >>> h = scenario_hash(sc)
    >>> len(h), h == scenario_hash(sc.model_copy(update={"name": "renamed", "seed": 9}))
    (64, True)
    >>> h == scenario_hash(sc.model_copy(update={"bin_s": 60.0}))
    False
    """

    doc = sc.model_dump(mode="json", exclude={"name", "description", "designs", "failures", "seed"})
    files = {"topology": sha256_file(sc.resolve("topologies", sc.topology, where="topology"))}
    if sc.traffic.trace is not None:
        files["trace"] = sha256_file(sc.resolve("traces", sc.traffic.trace, where="traffic.trace"))
    text = json.dumps({"scenario": doc, "files": files}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Task:
    """One run of a sweep: a design under a failure set at a growth factor and seed."""

    key: str
    design: DesignSpec
    failure: FailureSet
    growth: float
    seed: int

    @property
    def label(self) -> str:
        return failure_label(self.failure)

    def params(self) -> dict:
        """The task's parameters as plain data (the columns every result table carries)."""
        return {"task": self.key, "design": self.design.name, "failure": self.label,
                "failed": len(self.failure), "growth": float(self.growth), "seed": int(self.seed)}


def task_key(scenario_digest: str, design: DesignSpec, failure: FailureSet, growth: float, seed: int) -> str:
    """The hash a task's result file is named by (24 hex digits).

    Examples
    --------
    >>> d = DesignSpec(name="baseline")
    >>> k = task_key("abc", d, (("metro", "m1"),), 1.0, 0)
    >>> len(k), k == task_key("abc", d, (("metro", "m1"),), 1.0, 0), k == task_key("abc", d, (), 1.0, 0)
    (24, True, False)
    """
    import netsim

    doc = {"scenario": scenario_digest, "design": design.model_dump(mode="json"),
           "failure": [[k, list(v) if k == "link" else v] for k, v in failure],
           "growth": float(growth), "seed": int(seed), "netsim": netsim.__version__}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:24]


def expand_grid(sc: Scenario, *, failures: str = "none", growth: list[float] | None = None, seeds: int = 1) -> list[Task]:
    """Every task of a sweep: designs × failure sets × growth factors × seeds, in a fixed order.

    ``failures`` is a built-in mode (see :func:`expand_failures`) or the path of a YAML file (see
    :func:`load_failure_file`). Failure sets are expanded on each design's own topology (a design
    may add links). Seeds are ``scenario.seed + i`` for ``i < seeds``; growth factors multiply the
    scenario's own ``traffic.growth``.

    Examples
    --------
    >>> from netsim.scenario import load_scenario
    >>> tasks = expand_grid(load_scenario("tochigi"), failures="n-1-metro", growth=[1.0, 1.5], seeds=1)
    >>> len(tasks)  # 4 designs x (11 metros + the reference) x 2 growth factors
    96
    >>> [(t.design.name, t.label, t.growth) for t in tasks[:3]]
    [('baseline', 'none', 1.0), ('baseline', 'none', 1.5), ('baseline', 'metro ashikaga', 1.0)]
    """
    from netsim.topology import load_topology
    from netsim.topology.designs import apply_design

    growth = [1.0] if not growth else list(growth)
    if seeds < 1:
        raise InputError(f"expected --seeds >= 1, found {seeds}", where="--seeds")
    g0 = load_topology(sc.resolve("topologies", sc.topology, where="topology"))
    is_file = failures not in FAILURE_MODES and not failures.startswith("n-2-metro:")
    if is_file and not Path(failures).is_file():
        raise InputError(f"unknown failure mode {failures!r}; expected one of {', '.join(FAILURE_MODES)}, "
                         "n-2-metro:K or an existing YAML file", where="--failures")
    from_file = load_failure_file(failures) if is_file else None
    digest = scenario_hash(sc)
    tasks = []
    for i, design in enumerate(sc.designs):
        g = apply_design(g0, design.name, design.transforms, source=sc.source, where=f"designs[{i}]")
        sets = from_file if from_file is not None else expand_failures(g, failures, seed=sc.seed)
        check_failures(g, sets, source=failures if is_file else None)
        for fs in sets:
            for gr in growth:
                for s in range(seeds):
                    seed = sc.seed + s
                    tasks.append(Task(task_key(digest, design, fs, gr, seed), design, fs, float(gr), seed))
    return tasks
