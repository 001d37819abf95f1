"""Demand model: elasticity recovery with CI, shrinkage, cross prices, curvature, JSON, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pricing_support import simulate_panel

from pricegraph.errors import DataValidationError, ModelError, NotFoundError
from pricegraph.pricing.demand import DemandConfig, DemandModel
from pricegraph.pricing.demand_fit import fit_demand


def test_elasticity_ci_covers_truth_and_counts_observations() -> None:
    model = fit_demand(simulate_panel(elasticity=-2.0, seed=1))
    group = model.groups.iloc[0]
    pooled_low = group["elasticity"] - 1.96 * group["se"]
    pooled_high = group["elasticity"] + 1.96 * group["se"]
    assert pooled_low < -2.0 < pooled_high
    est = model.estimates
    assert (est["source"] == "product").all()
    assert ((est["ci_low"] < -2.0) & (est["ci_high"] > -2.0)).mean() >= 5 / 6
    assert (est["n_obs"] == 60).all() and (est["n_sales_weeks"] == 60).all()
    assert model.elasticity("p0") == pytest.approx(est.loc[0, "elasticity"])


def test_sparse_products_are_shrunk_toward_the_pool() -> None:
    rich = simulate_panel(n_products=8, elasticity=-2.0, seed=2)
    sparse = simulate_panel(n_products=3, n_weeks=5, elasticity=-0.5, seed=3, prefix="s")
    model = fit_demand(pd.concat([rich, sparse], ignore_index=True), DemandConfig())
    est = model.estimates.set_index("product_id")
    pooled = model.groups.iloc[0]["elasticity"]
    for product in ("s0", "s1", "s2"):
        assert est.loc[product, "source"] == "pooled"
        assert est.loc[product, "elasticity"] == pytest.approx(pooled)
        assert est.loc[product, "n_obs"] == model.groups.iloc[0]["n_obs"]
    assert -2.6 < pooled < -1.4
    assert (est.loc[[f"p{i}" for i in range(8)], "own_weight"].between(0, 1)).all()


def test_cross_price_found_when_simulated_and_not_invented() -> None:
    with_cross = fit_demand(simulate_panel(n_products=8, cross=1.5, seed=4))
    assert bool(with_cross.groups.iloc[0]["is_cross_kept"])
    assert with_cross.groups.iloc[0]["cross"] == pytest.approx(1.5, abs=0.5)
    without = fit_demand(simulate_panel(n_products=8, cross=0.0, seed=5))
    assert not bool(without.groups.iloc[0]["is_cross_kept"])


def test_predict_units_follows_the_elasticity_and_clips() -> None:
    model = fit_demand(simulate_panel(elasticity=-2.0, seed=6))
    lp = float(model.estimates.loc[0, "list_price"])
    at_list, cheaper = model.predict_units(["p0", "p0"], [lp, 0.8 * lp], cross_index=np.zeros(2))
    e = model.elasticity("p0", 0.9 * lp)
    assert cheaper / at_list == pytest.approx(0.8 ** model.estimates.loc[0, "elasticity"], rel=0.1)
    assert -6.0 <= e <= 0.0
    clipped = fit_demand(simulate_panel(elasticity=0.8, seed=7))
    assert (clipped.estimates["elasticity"] <= 0.0).all()
    assert (clipped.estimates["elasticity_raw"] > 0.0).any()


def test_json_round_trip(tmp_path: Path) -> None:
    model = fit_demand(simulate_panel(seed=8))
    model.save(tmp_path / "demand.json")
    again = DemandModel.load(tmp_path / "demand.json")
    ids, prices = ["p0", "p1"], [10.0, 20.0]
    np.testing.assert_allclose(again.predict_units(ids, prices), model.predict_units(ids, prices))
    assert again.elasticity("p1", 12.0) == pytest.approx(model.elasticity("p1", 12.0))
    data = model.to_dict() | {"format_version": 99}
    with pytest.raises(ModelError, match="format"):
        DemandModel.from_dict(data)


def test_same_data_same_numbers() -> None:
    panel = simulate_panel(seed=9)
    pd.testing.assert_frame_equal(fit_demand(panel).estimates, fit_demand(panel).estimates)


def test_bad_input_names_the_field() -> None:
    panel = simulate_panel(seed=10)
    with pytest.raises(DataValidationError, match="list_price") as info:
        fit_demand(panel.drop(columns="list_price"))
    assert info.value.field == "list_price"
    bad = panel.copy()
    bad.loc[3, "price"] = -1.0
    with pytest.raises(DataValidationError, match="price") as info:
        fit_demand(bad)
    assert info.value.field == "price"
    model = fit_demand(panel)
    with pytest.raises(NotFoundError):
        model.predict_units(["nope"], [1.0])
    with pytest.raises(DataValidationError, match="prices"):
        model.predict_units(["p0"], [0.0])
