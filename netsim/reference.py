"""The reference of every scenario and topology key, generated from the pydantic models (docs/reference.md).

Types, defaults, bounds and allowed values are read from the models, so they cannot drift from what
is validated; the one-line meaning of each key is :data:`DESCRIPTIONS` (a test fails when a model
gains a key this table does not describe). ``python -m netsim.reference > docs/reference.md``
regenerates the page; a test checks it is current.
"""

from __future__ import annotations

import inspect
import types
import typing
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

__all__ = ["DESCRIPTIONS", "model_keys", "reference_markdown"]

#: the meaning of each key, by its dotted path (``[]``: an item of a list, ``{}``: a value of a mapping)
DESCRIPTIONS: dict[str, str] = {
    # ------------------------------------------------------------------ scenario
    "scenario.name": "Name of the scenario (titles, the run's summary).",
    "scenario.description": "Free text shown in the report.",
    "scenario.topology": "A topology file (relative to the scenario's folder) or a shipped name (tochigi, japan).",
    "scenario.traffic": "Where the traffic comes from: a trace file or a generator.",
    "scenario.traffic.trace": "A trace file (.parquet/.csv) or a shipped trace (tochigi-1d, japan-1h; NAME@RATE for another sample rate).",
    "scenario.traffic.generator": "A registered generator (netsim trace gen --help lists them) instead of a trace.",
    "scenario.traffic.options": "Keyword options of the generator.",
    "scenario.traffic.duration": "How much of the trace (or how long a generated one) to simulate: seconds or 30m, 2h, 1d.",
    "scenario.traffic.scale": "Bytes each trace byte stands for (default: the trace's own, 1 / sample rate).",
    "scenario.traffic.growth": "Multiply every volume (what-if growth).",
    "scenario.traffic.transfer_mbps": "Rate a transfer moves at (its bytes spread over the bins it spans); null: each row's bytes in its bin.",
    "scenario.bin_s": "Length of a bin in seconds: the replay's time step and the tables' resolution.",
    "scenario.duration": "Simulated time (overrides the trace's): seconds or 30m, 2h, 1d.",
    "scenario.seed": "Seed of every random draw (same scenario + same seed: identical outputs).",
    "scenario.routing": "How routes are chosen.",
    "scenario.routing.igp_weight": "Link attribute used as the IGP metric inside an AS: latency_ms, hops, or a numeric link attribute.",
    "scenario.routing.multipath": "BGP multipath: split over every equally good neighbour AS instead of the one "
                                  "with the lowest ASN (ECMP inside an AS is always on).",
    "scenario.caches": "How caches start and what they may store.",
    "scenario.caches.restart": "warm: caches keep contents across a failure; cold: a cache that comes back is empty.",
    "scenario.caches.warmup": "A trace of the days before, replayed through the caches first (nothing measured).",
    "scenario.caches.cacheable": "Share of each service's objects a cache may store.",
    "scenario.caches.cacheable.{}": "Share (0..1) for one service.",
    "scenario.caches.cacheable_providers": "Per content provider, overriding its service's share.",
    "scenario.caches.cacheable_providers.{}": "Share (0..1) for one provider.",
    "scenario.backbone": "Which links count as backbone (docs/metrics.md).",
    "scenario.backbone.tags": "Links carrying any of these tags are backbone.",
    "scenario.backbone.auto": "When no link carries the tags: the inter-metro links that reach a core metro.",
    "scenario.failures": "Failures during the run.",
    "scenario.failures.schedule": "Failures at fixed times.",
    "scenario.failures.schedule[].at": "When it starts: seconds from the trace start or a clock time (\"20:00\").",
    "scenario.failures.schedule[].duration": "How long it lasts: seconds or 30m, 2h.",
    "scenario.failures.schedule[].node": "Take this node down.",
    "scenario.failures.schedule[].link": "Take this duplex link down: [src, dst].",
    "scenario.failures.schedule[].metro": "Take every node of this metro down (a metro going dark).",
    "scenario.failures.schedule[].asn": "Take every node of this AS down.",
    "scenario.failures.random": "Random failures per element kind (node, link).",
    "scenario.failures.random.{}.mtbf_h": "Mean time between failures of one element, hours.",
    "scenario.failures.random.{}.mttr_h": "Mean time to repair, hours.",
    "scenario.designs": "The designs compared: a name (a registered transform, e.g. baseline) or {name, transforms}.",
    "scenario.designs[].name": "The design's name in every output (letters, digits, _ - . + = @ ,).",
    "scenario.designs[].transforms": "Design transforms applied in order (see Design transforms below).",
    "scenario.designs[].compare_with": "The design a prefetch design's savings are measured against.",
    "scenario.prices": "Monthly prices (netsim/analysis/cost.py documents the defaults and their sources).",
    "scenario.prices.currency": "Currency of every price of the run (ISO 4217, three letters).",
    "scenario.prices.usd_rate": "Units of currency per US dollar: converts the USD defaults a run in another currency leaves out.",
    "scenario.prices.transit_per_mbps_month": "Transit price per Mbit/s per month, billed on the 95th percentile.",
    "scenario.prices.ix_port_per_month": "IX port price per month by port capacity in Gbps ({10: 5000, 100: 15000}).",
    "scenario.prices.line_per_gbps_km_month": "Line price per Gbit/s and route km per month.",
    "scenario.prices.line_min_km": "Shortest line length priced (cross-connects, metro access).",
    "scenario.prices.cache_site_per_month": "A cache site's monthly cost (rack, power).",
    "scenario.prices.cache_per_tb_month": "Monthly cost per TB of a cache's capacity, on top of its site (default 0: "
                                          "the CDN's appliance).",
    "scenario.cost": "How an aggregated ISP's costs are shared and its joint line sized.",
    "scenario.cost.split": "Share by each member's 95th percentile (p95), peak, or equally.",
    "scenario.cost.headroom": "A line is sized at peak x headroom.",
    "scenario.cost.line_step_gbps": "Lines are bought in circuits of this size (null: any capacity).",
    "scenario.quality": "The broadband-quality measurement method (docs/quality.md).",
    "scenario.quality.placement": "Measurement servers in the client's region (regional) or in Tokyo.",
    "scenario.quality.access_gbps": "Line rate of a PoP with no access profile and no access_gbps.",
    "scenario.quality.flow_mbps": "A typical flow's rate, for fair shares on a full link or tier.",
    "scenario.quality.loss_knee": "Utilisation above which a link or tier loses packets.",
    "scenario.quality.loss_at_full": "Loss at 100 % utilisation.",
    "scenario.quality.mss_bytes": "TCP segment size (the Mathis bound).",
    "scenario.quality.packet_bytes": "Packet size (queueing delay).",
    "scenario.quality.burst_packets": "Packets per burst (queueing delay, M^X/M/1).",
    "scenario.quality.max_queue_ms": "Longest queueing delay of one link or tier (a buffer's worth).",
    "scenario.quality.peak_hours": "Clock hours of the peak (21, 22: 21:00-23:00).",
    "scenario.quality.start_hour": "Clock hour of the trace's ts 0 (default: the trace's own).",
    "scenario.forecast": "Fit measured history and say when each design's links fill up (pillar 1).",
    "scenario.forecast.history": "CSV of timestamp, series, bps (series AS<asn> apply to that AS's links).",
    "scenario.forecast.holdout": "Last part of the history kept back to score the model.",
    "scenario.forecast.horizon": "How far ahead to forecast.",
    "scenario.forecast.threshold": "Peak utilisation whose crossing is forecast.",
    "scenario.planning": "What cost, procurement and the capacity plan are computed on when the scenario has failures.",
    "scenario.planning.basis": "normal: each design replayed without failures; as_run: the run's bins without a failure.",
    "scenario.resilience": "The fast N-1 pass of every run.",
    "scenario.resilience.n1": "Run it (on by default).",
    "scenario.resilience.spof_below": "A failure leaving the survivors less than this share is a single point of failure.",
    # ------------------------------------------------------------------ topology
    "topology.name": "Name of the topology.",
    "topology.description": "Free text.",
    "topology.metros": "Places: coordinates nodes inherit, and the region each belongs to.",
    "topology.metros.{}.lat": "Latitude (degrees).",
    "topology.metros.{}.lon": "Longitude (degrees).",
    "topology.metros.{}.region": "The region the metro belongs to (default: the metro itself).",
    "topology.metros.{}.name": "Display name.",
    "topology.metros.{}.population": "Population (informative).",
    "topology.metros.{}.core": "A core metro (Tokyo, Osaka): inter-metro links reaching it are backbone when none is tagged.",
    "topology.metros.{}.overseas": "Abroad: bytes sent from its nodes are counted as overseas (pairs.served_from).",
    "topology.ases": "Facts about each AS, by ASN.",
    "topology.ases.{}.name": "Display name.",
    "topology.ases.{}.type": "Kind of AS (carrier, regional-isp, cable, content, transit, ix-operator).",
    "topology.ases.{}.access": "The AS's access network (the quality method: docs/quality.md).",
    "topology.nodes": "The nodes.",
    "topology.nodes[].id": "Unique id.",
    "topology.nodes[].kind": "pop (a router site), ix, cache or origin (where a content provider's objects live).",
    "topology.nodes[].asn": "The AS operating it.",
    "topology.nodes[].metro": "Its metro (a key of metros, or a place of its own).",
    "topology.nodes[].region": "Its region (default: its metro's).",
    "topology.nodes[].lat": "Latitude (default: its metro's).",
    "topology.nodes[].lon": "Longitude (default: its metro's).",
    "topology.nodes[].name": "Display name.",
    "topology.nodes[].subscribers": "Broadband subscribers served here (an access PoP when > 0).",
    "topology.nodes[].access_gbps": "Subscribers' line rate (access.line_gbps wins).",
    "topology.nodes[].access": "This PoP's access network, overriding its AS's field by field.",
    "topology.nodes[].capacity_bytes": "A cache's size in bytes.",
    "topology.nodes[].policy": "A cache's replacement policy.",
    "topology.nodes[].serves": "ASNs whose subscribers a cache serves (default: its own AS).",
    "topology.nodes[].providers": "Content providers a cache stores (default: all).",
    "topology.nodes[].parent": "A cache's parent (a cache or origin) asked on a miss.",
    "topology.nodes[].provider": "The content provider an origin holds (default: AS<asn>).",
    "topology.nodes[].cost": "Monthly cost (a cache site, an IX port fee).",
    "topology.links": "The links (duplex unless duplex: false).",
    "topology.links[].src": "One end.",
    "topology.links[].dst": "The other end.",
    "topology.links[].capacity_gbps": "Capacity, Gbit/s.",
    "topology.links[].latency_ms": "One-way latency (default: great circle x 1.5 x 0.005 ms/km).",
    "topology.links[].rel": "Business relation seen from src: internal, c2p (src buys from dst), p2c, p2p.",
    "topology.links[].cost": "Monthly cost of the duplex link.",
    "topology.links[].tags": "Labels (backbone, transit, ix...).",
    "topology.links[].duplex": "Also create dst -> src with the reverse relation.",
    "topology.links[].igp_metric": "IGP metric (routing.igp_weight: igp_metric).",
    "topology.links[].distance_km": "Route length, for the default latency.",
    "access.line_gbps": "The subscriber's line rate.",
    "access.cpe_mbps": "In-home limit: router, Wi-Fi, device.",
    "access.latency_ms": "Round trip the access adds (PON scheduling, the home network).",
    "access.pppoe_share": "Share of subscribers on PPPoE (the rest on IPoE).",
    "access.tiers": "Shared resources between the PoP and its subscribers.",
    "access.tiers[].name": "Its name in the report (pon, olt-uplink, pppoe-nte...).",
    "access.tiers[].gbps": "Capacity of one unit.",
    "access.tiers[].shared_by": "Subscribers sharing one unit.",
    "access.tiers[].path": "Whose traffic crosses it: all, or only pppoe or ipoe subscribers.",
}


