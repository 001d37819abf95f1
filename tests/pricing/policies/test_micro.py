"""Tests of the micro personal-adjustment learner (TD3 in the estimated model)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from support.pricing_rl import tiny_env, tiny_market  # noqa: F401  (sets torch threads)

from pricegraph.errors import ConfigError
from pricegraph.pricing.policies.micro import (
    NUM_CONTEXT,
    MicroBanditEnv,
    MicroCells,
    MicroConfig,
    MicroPolicy,
    best_adjustment,
    micro_features,
    personal_slope,
    train_micro,
)

CONFIG = MicroConfig(total_timesteps=800, learning_starts=200, device="cpu")


def cells() -> MicroCells:
    """Two segments, each with a customer half and one twice as price-sensitive as it."""
    return MicroCells(
        plan_ratio=np.full((3, 2, 4), 1.0), slope=np.array([0.5, 4.0]), delta=0.0,
        competitor_ratio=np.full((3, 4), np.nan), cost_ratio=np.full(4, 0.4),
        shadow_ratio=np.zeros(4), low_ratio=np.full(4, 0.5), high_ratio=np.full(4, 1.5),
        group_segment=np.array([0, 0, 1, 1]), group_ratio=np.array([0.5, 2.0, 0.5, 2.0]),
        group_weight=np.ones(4),
    )  # fmt: skip


@pytest.fixture(scope="module")
def trained() -> MicroPolicy:
    return MicroPolicy(train_micro(cells(), CONFIG).model, CONFIG.max_adjustment)


def _features(segment: int, ratio: float = 1.0) -> np.ndarray:
    slope = cells().slope[segment]
    return micro_features(
        np.array([segment]), 2, slope, ratio, 0.4, 0.0, np.nan, 1.0, 0.5, 0.0, 0.0
    )


def test_features_shape_and_unknown_segment() -> None:
    feats = micro_features(np.array([0, -1]), 2, 2.0, np.array([0.5, 1.0]), 0.4, 0.1,
                           np.array([0.9, np.nan]), 1.0, 0.5, 0.25, 30.0)  # fmt: skip
    assert feats.shape == (2, 2 + NUM_CONTEXT) and feats.dtype == np.float32
    assert feats[0, :2].tolist() == [1.0, 0.0] and feats[1, :2].tolist() == [0.0, 0.0]
    assert feats[0, 5] == 1.0 and feats[1, 5] == 0.0  # competitor in force or not
    # the customer signal: 1 + log(ratio), 1 at the segment's slope
    assert feats[0, -1] == pytest.approx(1 + np.log(0.5)) and feats[1, -1] == pytest.approx(1.0)


def test_bandit_reward_zero_at_base_and_read_relative_to_the_plan() -> None:
    env = MicroBanditEnv(cells(), CONFIG)
    env.reset(seed=0)
    for segment in (0, 1):  # whatever the segment's slope, ratio 1 keeps the base price
        env._cell = (0, segment, 0, 1.0, 1.0)
        assert env.step(np.zeros(1))[1] == pytest.approx(0.0)
        assert env.step(np.ones(1))[1] < 0 and env.step(-np.ones(1))[1] < 0
    # implied elasticity 1 / (1 - 0.4); at half of it a 15 % higher price pays
    env._cell = (0, 1, 0, 1.0, 0.5)
    expected = (1.15 - 0.4) * 1.15 ** (-0.5 / 0.6) - 0.6
    assert env.step(np.ones(1))[1] == pytest.approx(expected) and expected > 0


def test_personal_slope_and_best_adjustment() -> None:
    base, cost = np.full(5, 1.0), np.full(5, 0.4)
    ratio = np.array([1.0, 1.1, 1.2, 0.95, 0.9])
    slope = personal_slope(base, cost, ratio, np.full(5, 9.0))
    assert slope == pytest.approx(ratio / 0.6)
    best = best_adjustment(base, cost, slope, 0.5, 1.5, 0.15, None)
    # interior optimum p* = k e / (e - 1): 0.88 at ratio 1.1, 1.0857 at 0.95; else the edges
    assert best == pytest.approx([0.0, -0.12, -0.15, 0.0857, 0.15], abs=0.0026)
    # no margin: no implied elasticity, the segment's slope times the ratio
    assert personal_slope(0.4, 0.5, 2.0, 3.0) == pytest.approx(6.0)
    # the band: outside it (base 1.3 > 1.15) the best move is none
    assert best_adjustment(np.array([1.3]), 0.4, 0.5, 0.5, 1.5, 0.15, 0.15) == [0.0]


def test_learned_direction(trained: MicroPolicy) -> None:
    for segment in (0, 1):
        insensitive, sensitive = (
            trained.adjustments(_features(segment, ratio))[0] for ratio in (0.5, 2.0)
        )
        assert insensitive > sensitive  # optimum +15 % at half the implied slope, -15 % at twice


def test_same_seed_same_outputs() -> None:
    small = MicroConfig(total_timesteps=150, learning_starts=50, device="cpu")
    first = MicroPolicy(train_micro(cells(), small).model)
    second = MicroPolicy(train_micro(cells(), small).model)
    feats = np.vstack([_features(0, 0.5), _features(1, 2.0)])
    assert np.array_equal(first.adjustments(feats), second.adjustments(feats))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(arrays(np.float32, (3, 2 + NUM_CONTEXT), elements=st.floats(width=32)))
def test_adjustment_always_in_bounds(trained: MicroPolicy, features: np.ndarray) -> None:
    adjustment = trained.adjustments(features)
    assert adjustment.shape == (3,)
    assert np.all(np.abs(adjustment) <= CONFIG.max_adjustment + 1e-9)


@pytest.mark.parametrize("scale", [0.0, 0.5, 1.0])
def test_scale_gates_the_adjustment(trained: MicroPolicy, scale: float) -> None:
    feats = np.vstack([_features(0, 0.5), _features(1, 2.0)])
    gated = trained.with_scale(scale)
    assert np.allclose(gated.adjustments(feats), scale * trained.adjustments(feats))
    assert gated.model is trained.model and trained.scale == 1.0


@pytest.mark.parametrize("scale", [-0.1, 1.5])
def test_scale_out_of_range_is_rejected(trained: MicroPolicy, scale: float) -> None:
    with pytest.raises(ConfigError, match=r"MicroPolicy scale: expected a value in \[0, 1\]"):
        MicroPolicy(trained.model, scale=scale)


def test_personal_level_acts_only_inside_the_deployed_band() -> None:
    from pricegraph.pricing.policies.micro import personal_within_band

    base = np.array([1.0, 1.1, 1.3, 0.8, 1.0])
    proposed = np.array([0.1, 0.1, -0.1, 0.05, 0.0])
    kept = personal_within_band(base, proposed, 0.15)
    # inside: kept, or moved to the band's edge; outside (1.3, 0.8): no personal price
    assert kept == pytest.approx([0.1, 1.15 / 1.1 - 1, 0.0, 0.0, 0.0])
    moved = kept != 0
    assert np.all(np.abs(base[moved] * (1 + kept[moved]) - 1) <= 0.15 + 1e-12)
    assert personal_within_band(base, proposed, None) == pytest.approx(proposed)
