"""netsim: what-if simulation of Internet traffic distribution (regional IXs, shared caches, aggregated ISPs, failures)."""

from netsim.errors import InputError

__version__ = "0.1.0"
__all__ = ["InputError", "load_scenario", "load_topology", "run", "save_topology", "__version__"]


def load_scenario(path):
    """Load a scenario file or a shipped scenario name (see :func:`netsim.scenario.load_scenario`)."""
    from netsim.scenario import load_scenario as _load

    return _load(path)


def run(scenario, *, seed=None, out=None):
    """Simulate every design of a scenario; returns :class:`netsim.sim.run.Results` (polars frames).

    ``scenario`` is a Scenario, a file or a shipped name (``"tochigi"``); ``seed`` overrides the
    scenario's; with ``out`` the tables, summary.json and the resolved scenario.yaml are written there.
    """
    from netsim.sim.run import run as _run

    return _run(scenario, out, seed=seed)


def __getattr__(name):
    # load_topology / save_topology on first use: importing netsim (and netsim.scenario) does not pull in
    # networkx, polars and the topology readers (PEP 562)
    if name in ("load_topology", "save_topology"):
        import netsim.topology as _topology

        return getattr(_topology, name)
    raise AttributeError(f"module 'netsim' has no attribute {name!r}")
