"""Tests of the macro zone learner (PPO on the zone wrapper)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from support.pricing_rl import tiny_env, tiny_market

from pricegraph.pricing.market.actions import ZONE_LEVELS, zone_multipliers
from pricegraph.pricing.policies.macro import MacroConfig, MacroPolicy, macro_features, train_macro

CONFIG = MacroConfig(total_timesteps=960, n_steps=48, batch_size=24, n_epochs=5, device="cpu")


@pytest.fixture(scope="module")
def trained() -> MacroPolicy:
    return MacroPolicy(train_macro(tiny_env(tiny_market()), CONFIG).model)


def _episode_profit(env, zones_of_state) -> float:
    env.reset(seed=0)
    total, is_done = 0.0, False
    while not is_done:
        zones = zones_of_state(env.state)
        multiplier = zone_multipliers(zones, env.market.product_category)
        action = np.broadcast_to(multiplier, env.action_space.shape).astype(np.float32)
        _, reward, is_done, _, _ = env.step(action)
        total += reward
    return total


def _features(env, state) -> np.ndarray:
    market = env.market
    return macro_features(
        state.period, state.inventory, state.competitor_price, env.config.horizon_periods,
        market.product_category, market.initial_inventory, market.list_price,
        market.num_categories,
    )  # fmt: skip


def test_trained_macro_beats_random_zones(trained: MacroPolicy) -> None:
    env = tiny_env(tiny_market(), is_stochastic=False)
    learned = _episode_profit(env, lambda s: trained.zones(_features(env, s)))
    rng = np.random.default_rng(0)
    randoms = [
        _episode_profit(env, lambda s: rng.integers(0, len(ZONE_LEVELS), size=2)) for _ in range(20)
    ]
    assert learned > np.mean(randoms)
    best = _episode_profit(env, lambda s: np.full(2, len(ZONE_LEVELS) - 1))
    assert learned >= 0.9 * best  # the exclusive zone is best when customers are inelastic


def test_same_seed_same_zones() -> None:
    small = MacroConfig(total_timesteps=96, n_steps=48, batch_size=24, n_epochs=2, device="cpu")
    trained = MacroPolicy(train_macro(tiny_env(tiny_market()), small).model)
    again = MacroPolicy(train_macro(tiny_env(tiny_market()), small).model)
    env = tiny_env(tiny_market())
    env.reset(seed=3)
    features = _features(env, env.state)
    assert np.array_equal(trained.zones(features), again.zones(features))


def test_features_shape_and_range() -> None:
    env = tiny_env(tiny_market(inventory=10.0))
    env.reset(seed=0)
    features = _features(env, env.state)
    assert features.shape == (5,) and features.dtype == np.float32
    assert features[0] == 0.0 and np.allclose(features[1:3], 1.0)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(arrays(np.float32, 5, elements=st.floats(width=32)))
def test_zones_always_valid(trained: MacroPolicy, features: np.ndarray) -> None:
    zones = trained.zones(features)
    assert zones.shape == (2,)
    assert np.all((zones >= 0) & (zones < len(ZONE_LEVELS)))
