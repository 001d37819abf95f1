"""Tests of the hierarchical policy: bounds, quotes and checkpoint round trip."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.pricing_rl import TINY, tiny_env, tiny_market

from pricegraph.pricing.market.actions import ZoneActionWrapper
from pricegraph.pricing.market.simulator import MarketState
from pricegraph.pricing.policies.hierarchy import DecisionRows, HierarchicalPolicy
from pricegraph.pricing.policies.macro import MacroObservation
from pricegraph.pricing.policies.meso import MesoConfig, MesoPlanner
from pricegraph.pricing.policies.training import train_pricing
from pricegraph.pricing.policy import LevelDecision, MarketObservation, QuotePolicy, QuoteState


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


def test_a_loaded_policy_replans_from_the_stock_on_hand_as_trained(trained, tmp_path) -> None:
    """Quotes use a loaded checkpoint: its meso level re-plans the rest of the season from
    the stock on hand exactly as the policy in training did (it used to play the first
    plan whatever the stock)."""
    policy, _ = trained
    market = tiny_market(beta=2.5, inventory=30.0)  # price-sensitive: stock moves the plan
    planner = MesoPlanner(market, tiny_env(market, is_stochastic=False), MesoConfig())
    steep = HierarchicalPolicy(policy.macro, planner, policy.micro, policy.public, "v-steep")
    loaded = HierarchicalPolicy.load(steep.save(tmp_path / "steep"))
    replanned = 0
    for period in range(1, 4):
        for units in (2.0, 12.0, 30.0):
            stock = np.full(6, units)
            state = MarketState(period, period, stock, np.ones((2, 6)), np.full(6, np.nan))
            assert np.array_equal(loaded.prices(state), steep.prices(state))
            assert np.array_equal(
                loaded.meso.period_prices(period, stock), planner.period_prices(period, stock)
            )
            replanned += not np.allclose(
                planner.period_prices(period, stock), planner.plan.prices[period]
            )
    assert replanned >= 3  # the stock on hand changed the plan, and the loaded policy followed


def test_the_personal_level_decides_inside_the_band_in_force(trained) -> None:
    """A narrower band than the one trained with (guardrails changed since): the personal
    level keeps every personal price inside it, as the guardrails will."""
    policy, _ = trained
    market = tiny_market(beta=2.5, inventory=30.0)  # plans near list: inside the band
    planner = MesoPlanner(market, tiny_env(market, is_stochastic=False), MesoConfig())
    micro = policy.micro.with_scale(1.0)
    wide = HierarchicalPolicy(policy.macro, planner, micro, policy.public, "v-band")
    narrow = wide.with_personal_band(0.02)
    assert wide.with_personal_band(wide.public.personal_band) is wide
    rows = DecisionRows(
        segment=np.repeat(np.arange(2), 6),
        product=np.tile(np.arange(6), 2),
        category=np.tile(wide.public.product_category, 2),
        customer_ratio=np.repeat([0.5, 2.0], 6),  # customers unlike their segment
    )
    moved_beyond = 0
    for period in range(4):
        stock, competitor = np.full(6, 30.0), np.full(6, np.nan)
        free = wide.levels_at(period, stock, competitor, rows)
        kept = narrow.levels_at(period, stock, competitor, rows)
        personal = kept.adjustment != 0
        base = kept.zone_multiplier * kept.segment_multiplier
        assert np.all(np.abs(kept.multiplier[personal] - 1) <= 0.02 + 1e-12)
        assert np.all(np.abs(base[personal] - 1) <= 0.02 + 1e-12)  # acts only inside it
        beyond = (np.abs(free.multiplier - 1) > 0.02 + 1e-12) & (free.adjustment != 0)
        moved_beyond += int(beyond.sum())
    assert moved_beyond  # with the trained band it would have gone further


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


def _quote_states_of(policy: HierarchicalPolicy, state: MarketState) -> list[QuoteState]:
    """The simulator's state seen as quotes: every (segment, product) cell, the market
    observed as a shop's graph would hold it (catalogue stock units, competitor prices)."""
    pub = policy.public
    market = MarketObservation(
        {pid: j for j, pid in enumerate(pub.product_ids)},
        state.inventory / pub.initial_inventory * pub.stock_reference,
        state.competitor_price,
    )
    return [
        quote(
            customer_id=f"c-{segment}",
            product_id=pid,
            category_id=pub.category_names[pub.product_category[j]],
            segment_id=segment,
            period=state.period,
            list_price=float(pub.list_price[j]),
            unit_cost=float(pub.unit_cost[j]),
            days_since_last_purchase=0.0,
            market=market,
        )
        for segment in pub.segment_names
        for j, pid in enumerate(pub.product_ids)
    ]


@pytest.mark.parametrize("levels", ["macro", "macro+meso", "full"])
def test_quotes_decide_exactly_as_the_simulator(trained, levels) -> None:
    """Train = serve: one state built both ways gives identical features and prices."""
    policy = trained[0].with_levels(levels, levels)
    policy = policy.with_micro(policy.micro.with_scale(1.0))  # micro on, whatever the gate
    pub = policy.public
    market = tiny_market(inventory=30.0)
    rng = np.random.default_rng(0)
    competitor = np.where(rng.random((6, 6)) < 0.5, np.nan, rng.uniform(30, 150, (6, 6)))
    env = tiny_env(replace(market, competitor_price=competitor), is_stochastic=True)
    observed = MacroObservation(ZoneActionWrapper(env))  # the training observation
    env.reset(seed=1)
    for _ in range(4):
        state = env.state
        states = _quote_states_of(policy, state)
        inventory, competitor_price = policy.observe(states[0].market)
        np.testing.assert_allclose(inventory, state.inventory)
        one = DecisionRows(*(np.zeros(1, np.int64),) * 3)
        served = policy.levels_at(state.period, inventory, competitor_price, one).features
        np.testing.assert_array_equal(served, observed.observation(np.zeros(1)))
        decisions = policy.decide_many(states)
        quoted = np.array([d.multiplier for d in decisions]).reshape(2, 6) * pub.list_price
        quoted = np.clip(quoted, pub.price_low, pub.price_high)
        prices = policy.prices(state)
        np.testing.assert_allclose(quoted, prices, rtol=1e-12)
        env.step(env.action_from_prices(prices[0]))


def test_decision_record_names_what_each_level_used(trained) -> None:
    policy, _ = trained
    off = policy.with_micro(policy.micro.with_scale(0.0))
    on = policy.with_micro(policy.micro.with_scale(1.0))
    state = quote(period=9, segment_id="SEG-v1-3", days_since_last_purchase=12.0)
    gated, moved = off.decide(state), on.decide(state)
    assert (gated.period, gated.requested_period) == (3, 9)
    assert gated.category == "bags" and gated.levels == "full"
    assert gated.priced_segments == ("loyal", "bargain")
    assert gated.segment_slopes == tuple(float(s) for s in policy.public.slope)
    assert gated.personal_adjustment == 0.0 and not gated.is_personalized
    assert gated.micro_scale == 0.0
    assert on.decide(quote(days_since_last_purchase=3.0)) == on.decide(quote())  # as trained
    assert moved.is_personalized == (moved.personal_adjustment != 0.0)
    assert moved.micro_slope == pytest.approx(float(np.mean(policy.public.slope)))
    own = on.decide(quote(segment_id="bargain"))
    assert own.priced_segments == ("bargain",) and own.micro_slope == policy.public.slope[1]
    listed = policy.with_levels("macro", "m").decide(state)
    assert listed.priced_segments == () and listed.micro_scale is None
    assert listed.segment_multiplier == 1.0 and not listed.is_personalized
