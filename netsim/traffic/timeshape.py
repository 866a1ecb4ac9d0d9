"""The diurnal and weekly shape of Japanese fixed-broadband traffic, and the stay-at-home surge.

Shape: the peak is at 21–23h on every day of the week and weekends carry more daytime traffic
(MIC, Internet traffic statistics, Nov 2023/2024; docs/sources.md). The hourly values below are an
*approximate* curve with those properties (trough about 0.36 of the peak at 4–5h, weekday
daytime about 0.55, weekend daytime about 0.8 of the peak, a weekday peak-to-mean ratio of 1.6);
they are scaled so the mean over a week is 1, so a calibrated average rate times the shape
is the rate at that time.

Surge (MIC, mid-April 2020 vs late February 2020): weekday daytime +30–50%, holiday daytime
+10–20%, night peak about +10%; NTT East: weekday 9–17h up to +33%, night peak +2%.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["WEEKDAY_SHAPE", "WEEKEND_SHAPE", "shape", "is_weekend", "Surge", "hour_of_day", "busy_hour_factor",
           "BUSY_HOUR_FACTOR"]

#: Relative traffic at the start of each hour (0h..23h), weekdays, as a fraction of the peak.
WEEKDAY_SHAPE = np.array([0.80, 0.62, 0.48, 0.40, 0.36, 0.36, 0.40, 0.46, 0.50, 0.52, 0.54, 0.56,
                          0.60, 0.57, 0.57, 0.58, 0.60, 0.64, 0.72, 0.82, 0.90, 0.97, 1.00, 0.93])
#: The same for Saturdays and Sundays: more daytime use, the same 21–23h peak.
WEEKEND_SHAPE = np.array([0.85, 0.68, 0.52, 0.42, 0.37, 0.36, 0.40, 0.48, 0.58, 0.66, 0.72, 0.76,
                          0.80, 0.80, 0.79, 0.79, 0.80, 0.82, 0.86, 0.90, 0.94, 0.98, 1.00, 0.94])
# NOTE: the mean of a periodic piecewise-linear curve is the mean of its anchors.
_WEEK_MEAN = (5 * WEEKDAY_SHAPE.mean() + 2 * WEEKEND_SHAPE.mean()) / 7


def hour_of_day(ts_s) -> np.ndarray:
    """Hour of day (float, 0–24) of trace times; ts 0 is midnight (JST) of the first day.

    Examples
    --------
    >>> hour_of_day([3600.0, 86400.0 + 5400.0]).tolist()
    [1.0, 1.5]
    """
    return np.mod(np.asarray(ts_s, dtype=np.float64), 86400.0) / 3600.0


def is_weekend(ts_s, *, start_weekday: int = 0) -> np.ndarray:
    """Whether each time falls on a Saturday or Sunday; ``start_weekday``: 0 = the trace starts on a Monday.

    Examples
    --------
    >>> is_weekend([0.0, 5 * 86400.0], start_weekday=0).tolist()
    [False, True]
    """
    day = np.floor(np.asarray(ts_s, dtype=np.float64) / 86400.0).astype(np.int64)
    return (day + start_weekday) % 7 >= 5


def shape(ts_s, *, start_weekday: int = 0) -> np.ndarray:
    """Relative traffic rate at each time (weekly mean 1), linearly interpolated between hours.

    Examples
    --------
    >>> round(float(shape(22 * 3600.0)), 2), round(float(shape(4 * 3600.0)), 2)  # Monday 22h, 4h
    (1.54, 0.56)
    """
    t = np.asarray(ts_s, dtype=np.float64)
    h = hour_of_day(t)
    i = np.floor(h).astype(np.int64) % 24
    frac = h - np.floor(h)
    weekend = is_weekend(t, start_weekday=start_weekday)
    wd = WEEKDAY_SHAPE[i] + (WEEKDAY_SHAPE[(i + 1) % 24] - WEEKDAY_SHAPE[i]) * frac
    we = WEEKEND_SHAPE[i] + (WEEKEND_SHAPE[(i + 1) % 24] - WEEKEND_SHAPE[i]) * frac
    return np.where(weekend, we, wd) / _WEEK_MEAN


def busy_hour_factor() -> float:
    """The busy hour's traffic over the weekly mean: the largest hourly mean of :func:`shape` in a week.

    netsim's one busy-hour factor: the shipped networks are sized for the mean demand times it
    (:mod:`netsim.topology.sizing`). On the curve above the busy hour is 21–22h on a Saturday or
    Sunday (0.99 of the peak): 1.53 (a weekday's: 1.52); the 5-minute peak (22:00) is 1.54, 1 % above it.
    MIC reports the evening peak at 21–23h on every day; its ratio to the mean is not published,
    so the curve (and with it the factor) is an approximation (docs/sources.md).

    Examples
    --------
    >>> round(busy_hour_factor(), 3)
    1.527
    """
    hourly = np.concatenate([(WEEKDAY_SHAPE + np.roll(WEEKDAY_SHAPE, -1)) / 2,
                             (WEEKEND_SHAPE + np.roll(WEEKEND_SHAPE, -1)) / 2])
    return float(hourly.max() / _WEEK_MEAN)


@dataclass(frozen=True)
class Surge:
    """A stay-at-home surge: multiplies traffic by hour and day type between ``start_s`` and ``end_s``.

    Defaults are the MIC April-2020 figures: weekday daytime (9–17h) +40% (MIC: +30–50%),
    weekend daytime +15% (+10–20%), night (20–6h, including the 21–23h peak) +10%; the hours
    between ramp linearly.

    Examples
    --------
    >>> s = Surge()
    >>> [round(float(x), 2) for x in s.factor(np.array([12 * 3600.0, 22 * 3600.0]))]
    [1.4, 1.1]
    """

    start_s: float = 0.0
    end_s: float = math.inf
    weekday_daytime: float = 0.40
    weekend_daytime: float = 0.15
    night: float = 0.10

    def _hourly(self, daytime: float) -> np.ndarray:
        n, d = self.night, daytime
        f = np.full(24, n)
        f[9:17] = d
        f[6:9] = n + (d - n) * np.array([0.25, 0.5, 0.75])
        f[17:20] = d + (n - d) * np.array([0.25, 0.5, 0.75])
        return 1.0 + f

    def factor(self, ts_s, *, start_weekday: int = 0) -> np.ndarray:
        """Multiplier at each time (1 outside the surge window); constant within an hour."""
        t = np.asarray(ts_s, dtype=np.float64)
        i = np.floor(hour_of_day(t)).astype(np.int64) % 24
        weekend = is_weekend(t, start_weekday=start_weekday)
        f = np.where(weekend, self._hourly(self.weekend_daytime)[i], self._hourly(self.weekday_daytime)[i])
        return np.where((t >= self.start_s) & (t < self.end_s), f, 1.0)


#: :func:`busy_hour_factor`, computed once.
BUSY_HOUR_FACTOR = busy_hour_factor()
