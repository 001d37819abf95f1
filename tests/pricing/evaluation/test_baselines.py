"""Tests of the non-learned pricing baselines."""

from __future__ import annotations

import numpy as np
import pytest
from support.pricing import three_product_market

from pricegraph.errors import ConfigError
from pricegraph.pricing.evaluation.baselines import (
    CompetitorMatchPolicy,
    CostPlusPolicy,
    MyopicPolicy,
    PricingPolicy,
    StaticListPolicy,
)
from pricegraph.pricing.evaluation.compare import run_episode
from pricegraph.pricing.market.model import MarketModel
from pricegraph.pricing.market.oracle import OraclePolicy, solve_oracle
from pricegraph.pricing.market.simulator import MarketEnv, PriceBounds, SimulatorConfig


def market(inventory: tuple[float, ...] = (np.inf,) * 3) -> MarketModel:
    return three_product_market(inventory, num_periods=2)


def make_env(inventory: tuple[float, ...] = (np.inf,) * 3) -> MarketEnv:
    model = market(inventory)
    bounds = PriceBounds.around_list(model, 0.6, 1.4)
    return MarketEnv(model, bounds, SimulatorConfig(horizon_periods=2, is_stochastic=False))


def test_static_list_and_cost_plus_prices() -> None:
    env = make_env()
    env.reset(seed=0)
    state = env.state
    np.testing.assert_array_equal(StaticListPolicy(env.market).prices(state), [100.0, 200.0, 50.0])
    np.testing.assert_allclose(CostPlusPolicy(env.market, 150).prices(state), [100.0, 225.0, 50.0])
    bounded = CostPlusPolicy(env.market, 150, env.price_low, env.price_high).prices(state)
    np.testing.assert_allclose(bounded, [100.0, 225.0, 50.0])
    assert CostPlusPolicy(env.market, 100).name == "cost plus 100%"
    with pytest.raises(ConfigError, match="markup_pct"):
        CostPlusPolicy(env.market, -5)


def test_competitor_match_follows_the_cheapest_competitor_or_list() -> None:
    env = make_env()
    env.reset(seed=0)
    policy = CompetitorMatchPolicy(env.market, undercut_pct=10)
    np.testing.assert_allclose(policy.prices(env.state), [81.0, 200.0, 49.5])
    env.step(env.action_from_prices(policy.prices(env.state)))
    np.testing.assert_allclose(policy.prices(env.state), [100.0, 200.0, 40.5])


def test_every_baseline_meets_the_protocol() -> None:
    env = make_env()
    for policy in (
        StaticListPolicy(env.market),
        CostPlusPolicy(env.market),
        CompetitorMatchPolicy(env.market),
        MyopicPolicy(env.market, env.price_low, env.price_high, 2),
    ):
        assert isinstance(policy, PricingPolicy)


def test_myopic_with_the_true_model_equals_the_oracle_without_stock_limits() -> None:
    env = make_env()
    myopic = MyopicPolicy(env.market, env.price_low, env.price_high, 2)
    plan = solve_oracle(env)
    np.testing.assert_allclose(myopic.plan, plan.prices, rtol=1e-5)
    profit = run_episode(env, myopic, 0)["profit"]
    assert profit >= run_episode(env, StaticListPolicy(env.market), 0)["profit"]
    assert profit == pytest.approx(run_episode(env, OraclePolicy(plan), 0)["profit"], rel=1e-9)


def test_myopic_ignores_stock_and_loses_to_the_oracle_when_it_binds() -> None:
    env = make_env(inventory=(3.0, 1.0, 4.0))
    myopic = MyopicPolicy(env.market, env.price_low, env.price_high, 2)
    oracle = OraclePolicy(solve_oracle(env))
    assert run_episode(env, oracle, 0)["profit"] > run_episode(env, myopic, 0)["profit"]


def test_myopic_with_one_price_per_product_and_bad_horizon() -> None:
    env = make_env()
    single = MyopicPolicy(env.market, env.price_low, env.price_high, 2, is_per_segment=False)
    assert single.prices(env.state).shape == (3,)
    with pytest.raises(ConfigError, match="run past the model's 2 periods"):
        MyopicPolicy(env.market, env.price_low, env.price_high, 3)
