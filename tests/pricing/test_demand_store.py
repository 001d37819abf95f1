"""Tests of fitting the demand model on the purchases in the graph store."""

from __future__ import annotations

import pandas as pd
import pytest
from quote_support import World

from pricegraph.errors import DataValidationError
from pricegraph.graph import GraphConfig, make_graph_store
from pricegraph.pricing.demand import DemandModel
from pricegraph.pricing.demand_store import fit_demand_from_store, save_demand


def test_fit_from_the_store_covers_every_sold_product_and_round_trips(
    world: World, tmp_path
) -> None:
    model, panel = fit_demand_from_store(world.store)
    bought = world.store.edge_arrays("PURCHASED")
    sold = set(bought.target_ids[bought.edge_index[1]])
    assert set(model.estimates["product_id"]) == sold
    assert panel["units"].sum() == pytest.approx(bought.properties["qty"].sum())
    assert (model.estimates["elasticity"] < 0).mean() > 0.5
    path = save_demand(model, tmp_path / "models" / "demand.json")
    again = DemandModel.load(path)
    pd.testing.assert_frame_equal(again.estimates, model.estimates, check_dtype=False)


def test_segment_version_splits_series_and_unknown_version_is_named(world: World) -> None:
    model, _ = fit_demand_from_store(world.store, segment_version="v1")
    assert model.estimates["segment"].nunique() > 1
    with pytest.raises(DataValidationError, match="'nope'"):
        fit_demand_from_store(world.store, segment_version="nope")


def test_an_empty_graph_gets_a_clear_error(tmp_path) -> None:
    store = make_graph_store(GraphConfig(path=tmp_path / "graph", buffer_pool_mb=64))
    try:
        with pytest.raises(DataValidationError, match="no PURCHASED edges"):
            fit_demand_from_store(store)
    finally:
        store.close()
