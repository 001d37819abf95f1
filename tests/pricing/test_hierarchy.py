"""Tests of the hierarchical policy: bounds, quotes and checkpoint round trip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pricing_rl_support import TINY, tiny_market

from pricegraph.pricing.hierarchy import HierarchicalPolicy
from pricegraph.pricing.policy import LevelDecision, QuotePolicy, QuoteState
from pricegraph.pricing.simulator import MarketState
from pricegraph.pricing.train_pricing import train_pricing


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[HierarchicalPolicy, Path]:
    result = train_pricing(tiny_market(inventory=30.0), TINY, tmp_path_factory.mktemp("ckpt"))
    return result.policy, result.checkpoint_path


def quote(**changes: object) -> QuoteState:
    base = dict(customer_id="c1", product_id="p1", category_id="bags", segment_id="loyal",
                period=1, list_price=80.0, unit_cost=30.0)  # fmt: skip
    return QuoteState(**{**base, **changes})  # type: ignore[arg-type]


def test_decide_is_a_quote_policy(trained) -> None:
    policy, _ = trained
    assert isinstance(policy, QuotePolicy) and policy.version.startswith("hier-")
    decision = policy.decide(quote())
    assert isinstance(decision, LevelDecision)
    assert abs(decision.personal_adjustment) <= 0.15 and decision.multiplier > 0
    unknown = policy.decide(quote(product_id="zz", category_id="??", segment_id=None))
    assert unknown.zone == "list" and unknown.segment_multiplier == 1.0


def test_checkpoint_round_trip(trained) -> None:
    policy, folder = trained
    loaded = HierarchicalPolicy.load(folder)
    assert loaded.version == policy.version
    for period in range(4):
        state = MarketState(period, period, np.full(6, 10.0), np.ones((2, 6)), np.full(6, np.nan))
        assert np.array_equal(loaded.prices(state), policy.prices(state))
        assert loaded.decide(quote(period=period)) == policy.decide(quote(period=period))


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.integers(0, 3),
    st.lists(st.floats(0.0, 1e4), min_size=6, max_size=6),
    st.lists(st.one_of(st.just(float("nan")), st.floats(1.0, 1e4)), min_size=6, max_size=6),
    st.floats(0.0, 100.0), st.floats(0.01, 10.0),
)  # fmt: skip
def test_outputs_in_bounds(trained, period, stock, comp, inventory_ratio, comp_ratio) -> None:
    policy, _ = trained
    state = MarketState(period, period, np.array(stock), np.ones((2, 6)), np.array(comp))
    for levels in ("macro", "macro+meso", "full"):
        prices = policy.with_levels(levels, levels).prices(state)
        assert np.all(prices >= policy.public.price_low - 1e-9)
        assert np.all(prices <= policy.public.price_high + 1e-9)
    decision = policy.decide(
        quote(inventory_ratio=inventory_ratio, competitor_price_ratio=comp_ratio)
    )
    assert abs(decision.personal_adjustment) <= 0.15


def test_micro_gate_is_saved_and_zero_turns_micro_off(trained, tmp_path: Path) -> None:
    policy, _ = trained
    assert 0.0 <= policy.micro.scale <= 1.0
    off = policy.with_micro(policy.micro.with_scale(0.0))
    state = MarketState(1, 1, np.full(6, 10.0), np.ones((2, 6)), np.full(6, np.nan))
    assert np.array_equal(off.prices(state), off.with_levels("macro+meso", "mm").prices(state))
    assert off.decide(quote()).personal_adjustment == 0.0
    loaded = HierarchicalPolicy.load(off.save(tmp_path / "off"))
    assert loaded.micro.scale == 0.0
    assert np.array_equal(loaded.prices(state), off.prices(state))


def test_decide_many_equals_decide_one_by_one(trained) -> None:
    policy, _ = trained
    rng = np.random.default_rng(3)
    states = [
        quote(
            customer_id=f"c{i}",
            product_id=str(rng.choice(["p0", "p1", "p2", "p3", "p4", "p5", "zz"])),
            category_id=str(rng.choice(["bags", "shoes", "??"])),
            segment_id=rng.choice(["loyal", "bargain", None]),  # type: ignore[arg-type]
            period=int(rng.integers(0, 6)),
            list_price=float(rng.uniform(20, 200)),
            unit_cost=float(rng.uniform(5, 20)),
            inventory_ratio=float(rng.uniform(0, 2)),
            competitor_price_ratio=float(rng.choice([1.0, 0.9, 1.2, float("nan")])),
            days_since_last_purchase=rng.choice([None, 3.0, 40.0]),  # type: ignore[arg-type]
        )
        for i in range(60)
    ]
    for levels in ("full", "macro+meso", "macro"):
        ablation = policy.with_levels(levels, levels)  # type: ignore[arg-type]
        assert ablation.decide_many(states) == [ablation.decide(s) for s in states]
    assert policy.decide_many([]) == []


def test_a_segment_the_policy_does_not_know_gets_the_products_mean_plan(trained) -> None:
    """Graph segments (from `pricegraph segments`) need not be the training segments."""
    policy, _ = trained
    per_segment = [
        policy.decide(quote(segment_id=name)).segment_multiplier for name in ("loyal", "bargain")
    ]
    for segment_id in (None, "SEG-v1-3"):
        unknown = policy.decide(quote(segment_id=segment_id))
        assert unknown.segment_multiplier == pytest.approx(np.mean(per_segment))
