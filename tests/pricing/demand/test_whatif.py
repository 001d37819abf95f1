"""What-if: uplift signs per the elasticity, promotions, cannibalisation, bad scenarios."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from support.pricing import simulate_panel

from pricegraph.errors import DataValidationError
from pricegraph.pricing.demand.fit import fit_demand
from pricegraph.pricing.demand.whatif import Scenario, WhatIfConfig, what_if


def _baseline(panel: pd.DataFrame, weeks: int = 4) -> pd.DataFrame:
    """The last weeks at list price, baseline units 100 per product and week."""
    last = panel[panel["week"] >= panel["week"].unique()[-weeks]].copy()
    last["price"], last["units"] = last["list_price"], 100.0
    return last


def test_percent_off_on_elastic_product_raises_units_per_elasticity() -> None:
    panel = simulate_panel(elasticity=-2.0, seed=20)
    model = fit_demand(panel)
    result = what_if(model, _baseline(panel), Scenario(("p0",), "percent_off", 20.0))
    e = float(model.estimates.set_index("product_id").loc["p0", "elasticity"])
    p0 = result.products.set_index("product_id").loc["p0"]
    assert p0["units_uplift"] > 0
    assert p0["units"] / p0["units_base"] == pytest.approx(0.8**e, rel=0.05)
    assert p0["revenue"] / p0["revenue_base"] == pytest.approx(0.8 ** (1 + e), rel=0.05)
    assert result.totals["revenue_uplift_scenario"] > 0  # elastic: |e| > 1
    # no cross effect simulated: the others do not move
    assert result.totals["units_uplift_cannibalised"] == pytest.approx(0.0, abs=1e-9)


def test_cannibalisation_through_cross_prices() -> None:
    panel = simulate_panel(n_products=8, cross=1.5, seed=21)
    model = fit_demand(panel)
    assert bool(model.groups.iloc[0]["is_cross_kept"])
    result = what_if(model, _baseline(panel), Scenario(("p0", "p1"), "percent_off", 25.0))
    assert result.totals["units_uplift_scenario"] > 0
    assert result.totals["units_uplift_cannibalised"] < 0


@pytest.mark.parametrize(
    ("scenario", "factor"),
    [
        (Scenario(("p0",), "bogo"), 0.5),
        (Scenario(("p0",), "amount_off", 1.0), None),
        (Scenario(("p0",), "percent_change", 10.0), 1.1),
        (Scenario(("p0",), "price", new_prices={"p0": 3.0}), None),
    ],
)
def test_promotion_prices_and_profit(scenario: Scenario, factor: float | None) -> None:
    panel = simulate_panel(seed=22)
    baseline = _baseline(panel, weeks=2)
    baseline["cost"] = np.where(baseline["product_id"] == "p0", 2.0, np.nan)
    result = what_if(fit_demand(panel), baseline, scenario, WhatIfConfig(default_cost_ratio=0.5))
    rows = result.rows[result.rows["product_id"] == "p0"]
    if factor is not None:
        np.testing.assert_allclose(rows["new_price"], rows["price"] * factor)
    np.testing.assert_allclose(rows["profit"], rows["units"] * (rows["new_price"] - 2.0))
    other = result.rows[result.rows["product_id"] == "p1"]
    np.testing.assert_allclose(other["profit_base"], other["units_base"] * other["price"] * 0.5)
    if scenario.kind in ("bogo", "amount_off"):
        assert rows["units"].sum() > rows["units_base"].sum()
    if scenario.kind == "percent_change":
        assert rows["units"].sum() < rows["units_base"].sum()


def test_period_limits_the_rows() -> None:
    panel = simulate_panel(seed=23)
    baseline = _baseline(panel, weeks=4)
    last = pd.Timestamp(baseline["week"].max()).date().isoformat()
    result = what_if(
        fit_demand(panel),
        baseline,
        Scenario(("p0",), "percent_off", 10.0, start_week=last, end_week=last),
    )
    assert result.rows["week"].nunique() == 1


def test_bad_scenarios_name_the_field() -> None:
    panel = simulate_panel(seed=24)
    model, baseline = fit_demand(panel), _baseline(panel)
    with pytest.raises(DataValidationError) as info:
        what_if(model, baseline, Scenario(("p0",), "amount_off", 1e6))
    assert info.value.field == "value"
    with pytest.raises(DataValidationError) as info:
        what_if(model, baseline, Scenario(("p0",), "percent_off", 120.0))
    assert info.value.field == "value"
    with pytest.raises(DataValidationError) as info:
        what_if(model, baseline, Scenario(("zz",), "bogo"))
    assert info.value.field == "product_ids"
    with pytest.raises(DataValidationError) as info:
        what_if(model, baseline.drop(columns="units"), Scenario(("p0",), "bogo"))
    assert info.value.field == "units"
    with pytest.raises(DataValidationError) as info:
        what_if(model, baseline, Scenario(("p0",), "price"))
    assert info.value.field == "new_prices"
