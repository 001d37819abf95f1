"""Tests of the market model: MNL expectations by hand, builders from a world and a demand model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pricegraph.errors import ConfigError, DataValidationError
from pricegraph.pricing.market.builders import (
    ConstantElasticityDemand,
    GroundTruthMarketConfig,
    market_from_demand,
    market_from_ground_truth,
    market_from_world_dir,
)
from pricegraph.pricing.market.model import MarketModel, mnl_probabilities, ration
from pricegraph.synthetic import WorldConfig, generate_world, write_world


def tiny_market(**overrides: object) -> MarketModel:
    """2 segments (groups 0 | 1, 2), 3 products, 2 periods; numbers to check by hand."""
    fields: dict[str, object] = {
        "list_price": [100.0, 200.0, 50.0],
        "unit_cost": [40.0, 90.0, 20.0],
        "product_brand": [0, 1, 0],
        "product_category": [0, 0, 1],
        "initial_inventory": [50.0, 20.0, np.inf],
        "base_utility": [-2.0, -2.5, -1.5],
        "product_beta": [0.0, 0.0, 0.0],
        "group_segment": [0, 1, 1],
        "group_weight": [10.0, 5.0, 5.0],
        "alpha": [0.0, 0.5, 0.5],
        "beta": [3.0, 1.5, 2.0],
        "brand_affinity": [[1.0, 0.0], [0.0, 0.5], [0.0, 0.0]],
        "consideration": [[0.5, 0.2, 1.0], [0.3, 0.9, 0.4], [1.0, 1.0, 1.0]],
        "visits": [[2.0, 1.0], [1.0, 1.0], [3.0, 2.0]],
        "competitor_price": [[90.0, np.nan], [np.nan, np.nan], [55.0, 45.0]],
        "gamma": 1.0,
        "delta": 1.5,
        "units_per_purchase": 1.1,
        "segment_names": ("bargain", "loyal"),
    }
    fields.update(overrides)
    return MarketModel(**fields)  # type: ignore[arg-type]


def _by_hand(market: MarketModel, prices: np.ndarray, period: int) -> np.ndarray:
    probs = np.zeros((3, 3))
    for g in range(3):
        attraction = []
        for j in range(3):
            p, ref = prices[g, j], market.list_price[j]
            comp = market.competitor_price[j, period]
            comp = p if np.isnan(comp) else comp
            v = (
                market.alpha[g]
                + market.base_utility[j]
                + market.gamma * market.brand_affinity[g, market.product_brand[j]]
                - market.beta[g] * np.log(p / ref)
                + market.delta * np.log(comp / p)
            )
            attraction.append(market.consideration[g, j] * np.exp(v))
        probs[g] = np.array(attraction) / (1 + sum(attraction))
    return probs


@pytest.mark.parametrize("period", [0, 1])
def test_choice_probabilities_match_the_formula_by_hand(period: int) -> None:
    market = tiny_market()
    prices = np.array([[80.0, 210.0, 40.0], [100.0, 180.0, 60.0], [120.0, 200.0, 50.0]])
    got = market.choice_probabilities(prices, period)
    np.testing.assert_allclose(got, _by_hand(market, prices, period), rtol=1e-12)
    units = market.expected_units(prices, period)
    scale = market.group_weight * market.visits[:, period] * 1.1
    np.testing.assert_allclose(units, scale[:, None] * got, rtol=1e-12)


def test_segment_prices_expand_to_groups_and_bad_shapes_raise() -> None:
    market = tiny_market()
    seg = np.array([[90.0, 190.0, 45.0], [110.0, 220.0, 55.0]])
    np.testing.assert_array_equal(market.group_prices(seg), seg[[0, 1, 1]])
    assert market.group_prices(market.list_price).shape == (3, 3)
    with pytest.raises(DataValidationError, match='field "prices"'):
        market.group_prices(np.ones((4, 3)))


def test_outcome_sums_per_product_and_per_segment() -> None:
    market = tiny_market()
    out = market.expected_outcome(market.list_price, 0)
    units = market.expected_units(market.list_price, 0)
    np.testing.assert_allclose(out.units, units.sum(0))
    np.testing.assert_allclose(out.segment_units, [units[0].sum(), units[1:].sum()])
    np.testing.assert_allclose(out.profit, (market.list_price - market.unit_cost) * units.sum(0))
    assert out.segment_profit.sum() == pytest.approx(out.total_profit)
    assert out.segment_revenue.sum() == pytest.approx(out.total_revenue)


def test_ration_caps_demand_proportionally() -> None:
    demand = np.array([[3.0, 1.0], [1.0, 1.0]])
    sales = ration(demand, np.array([2.0, np.inf]))
    np.testing.assert_allclose(sales, [[1.5, 1.0], [0.5, 1.0]])


def test_mnl_probabilities_are_stable_for_huge_utilities() -> None:
    probs = mnl_probabilities(np.array([800.0, 0.0]), np.zeros(2), np.zeros(2))
    assert np.all(np.isfinite(probs)) and probs[0] == pytest.approx(1.0)


def test_invalid_arrays_name_the_field() -> None:
    with pytest.raises(DataValidationError, match='field "list_price"'):
        tiny_market(list_price=[100.0, -1.0, 50.0])
    with pytest.raises(DataValidationError, match='field "consideration"'):
        tiny_market(consideration=np.ones((3, 2)))


@pytest.fixture(scope="module")
def world_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    config = WorldConfig(seed=3, n_brands=5, n_products=40, n_customers=300, n_days=60)
    out = tmp_path_factory.mktemp("world")
    write_world(generate_world(config), out)
    return out


def test_from_ground_truth_builds_a_consistent_market(world_dir: Path) -> None:
    config = GroundTruthMarketConfig(customers_per_segment=10, num_periods=4, inventory_scale=0.5)
    market = market_from_world_dir(world_dir, config=config)
    again = market_from_world_dir(world_dir, config=config)
    assert market.num_products == 40 and market.num_groups == 40 and market.num_periods == 4
    np.testing.assert_array_equal(market.visits, again.visits)  # same seed, same sample
    assert market.group_weight.sum() == pytest.approx(300)
    assert np.all((market.consideration >= 0) & (market.consideration <= 1))
    assert np.all(market.visits >= 0) and np.all(np.isfinite(market.initial_inventory))
    assert market.seasonality.mean() == pytest.approx(1.0)
    assert market.units_per_purchase == pytest.approx(1 + 0.05 + 0.05**2 + 0.05**3)
    assert np.isfinite(market.competitor_price).any()
    out = market.expected_outcome(market.list_price, 0)
    assert 0 < out.total_units < 300 * 7  # fewer than one unit per customer-day


def test_the_market_knows_its_first_day_and_saves_whole(world_dir: Path) -> None:
    later = GroundTruthMarketConfig(customers_per_segment=5, num_periods=4, start_day=10)
    market = market_from_world_dir(world_dir, config=later)
    assert market.meta["season_start"] == "2025-01-11"  # the world starts on 2025-01-01
    arrays, info = market.to_arrays()
    again = MarketModel.from_arrays(arrays, json.loads(json.dumps(info)))
    for name, value in arrays.items():
        np.testing.assert_array_equal(getattr(again, name), value)
    assert again.segment_names == market.segment_names and again.delta == market.delta
    assert again.meta == market.meta
    with pytest.raises(DataValidationError, match="visits"):
        MarketModel.from_arrays({k: v for k, v in arrays.items() if k != "visits"}, info)


def test_from_ground_truth_rejects_a_horizon_past_the_world(world_dir: Path) -> None:
    with pytest.raises(ConfigError, match="n_days = 60"):
        market_from_world_dir(world_dir, config=GroundTruthMarketConfig(num_periods=9))
    with pytest.raises(ConfigError, match='"period_days"'):
        GroundTruthMarketConfig(period_days=0)


def test_from_ground_truth_object_without_stock_is_unlimited() -> None:
    world = generate_world(
        WorldConfig(seed=1, n_brands=4, n_products=20, n_customers=100, n_days=14)
    )
    config = GroundTruthMarketConfig(customers_per_segment=5, num_periods=2)
    market = market_from_ground_truth(world.truth, config=config)
    assert np.all(np.isinf(market.initial_inventory))
    assert np.all(np.isnan(market.competitor_price))


def test_from_demand_matches_units_and_elasticity_at_list_price() -> None:
    list_price = np.array([100.0, 40.0, 250.0])
    demand = ConstantElasticityDemand(
        units_at_list=np.array([30.0, 80.0, 5.0]),
        elasticity=np.array([-2.0, -3.5, -1.2]),
        list_price=list_price,
        seasonality=np.array([1.0, 1.5]),
    )
    market = market_from_demand(
        demand, list_price=list_price, unit_cost=list_price * 0.4, num_periods=2
    )
    for t in (0, 1):
        units = market.expected_units(list_price, t).sum(0)
        np.testing.assert_allclose(units, demand.units(np.arange(3), list_price, t), rtol=1e-9)
    for j in range(3):
        up, down = list_price.copy(), list_price.copy()
        up[j] *= 1.001
        down[j] *= 0.999
        slope = np.log(market.expected_units(up, 0)[0, j] / market.expected_units(down, 0)[0, j])
        assert slope / np.log(1.001 / 0.999) == pytest.approx(demand.elasticity[j], rel=1e-4)


def test_from_demand_rejects_upward_sloping_demand() -> None:
    demand = ConstantElasticityDemand(np.ones(2), np.array([-1.0, 0.5]), np.ones(2), np.ones(1))
    with pytest.raises(DataValidationError, match="product 1"):
        market_from_demand(demand, list_price=np.ones(2), unit_cost=np.zeros(2), num_periods=1)
