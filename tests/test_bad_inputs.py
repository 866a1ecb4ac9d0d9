"""Bad input corpus: each case a file, the exit code and a fragment of the one-line message (grows with every bug)."""

from __future__ import annotations

import pytest

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
