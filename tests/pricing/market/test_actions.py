"""Tests of the macro (zone), meso (segment) and micro (personal) action wrappers."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from pricegraph.errors import ConfigError
from pricegraph.pricing.market.actions import (
    PersonalActionWrapper,
    SegmentActionWrapper,
    ZoneActionWrapper,
    zone_multipliers,
)
from pricegraph.pricing.market.model import MarketModel
from pricegraph.pricing.market.simulator import MarketEnv, PriceBounds, SimulatorConfig

# check_env warns that a wrapped env is not the raw env: the wrapper is what we check.
pytestmark = pytest.mark.filterwarnings("ignore:.*different from the unwrapped version")


def make_env(price_level: str = "segment") -> MarketEnv:
    market = MarketModel(
        list_price=np.array([100.0, 200.0, 50.0]),
        unit_cost=np.array([40.0, 90.0, 20.0]),
        product_brand=np.array([0, 1, 0]),
        product_category=np.array([0, 0, 1]),
        initial_inventory=np.array([50.0, 20.0, 30.0]),
        base_utility=np.array([-2.0, -2.5, -1.5]),
        product_beta=np.zeros(3),
        group_segment=np.array([0, 1, 1]),
        group_weight=np.array([10.0, 5.0, 5.0]),
        alpha=np.zeros(3),
        beta=np.array([3.0, 1.5, 2.0]),
        brand_affinity=np.zeros((3, 2)),
        consideration=np.full((3, 3), 0.5),
        visits=np.ones((3, 2)),
        competitor_price=np.full((3, 2), np.nan),
        gamma=1.0,
        delta=1.5,
    )
    bounds = PriceBounds(market.list_price * 0.8, market.list_price * 1.2)
    return MarketEnv(market, bounds, SimulatorConfig(horizon_periods=2, price_level=price_level))  # type: ignore[arg-type]


def test_zone_multipliers_follow_the_category() -> None:
    got = zone_multipliers(np.array([0, 4]), np.array([0, 0, 1]))
    np.testing.assert_allclose(got, [0.7, 0.7, 1.3])


def test_zone_wrapper_is_multidiscrete_per_category_and_passes_check_env() -> None:
    env = ZoneActionWrapper(make_env())
    assert list(env.action_space.nvec) == [5, 5]
    check_env(env, skip_render_check=True)
    core = env.action(np.array([1, 3]))
    np.testing.assert_allclose(core, [[0.85, 0.85, 1.15]] * 2, rtol=1e-6)


def test_segment_wrapper_deviates_around_the_zone() -> None:
    env = SegmentActionWrapper(make_env("group"), zones=lambda state: np.array([2, 1]))
    check_env(env, skip_render_check=True)
    env.reset(seed=0)
    core = env.action(np.array([[1.0, 0.0], [-1.0, 1.0]]))
    expected_segment = np.array([[1.15, 1.15, 0.85], [0.85, 0.85, 0.85 * 1.15]])
    np.testing.assert_allclose(core, expected_segment[[0, 1, 1]], rtol=1e-6)


def test_personal_wrapper_needs_group_prices_and_adds_at_most_15_pct() -> None:
    with pytest.raises(ConfigError, match="price_level"):
        PersonalActionWrapper(make_env("segment"))
    env = PersonalActionWrapper(
        make_env("group"), base=np.array([[1.0, 1.0, 1.0], [0.9, 0.9, 0.9]])
    )
    check_env(env, skip_render_check=True)
    core = env.action(np.ones((3, 3)))
    np.testing.assert_allclose(core, [[1.15] * 3, [1.05] * 3, [1.05] * 3], rtol=1e-6)


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, (3, 3), elements=st.floats(allow_nan=True, allow_infinity=True)))
def test_wrapped_actions_always_price_inside_bounds(action: np.ndarray) -> None:
    for wrapper, size in (
        (SegmentActionWrapper(make_env()), (2, 2)),
        (PersonalActionWrapper(make_env("group")), (3, 3)),
    ):
        base = wrapper.market_env
        prices = base.prices_from_action(wrapper.action(action[: size[0], : size[1]]))
        assert np.all(prices >= base.bounds.floor - 1e-9)
        assert np.all(prices <= base.bounds.ceiling + 1e-9)
