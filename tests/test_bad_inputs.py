"""Bad input corpus: each case a file, the exit code and a fragment of the one-line message (grows with every bug)."""

from __future__ import annotations

import json

import pytest

from netsim_testing import TRI_TOPOLOGY, run_cli_inprocess

_TOPO = ("name: t\nmetros:\n  m: {lat: 36.5, lon: 139.9}\nnodes:\n  - {id: a, kind: pop, asn: 1, metro: m, subscribers: 10}\n"
         "  - {id: b, kind: pop, asn: 1, metro: m}\nlinks:\n  - {src: a, dst: b, capacity_gbps: CAP}\n")
_SC = "name: x\ntopology: tochigi\ntraffic: {trace: tochigi-1d}\n"

CASES = [
    # (file name, text, command, message fragment)
    ("inf.yaml", _TOPO.replace("CAP", ".inf"), ["topo", "check"], "links[0].capacity_gbps (line 8): input should be a finite number"),
    ("nan.yaml", _TOPO.replace("CAP", ".nan"), ["topo", "check"], "input should be a finite number"),
    ("dup.yaml", _TOPO.replace("CAP", "10").replace("name: t\n", "name: t\nname: u\n"), ["topo", "check"],
     "key 'name' given twice (first on line 1)"),
    ("bin.yaml", _SC + "bin_s: .inf\n", ["run"], "bin_s (line 4): input should be a finite number"),
    ("dur.yaml", _SC + "duration: .nan\n", ["run"], "duration (line 4): input should be a finite number"),
    ("seed.yaml", _SC + "seed: -1\n", ["run"], "seed (line 4): input should be greater than or equal to 0"),
    ("dupsc.yaml", _SC + "seed: 1\nseed: 2\n", ["run"], "key 'seed' given twice (first on line 4)"),
    ("path.yaml", _SC + "designs:\n  - {name: /../../tmp/x/PWNED}\n", ["run"], "designs[0].name (line 5)"),
    ("cacheable.yaml", _SC + "caches: {cacheable: {video: 1.5}}\n", ["run"], "caches.cacheable.video (line 4)"),
    ("transfer.yaml", _SC.replace("{trace: tochigi-1d}", "{trace: tochigi-1d, transfer_mbps: 0}"), ["run"],
     "traffic.transfer_mbps (line 3)"),
    # the scenario chose a weight no link has: located in the scenario, not on a link of the topology
    ("igp.yaml", _SC + "routing: {igp_weight: no_such_attr}\n", ["run"], "routing.igp_weight: link"),
    # polars' multi-line parse error (with the file's text in it) is one line
    ("quote.csv", "ts,src,dst,provider,obj,bytes,service\n1,\"isp-a\n", ["trace", "info"],
     'cannot read the file: invalid csv file Field "isp-a is not properly escaped'),
    ("top.csv", "ts,src,dst,provider,obj,bytes,service\n1,a,b,,,10,p2p\n", ["trace", "info", "--top", "-5"],
     "--top must be >= 0, found -5"),
    ("dur.yaml", _SC + "duration: 1000w\n", ["run"], "duration: the run would take 2,016,000 bins"),
    # a misspelt metro is the culprit, not the link whose latency it leaves without coordinates
    ("metro.yaml", _TOPO.replace("CAP", "10").replace("  - {id: b, kind: pop, asn: 1, metro: m}",
                                                      "  - {id: b, kind: pop, asn: 1, metro: mm}"),
     ["topo", "check"], "nodes[1].metro (line 6): metro 'mm' is not in metros (did you mean m?)"),
]


