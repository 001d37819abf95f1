"""Tests of the oracle: closed-form optimum, exact derivatives, inventory, beats the baselines."""

from __future__ import annotations

import numpy as np
import pytest
from support.pricing import one_product_market, three_product_market

from pricegraph.pricing.evaluation.baselines import (
    CompetitorMatchPolicy,
    CostPlusPolicy,
    MyopicPolicy,
    StaticListPolicy,
)
from pricegraph.pricing.evaluation.compare import run_episode
from pricegraph.pricing.market.builders import GroundTruthMarketConfig, market_from_ground_truth
from pricegraph.pricing.market.model import MarketModel
from pricegraph.pricing.market.oracle import (
    OraclePolicy,
    block_derivatives,
    market_blocks,
    solve_oracle,
)
from pricegraph.pricing.market.simulator import MarketEnv, PriceBounds, SimulatorConfig
from pricegraph.synthetic import WorldConfig, generate_world


@pytest.mark.parametrize("beta", [1.5, 2.5, 4.0])
def test_single_product_optimum_meets_the_logit_first_order_condition(beta: float) -> None:
    market = one_product_market(beta)
    config = SimulatorConfig(1, min_multiplier=0.05, max_multiplier=10.0)
    env = MarketEnv(market, PriceBounds(np.array([5.0]), np.array([1000.0])), config)
    price = solve_oracle(env).prices[0, 0, 0]
    share = market.choice_probabilities(np.array([price]), 0)[0, 0]
    # d/dp [P(p)(p - c)] = 0 with dP/dp = -beta P (1 - P) / p  <=>  (p - c) beta (1 - P) = p
    assert (price - 30.0) * beta * (1 - share) == pytest.approx(price, rel=1e-6)
    grid = np.linspace(5, 1000, 20001)
    attraction = np.exp(-1.0 - beta * np.log(grid / 100.0))
    profit = attraction / (1 + attraction) * (grid - 30.0)
    assert price == pytest.approx(grid[profit.argmax()], abs=0.1)


def test_inelastic_segment_is_priced_at_the_ceiling() -> None:
    market = one_product_market(beta=0.8)  # revenue rises with price when beta <= 1
    env = MarketEnv(market, PriceBounds(np.array([50.0]), np.array([150.0])), SimulatorConfig(1))
    assert solve_oracle(env).prices[0, 0, 0] == pytest.approx(150.0)


def test_derivatives_match_finite_differences() -> None:
    market = three_product_market((np.inf,) * 3)
    blocks = market_blocks(market, slice(0, 3), market.group_segment, 2)
    cost = np.broadcast_to(market.unit_cost + 5.0, (3, 3))
    rng = np.random.default_rng(0)
    x = np.log(market.list_price) + rng.normal(0, 0.2, size=(3, 2, 3))
    _, grad, hess, _ = block_derivatives(x, blocks, cost, market.list_price)
    step = 1e-5
    for index in [(0, 0, 0), (1, 1, 2), (2, 0, 1)]:
        up, down = x.copy(), x.copy()
        up[index] += step
        down[index] -= step
        f_up, g_up, *_ = block_derivatives(up, blocks, cost, market.list_price)
        f_down, g_down, *_ = block_derivatives(down, blocks, cost, market.list_price)
        t, r = index[:2]
        assert grad[index] == pytest.approx((f_up[t, r] - f_down[t, r]) / (2 * step), rel=1e-5)
        assert hess[index] == pytest.approx((g_up[index] - g_down[index]) / (2 * step), rel=1e-4)


def test_scarce_stock_gets_a_shadow_price_and_is_not_oversold() -> None:
    market = one_product_market(beta=2.5, inventory=40.0, periods=3)
    config = SimulatorConfig(3, min_multiplier=0.05, max_multiplier=10.0)
    env = MarketEnv(market, PriceBounds(np.array([5.0]), np.array([1000.0])), config)
    plan = solve_oracle(env)
    assert plan.shadow_price[0] > 0
    assert plan.expected_units[0] == pytest.approx(40.0, rel=1e-3)
    free = solve_oracle(MarketEnv(one_product_market(2.5, periods=3), env.bounds, env.config))
    assert np.all(plan.prices > free.prices)  # scarcity raises prices


