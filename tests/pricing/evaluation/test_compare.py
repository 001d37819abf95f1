"""Tests of policy evaluation and comparison against the oracle."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import brentq
from support.pricing import one_product_market

from pricegraph.errors import ConfigError
from pricegraph.pricing.evaluation.baselines import CostPlusPolicy, StaticListPolicy
from pricegraph.pricing.evaluation.compare import (
    compare_policies,
    evaluate_policy,
    format_ci95,
    mean_ci95,
    plot_profit_vs_oracle,
    summary_table,
)
from pricegraph.pricing.market.model import MarketModel
from pricegraph.pricing.market.oracle import OraclePolicy, season_profit_bound, solve_oracle
from pricegraph.pricing.market.simulator import MarketEnv, SimulatorConfig


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


def test_one_run_prints_ci_as_na_and_profit_against_the_hand_computed_bound() -> None:
    env = MarketEnv(one_product_market(), config=SimulatorConfig(1, is_stochastic=False))
    plan = solve_oracle(env)
    bound = season_profit_bound(plan, env)

    # by hand: share P(p) = a / (1 + a), a = exp(-1 - 2.5 log(p / 100)); the optimum
    # solves (p - 30) 2.5 (1 - P) = p, and with unlimited stock the bound is its profit
    def share(price: float) -> float:
        attraction = np.exp(-1.0 - 2.5 * np.log(price / 100.0))
        return attraction / (1 + attraction)

    best = brentq(lambda p: (p - 30.0) * 2.5 * (1 - share(p)) - p, 40.0, 150.0)
    assert bound == pytest.approx(100 * share(best) * (best - 30.0), rel=1e-6)
    list_profit = 100 / (1 + np.e) * 70.0  # P(100) = e^-1 / (1 + e^-1) = 1 / (1 + e)
    policies = [OraclePolicy(plan), StaticListPolicy(env.market)]
    _, summary = compare_policies(lambda: env, policies, [0], profit_bound=bound)
    static = summary.set_index("policy").loc["static list"]
    assert static["profit_mean"] == pytest.approx(list_profit)
    assert static["profit_pct_bound"] == pytest.approx(100 * list_profit / bound)
    assert static["profit_pct_oracle"] == pytest.approx(100 * list_profit / bound, rel=1e-6)
    assert np.isnan(static["profit_pct_bound_ci95"]) and np.isnan(static["profit_ci95"])

    table, notes = summary_table(summary, is_stochastic=False, num_runs=1)
    row = table.set_index("policy").loc["static list"]
    assert row["profit % of dual bound ± 95% CI"] == f"{100 * list_profit / bound:.1f} ± n/a"
    assert row["profit % of oracle ± 95% CI"].endswith("± n/a")
    assert "95 % CI over 1 run (n/a: fewer than 2)" in notes[0] and len(notes) == 1
    assert format_ci95(float("nan")) == "n/a" and format_ci95(1.234) == "1.2"


def test_bound_adds_the_holding_and_salvage_constant_and_caps_every_policy() -> None:
    config = SimulatorConfig(3, is_stochastic=False, holding_cost_pct=2.0, salvage_value_pct=10.0)
    env = MarketEnv(one_product_market(inventory=40.0, periods=3), config=config)
    plan = solve_oracle(env)
    # 40 units x 30 cost x (10 % salvage - 3 periods x 2 % holding) = 48
    assert season_profit_bound(plan, env) - plan.dual_bound == pytest.approx(48.0)
    bound = season_profit_bound(plan, env)
    low, high = env.price_low, env.price_high
    policies = [OraclePolicy(plan), StaticListPolicy(env.market)]
    policies.append(CostPlusPolicy(env.market, markup_pct=100.0, low=low, high=high))
    _, expected = compare_policies(lambda: env, policies, [0], profit_bound=bound)
    assert np.all(expected["profit_pct_bound"] <= 100 + 1e-9)
    assert expected.set_index("policy").loc["oracle", "profit_pct_bound"] > 99.0
    noisy = MarketEnv(env.market, config=replace(config, is_stochastic=True))
    per_seed, _ = compare_policies(lambda: noisy, policies, range(30), profit_bound=bound)
    assert np.all(per_seed.groupby("policy")["profit"].mean() <= bound)


def test_stochastic_table_names_its_references_and_explains_figures_above_100() -> None:
    summary = pd.DataFrame(
        {
            "policy": ["oracle", "hierarchical (full)", "static list"],
            "profit_pct_bound": [95.0, 97.5, 80.0],
            "profit_pct_bound_ci95": [0.5, 1.0, 0.7],
            "profit_pct_oracle": [100.0, 104.2, 84.0],
            "profit_pct_oracle_ci95": [0.0, 2.0, 1.0],
            "revenue_pct_oracle": [100.0, 99.0, 120.0],
            "units_pct_oracle": [100.0, 98.0, 110.0],
            "leftover_units_mean": [0.0, 1.0, 5.0],
        }
    )
    table, notes = summary_table(summary, is_stochastic=True, num_runs=5)
    assert list(table.columns) == [
        "policy",
        "profit % of dual bound ± 95% CI",
        "profit % of open-loop oracle ± 95% CI",
        "revenue % of open-loop oracle",
        "units % of open-loop oracle",
        "leftover units",
    ]
    assert table.loc[1, "profit % of open-loop oracle ± 95% CI"] == "104.2 ± 2.0"
    assert notes[0].startswith("Poisson demand, 95 % CI over 5 runs. dual bound:")
    assert any(
        n.startswith("Profit above 100 % of the open-loop oracle (hierarchical (full)):")
        for n in notes
    )
    assert any(
        n.startswith("Revenue or units above 100 % of the open-loop oracle (static list):")
        for n in notes
    )
    assert not any("of the dual bound (" in n for n in notes)  # none above 100 %
    under_expected_demand = summary_table(summary, is_stochastic=False, num_runs=5)[1]
    assert any(
        "above 100 % of the oracle (hierarchical (full))" in n
        and "to within 5.00 % of the dual bound" in n
        for n in under_expected_demand
    )


def test_stochastic_evaluation_reports_profit_over_the_bound_per_seed() -> None:
    env = make_env()
    plan = solve_oracle(env)
    bound = season_profit_bound(plan, env)
    policies = [OraclePolicy(plan), StaticListPolicy(env.market)]
    per_seed, summary = compare_policies(make_env, policies, [0, 1, 2], profit_bound=bound)
    for name, part in per_seed.groupby("policy"):
        mean, half = mean_ci95(100 * part["profit"].to_numpy() / bound)
        row = summary.set_index("policy").loc[name]
        assert row["profit_pct_bound"] == pytest.approx(mean)
        assert row["profit_pct_bound_ci95"] == pytest.approx(half)
    no_bound = compare_policies(make_env, policies, [0])[1]
    assert no_bound["profit_pct_bound"].isna().all()
