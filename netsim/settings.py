"""The settings models a scenario carries for the analyses (``prices:``, ``quality:``): configuration, in the
scenario's layer, apart from the analyses themselves (netsim.analysis.cost and netsim.analysis.quality import
them from here and re-export them), so that loading a scenario imports neither the analyses nor networkx and
polars (tests/test_layering.py)."""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from netsim.yamlio import no_bool_numbers

__all__ = ["Prices", "QualityMethod"]


class Prices(BaseModel):
    """Monthly prices (a scenario's ``prices:``). Unknown keys are errors.

    Defaults and where they come from (docs/sources.md, "Prices"; old or foreign — override them):

    * ``transit_per_mbps_month = 1.0`` — Tokyo GigE transit was $45/Mbps/month (2008), $31
      (2009), above $28 (2010); 10GE transit was about $1/Mbps/month in London and Los Angeles
      (2015). The default is the most recent documented figure, for a 10G-class buyer; transit
      prices have kept falling since, so it errs high for a large buyer today.
    * ``ix_port_per_month = {1: 1500, 10: 5000, 100: 15000}`` (per port capacity in Gbps) — a
      10G IX port cost about $20,000/month in Japan around 2012 and was near international
      levels by 2014. The 10G default assumes that fall continued at about a quarter of the 2012
      price; the 1G and 100G tiers follow the common ×0.3 / ×3 spacing of IX price lists
      (an assumption, not a sourced figure).
    * ``line_per_gbps_km_month = 0.1`` — an intra-European 10G wavelength cost $800–1,200/month,
      about $0.0001 per Mbps-km = $0.1 per Gbps-km.
    * ``line_min_km = 5`` — a floor on a line's length (cross-connects, metro access).
    * ``cache_site_per_month = 2000`` — no public figure in docs/sources.md: an assumption of about one
      rack of colocation with power at a regional site (CDN appliances themselves are commonly
      provided by the CDN).
    * ``cache_per_tb_month = 0`` — storage paid per TB of a cache's capacity, on top of the site: 0 by
      default (the appliance and its disks are commonly the CDN's); an operator who buys the storage
      sets it (an assumption either way: docs/sources.md gives no figure). Without it, a larger cache
      costs nothing more, and ``netsim plan`` takes the largest size it may.
    * ``currency = "USD"``: the currency of every price of the run. The defaults above are in US dollars,
      so a run in another currency gives every price in it, or gives ``usd_rate`` (units of ``currency``
      per US dollar, e.g. 150 for JPY) and the prices it leaves out are converted from the defaults at
      that rate. A currency other than USD with a default left out and no ``usd_rate`` is an error: the
      report would otherwise label dollar prices as yen.

    Examples
    --------
    >>> Prices().transit_per_mbps_month, Prices(currency="jpy", usd_rate=150).transit_per_mbps_month
    (1.0, 150.0)
    >>> p = Prices(currency="JPY", usd_rate=150, transit_per_mbps_month=120)  # given in yen: kept
    >>> p.transit_per_mbps_month, p.cache_site_per_month, p.ix_port(10)
    (120.0, 300000.0, (750000.0, '1 x 10G'))
    >>> Prices(currency="JPY", transit_per_mbps_month=150)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for Prices
    ...the defaults of ix_port_per_month, line_per_gbps_km_month, cache_site_per_month are in USD...
    >>> Prices(transit_usd=3)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for Prices
    ...
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)   # NOTE: no inf/NaN, no boolean number
    _bools = no_bool_numbers("*")

    currency: str = Field(default="USD", pattern="^[A-Za-z]{3}$")
    usd_rate: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    transit_per_mbps_month: float = Field(default=1.0, ge=0)
    ix_port_per_month: dict[float, float] = Field(default_factory=lambda: {1.0: 1500.0, 10.0: 5000.0, 100.0: 15000.0})
    line_per_gbps_km_month: float = Field(default=0.1, ge=0)
    line_min_km: float = Field(default=5.0, ge=0)
    cache_site_per_month: float = Field(default=2000.0, ge=0)
    cache_per_tb_month: float = Field(default=0.0, ge=0)

    @field_validator("ix_port_per_month")
    @classmethod
    def _tiers(cls, v: dict[float, float]) -> dict[float, float]:
        if not v:
            raise ValueError("give at least one port tier, e.g. {10: 5000}")
        if any(k <= 0 or p < 0 for k, p in v.items()):
            raise ValueError("port tiers need a capacity > 0 Gbps and a price >= 0")
        return dict(sorted((float(k), float(p)) for k, p in v.items()))

    @field_validator("currency")
    @classmethod
    def _upper(cls, v: str) -> str:
        return v.upper()

    @model_validator(mode="after")
    def _one_currency(self) -> "Prices":
        if self.currency == "USD":
            if self.usd_rate not in (None, 1.0):
                raise ValueError(f"usd_rate is {self.usd_rate:g} but the currency is USD: drop it or name the currency")
            return self
        # a default of 0 is 0 in any currency: nothing to convert
        left = [k for k in _PRICE_FIELDS if k not in self.model_fields_set and getattr(self, k) != 0]
        if not left:
            return self
        if self.usd_rate is None:
            raise ValueError(f"the currency is {self.currency} but the defaults of {', '.join(left)} are in USD: give "
                             f"them in {self.currency}, or give usd_rate ({self.currency} per USD) to convert them")
        r = self.usd_rate
        for k in left:
            v = getattr(self, k)
            object.__setattr__(self, k, {t: p * r for t, p in v.items()} if isinstance(v, dict) else v * r)
        return self

    def ix_port(self, capacity_gbps: float) -> tuple[float, str]:
        """Monthly price and description of the ports an IX membership of ``capacity_gbps`` needs.

        Examples
        --------
        >>> Prices().ix_port(10), Prices().ix_port(40), Prices().ix_port(250)
        ((5000.0, '1 x 10G'), (15000.0, '1 x 100G'), (45000.0, '3 x 100G'))
        """
        for tier, price in self.ix_port_per_month.items():
            if capacity_gbps <= tier + 1e-9:
                return price, f"1 x {tier:g}G"
        tier, price = list(self.ix_port_per_month.items())[-1]
        n = math.ceil(capacity_gbps / tier - 1e-9)
        return n * price, f"{n} x {tier:g}G"


#: the fields of Prices that are amounts of money (line_min_km is a length)
_PRICE_FIELDS = ("transit_per_mbps_month", "ix_port_per_month", "line_per_gbps_km_month", "cache_site_per_month",
                 "cache_per_tb_month")


class QualityMethod(BaseModel):
    """Parameters of the measurement method (a scenario's ``quality:``); see the module docstring."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)   # NOTE: no inf/NaN, no boolean number
    _bools = no_bool_numbers("*")

    placement: str = Field(default="regional", pattern="^(regional|tokyo)$")
    access_gbps: float = Field(default=1.0, gt=0)       # when the PoP has no access_gbps
    flow_mbps: float = Field(default=25.0, gt=0)
    loss_knee: float = Field(default=0.9, ge=0, lt=1)
    loss_at_full: float = Field(default=0.01, ge=0, le=1)
    mss_bytes: float = Field(default=1460.0, gt=0)
    packet_bytes: float = Field(default=1500.0, gt=0)
    burst_packets: float = Field(default=1000.0, gt=0)
    max_queue_ms: float = Field(default=50.0, ge=0)
    peak_hours: tuple[int, ...] = (21, 22)               # 21:00-23:00
    start_hour: float = Field(default=0.0, ge=0, lt=24)  # clock hour of ts_s = 0