def _policies(env: MarketEnv, market: MarketModel) -> list:
    low, high, horizon = env.price_low, env.price_high, env.config.horizon_periods
    return [
        StaticListPolicy(market),
        CostPlusPolicy(market, 100.0, low, high),
        CompetitorMatchPolicy(market, low=low, high=high),
        MyopicPolicy(market, low, high, horizon),
        MyopicPolicy(market, low, high, horizon, is_per_segment=False),
    ]


@pytest.mark.parametrize("inventory", [(np.inf,) * 3, (6.0, 2.0, 10.0)])
def test_oracle_beats_every_baseline_on_a_hand_built_market(inventory: tuple[float, ...]) -> None:
    market = three_product_market(inventory)
    config = SimulatorConfig(horizon_periods=3, is_stochastic=False, holding_cost_pct=2)
    env = MarketEnv(market, PriceBounds.around_list(market), config)
    plan = solve_oracle(env)
    assert np.all(plan.prices >= env.price_low - 1e-9) and np.all(
        plan.prices <= env.price_high + 1e-9
    )
    oracle = run_episode(env, OraclePolicy(plan), seed=0)["profit"]
    for policy in _policies(env, market):
        assert oracle >= run_episode(env, policy, seed=0)["profit"] - 1e-6, policy.name


def tiny_world_env(seed: int, inventory_scale: float) -> tuple[MarketModel, MarketEnv]:
    """A 60-product synthetic world's true market and its expected-demand env (8 weeks)."""
    world = generate_world(
        WorldConfig(seed=seed, n_brands=6, n_products=60, n_customers=400, n_days=56)
    )
    market = market_from_ground_truth(
        world.truth,
        prices=world.prices,
        stock_units=world.products["stock_units"].to_numpy(),
        config=GroundTruthMarketConfig(
            customers_per_segment=16, num_periods=8, inventory_scale=inventory_scale
        ),
    )
    env = MarketEnv(market, config=SimulatorConfig(horizon_periods=8, is_stochastic=False))
    return market, env


def test_oracle_beats_every_baseline_on_a_tiny_world() -> None:
    market, env = tiny_world_env(seed=2, inventory_scale=0.05)
    plan = solve_oracle(env)
    assert (plan.shadow_price > 0).any()
    oracle = run_episode(env, OraclePolicy(plan), seed=0)["profit"]
    assert oracle == pytest.approx(plan.expected_profit, rel=1e-3)
    for policy in _policies(env, market):
        assert oracle >= run_episode(env, policy, seed=0)["profit"] - 1e-6, policy.name


def test_scarce_substitutes_are_solved_to_a_certified_gap() -> None:
    """With most stock scarce, one bisection round leaves substitutes overselling;
    the rounds and the dual close the gap, and the dual value bounds every policy."""
    market, env = tiny_world_env(seed=3, inventory_scale=0.02)
    plan = solve_oracle(env)
    first_round = solve_oracle(env, bisection_rounds=1, dual_iterations=0)
    profit = run_episode(env, OraclePolicy(plan), seed=0)["profit"]
    assert profit == pytest.approx(plan.expected_profit, rel=1e-3)
    assert plan.expected_profit <= plan.dual_bound * (1 + 1e-9)
    assert plan.expected_profit >= 0.99 * plan.dual_bound
    assert profit >= run_episode(env, OraclePolicy(first_round), seed=0)["profit"] - 1e-6
    for policy in _policies(env, market):
        assert run_episode(env, policy, seed=0)["profit"] <= plan.dual_bound, policy.name
