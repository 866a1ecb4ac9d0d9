#!/usr/bin/env python
"""How the shipped cases' headline outputs move with the trace sample rate (docs/sample-rates.md).

For each rate it makes the shipped traces at that rate (the recipe with only ``sample_rate``
changed), runs the shipped scenario on them, and reads the headline outputs of every design from
``summary.json``; a rate *converges* for an output when the output is within 2 % of its value at
3x the rate. Runs already in the work directory are reused.

Usage::

    PYTHONPATH=. python scripts/sample_rate_convergence.py tochigi --rates 0.001,0.003,0.01,0.03,0.09 --work /tmp/conv
    PYTHONPATH=. python scripts/sample_rate_convergence.py japan --rates 0.0001,0.0003,0.001,0.003 --work /tmp/conv
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

#: The outputs the README and the report headline: (summary key, label, how to show it).
OUTPUTS = [
    ("backbone_peak_bps", "backbone peak", lambda v: f"{v / 1e9:,.1f} Gbps"),
    ("backbone_p95_bps", "backbone p95", lambda v: f"{v / 1e9:,.1f} Gbps"),
    ("peak_utilisation", "hottest link", lambda v: f"{v:.1%}"),
    ("capacity_months_to_threshold", "months to 80%", lambda v: f"{v:.1f}"),
    ("availability_during_failures", "availability in failure", lambda v: f"{v:.1%}"),
    ("cache_byte_hit_ratio", "cache byte hit ratio", lambda v: f"{v:.1%}"),
    ("cost_per_month", "cost / month", lambda v: f"{v / 1e3:,.1f} k"),
]
TRACES = {"tochigi": {"trace": "tochigi-1d", "warmup": "tochigi-prev-1d"}, "japan": {"trace": "japan-1h"}}
TOLERANCE = 0.02


def _run(case: str, rate: float, work: Path) -> dict:
    from netsim.scenario import load_scenario
    from netsim.sim.run import run
    from netsim.traffic import recipes as rc

    out = work / f"out-{case}-{rate:g}"
    if not (out / "summary.json").is_file():
        paths = {}
        for role, name in TRACES[case].items():
            p = work / f"{name}-{rate:g}.parquet"
            if not p.is_file():
                rc._generate(rc.recipes()[name].model_copy(update={"sample_rate": rate}), p)
            paths[role] = p
        sc = load_scenario(case)
        sc.traffic = sc.traffic.model_copy(update={"trace": str(paths["trace"])})
        if "warmup" in paths:
            sc.caches = sc.caches.model_copy(update={"warmup": str(paths["warmup"])})
        run(sc, out)
    return {d["design"]: d for d in json.loads((out / "summary.json").read_text())["designs"]}


def _close(a, b) -> bool | None:
    if a is None or b is None:
        return None
    if b == 0:
        return a == 0
    return abs(a - b) <= TOLERANCE * abs(b)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("case", choices=sorted(TRACES))
    ap.add_argument("--rates", required=True, help="comma-separated, each about 3x the one before")
    ap.add_argument("--work", type=Path, required=True)
    args = ap.parse_args(argv)
    rates = [float(x) for x in args.rates.split(",")]
    for a, b in zip(rates, rates[1:]):
        if not 2.9 <= b / a <= 3.4:  # 0.001, 0.003, 0.01, 0.03: "about 3x" (0.01 / 0.003 = 3.3)
            raise SystemExit(f"--rates: {b:g} is not about 3x {a:g}")
    args.work.mkdir(parents=True, exist_ok=True)
    res = {r: _run(args.case, r, args.work) for r in rates}
    designs = list(res[rates[0]])
    head = "| design | output | " + " | ".join(f"{r:g}" for r in rates) + " | converged at |"
    print(head)
    print("|" + "---|" * (len(rates) + 3))
    for d in designs:
        for key, label, fmt in OUTPUTS:
            vals = [res[r][d].get(key) for r in rates]
            if all(v is None for v in vals):
                continue
            cells = []
            first = None
            for i, v in enumerate(vals):
                ok = _close(v, vals[i + 1]) if i + 1 < len(vals) else None
                cells.append(("-" if v is None else fmt(v)) + (" ✓" if ok else ""))
                if ok and first is None:
                    first = rates[i]
                if ok is False:
                    first = None
            print(f"| {d} | {label} | " + " | ".join(cells) + f" | {'-' if first is None else f'{first:g}'} |")


if __name__ == "__main__":
    main()
