"""Every netsim command the documentation shows is a real command with real options, and every scenario
a how-to gives in full (a ```yaml block starting ``# scenario: NAME.yaml``) passes ``netsim scenario check``.

The README's own commands run in tests/test_readme_commands.py; here the site's pages are checked
against the CLI's definition (typer/click), without running anything slow.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import typer

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGES = sorted(p for p in DOCS.rglob("*.md") if p.name != "reference.md")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


def _cli():
    import netsim.cli

    if not netsim.cli.app.registered_commands:
        netsim.cli._register_groups()
    return typer.main.get_command(netsim.cli.app)


def _commands() -> list[tuple[str, str]]:
    """(page, command line) for each line of a console/bash/text block that runs netsim."""
    out = []
    for page in PAGES:
        for lang, body in FENCE.findall(page.read_text()):
            if lang not in ("console", "bash", "sh", ""):
                continue
            for line in body.splitlines():
                line = line.strip().removeprefix("$ ")
                for part in re.split(r"&&|;", line.split("  #")[0]):
                    part = part.strip()
                    if part.startswith("netsim "):
                        out.append((page.relative_to(DOCS).as_posix(), part))
    return out


COMMANDS = _commands()


def test_the_docs_show_commands():
    assert len(COMMANDS) >= 15
    assert any("cache curve" in c for _, c in COMMANDS) and any("sweep" in c for _, c in COMMANDS)


@pytest.mark.parametrize("page,line", COMMANDS, ids=[f"{p}:{c[:60]}" for p, c in COMMANDS])
def test_command_and_options_exist(page, line):
    cmd = _cli()
    words = shlex.split(line)[1:]
    path = ["netsim"]
    while hasattr(cmd, "list_commands") and words and not words[0].startswith("-"):
        sub = cmd.get_command(None, words[0])
        assert sub is not None, f"{page}: `{line}`: no command {' '.join(path + words[:1])!r}"
        cmd, path, words = sub, path + [words[0]], words[1:]
    assert not hasattr(cmd, "list_commands"), f"{page}: `{line}`: {' '.join(path)} needs a subcommand"
    known = {o for p in cmd.params for o in (*p.opts, *p.secondary_opts)}
    for w in words:
        if w.startswith("-") and w != "-":
            opt = w.split("=", 1)[0]
            assert opt in known, f"{page}: `{line}`: {' '.join(path)} has no option {opt} (has {sorted(known)})"


def _scenarios() -> list[tuple[str, str, str]]:
    out = []
    for page in PAGES:
        for lang, body in FENCE.findall(page.read_text()):
            m = re.match(r"# scenario: (\S+\.yaml)\n", body)
            if lang == "yaml" and m:
                out.append((page.relative_to(DOCS).as_posix(), m.group(1), body))
    return out


SCENARIOS = _scenarios()


def test_the_how_tos_give_scenarios():
    assert {name for _, name, _ in SCENARIOS} >= {"ix-study.yaml", "cache-study.yaml"}


@pytest.mark.parametrize("page,name,body", SCENARIOS, ids=[n for _, n, _ in SCENARIOS])
def test_scenario_checks_clean(tmp_path, page, name, body):
    from netsim.scenario import load_scenario
    from netsim.sim.check import check_scenario

    path = tmp_path / name
    path.write_text(body)
    checked = check_scenario(load_scenario(path))
    assert checked.warnings == [], f"{page}: {name}: {checked.warnings}"
    assert len(load_scenario(path).designs) >= 3
