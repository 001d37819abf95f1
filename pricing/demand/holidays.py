"""Public holidays of the shop's country, for the demand calendar's ``is_holiday_week``.

The country is a setting (``PRICEGRAPH_PRICING__HOLIDAY_COUNTRY``, default ``GB``, the
synthetic world's). Built in, by rule (no substitute days):

* ``GB``: England and Wales bank holidays: New Year's Day, Good Friday, Easter Monday
  (Gregorian computus), the first and last Monday of May, the last Monday of August,
  25 and 26 December;
* ``US``: federal holidays: New Year's Day, Martin Luther King Jr. Day, Presidents'
  Day, Memorial Day, Juneteenth (from 2021), Independence Day, Labor Day, Columbus
  Day, Veterans Day, Thanksgiving, Christmas Day;
* ``none``: no holidays (the flag is always false).

Any other ISO 3166 code is looked up in the ``holidays`` package when it is installed
(``pip install holidays``); without it the setting is refused, naming the variable.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from ...errors import ConfigError

BUILT_IN = ("GB", "US", "none")
"""Countries whose holidays need no extra package."""

SETTING = "PRICEGRAPH_PRICING__HOLIDAY_COUNTRY"
"""The variable that chooses the country."""


def easter_sunday(year: int) -> pd.Timestamp:
    """Easter Sunday of ``year`` (Gregorian computus, anonymous algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    h = (19 * a + b - d - (b - f + 1) // 3 + 15) % 30
    i, k = divmod(c, 4)
    m = (32 + 2 * e + 2 * i - h - k) % 7
    n = h + m - 7 * ((a + 11 * h + 22 * m) // 451) + 114
    return pd.Timestamp(year, n // 31, n % 31 + 1)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> pd.Timestamp:
    """The ``n``-th (1-based; -1 = last) ``weekday`` (Monday 0) of the month."""
    if n > 0:
        first = pd.Timestamp(year, month, 1)
        return first + pd.Timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = pd.Timestamp(year, month, 1) + pd.offsets.MonthEnd(0)
    return last - pd.Timedelta(days=(last.weekday() - weekday) % 7)


def _gb(year: int) -> list[pd.Timestamp]:
    easter = easter_sunday(year)
    return [
        pd.Timestamp(year, 1, 1),
        easter - pd.Timedelta(days=2),
        easter + pd.Timedelta(days=1),
        _nth_weekday(year, 5, 0, 1),
        _nth_weekday(year, 5, 0, -1),
        _nth_weekday(year, 8, 0, -1),
        pd.Timestamp(year, 12, 25),
        pd.Timestamp(year, 12, 26),
    ]


def _us(year: int) -> list[pd.Timestamp]:
    days = [
        pd.Timestamp(year, 1, 1),
        _nth_weekday(year, 1, 0, 3),
        _nth_weekday(year, 2, 0, 3),
        _nth_weekday(year, 5, 0, -1),
        pd.Timestamp(year, 7, 4),
        _nth_weekday(year, 9, 0, 1),
        _nth_weekday(year, 10, 0, 2),
        pd.Timestamp(year, 11, 11),
        _nth_weekday(year, 11, 3, 4),
        pd.Timestamp(year, 12, 25),
    ]
    return days + ([pd.Timestamp(year, 6, 19)] if year >= 2021 else [])


def check_country(country: str) -> str:
    """``country`` if holidays can be computed for it, else :class:`ConfigError`."""
    if country in BUILT_IN:
        return country
    try:
        import holidays
    except ImportError:
        raise ConfigError(
            f"{SETTING}={country!r}: built in are {', '.join(BUILT_IN)}; "
            "other countries need the 'holidays' package (pip install holidays)"
        ) from None
    if country not in holidays.list_supported_countries():
        raise ConfigError(
            f"{SETTING}={country!r}: not a country the 'holidays' package knows "
            "(an ISO 3166 alpha-2 code such as DE, FR, US)"
        )
    return country


def holiday_dates(country: str, years: Iterable[int]) -> pd.DatetimeIndex:
    """The public holidays of ``country`` in ``years`` (see the module docstring)."""
    years = sorted({int(y) for y in years})  # a handful of years, not rows
    if country == "none":
        return pd.DatetimeIndex([])
    if country in ("GB", "US"):
        rule = _gb if country == "GB" else _us
        return pd.DatetimeIndex([day for year in years for day in rule(year)])
    check_country(country)
    import holidays

    found = holidays.country_holidays(country, years=years)
    return pd.DatetimeIndex(sorted(pd.Timestamp(day) for day in found))


__all__ = ["BUILT_IN", "SETTING", "check_country", "easter_sunday", "holiday_dates"]
