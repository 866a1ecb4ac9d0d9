"""Compiled kernels (built from ext/*.pyx). No Python API lives here; see netsim.routing, netsim.cache."""
