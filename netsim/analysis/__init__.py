"""Analysis of traffic and runs: forecasting (pillar 1), broadband quality (pillar 3) and cost.

The modules are imported on demand (statsmodels is slow to import)::

    from netsim.analysis.forecast import forecast, read_series_csv, series_from_run, prefetch_candidates
    from netsim.analysis.cost import Prices, design_cost, joint_procurement, transit_bill
    from netsim.analysis.quality import measure_quality, quality_summary
"""

__all__: list[str] = []