def _type_name(tp) -> str:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin is typing.Union or origin is types.UnionType:
        parts = [a for a in args if a is not type(None)]
        s = " or ".join(_type_name(a) for a in parts)
        return s + (" or null" if len(parts) < len(args) else "")
    if origin is typing.Literal:
        return "one of " + ", ".join(str(a) for a in args)
    if origin in (list, tuple):
        return f"list of {_type_name(args[0])}" if args else "list"
    if origin is dict:
        return f"mapping {_type_name(args[0])} -> {_type_name(args[1])}" if args else "mapping"
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return "mapping (below)"
    return {str: "text", float: "number", int: "integer", bool: "true/false", dict: "mapping"}.get(tp, getattr(tp, "__name__", str(tp)))


def _number(v) -> str:
    """A bound as a reader writes it: ``1e9`` for 1000000000.0, ``0.5`` for 0.5."""
    if isinstance(v, (int, float)) and not isinstance(v, bool) and abs(v) >= 1e5:
        mantissa, exp = f"{v:e}".split("e")
        text = f"{float(mantissa):g}e{int(exp)}"
        if float(text) == v:   # (4294967295 stays as it is)
            return text
    return str(v)


def _bounds(field) -> str:
    out = []
    for m in field.metadata:
        for attr, sym in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<="), ("min_length", "length >="),
                          ("max_length", "length <="), ("pattern", "matching")):
            v = getattr(m, attr, None)
            if v is not None:
                out.append(f"{sym} {_number(v)}")
    return ", ".join(out)


