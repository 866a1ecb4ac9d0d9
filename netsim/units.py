"""Parsing of durations and clock times written by people (``1d``, ``2h``, ``20:00``)."""

from __future__ import annotations

import re

__all__ = ["parse_duration_s", "parse_clock_s"]

_UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}
_DUR = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|min|m|h|d|w)?\s*$")
_CLOCK = re.compile(r"^\s*(?:(?:day\s*)?(\d+)\s+)?(\d{1,2}):(\d{2})(?::(\d{2}))?\s*$")


def parse_duration_s(value) -> float:
    """Seconds in a duration: a number (seconds) or a string like ``90s``, ``5m``, ``2h``, ``1d``, ``1.5h``.

    Examples
    --------
    >>> parse_duration_s("2h"), parse_duration_s("1d"), parse_duration_s(300), parse_duration_s("90")
    (7200.0, 86400.0, 300.0, 90.0)
    >>> parse_duration_s("2 fortnights")
    Traceback (most recent call last):
    ...
    ValueError: expected a duration like 300, 90s, 5m, 2h, 1d or 1w, found '2 fortnights'
    """
    if isinstance(value, bool):
        raise ValueError(f"expected a duration like 300, 90s, 5m, 2h, 1d or 1w, found {value!r}")
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError(f"expected a duration >= 0, found {value!r}")
        return float(value)
    m = _DUR.match(str(value))
    if not m:
        raise ValueError(f"expected a duration like 300, 90s, 5m, 2h, 1d or 1w, found {value!r}")
    return float(m.group(1)) * _UNITS[m.group(2) or "s"]


def parse_clock_s(value) -> float:
    """Seconds from the trace start for a time: seconds, a duration (``3h``), ``HH:MM[:SS]`` on day 0, or ``DAY HH:MM``.

    Examples
    --------
    >>> parse_clock_s("20:00"), parse_clock_s("1 06:30"), parse_clock_s(3600), parse_clock_s("3h")
    (72000.0, 109800.0, 3600.0, 10800.0)
    """
    if isinstance(value, str):
        m = _CLOCK.match(value)
        if m:
            day, hh, mm, ss = m.groups()
            if int(hh) > 23 or int(mm) > 59 or int(ss or 0) > 59:
                raise ValueError(f"expected a clock time HH:MM[:SS], found {value!r}")
            return float(int(day or 0) * 86400 + int(hh) * 3600 + int(mm) * 60 + int(ss or 0))
    try:
        return parse_duration_s(value)
    except ValueError:
        raise ValueError(f"expected a time like 20:00, '1 06:30' (day 1), 3h or seconds, found {value!r}") from None
