"""Public holidays of the shop's country, for the demand calendar's ``is_holiday_week``.

The country is a setting (``PRICEGRAPH_PRICING__HOLIDAY_COUNTRY``, default ``GB``, the
synthetic world's): ``none`` (no holidays: the flag is always false) or an ISO 3166
alpha-2 code that the ``holidays`` package knows (``DE``, ``FR``, ``US``, ...). Every
country's calendar is the package's public holidays, substitute ("observed") days and
one-off days, such as a coronation, included. ``GB`` is the bank holidays of England and
Wales (the package's subdivision ``ENG``, whose dates are Wales's too; the package's
country-wide UK calendar leaves out Easter Monday and the August bank holiday, which
Scotland does not share). Any other value is refused with one line naming the variable
and the value.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

import holidays
import pandas as pd

from ...errors import ConfigError

NONE = "none"
"""The setting's value for no holidays."""

SETTING = "PRICEGRAPH_PRICING__HOLIDAY_COUNTRY"
"""The variable that chooses the country."""

SUBDIVISION = {"GB": "ENG", "UK": "ENG"}
"""The ``holidays`` subdivision whose calendar a country's code stands for, where the
country-wide one misses holidays that most of its shops see (England, for the UK)."""


def check_country(country: str) -> str:
    """``country`` if holidays can be computed for it, else :class:`ConfigError`."""
    if country == NONE or country in holidays.list_supported_countries():
        return country
    raise ConfigError(
        f"{SETTING}={country!r}: not a country the 'holidays' package knows "
        f"(an ISO 3166 alpha-2 code such as DE, FR, GB, US, or {NONE})"
    )


@lru_cache(maxsize=64)
def _dates(country: str, years: tuple[int, ...]) -> tuple[pd.Timestamp, ...]:
    found = holidays.country_holidays(country, subdiv=SUBDIVISION.get(country), years=years)
    return tuple(sorted(pd.Timestamp(day) for day in found))


def holiday_dates(country: str, years: Iterable[int]) -> pd.DatetimeIndex:
    """The public holidays of ``country`` in ``years``, sorted (see the module
    docstring); :class:`ConfigError` for a country the ``holidays`` package does not know."""
    if check_country(country) == NONE:
        return pd.DatetimeIndex([])
    return pd.DatetimeIndex(_dates(country, tuple(sorted({int(y) for y in years}))))


__all__ = ["NONE", "SETTING", "SUBDIVISION", "check_country", "holiday_dates"]
