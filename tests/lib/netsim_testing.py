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
