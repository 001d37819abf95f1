"""Demand model: elasticity recovery with CI, shrinkage, cross prices, curvature, JSON, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from support.pricing import simulate_panel

from pricegraph.errors import DataValidationError, ModelError, NotFoundError
from pricegraph.graph import GraphConfig, make_graph_store
from pricegraph.loaders import load_files, read_mapping
from pricegraph.pricing.demand.fit import fit_demand
from pricegraph.pricing.demand.model import DemandConfig, DemandModel
from pricegraph.pricing.demand.panel import panel_from_store
from pricegraph.synthetic import generate_world, write_world
from pricegraph.synthetic.config import WorldConfig


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


@pytest.mark.parametrize(("n_customers", "has_category_pool"), [(150, False), (300, True)])
def test_fit_on_a_small_synthetic_world_falls_back_to_pools(
    tmp_path: Path, n_customers: int, has_category_pool: bool
) -> None:
    # regression: groups where no product had an own slope crashed fit_demand
    world = WorldConfig(seed=1, n_customers=n_customers, n_products=60, n_days=150)
    write_world(generate_world(world), tmp_path / "world")
    store = make_graph_store(GraphConfig(path=tmp_path / "graph", buffer_pool_mb=128))
    try:
        load_files(
            store, read_mapping(tmp_path / "world" / "mapping.toml"), rejects_dir=tmp_path / "r"
        )
        panel = panel_from_store(store)
    finally:
        store.close()
    config = DemandConfig()
    model = fit_demand(panel, config)
    est = model.estimates
    sold = panel.loc[panel["units"] > 0, "product_id"].unique()
    assert set(est["product_id"]) == set(sold)
    assert np.isfinite(est["elasticity"]).all() and (est["elasticity"] < 0).all()
    sparse = est["n_sales_weeks"] < config.min_product_weeks
    assert sparse.any() and (est.loc[sparse, "source"] == "pooled").all()
    groups = model.groups.set_index(["category", "segment"])
    pooled = est[est["source"] == "pooled"]
    expected = groups.loc[list(zip(pooled["category"], pooled["segment"], strict=True))]
    np.testing.assert_allclose(
        pooled["elasticity"], expected["elasticity"].clip(*config.elasticity_bounds)
    )
    assert set(model.groups["category"]) == set(panel["category"].dropna())
    assert np.isfinite(model.groups["elasticity"]).all() and (model.groups["elasticity"] < 0).all()
    assert set(model.groups["source"]) <= {"category", "segment", "prior"}
    assert (model.groups["source"] == "category").any() == has_category_pool
