"""Fixtures for the traffic tests: the two-AS example topology and small hand-made traces."""

import polars as pl
import pytest

from netsim.topology import load_topology
from netsim.traffic.schema import SCHEMA


@pytest.fixture(scope="session")
def two_as():
    return load_topology("examples/two_as")


def make_trace(rows):
    """rows: (ts, src, dst, provider, obj, bytes, service) tuples."""
    return pl.DataFrame(rows, schema=SCHEMA, orient="row")


@pytest.fixture
def small_trace():
    return make_trace([
        (0.0, "a1", "a2", None, None, 1500, "voice"),
        (1.5, "a2", None, "video", 7, 20_000_000, "video"),
        (2.0, "a3", None, "web", 9, 50_000, "web"),
        (299.9, "a1", "a3", None, None, 4_000, "game"),
        (900.0, "a2", None, "video", 7, 20_000_000, "video"),
    ])


@pytest.fixture(scope="session")
def japanish():
    """Four access PoPs in two regions (two equal PoPs 30 km apart, one 500 km away) and two origins."""
    import networkx as nx

    g = nx.DiGraph(name="japanish")
    pops = {"big-a": (36.55, 139.88, "tochigi", 50_000), "big-b": (36.31, 139.80, "tochigi", 50_000),
            "far": (34.69, 135.50, "osaka", 50_000), "small": (34.70, 135.30, "osaka", 5_000)}
    for n, (lat, lon, region, subs) in pops.items():
        g.add_node(n, kind="pop", asn=1, metro=n, region=region, lat=lat, lon=lon, subscribers=subs)
    g.add_node("origin-web", kind="origin", asn=2, metro="tokyo", region="tokyo", lat=35.68, lon=139.76, provider="web")
    g.add_node("origin-ov", kind="origin", asn=3, metro="tokyo", region="tokyo", lat=35.68, lon=139.76, provider="overseas-video")
    return g
