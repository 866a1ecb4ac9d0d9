"""The ``netsim`` command. Each command group lives beside the code it drives and is added here."""

from __future__ import annotations

import sys
import warnings

import typer

from netsim.errors import InputError

app = typer.Typer(
    name="netsim",
    help="What-if simulation of Internet traffic distribution: regional IXs, shared caches, aggregated ISPs, failures.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


_registered = False


def _register_groups() -> None:
    # NOTE: once per process: main() called again (tests run the CLI in process) added every group again, and each
    # call built a command tree that many times larger
    global _registered
    if _registered:
        return
    _registered = True
    from netsim.analysis.cli import forecast_command
    from netsim.cache.cli import cache_app
    from netsim.plan.cli import plan_command
    from netsim.report.cli import compare_command, report_command
    from netsim.routing.cli import bench
    from netsim.sim.cli import run_command, scenario_app
    from netsim.sweep.cli import check_command, sweep_command
    from netsim.topology.cli import topo_app
    from netsim.traffic.cli import trace_app

    app.add_typer(topo_app, name="topo")
    app.add_typer(trace_app, name="trace")
    app.add_typer(cache_app, name="cache")
    app.add_typer(scenario_app, name="scenario")
    app.command("run")(run_command)
    app.command("bench")(bench)
    app.command("report")(report_command)
    app.command("compare")(compare_command)
    app.command("sweep")(sweep_command)
    app.command("check")(check_command)
    app.command("forecast")(forecast_command)
    app.command("plan")(plan_command)


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"warning: {message}", file=sys.stderr)


def main(argv: list[str] | None = None) -> None:
    """Entry point: a user's mistake prints one line and exits 2; partial results already written stay."""
    _register_groups()
    warnings.showwarning = _show_warning
    try:
        app(args=argv, prog_name="netsim")
    except InputError as e:
        print(f"netsim: error: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    except OSError as e:
        # NOTE: a file the system refused (missing, a directory, no permission, disk full) is the user's to fix: one
        # line naming it, not a traceback; every command checks its own files first, this is the net under them
        name = f"{e.filename}: " if getattr(e, "filename", None) else ""
        print(f"netsim: error: {name}{(e.strerror or str(e)).lower()}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":  # pragma: no cover
    main()
