"""Tests of fitting the demand model on the purchases in the graph store."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from support.quotes import World

from pricegraph.errors import DataValidationError
from pricegraph.graph import GraphConfig, make_graph_store
from pricegraph.pricing.demand.model import DemandModel
from pricegraph.pricing.demand.store import fit_demand_from_store, save_demand


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


def test_market_from_the_store_prices_the_graphs_own_products(world: World, tmp_path) -> None:
    from support.pricing_rl import TINY

    from pricegraph.pricing.market.from_store import market_from_store
    from pricegraph.pricing.policies.training import train_pricing
    from pricegraph.pricing.policy import QuoteState

    market = market_from_store(world.store, max_products=8, num_periods=4)
    assert 0 < market.num_products <= 8
    assert set(market.product_ids) <= set(world.products)
    nodes = world.store.node_frame("Product").set_index("id").loc[list(market.product_ids)]
    assert market.list_price == pytest.approx(nodes["list_price"].to_numpy(float))
    assert market.unit_cost == pytest.approx(nodes["cost"].to_numpy(float))
    assert market.initial_inventory == pytest.approx(nodes["stock_units"].to_numpy(float))
    assert len(market.meta["weeks"]) == 4 and market.meta["source"] == "graph"
    # quotes for those products, by customers in graph segments, follow the trained plan
    policy = train_pricing(market, TINY, tmp_path).policy
    product = market.product_ids[0]
    state = QuoteState(
        customer_id=world.customers[0], product_id=product, category_id="?", segment_id="SEG-v1-1",
        period=1, list_price=float(market.list_price[0]), unit_cost=float(market.unit_cost[0]),
    )  # fmt: skip
    decision = policy.decide(state)
    planned = policy.meso.plan.prices[1, :, 0].mean() / market.list_price[0]
    assert decision.segment_multiplier * decision.zone_multiplier == pytest.approx(
        np.clip(planned, 0.5 * decision.zone_multiplier, 2.0 * decision.zone_multiplier)
    )


def test_market_from_the_store_has_one_group_per_graph_segment(world: World) -> None:
    """Per segment: the groups are the graph's segments, each segment's units at list price
    are its own series', and a quote of a segmented customer prices with its segment's
    plan (not the mean of the plans)."""
    from pricegraph.pricing.market.from_store import market_from_store

    segment_model, _ = fit_demand_from_store(world.store, segment_version="v1")
    one = market_from_store(world.store, max_products=8, num_periods=4)
    market = market_from_store(
        world.store, max_products=8, num_periods=4, segment_model=segment_model
    )
    names = sorted(set(segment_model.estimates["segment"]) - {"all"})
    assert market.segment_names == tuple(names) and market.num_groups == len(names)
    assert market.product_ids == one.product_ids
    units = market.expected_units(market.list_price, 0)  # [S, P]
    for s, name in enumerate(names):
        estimates = segment_model.estimates
        known = estimates.loc[estimates["segment"] == name, "product_id"]
        absent = ~np.isin(np.asarray(market.product_ids, dtype=object), known.to_numpy())
        assert np.all(units[s, absent] < 1e-6) and np.all(units[s, ~absent] > 0)
    # segments differ in what they buy: the per-segment units are not proportional
    shares = units / units.sum(axis=1, keepdims=True)
    assert np.abs(shares - shares.mean(axis=0)).max() > 0.01
