"""Nothing that only fits the synthetic world: the holiday calendar is a setting, zone
names claim no exclusivity, an estimated cost says so."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pricegraph.errors import ConfigError
from pricegraph.pricing.config import PricingConfig
from pricegraph.pricing.demand.holidays import holiday_dates
from pricegraph.pricing.demand.panel import PanelConfig, build_panel, calendar_features
from pricegraph.pricing.market.actions import ZONE_NAMES
from pricegraph.pricing.quotes.explain import cost_sentence
from pricegraph.pricing.quotes.inputs import ProductFacts


def _days(country: str, year: int) -> set[str]:
    return set(holiday_dates(country, [year]).strftime("%Y-%m-%d"))


def test_every_calendar_is_the_holidays_packages() -> None:
    assert _days("GB", 2024) == {  # England and Wales
        "2024-01-01", "2024-03-29", "2024-04-01", "2024-05-06", "2024-05-27", "2024-08-26",
        "2024-12-25", "2024-12-26",
    }  # fmt: skip
    assert _days("US", 2025) == {
        "2025-01-01", "2025-01-20", "2025-02-17", "2025-05-26", "2025-06-19", "2025-07-04",
        "2025-09-01", "2025-10-13", "2025-11-11", "2025-11-27", "2025-12-25",
    }  # fmt: skip
    assert _days("none", 2025) == set()
    assert {"2025-10-03", "2025-12-25", "2025-12-26"} <= _days("DE", 2025)  # German Unity Day
    assert {"2025-07-14", "2025-11-11"} <= _days("FR", 2025)
    assert "2025-07-14" not in _days("DE", 2025) and "2025-10-03" not in _days("FR", 2025)
    # the package's substitute and one-off days: Christmas on a Sunday, the state funeral
    gb_2022 = _days("GB", 2022)
    assert {"2022-12-25", "2022-12-26", "2022-12-27", "2022-09-19"} <= gb_2022
    assert "2022-05-30" not in gb_2022 and "2022-06-02" in gb_2022  # the Jubilee moved it
    assert holiday_dates("DE", [2026, 2025]).is_monotonic_increasing
    assert holiday_dates("DE", [2025, 2026]).year.unique().tolist() == [2025, 2026]


def test_the_calendar_follows_the_country() -> None:
    weeks = pd.Series(pd.to_datetime(["2025-06-30", "2025-08-25", "2025-11-24"]))  # Mondays
    gb = calendar_features(weeks)["is_holiday_week"].tolist()
    us = calendar_features(weeks, "US")["is_holiday_week"].tolist()
    assert gb == [False, True, False]  # the August bank holiday
    assert us == [True, False, True]  # 4 July (Friday of the week), Thanksgiving
    assert not calendar_features(weeks, "none")["is_holiday_week"].any()


def test_the_panel_uses_the_configured_country() -> None:
    ts = pd.date_range("2025-06-02", periods=8, freq="7D") + pd.Timedelta(hours=12)
    tx = pd.DataFrame({"product_id": "milk", "ts": ts, "qty": 3, "unit_price": 1.2})
    flagged = {
        country: build_panel(tx, config=PanelConfig(holiday_country=country))
        .set_index("week")["is_holiday_week"]
        .pipe(lambda s: sorted(str(w.date()) for w in s.index[s.to_numpy(bool)]))
        for country in ("GB", "US")
    }
    assert flagged == {"GB": [], "US": ["2025-06-16", "2025-06-30"]}


def test_an_unknown_country_is_refused_naming_the_setting() -> None:
    for settings in ({"holiday_country": "XX"}, {"holiday_country": "de"}):
        with pytest.raises(ConfigError) as refused:
            PricingConfig(**settings)
        value = settings["holiday_country"]
        assert str(refused.value).startswith(f"PRICEGRAPH_PRICING__HOLIDAY_COUNTRY={value!r}: ")
        assert "\n" not in str(refused.value)
    with pytest.raises(ConfigError, match="PRICEGRAPH_PRICING__HOLIDAY_COUNTRY='XX'"):
        holiday_dates("XX", [2025])
    assert PricingConfig().holiday_country == "GB"
    for country in ("US", "DE", "FR", "none"):
        assert PricingConfig(holiday_country=country).holiday_country == country


def test_zone_names_claim_no_exclusivity() -> None:
    assert ZONE_NAMES == ("deep discount", "discount", "list", "above list", "well above list")
    assert not any(word in " ".join(ZONE_NAMES) for word in ("exclusive", "premium", "luxury"))


def test_an_estimated_cost_says_so() -> None:
    estimated = ProductFacts("P1", "", 2.0, 1.2, True, None, 2.0, None, None)
    stored = ProductFacts("P1", "", 2.0, 1.2, False, None, 2.0, None, None)
    assert cost_sentence(estimated) == "Cost: estimated at 1.20 (60 % of list; none stored)."
    assert cost_sentence(stored) == "" and cost_sentence(None) == ""
    assert np.isclose(estimated.unit_cost / estimated.list_price, 0.6)
