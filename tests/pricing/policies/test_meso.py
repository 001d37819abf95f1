"""Tests of the meso level (exploration, demand fit, planner multipliers)."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.pricing_rl import tiny_env, tiny_market

from pricegraph.pricing.market.oracle import PricePlan
from pricegraph.pricing.policies.meso import MesoConfig, MesoPlanner, explore, fit_market

CONFIG = MesoConfig(explore_episodes=60)


def test_fit_recovers_slopes_and_is_seeded() -> None:
    market = tiny_market(beta=1.0, utility_shift=-4.0)  # small inside shares
    data = explore(tiny_env(market), CONFIG)
    estimated = fit_market(data, market)
    true = [market.beta[market.group_segment == s].mean() for s in range(2)]
    assert np.allclose(estimated.beta, true, rtol=0.35)
    again = fit_market(explore(tiny_env(market), CONFIG), market)
    assert np.array_equal(estimated.beta, again.beta)


def test_fit_recovers_substitution_and_prices_near_the_oracle() -> None:
    """Large inside shares: buyers move between products and to not buying; the logit
    fit recovers the share that buys at list price, and its myopic prices reach the
    oracle with unlimited stock."""
    from pricegraph.pricing.evaluation.baselines import MyopicPolicy
    from pricegraph.pricing.evaluation.compare import run_episode
    from pricegraph.pricing.market.oracle import OraclePolicy, solve_oracle

    market = tiny_market(beta=1.5, utility_shift=1.0)
    env = tiny_env(market, is_stochastic=False)
    estimated = fit_market(explore(tiny_env(market), CONFIG), market)
    true_inside = market.choice_probabilities(market.list_price, 0).sum(axis=1)  # 0.62
    fitted_inside = estimated.choice_probabilities(estimated.list_price, 0).sum(axis=1)
    assert np.allclose(fitted_inside, true_inside[[0, 2]], atol=0.08)
    oracle = run_episode(env, OraclePolicy(solve_oracle(env)), 0)["profit"]
    myopic = MyopicPolicy(estimated, env.price_low, env.price_high, 4)
    assert run_episode(env, myopic, 0)["profit"] > 0.99 * oracle


def test_exploration_moves_a_segment_s_prices_together() -> None:
    market = tiny_market()
    data = explore(tiny_env(market), CONFIG)
    cell_means = data.log_price_ratio.mean(axis=3)  # [N, T, S]
    alone = explore(tiny_env(market), MesoConfig(explore_episodes=60, explore_common=0.0))
    assert cell_means.std() > 1.5 * alone.log_price_ratio.mean(axis=3).std()
    assert data.segment_units.sum(axis=2) == pytest.approx(data.units)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(0.01, 100.0), min_size=6, max_size=6), st.integers(-5, 20))
def test_multipliers_in_range(zone: list[float], period: int) -> None:
    market = tiny_market(inventory=20.0)
    plan = np.random.default_rng(0).uniform(10, 200, size=(4, 2, 6))
    env = tiny_env(market)
    saved = PricePlan(plan, np.zeros(6), float("nan"), np.zeros(6), 0.0)
    planner = MesoPlanner.restore(saved, market, env.bounds, env.config, CONFIG)
    multipliers = planner.multipliers(period, np.array(zone), market.list_price)
    assert multipliers.shape == (2, 6)
    assert np.all((multipliers >= CONFIG.meso_low) & (multipliers <= CONFIG.meso_high))


class _PlannerPrices:
    """Play a planner's period prices, re-planned from the stock or not."""

    name = "planner"

    def __init__(self, planner: MesoPlanner, is_closed_loop: bool) -> None:
        self.planner, self.is_closed_loop = planner, is_closed_loop

    def prices(self, state) -> np.ndarray:
        stock = state.inventory if self.is_closed_loop else None
        return self.planner.period_prices(state.period, stock)


def test_closed_loop_replanning_recovers_from_a_wrong_estimate() -> None:
    """A planner whose estimate underrates price sensitivity oversells scarce stock early;
    re-planning from the stock on hand repairs part of it, and never loses profit here."""
    from dataclasses import replace

    from pricegraph.pricing.evaluation.compare import run_episode

    market = tiny_market(beta=1.5, inventory=25.0, utility_shift=-1.0)
    env = tiny_env(market, is_stochastic=False)
    wrong = replace(market, beta=market.beta * 0.5)
    planner = MesoPlanner(wrong, env, CONFIG)
    open_loop = run_episode(env, _PlannerPrices(planner, False), 0)["profit"]
    closed_loop = run_episode(env, _PlannerPrices(planner, True), 0)["profit"]
    assert closed_loop > open_loop * 1.01
    # with the true model the first plan is already optimal: re-planning keeps it
    exact = MesoPlanner(market, env, CONFIG)
    replanned = run_episode(env, _PlannerPrices(exact, True), 0)["profit"]
    first_plan = run_episode(env, _PlannerPrices(exact, False), 0)["profit"]
    assert replanned == pytest.approx(first_plan, rel=1e-3)


def test_a_solved_re_plan_is_read_while_another_is_being_solved() -> None:
    """The quote service's background refresh solves the new stock's re-plan while
    quotes on the snapshot in hand read theirs: a solved one waits for no solve."""
    market = tiny_market(beta=2.5, inventory=30.0)
    planner = MesoPlanner(market, tiny_env(market, is_stochastic=False), MesoConfig())
    stock = np.full(6, 12.0)
    solved = planner.period_prices(2, stock)
    found: list[np.ndarray] = []
    with planner._replan_lock:  # held as by a solve in flight on another thread
        reader = threading.Thread(target=lambda: found.append(planner.period_prices(2, stock)))
        reader.start()
        reader.join(10)
        assert not reader.is_alive()
    reader.join()
    assert found[0] is solved