@pytest.mark.parametrize("name, text, cmd, fragment", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_located_line_and_exit_2(tmp_path, cli, name, text, cmd, fragment):
    p = tmp_path / name
    p.write_text(text)
    args = [*cmd[:2], str(p), *cmd[2:]] + (["-o", str(tmp_path / "out")] if cmd == ["run"] else [])
    r = cli(*args)
    assert r.returncode == 2, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    # the line names the file, or the flag that was wrong
    assert (str(p) in lines[0] or p.name in lines[0] or fragment.startswith("--")) and fragment in lines[0], lines[0]


# -- the readers of other formats, traces, transforms, failures (each case: files, command, message) ---------------

_HEAD = "ts,src,dst,provider,obj,bytes,service\n"
#: a 20-minute trace on the triangle (TRI_TOPOLOGY): content from o1 to a1, flows a1 -> a2
_TRACE = _HEAD + "".join(f"{i * 30},a1,,video,{i % 5},1000000000,video\n{i * 30 + 1},a1,a2,,,100000000,p2p\n"
                         for i in range(40))
_TRI_SC = "name: s\ntopology: tri.yaml\ntraffic: {trace: t.csv}\nbin_s: 300\n"
_DESIGN = "designs:\n  - baseline\n  - name: r\n    transforms:\n      - {t}\n"
_ZOO = """<?xml version="1.0" encoding="utf-8"?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns">
<key attr.name="label" attr.type="string" for="node" id="d0"/>
<key attr.name="Latitude" attr.type="double" for="node" id="d1"/>
<key attr.name="Longitude" attr.type="double" for="node" id="d2"/>
<key attr.name="LinkSpeedRaw" attr.type="double" for="edge" id="d3"/>
<key attr.name="LinkSpeed" attr.type="string" for="edge" id="d4"/>
<key attr.name="LinkSpeedUnits" attr.type="string" for="edge" id="d5"/>
<graph edgedefault="undirected">
<node id="0"><data key="d0">A</data><data key="d1">LAT</data><data key="d2">10</data></node>
<node id="1"><data key="d0">B</data><data key="d1">11</data><data key="d2">11</data></node>
<edge source="0" target="1">EDGE</edge>
</graph></graphml>
"""


def _zoo(lat="10", edge='<data key="d3">1e9</data>'):
    return _ZOO.replace("LAT", lat).replace("EDGE", edge)


def _nodelink(**change):
    doc = {"directed": False, "multigraph": False, "graph": {"name": "x"},
           "nodes": [{"id": "A", "pos": [13.4, 52.5]}, {"id": "B", "pos": [11.6, 48.1]}],
           "links": [{"source": "A", "target": "B", "dist": 500.0}]}
    for path, value in change.items():
        kind, i, key = path.split("__")
        (doc[kind] if kind == "graph" else doc[kind][int(i)])[key] = value
    return json.dumps(doc).replace('"INF"', "Infinity").replace('"BIG"', str(10**400))


def _sndlib(old, new):
    from pathlib import Path

    text = (Path(__file__).parent / "fixtures" / "topology" / "sndlib_small.txt").read_text()
    assert old in text
    return text.replace(old, new, 1)


def _peeringdb(speed):
    return json.dumps({"ix": {"data": [{"id": 7, "name": "Demo-IX", "city": "Sapporo"}]},
                       "ixlan": {"data": [{"id": 70, "ix_id": 7}]},
                       "netixlan": {"data": [{"id": 1, "ixlan_id": 70, "asn": 64512, "speed": "SPEED"}]}}
                      ).replace('"SPEED"', speed)


def _parquet(path, *, obj=None, meta=None):
    """A small Parquet trace; ``obj``: the obj column as signed integers; ``meta``: the netsim.trace JSON text."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    t = pa.table({"ts": [0.0, 1.0], "src": ["a1", "a1"], "dst": [None, "a2"], "provider": ["video", None],
                  "obj": pa.array(obj or [1, None], pa.int64() if obj else pa.uint64()), "bytes": [10, 10],
                  "service": ["video", "p2p"]})
    if meta is not None:
        t = t.replace_schema_metadata({b"netsim.trace": meta.encode()})
    pq.write_table(t, path)


def _corrupt_parquet(path):
    _parquet(path, meta='{"scale": 2.0}')
    b = bytearray(path.read_bytes())
    for i in range(4, len(b) // 2):   # the pages, not the footer: the schema reads, the rows do not
        b[i] ^= 0x5A
    path.write_bytes(bytes(b))


_META = '{"format": "netsim-trace", "version": 1, "scale": SCALE, "sample_rate": 1.0}'

FILE_CASES = [
    # (id, {file: text or a function of its path}, command ({name} -> the file's path), message fragment)
    # Topology Zoo GraphML: a negative LinkSpeedRaw became the 10 Gbps default, an infinite latitude was dropped
    ("zoo-negative-speed", {"z.graphml": _zoo(edge='<data key="d3">-1e9</data>')}, ["topo", "check", "{z.graphml}"],
     "edge A->B: LinkSpeedRaw is -1000000000.0; expected a speed > 0"),
    ("zoo-nan-speed", {"z.graphml": _zoo(edge='<data key="d3">NaN</data>')}, ["topo", "check", "{z.graphml}"],
     "edge A->B: LinkSpeedRaw is nan"),
    ("zoo-1e400-speed", {"z.graphml": _zoo(edge='<data key="d3">1e400</data>')}, ["topo", "check", "{z.graphml}"],
     "edge A->B: LinkSpeedRaw is inf"),
    ("zoo-negative-linkspeed", {"z.graphml": _zoo(edge='<data key="d4">-5</data><data key="d5">G</data>')},
     ["topo", "check", "{z.graphml}"], "edge A->B: LinkSpeed is '-5'; expected a speed > 0"),
    ("zoo-inf-latitude", {"z.graphml": _zoo(lat="INF")}, ["topo", "check", "{z.graphml}"],
     "node 'A': lat is inf; expected a finite coordinate"),
    # node-link JSON: a link to an undefined node created it in silence; 10**400 overflowed
    ("nodelink-undefined-node", {"n.json": _nodelink(links__0__target="C")}, ["topo", "check", "{n.json}"],
     "links[0].target: target 'C' is not the id of a node in 'nodes'"),
    ("nodelink-inf-pos", {"n.json": _nodelink(nodes__0__pos=["INF", 1])}, ["topo", "check", "{n.json}"],
     "nodes[0].pos: pos is [inf, 1]; expected [longitude, latitude], finite numbers"),
    ("nodelink-huge-dist", {"n.json": _nodelink(links__0__dist="BIG")}, ["topo", "check", "{n.json}"],
     "links[0].dist: dist is 1000"),
    ("nodelink-huge-demand", {"n.json": _nodelink(graph__0__demands={"A": {"B": "BIG"}})}, ["topo", "check", "{n.json}"],
     "graph.demands.A.B: demand 1000"),
    ("nodelink-negative-demand", {"n.json": _nodelink(graph__0__demands={"A": {"B": -3}})}, ["topo", "check", "{n.json}"],
     "graph.demands.A.B: demand -3 is not a finite number >= 0"),
    ("nodelink-asn-true", {"n.json": _nodelink(nodes__0__asn=True)}, ["topo", "check", "{n.json}"],
     "nodes[0].asn: expected a number (true, false, yes, no are booleans), found True"),
    # PeeringDB: a port speed of 10**400 overflowed
    ("peeringdb-huge-speed", {"p.json": _peeringdb(str(10**400))}, ["topo", "check", "{p.json}"],
     "netixlan.data[0].speed: speed found 1000"),
    ("peeringdb-1e400-speed", {"p.json": _peeringdb("1e400")}, ["topo", "check", "{p.json}"],
     "netixlan.data[0].speed: speed found inf; expected an integer > 0 and <= 1,000,000,000"),
    # SNDlib: a negative or NaN capacity fell back to the modules or the 10 Gbps default; an infinite coordinate
    # dropped every node's coordinates
    ("sndlib-negative-capacity", {"s.txt": _sndlib("9920.00 0.00", "-5 0.00")}, ["topo", "check", "{s.txt}"],
     "line 30: pre_installed_capacity is '-5'; expected a finite number >= 0"),
    ("sndlib-nan-capacity", {"s.txt": _sndlib("9920.00 0.00", "nan 0.00")}, ["topo", "check", "{s.txt}"],
     "line 30: pre_installed_capacity is 'nan'"),
    ("sndlib-inf-longitude", {"s.txt": _sndlib("-85.50 34.50", "inf 34.50")}, ["topo", "check", "{s.txt}"],
     "line 18: longitude is 'inf'; expected a finite number"),
    # YAML: `asn: yes` was AS1; huge finite numbers passed the check and overflowed in the run
    ("yaml-asn-yes", {"t.yaml": _TOPO.replace("asn: 1, metro: m, sub", "asn: yes, metro: m, sub").replace("CAP", "10")},
     ["topo", "check", "{t.yaml}"], "nodes[0].asn (line 5): expected a number (true, false, yes, no are booleans)"),
    ("yaml-capacity-1e300", {"t.yaml": _TOPO.replace("CAP", "1.0e300")}, ["topo", "check", "{t.yaml}"],
     "links[0].capacity_gbps (line 8): input should be less than or equal to 1000000000"),
    ("yaml-subscribers-1e30", {"t.yaml": _TOPO.replace("subscribers: 10", f"subscribers: {10**30}").replace("CAP", "1")},
     ["topo", "check", "{t.yaml}"], "nodes[0].subscribers (line 5): input should be less than or equal to 10000000000"),
    ("yaml-huge-int-is-short", {"t.yaml": _TOPO.replace("CAP", str(10**400))}, ["topo", "check", "{t.yaml}"],
     "(401 characters)"),
    # `5:` is the number 5 in YAML: its path was `metros[5].[key]`
    ("yaml-metro-number-key", {"t.yaml": _TOPO.replace("  m: {", "  5: {lat: 1, lon: 2}\n  m: {").replace("CAP", "1")},
     ["topo", "check", "{t.yaml}"], "metros key 5 (line 3): expected a name (text); YAML reads 5 as a number"),
    # a date that matches YAML's pattern but is none: a ValueError traceback from PyYAML
    ("yaml-no-such-date", {"t.yaml": _TOPO.replace("name: t", "name: 2020-13-45").replace("CAP", "1")},
     ["topo", "check", "{t.yaml}"], "line 1, column 7: YAML syntax error: '2020-13-45' is not a date or time"),
    ("yaml-no-such-date-in-a-folded-run", {"t.yaml": _TOPO.replace("kind: pop, asn: 1, metro: m, sub",
                                                                  "kind: 2020-02-30, asn: 1, metro: m, sub")},
     ["topo", "check", "{t.yaml}"], "line 5, column 19: YAML syntax error: '2020-02-30' is not a date or time"),
    # CAIDA: a 400-digit AS number was printed whole
    ("caida-huge-asn", {"as-rel.txt": "1|2|-1\n" + "9" * 400 + "|3|0\n"}, ["topo", "check", "{as-rel.txt}"],
     "line 2: AS number 999999999999... (400 digits) is out of range"),
    # scenarios
    ("duration-0", {"tri.yaml": TRI_TOPOLOGY, "t.csv": _TRACE, "s.yaml": _TRI_SC + "duration: 0\n"},
     ["scenario", "check", "{s.yaml}"], "duration (line 5): value error, expected a duration > 0"),
    ("seed-yes", {"tri.yaml": TRI_TOPOLOGY, "t.csv": _TRACE, "s.yaml": _TRI_SC + "seed: yes\n"},
     ["scenario", "check", "{s.yaml}"], "seed (line 5): expected a number (true, false, yes, no are booleans)"),
    ("failure-asn-true", {"tri.yaml": TRI_TOPOLOGY, "t.csv": _TRACE,
                          "s.yaml": _TRI_SC + "failures: {schedule: [{at: 0, duration: 1h, asn: true}]}\n"},
     ["scenario", "check", "{s.yaml}"], "failures.schedule[0].asn (line 5): expected a number"),
    ("failure-at-nan", {"tri.yaml": TRI_TOPOLOGY, "t.csv": _TRACE,
                        "s.yaml": _TRI_SC + "failures: {schedule: [{at: .nan, duration: 1h, node: a1}]}\n"},
     ["scenario", "check", "{s.yaml}"], "failures.schedule[0].at (line 5): input should be a finite number"),
    ("scale-inf", {"tri.yaml": TRI_TOPOLOGY, "t.csv": _TRACE,
                   "s.yaml": _TRI_SC.replace("{trace: t.csv}", "{trace: t.csv, scale: .inf}")},
     ["run", "{s.yaml}", "-o", "{out}"], "traffic.scale (line 3): input should be a finite number"),
    ("scale-1e300", {"tri.yaml": TRI_TOPOLOGY, "t.csv": _TRACE,
                     "s.yaml": _TRI_SC.replace("{trace: t.csv}", "{trace: t.csv, scale: 1.0e300}")},
     ["run", "{s.yaml}", "-o", "{out}"], "traffic.scale (line 3): value error, expected at most 1e+12"),
    # random failures: `mtbf_h: 1e-9` drew until a MemoryError after 7 GB; now refused before anything is drawn
    ("mtbf-tiny", {"tri.yaml": TRI_TOPOLOGY, "t.csv": _TRACE,
                   "s.yaml": _TRI_SC + "failures: {random: {link: {mtbf_h: 1e-9, mttr_h: 1e-9}}}\n"},
     ["run", "{s.yaml}", "-o", "{out}"], "failures.random.link.mtbf_h: about 650,555,556 random link failures over the run"),
    # transform parameters: a string where a number goes was a TypeError
    ("transform-port-abc", {"tri.yaml": TRI_TOPOLOGY, "t.csv": _TRACE, "s.yaml": _TRI_SC + _DESIGN.format(
        t="regional_ix: {ix: ix-x, metro: m1, asn: 65301, members: [64601], port_gbps: abc}")},
     ["scenario", "check", "{s.yaml}"], "designs[1].transforms[0].regional_ix.port_gbps: input should be a valid number"),
    ("transform-port-inf", {"tri.yaml": TRI_TOPOLOGY, "t.csv": _TRACE, "s.yaml": _TRI_SC + _DESIGN.format(
        t="regional_ix: {ix: ix-x, metro: m1, asn: 65301, members: [64601], port_gbps: .inf}")},
     ["scenario", "check", "{s.yaml}"], "regional_ix.port_gbps: input should be a finite number"),
    # found by tests/test_fuzz_inputs.py: a transform without a required parameter was a TypeError
    ("transform-missing-parameter", {"tri.yaml": TRI_TOPOLOGY, "t.csv": _TRACE, "s.yaml": _TRI_SC + _DESIGN.format(
        t="shared_cache: {capacity_tb: 1}")},
     ["scenario", "check", "{s.yaml}"], "designs[1].transforms[0].shared_cache: shared_cache needs the parameter(s) host"),
    ("transform-cache-1e300", {"tri.yaml": TRI_TOPOLOGY, "t.csv": _TRACE, "s.yaml": _TRI_SC + _DESIGN.format(
        t="shared_cache: {host: a1, capacity_tb: 1e300}")},
     ["scenario", "check", "{s.yaml}"], "shared_cache.capacity_tb: expected at most 1e+09 in magnitude"),
    # traces
    ("trace-empty", {"tri.yaml": TRI_TOPOLOGY, "t.csv": _HEAD, "s.yaml": _TRI_SC},
     ["run", "{s.yaml}", "-o", "{out}"], "t.csv: the trace has no rows; expected at least one request or flow"),
    ("trace-ts-inf", {"tri.yaml": TRI_TOPOLOGY, "t.csv": _TRACE + "inf,a1,a2,,,10,p2p\n", "s.yaml": _TRI_SC},
     ["run", "{s.yaml}", "-o", "{out}"], "row 80 (line 82), column ts: ts is inf"),
    ("csv-extra-field", {"t.csv": _TRACE + "1300,a1,a2,,,10,p2p,extra\n"}, ["trace", "info", "{t.csv}"],
     "t.csv: line 82: 8 fields, the header has 7"),
    ("meta-scale-abc", {"t.csv": _TRACE, "t.csv.meta.json": '{"scale": "abc"}'}, ["trace", "info", "{t.csv}"],
     "t.csv.meta.json: scale: found 'abc'; expected a number > 0"),
    ("meta-scale-list", {"t.parquet": lambda p: _parquet(p, meta=_META.replace("SCALE", "[1, 2]"))},
     ["trace", "info", "{t.parquet}"], "metadata netsim.trace.scale: found [1, 2]"),
    ("meta-scale-negative", {"t.parquet": lambda p: _parquet(p, meta=_META.replace("SCALE", "-1000"))},
     ["trace", "info", "{t.parquet}"], "scale: found -1000; expected a number > 0"),
    ("meta-scale-0", {"t.parquet": lambda p: _parquet(p, meta=_META.replace("SCALE", "0"))},
     ["trace", "info", "{t.parquet}"], "scale: found 0; expected a number > 0"),
    ("meta-scale-1e400", {"t.parquet": lambda p: _parquet(p, meta=_META.replace("SCALE", "1e400"))},
     ["trace", "info", "{t.parquet}"], "scale: found inf"),
    ("meta-not-an-object", {"t.parquet": lambda p: _parquet(p, meta="[1, 2]")}, ["trace", "info", "{t.parquet}"],
     "trace metadata is a JSON list; expected an object"),
    ("parquet-obj-negative", {"t.parquet": lambda p: _parquet(p, obj=[-1, None])}, ["trace", "info", "{t.parquet}"],
     "row 0, column obj: obj is -1; expected an object id >= 0"),
    ("parquet-corrupt-pages", {"t.parquet": _corrupt_parquet}, ["trace", "info", "{t.parquet}"], "t.parquet: "),
    # a device: read until the memory ran out
    ("scenario-dev-zero", {}, ["scenario", "check", "/dev/zero"], "/dev/zero: not a regular file; expected a YAML file"),
    ("json-topology-dev-zero", {"z.json": lambda p: p.symlink_to("/dev/zero")}, ["topo", "check", "{z.json}"],
     "z.json: not a regular file; expected a topology file"),
    # flags
    ("bench-json-dir", {"d/x": ""}, ["bench", "examples/two_as", "--json", "{dir}/d"], "--json: "),
]


@pytest.mark.parametrize("files, cmd, fragment", [c[1:] for c in FILE_CASES], ids=[c[0] for c in FILE_CASES])
def test_bad_file_is_one_located_line_and_exit_2(tmp_path, files, cmd, fragment):
    paths = {"dir": str(tmp_path), "out": str(tmp_path / "out")}
    for name, content in files.items():
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        content(p) if callable(content) else p.write_text(content)
        paths[name] = str(p)
    args = list(cmd)
    for key, value in paths.items():
        args = [a.replace("{" + key + "}", value) for a in args]
    r = run_cli_inprocess(*args)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert r.returncode == 2 and len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert lines[0].startswith("netsim: error: ") and fragment in lines[0], lines[0]
    assert not (tmp_path / "out").exists()   # a bad input is said before anything is written


def test_every_number_field_of_a_topology_refuses_a_boolean():
    """The topology models name the fields their boolean check covers (for speed): none may be missing."""
    from netsim.topology.schema import _Strict
    from netsim.yamlio import bool_as_number

    numeric = {name for model in _Strict.__subclasses__() for name, f in model.model_fields.items()
               if any(bool_as_number(f.annotation, v) is not None for v in (True, [True], {1: True}, {True: 1}))}
    covered = set(_Strict.__pydantic_decorators__.field_validators["_bools"].info.fields)
    assert numeric and numeric <= covered, sorted(numeric - covered)


def test_yaml_1_1_numbers_in_transform_parameters_are_numbers(tmp_path):
    """`port_gbps: 1e2` is a string in YAML 1.1 (no dot): it was a TypeError; it is 100 Gbps."""
    from netsim.scenario import load_scenario
    from netsim.sim.check import check_scenario

    (tmp_path / "tri.yaml").write_text(TRI_TOPOLOGY)
    (tmp_path / "t.csv").write_text(_TRACE)
    (tmp_path / "s.yaml").write_text(_TRI_SC + _DESIGN.format(
        t="regional_ix: {ix: ix-x, metro: m1, asn: 65301, members: [64601], port_gbps: 1e2}"))
    g = check_scenario(load_scenario(tmp_path / "s.yaml")).graphs["r"]
    assert g.edges["a1", "ix-x"]["capacity_gbps"] == 100.0


def test_a_failure_after_the_end_of_a_csv_trace_is_a_warning(tmp_path):
    (tmp_path / "tri.yaml").write_text(TRI_TOPOLOGY)
    (tmp_path / "t.csv").write_text(_TRACE)
    (tmp_path / "s.yaml").write_text(_TRI_SC + "failures: {schedule: [{at: 10h, duration: 1h, node: a1}]}\n")
    r = run_cli_inprocess("scenario", "check", str(tmp_path / "s.yaml"))
    assert r.returncode == 0, r.stderr
    assert "failures.schedule[0] starts at 36,000 s, after the run ends (1,171 s): it will not happen" in r.stderr


def test_a_one_node_topology_runs_and_reports(tmp_path):
    (tmp_path / "one.yaml").write_text("name: one\nmetros:\n  m: {lat: 36.5, lon: 139.9}\n"
                                       "nodes:\n  - {id: a, kind: pop, asn: 1, metro: m, subscribers: 10}\n")
    (tmp_path / "t.csv").write_text(_HEAD + "1,a,,video,1,100,video\n")
    (tmp_path / "s.yaml").write_text("name: s\ntopology: one.yaml\ntraffic: {trace: t.csv}\n")
    out = tmp_path / "out"
    r = run_cli_inprocess("run", str(tmp_path / "s.yaml"), "-o", str(out))
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    r = run_cli_inprocess("report", str(out))
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    design = json.loads((out / "summary.json").read_text())["designs"][0]
    # no origin: the one request is unreachable, and the report still draws (a log scale of zeros crashed it)
    assert design["availability"] == 0.0 and design["unreachable_bytes"] == design["offered_bytes"] > 0
    assert "<svg" in (out / "report.html").read_text()


def test_a_damaged_sweep_task_file_is_run_again_with_a_warning(tmp_path):
    (tmp_path / "tri.yaml").write_text(TRI_TOPOLOGY)
    (tmp_path / "t.csv").write_text(_TRACE)
    (tmp_path / "s.yaml").write_text(_TRI_SC)
    out = tmp_path / "out"
    args = ("sweep", str(tmp_path / "s.yaml"), "-o", str(out), "--workers", "1")
    r = run_cli_inprocess(*args)
    assert r.returncode == 0, r.stderr
    (task,) = (out / "tasks").glob("*.json")
    good = json.loads(task.read_text())
    task.write_text('{"params": 1}')   # valid JSON of the wrong shape: combine() raised KeyError
    r = run_cli_inprocess(*args)
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    assert f"warning: {task}: damaged task file (no summary object); the task is run again" in r.stderr
    assert "1 tasks: 1 run now, 0 already done" in r.stderr
    assert json.loads(task.read_text())["summary"] == good["summary"]
