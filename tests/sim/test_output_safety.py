"""Output safety: names that become paths are checked, and one run at a time writes an output directory."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from netsim.errors import InputError
from netsim.scenario import Scenario, load_scenario
from netsim.sim.run import claim_output, run

from netsim_testing import small as _small



@pytest.mark.parametrize("name", ["/../../tmp/x/PWNED", "../up", "a/b", ".hidden", "..", "a\\\\b", "x" * 200])
def test_design_names_that_would_leave_the_output_directory_are_refused(name):
    with pytest.raises(ValueError, match="design name becomes a file name"):
        Scenario.model_validate({"name": "x", "topology": "tochigi", "traffic": {"trace": "tochigi-1d"},
                                 "designs": [{"name": name}]})
    with pytest.raises(ValueError, match="design name becomes a file name"):
        Scenario.model_validate({"name": "x", "topology": "tochigi", "traffic": {"trace": "tochigi-1d"},
                                 "designs": ["baseline", name]})


def test_a_bad_design_name_in_a_file_is_one_located_line(tmp_path, cli):
    p = tmp_path / "s.yaml"
    p.write_text("name: x\ntopology: tochigi\ntraffic: {trace: tochigi-1d}\ndesigns:\n  - {name: /../../tmp/x/PWNED}\n")
    r = cli("run", str(p), "-o", str(tmp_path / "out"))
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    assert "designs[0].name (line 5)" in r.stderr
    assert not (tmp_path / "out").exists()


def test_one_run_at_a_time_per_output_directory(tmp_path):
    out = tmp_path / "out"
    with claim_output(out):
        assert (out / ".netsim-run.lock").read_text().strip() == str(os.getpid())
        # another live process holds it: a second run fails at once (here: this test's parent stands in)
        (out / ".netsim-run.lock").write_text(f"{os.getppid()}\n")
        with pytest.raises(InputError, match="another netsim run"):
            with claim_output(out):
                pass
        (out / ".netsim-run.lock").write_text(f"{os.getpid()}\n")
    assert not (out / ".netsim-run.lock").exists()
    # a lock left by a process that is gone is taken over
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    (out / ".netsim-run.lock").write_text(dead + "\n")
    with claim_output(out):
        pass


def test_an_output_path_that_is_a_file_is_said_before_simulating(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    sc = _small(load_scenario("tochigi"))
    with pytest.raises(InputError, match="exists and is not a directory"):
        run(sc, f)
