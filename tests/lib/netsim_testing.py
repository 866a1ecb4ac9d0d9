"""Helpers shared by test modules (on sys.path through pytest's ``pythonpath`` setting in pyproject.toml)."""

from __future__ import annotations

#: The shipped Tochigi traces at the sample rate they had before issue 14 (0.001; 0.3M rows a day instead
#: of 10M): for tests of mechanics, not of the shipped numbers (tests/sim/test_shipped_scenarios.py runs those).
SMALL = {"trace": "tochigi-1d@0.001", "warmup": "tochigi-prev-1d@0.001"}


def small(sc):
    """The scenario with its Tochigi traces (trace, cache warm-up, a prefetch's history) replaced by :data:`SMALL`'s."""
    sc.traffic = sc.traffic.model_copy(update={"trace": SMALL["trace"]})
    if sc.caches.warmup:
        sc.caches = sc.caches.model_copy(update={"warmup": SMALL["warmup"]})
    for d in sc.designs:
        for t in d.transforms:
            for args in t.values():
                if isinstance(args, dict) and args.get("history") == "tochigi-prev-1d":
                    args["history"] = SMALL["warmup"]
    return sc


# t1 (Tokyo core) feeds two access PoPs a1, a2 over 10G uplinks; a1-a2 is a 10G side link.
# Each PoP receives 4 x 45 GB per 5-minute bin from t1 = 48% of an uplink: losing one uplink
# sends both PoPs' traffic over the other (96%), and the side link carries 48%.
TRI_TOPOLOGY = """\
name: tri
metros:
  m1: {lat: 36.55, lon: 139.88, region: r1}
  m2: {lat: 36.31, lon: 139.80, region: r2}
  tk: {lat: 35.69, lon: 139.77, region: tokyo, core: true}
nodes:
  - {id: a1, kind: pop, asn: 64601, metro: m1, subscribers: 1000}
  - {id: a2, kind: pop, asn: 64601, metro: m2, subscribers: 1000}
  - {id: t1, kind: pop, asn: 64601, metro: tk, subscribers: 1000}
  - {id: o1, kind: origin, asn: 64700, metro: tk, provider: video}
links:
  - {src: a1, dst: t1, capacity_gbps: 10, tags: [backbone]}
  - {src: a2, dst: t1, capacity_gbps: 10, tags: [backbone]}
  - {src: a1, dst: a2, capacity_gbps: 10}
  - {src: o1, dst: t1, capacity_gbps: 100, rel: c2p}
"""


def run_cli_inprocess(*args: str, cwd=None):
    """``netsim ARGS`` in this process (about 50x faster than :func:`conftest.run_cli`'s subprocess, for corpus and fuzz
    tests): a ``subprocess.CompletedProcess`` whose ``returncode`` is the exit status, and 1 with the traceback in
    ``stderr`` when an exception escapes ``netsim.cli.main``, as a process would show it."""
    import contextlib
    import io
    import os
    import subprocess
    import traceback
    import warnings

    from netsim.cli import main

    out, err = io.StringIO(), io.StringIO()
    old = os.getcwd()
    code = 0
    with warnings.catch_warnings(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        warnings.simplefilter("default")
        try:
            if cwd is not None:
                os.chdir(cwd)
            main(list(args))
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        except Exception:   # a traceback is what the tests look for (Ctrl-C still stops the tests)
            code = 1
            traceback.print_exc(file=err)
        finally:
            os.chdir(old)
    return subprocess.CompletedProcess(["netsim", *args], code, out.getvalue(), err.getvalue())


def zipf_stream(n_obj, n_req, alpha, seed, log_mean=8.0, log_sigma=1.5):
    """Zipf(alpha) object ids with one lognormal size per object (sizes fixed per object): the request stream
    the caches are checked on against libCacheSim (tests/cache/test_oracle.py, scripts/validation.py).
    Returns (object ids as uint64, each request's size, each object's size)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    w = 1.0 / np.arange(1, n_obj + 1) ** alpha
    cdf = np.cumsum(w) / w.sum()
    objs = np.searchsorted(cdf, rng.random(n_req)).astype(np.uint64)
    obj_sizes = np.maximum(1, rng.lognormal(log_mean, log_sigma, n_obj)).astype(np.int64)
    return objs, obj_sizes[objs], obj_sizes
