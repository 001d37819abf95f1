"""Tests of policy evaluation and comparison against the oracle."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pricegraph.errors import ConfigError
from pricegraph.pricing.baselines import StaticListPolicy
from pricegraph.pricing.evaluation import (
    compare_policies,
    evaluate_policy,
    mean_ci95,
    plot_profit_vs_oracle,
)
from pricegraph.pricing.market import MarketModel
from pricegraph.pricing.oracle import OraclePolicy, solve_oracle
from pricegraph.pricing.simulator import MarketEnv, SimulatorConfig


def make_env() -> MarketEnv:
    model = MarketModel(
        list_price=np.array([100.0, 50.0]),
        unit_cost=np.array([40.0, 20.0]),
        product_brand=np.array([0, 0]),
        product_category=np.array([0, 1]),
        initial_inventory=np.array([30.0, 100.0]),
        base_utility=np.array([-1.0, -0.5]),
        product_beta=np.zeros(2),
        group_segment=np.array([0, 1]),
        group_weight=np.array([20.0, 10.0]),
        alpha=np.zeros(2),
        beta=np.array([3.0, 1.5]),
        brand_affinity=np.zeros((2, 1)),
        consideration=np.ones((2, 2)),
        visits=np.ones((2, 3)),
        competitor_price=np.full((2, 3), np.nan),
        gamma=0.0,
        delta=0.0,
    )
    return MarketEnv(model, config=SimulatorConfig(horizon_periods=3))


def test_evaluate_policy_gives_one_row_per_seed_and_is_deterministic() -> None:
    env = make_env()
    policy = StaticListPolicy(env.market)
    first = evaluate_policy(make_env, policy, [0, 1, 2])
    assert list(first["seed"]) == [0, 1, 2] and set(first["policy"]) == {"static list"}
    assert first.equals(evaluate_policy(make_env, policy, [0, 1, 2]))
    assert np.all(first["leftover_units"] >= 0) and np.all(first["units"] > 0)


def test_compare_policies_reports_percent_of_oracle(tmp_path: Path) -> None:
    env = make_env()
    policies = [OraclePolicy(solve_oracle(env)), StaticListPolicy(env.market)]
    per_seed, summary = compare_policies(make_env, policies, seeds=[0, 1, 2, 3])
    assert len(per_seed) == 8
    oracle = summary.set_index("policy").loc["oracle"]
    assert oracle["profit_pct_oracle"] == pytest.approx(100.0)
    assert oracle["profit_pct_oracle_ci95"] == pytest.approx(0.0)
    assert summary.set_index("policy").loc["static list", "profit_pct_oracle"] < 100.0
    png = plot_profit_vs_oracle(summary, tmp_path / "plot.png")
    assert png.read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ConfigError, match="'oracle'"):
        compare_policies(make_env, policies[1:], seeds=[0])


def test_mean_ci95_uses_student_t() -> None:
    mean, half = mean_ci95(np.array([1.0, 2.0, 3.0]))
    assert mean == 2.0 and half == pytest.approx(4.302652729911275 * 1.0 / np.sqrt(3))
    assert np.isnan(mean_ci95(np.array([5.0]))[1])
