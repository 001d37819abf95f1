"""Tests of the market environment: gymnasium contract, determinism, inventory, bounds."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from support.pricing import three_product_market

from pricegraph.errors import ConfigError
from pricegraph.pricing.market.model import MarketModel
from pricegraph.pricing.market.simulator import MarketEnv, PriceBounds, SimulatorConfig


def tiny_market(inventory: tuple[float, ...] = (50.0, 20.0, np.inf)) -> MarketModel:
    """2 segments (groups 0 | 1, 2), 3 products, 3 periods."""
    return three_product_market(inventory, base_utility=(-2.0, -2.5, -1.5))


def make_env(**config: object) -> MarketEnv:
    market = tiny_market()
    bounds = PriceBounds(market.list_price * 0.7, market.list_price * 1.2)
    return MarketEnv(market, bounds, SimulatorConfig(horizon_periods=3, **config))  # type: ignore[arg-type]


@pytest.mark.parametrize("price_level", ["segment", "group"])
@pytest.mark.parametrize("is_stochastic", [True, False])
def test_passes_gymnasium_check_env(price_level: str, is_stochastic: bool) -> None:
    env = make_env(price_level=price_level, is_stochastic=is_stochastic)
    check_env(env, skip_render_check=True)
    assert env.action_space.shape == ((2 if price_level == "segment" else 3), 3)
    assert env.observation_space.shape == (3 + 3 * 3,)


def _rollout(env: MarketEnv, seed: int) -> list[float]:
    env.reset(seed=seed)
    rewards, is_done = [], False
    while not is_done:
        _, reward, is_done, _, _ = env.step(np.full(env.action_space.shape, 0.9, np.float32))
        rewards.append(reward)
    return rewards


def test_same_seed_same_episode_and_other_seed_differs() -> None:
    env = make_env()
    assert _rollout(env, 5) == _rollout(make_env(), 5)
    assert _rollout(env, 5) != _rollout(env, 6)


def test_expected_mode_reward_is_the_market_expectation() -> None:
    env = make_env(is_stochastic=False)
    env.reset(seed=0)
    action = np.array([[0.8, 1.0, 1.1], [1.2, 0.9, 1.0]], np.float32)
    _, reward, _, _, info = env.step(action)
    prices = env.market.list_price * action.astype(float)
    expected = env.market.expected_outcome(prices, 0, env.market.initial_inventory)
    assert reward == pytest.approx(expected.total_profit)
    np.testing.assert_allclose(info["prices"], prices)


def test_inventory_caps_sales_and_reports_leftover() -> None:
    market = tiny_market(inventory=(2.0, 0.0, 1.0))
    bounds = PriceBounds(market.list_price * 0.5, market.list_price * 1.5)
    env = MarketEnv(market, bounds, SimulatorConfig(horizon_periods=3, salvage_value_pct=50))
    env.reset(seed=1)
    sold, last_obs, is_done, info = np.zeros(3), None, False, {}
    while not is_done:
        last_obs, _, is_done, _, info = env.step(np.full((2, 3), 0.5, np.float32))
        sold += info["units"]
        assert np.all(info["units"] <= market.initial_inventory + 1e-9)
    assert np.all(sold <= market.initial_inventory + 1e-9) and sold[1] == 0
    assert info["leftover_units"] == pytest.approx((market.initial_inventory - sold).sum())
    assert info["salvage_value"] == pytest.approx(
        0.5 * (market.unit_cost * (market.initial_inventory - sold)).sum()
    )
    assert np.all(last_obs[3:6] <= 1.0)


def test_holding_cost_is_charged_on_stock_left_each_period() -> None:
    env = make_env(is_stochastic=False, holding_cost_pct=10)
    env.reset(seed=0)
    _, reward, _, _, info = env.step(np.ones((2, 3), np.float32))
    left = np.array([50.0, 20.0]) - info["units"][:2]
    assert info["holding_cost"] == pytest.approx(0.1 * (np.array([40.0, 90.0]) * left).sum())
    assert reward == pytest.approx(info["profit"].sum() - info["holding_cost"])


def test_observation_fields_at_reset() -> None:
    env = make_env()
    obs, _ = env.reset(seed=0)
    market = env.market
    assert obs[0] == 0.0
    assert obs[1] == pytest.approx(market.seasonality[0], rel=1e-6)
    assert obs[2] == pytest.approx(market.seasonality[1], rel=1e-6)
    np.testing.assert_allclose(obs[3:6], 1.0)
    np.testing.assert_allclose(obs[6:9], [0.9, 1.0, 1.1], rtol=1e-6)
    np.testing.assert_allclose(obs[9:12], 1.0)


def test_step_after_the_end_and_long_horizon_raise() -> None:
    env = make_env()
    _rollout(env, 0)
    with pytest.raises(ConfigError, match="reset"):
        env.step(np.ones((2, 3), np.float32))
    with pytest.raises(ConfigError, match="exceeds the market's 3 periods"):
        MarketEnv(tiny_market(), config=SimulatorConfig(horizon_periods=4))
    with pytest.raises(ConfigError, match='"max_multiplier"'):
        SimulatorConfig(min_multiplier=1.2, max_multiplier=1.0)


@settings(max_examples=60, deadline=None)
@given(
    arrays(np.float64, (3, 3), elements=st.floats(allow_nan=True, allow_infinity=True)),
    st.sampled_from(["segment", "group"]),
)
def test_any_action_maps_inside_the_price_bounds(action: np.ndarray, price_level: str) -> None:
    env = make_env(price_level=price_level)
    rows = env.action_space.shape[0]
    prices = env.prices_from_action(action[:rows])
    assert prices.shape == env.action_space.shape
    assert np.all(prices >= env.bounds.floor - 1e-9) and np.all(prices <= env.bounds.ceiling + 1e-9)


def test_action_from_prices_round_trips_inside_bounds() -> None:
    env = make_env(price_level="group")
    segment_prices = np.array([[90.0, 180.0, 45.0], [110.0, 220.0, 55.0]])
    action = env.action_from_prices(segment_prices)
    np.testing.assert_allclose(env.prices_from_action(action), segment_prices[[0, 1, 1]], rtol=1e-6)
    assert env.action_space.contains(env.action_from_prices(np.full(3, 1e9)))
