"""Every netsim command in the README's console blocks runs as written (in an empty folder), or says it is
illustrative (it names the reader's own file or cluster). The own-network block has its own test
(tests/test_readme_own_network.py); the first block's two commands are what CI runs."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
#: minutes, not seconds: run with `pytest -m slow`
SLOW = ("netsim sweep tochigi", "netsim check tochigi", "-p 0.09")


def _commands() -> list[str]:
    out = []
    for lang, body in re.findall(r"```(console|bash)\n(.*?)```", README.read_text(), flags=re.S):
        for line in body.splitlines():
            line = line.strip()
            if lang == "console" and line.startswith("$ netsim "):
                out.append(line[2:])
    return out


def _runnable():
    cmds = [c for c in _commands() if "(illustrative" not in c]
    return [pytest.param(c, marks=pytest.mark.slow) if any(s in c for s in SLOW) else c for c in cmds]


def test_every_console_command_is_run_or_marked_illustrative():
    cmds = _commands()
    assert len(cmds) >= 15
    illustrative = [c for c in cmds if "(illustrative" in c]
    # what is illustrative names something of the reader's: a file or a cluster this repository does not have
    assert all(re.search(r"my-scenario|tcp://host|traffic\.csv|flows\.csv", c) for c in illustrative), illustrative


@pytest.mark.parametrize("command", _runnable())
def test_a_readme_command_runs_as_written(command, tmp_path, cli):
    args = shlex.split(command.split("#", 1)[0])[1:]
    r = cli(*args, cwd=tmp_path, timeout=900)
    ok = (0, 1) if args[0] == "check" and "--max-util" in args else (0,)
    assert r.returncode in ok, (command, r.stderr[-2000:])
    assert "Traceback" not in r.stderr
