"""Tests of the meso level (exploration, demand fit, planner multipliers)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from pricing_rl_support import tiny_env, tiny_market

from pricegraph.pricing.meso import MesoConfig, MesoPlanner, explore, fit_market

CONFIG = MesoConfig(explore_episodes=60)


def test_fit_recovers_slopes_and_is_seeded() -> None:
    market = tiny_market(beta=1.0, utility_shift=-4.0)  # small inside shares
    data = explore(tiny_env(market), CONFIG)
    estimated = fit_market(data, market)
    true = [market.beta[market.group_segment == s].mean() for s in range(2)]
    assert np.allclose(estimated.beta, true, rtol=0.35)
    again = fit_market(explore(tiny_env(market), CONFIG), market)
    assert np.array_equal(estimated.beta, again.beta)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(0.01, 100.0), min_size=6, max_size=6), st.integers(-5, 20))
def test_multipliers_in_range(zone: list[float], period: int) -> None:
    market = tiny_market(inventory=20.0)
    plan = np.random.default_rng(0).uniform(10, 200, size=(4, 2, 6))
    planner = MesoPlanner.from_arrays(plan, np.zeros(6), CONFIG)
    multipliers = planner.multipliers(period, np.array(zone), market.list_price)
    assert multipliers.shape == (2, 6)
    assert np.all((multipliers >= CONFIG.meso_low) & (multipliers <= CONFIG.meso_high))