def _default(field) -> str:
    if field.is_required():
        return "required"
    if field.default_factory is not None:
        try:
            v = field.default_factory()
        except TypeError:
            return "-"
    else:
        v = field.default
    if v is PydanticUndefined:
        return "-"
    if isinstance(v, BaseModel):
        return "(below)"
    if isinstance(v, bool):
        return "true" if v else "false"
    return "null" if v is None else repr(v) if not isinstance(v, str) else v


def _submodel(tp):
    """The pydantic model inside an annotation (list of / mapping to / optional model) and how it nests."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return tp, ""
    if origin is typing.Annotated:
        return _submodel(args[0])
    if origin is typing.Union or origin is types.UnionType:
        for a in args:
            m, suffix = _submodel(a)
            if m is not None:
                return m, suffix
    if origin in (list, tuple) and args:
        m, suffix = _submodel(args[0])
        return (m, "[]" + suffix) if m is not None else (None, "")
    if origin is dict and len(args) == 2:
        m, suffix = _submodel(args[1])
        return (m, ".{}" + suffix) if m is not None else (None, "")
    return None, ""


def model_keys(model: type[BaseModel], prefix: str, *, stop: frozenset = frozenset()) -> list[tuple[str, Any]]:
    """Every key of ``model`` (recursing into sub-models; not into those in ``stop``), as (dotted path, field)."""
    out = []
    for name, f in model.model_fields.items():
        if f.exclude:
            continue
        path = f"{prefix}.{name}"
        out.append((path, f))
        sub, suffix = _submodel(f.annotation)
        if sub is not None and sub not in stop:
            out += model_keys(sub, path + suffix, stop=stop)
        elif typing.get_origin(f.annotation) is dict and f"{path}.{{}}" in DESCRIPTIONS:
            out.append((f"{path}.{{}}", None))
    return out


def _table(rows: list[tuple[str, Any]], strip: str = "") -> list[str]:
    lines = ["| key | type | default | allowed | meaning |", "|---|---|---|---|---|"]
    for path, f in rows:
        key = path.removeprefix(strip)
        if f is None:
            lines.append(f"| `{key}` | | | | {DESCRIPTIONS[path]} |")
            continue
        lines.append(f"| `{key}` | {_type_name(f.annotation)} | {_default(f)} | {_bounds(f)} | "
                     f"{DESCRIPTIONS.get(path, '')} |".replace("||", "| |"))
    return lines


def _scenario_keys():
    from netsim.scenario import Scenario

    return model_keys(Scenario, "scenario")


def _topology_keys():
    from netsim.topology.schema import AccessModel, TopologyModel

    return model_keys(TopologyModel, "topology", stop=frozenset({AccessModel})), model_keys(AccessModel, "access")


def _transforms() -> list[str]:
    from netsim.topology.designs import DESIGNS

    lines = []
    for name in DESIGNS.names():
        fn = DESIGNS[name]
        params = [p for p in inspect.signature(fn).parameters.values() if p.kind is inspect.Parameter.KEYWORD_ONLY]
        sig = ", ".join(p.name if p.default is inspect.Parameter.empty else f"{p.name}={p.default!r}" for p in params)
        doc = " ".join((inspect.getdoc(fn) or "").split("\n\n")[0].split())
        lines.append(f"- **`{name}`**`({sig})` — {doc}")
    return lines


def reference_markdown() -> str:
    """docs/reference.md."""
    scen = _scenario_keys()
    topo, access = _topology_keys()
    parts = [
        "# Scenario and topology reference",
        "",
        "Generated from the pydantic models by `python -m netsim.reference > docs/reference.md`; a test",
        "checks that it is current. `[]` marks an item of a list, `{}` a value of a mapping. Durations",
        "are seconds or a number with a unit (`30m`, `2h`, `1d`, `1w`). Unknown keys are errors.",
        "",
        "## Scenario",
        "",
        *_table(scen, "scenario."),
        "",
        "## Design transforms",
        "",
        "A design's `transforms:` is a list of `{transform: {parameter: value}}`, applied in order.",
        "",
        *_transforms(),
        "",
        "## Topology",
        "",
        *_table(topo, "topology."),
        "",
        "### Access network (`ases.{}.access`, `nodes[].access`)",
        "",
        *_table(access, "access."),
        "",
    ]
    return "\n".join(parts)


def undescribed() -> list[str]:
    """Keys of the models that :data:`DESCRIPTIONS` does not describe (a test keeps this empty)."""
    scen = _scenario_keys()
    topo, access = _topology_keys()
    return [p for p, f in scen + topo + access if f is not None and p not in DESCRIPTIONS]


if __name__ == "__main__":  # pragma: no cover
    print(reference_markdown(), end="")
