"""Forecast metrics on hand numbers, the held-out evaluation, and the real data."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from support.data import ONLINE_RETAIL, requires_online_retail
from support.pricing import simulate_panel

from pricegraph.errors import DataValidationError
from pricegraph.loaders.online_retail import read_online_retail, to_canonical
from pricegraph.pricing.demand.forecast import ForecastConfig, bias, evaluate_forecasts, wape
from pricegraph.pricing.demand.panel import build_panel


def test_wape_and_bias_on_hand_numbers() -> None:
    actual, forecast = np.array([10.0, 0.0, 30.0]), np.array([12.0, 2.0, 20.0])
    assert wape(actual, forecast) == pytest.approx((2 + 2 + 10) / 40)
    assert bias(actual, forecast) == pytest.approx((2 + 2 - 10) / 40)
    assert wape(actual, actual) == 0.0 and bias(actual, actual) == 0.0
    with pytest.raises(DataValidationError, match="actual"):
        wape(np.zeros(2), np.ones(2))


def test_evaluation_table_and_baselines() -> None:
    panel = simulate_panel(n_products=5, n_weeks=30, seed=11)
    panel["price_band"], panel["discount_pct"] = "band_0", 0.0
    config = ForecastConfig(horizon_weeks=4, max_iter=20, min_samples_leaf=5)
    result = evaluate_forecasts(panel, config)
    assert result.table["method"].tolist() == [
        "gbm",
        "demand_model",
        "last_value",
        "trailing_mean",
        "seasonal_mean",
    ]
    assert (result.table["rows"] == 20).all() and result.excluded_new_series == 0
    pred = result.predictions
    assert sorted(pred["horizon"].unique()) == [1, 2, 3, 4]
    # no week a year back in 30 weeks: the seasonal mean falls back to the trailing mean
    np.testing.assert_allclose(pred["seasonal_mean"], pred["trailing_mean"])
    last = panel[panel["week"] == panel["week"].unique()[-5]].set_index("product_id")["units"]
    np.testing.assert_allclose(pred["last_value"], last.reindex(pred["product_id"]).to_numpy())
    again = evaluate_forecasts(panel, config)
    pd.testing.assert_frame_equal(result.table, again.table)


def test_too_short_panel_is_refused() -> None:
    panel = simulate_panel(n_weeks=10, seed=12)
    panel["price_band"], panel["discount_pct"] = "band_0", 0.0
    with pytest.raises(DataValidationError, match="weeks"):
        evaluate_forecasts(panel, ForecastConfig(horizon_weeks=8))


@requires_online_retail
@pytest.mark.online_retail
def test_online_retail_model_beats_naive_baselines() -> None:
    started = time.perf_counter()
    frames, _ = to_canonical(read_online_retail(ONLINE_RETAIL))
    panel = build_panel(frames["events"], catalog=frames["products"])
    result = evaluate_forecasts(panel, ForecastConfig(horizon_weeks=8))
    table = result.table.set_index("method")
    print(table.round(3).to_string(), f"\n{time.perf_counter() - started:.1f} s")
    assert table.loc["gbm", "rows"] > 20_000
    for baseline in ("last_value", "seasonal_mean"):
        assert table.loc["gbm", "wape"] < table.loc[baseline, "wape"]
    summary = result.model.summary()
    assert summary["per_product"] > 1000 and summary["share_negative_raw"] > 0.8
