"""Smoke tests of train_pricing: table, plots, manifest and seeding."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import numpy as np
from support.pricing_rl import TINY, tiny_market

from pricegraph.pricing.policies.hierarchy import HierarchicalPolicy
from pricegraph.pricing.policies.training import train_pricing
from pricegraph.pricing.policy import Season


def test_train_pricing_writes_everything_and_is_seeded(tmp_path) -> None:
    market = tiny_market(inventory=30.0)
    first = train_pricing(market, TINY, tmp_path / "a")
    names = set(first.summary["policy"])
    assert {"oracle", "hierarchical (full)", "macro + meso", "macro only", "static list",
            "competitor match", "myopic (estimated)"} <= names  # fmt: skip
    assert any(name.startswith("cost plus") for name in names)
    folder = first.checkpoint_path
    for name in ("macro.zip", "micro.zip", "meso.npz", "manifest.json", "results.csv",
                 "learning_curves.png", "profit_vs_oracle.png"):  # fmt: skip
        assert (folder / name).is_file(), name
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["version"] == first.policy.version
    assert {"config", "seeds", "metrics", "created"} <= set(manifest)
    second = train_pricing(market, TINY, tmp_path / "b")
    columns = ["profit_mean", "revenue_mean", "units_mean"]
    assert np.allclose(first.summary[columns], second.summary[columns])


def test_micro_gate_picks_the_best_validation_scale(tmp_path) -> None:
    market = tiny_market(inventory=30.0)
    result = train_pricing(market, replace(TINY, micro_scales=(0.0, 1.0)), tmp_path)
    profits = result.micro_validation
    assert set(profits) == {0.0, 1.0}
    best = result.policy.micro.scale
    assert best == 0.0 or profits[best] > profits[0.0]  # on only when it gains
    manifest = json.loads((result.checkpoint_path / "manifest.json").read_text())
    assert manifest["micro_validation"]["scale"] == best
    ungated = train_pricing(market, replace(TINY, micro_validation_episodes=0), tmp_path / "u")
    assert ungated.policy.micro.scale == 1.0 and ungated.micro_validation == {}


def test_micro_gate_plays_on_the_validation_market_in_expectation(tmp_path) -> None:
    market = tiny_market(inventory=30.0)
    config = replace(TINY, micro_scales=(0.0, 1.0), eval_episodes=0)
    itself = train_pricing(market, config, tmp_path / "a").micro_validation
    # the expected demand is exact: another run with the same seed gates on equal profits
    assert train_pricing(market, config, tmp_path / "b").micro_validation == itself
    # twice the visits in the validation market: the gate's profits come from there
    busier = replace(market, visits=market.visits * 2.0)
    other = train_pricing(market, config, tmp_path / "c", validation_market=busier)
    assert other.micro_validation[0.0] > 1.2 * itself[0.0]
    stochastic = replace(config, micro_gate_stochastic=True)
    assert train_pricing(market, stochastic, tmp_path / "d").micro_validation[0.0] != itself[0.0]


def test_no_evaluation_when_eval_episodes_is_zero(tmp_path) -> None:
    result = train_pricing(tiny_market(), replace(TINY, eval_episodes=0), tmp_path)
    assert result.summary.empty and set(result.plots) == {"learning_curves"}
    assert (result.checkpoint_path / "manifest.json").is_file()
    assert result.policy.season is None  # the hand-made market has no calendar


def test_the_policy_s_season_starts_at_the_trained_episode_s_first_day(tmp_path) -> None:
    """Quotes count periods from the first day of the season the policy was trained on."""
    market = replace(tiny_market(periods=8), meta={"season_start": "2011-12-12"})
    config = replace(TINY, eval_episodes=0, simulator=replace(TINY.simulator, start_period=2))
    policy = train_pricing(market, config, tmp_path).policy
    assert policy.season == Season(date(2011, 12, 26), 7)  # two weeks after the market's
    assert HierarchicalPolicy.load(policy.save(tmp_path / "saved")).season == policy.season


def test_training_gives_the_process_its_torch_threads_back(tmp_path) -> None:
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        train_pricing(tiny_market(inventory=30.0), replace(TINY, eval_episodes=0), tmp_path)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


class _Constant:
    """List price times a multiplier set by the candidate's micro scale."""

    def __init__(self, market, multiplier: float) -> None:
        self.market, self.multiplier, self.name = market, multiplier, "constant"

    def prices(self, state) -> np.ndarray:
        return self.market.list_price * self.multiplier


def test_micro_gate_needs_a_gain_beyond_noise(tmp_path) -> None:
    from support.pricing_rl import tiny_env

    from pricegraph.pricing.policies.personal import choose_micro_scale

    market = tiny_market(inventory=np.inf)  # inelastic: a higher price pays on every seed
    policy = train_pricing(market, replace(TINY, eval_episodes=0), tmp_path).policy
    seeds = range(5)

    def factory():
        return tiny_env(market)

    up = lambda c: _Constant(market, 1.0 + 0.2 * c.micro.scale)  # noqa: E731
    scale, profits = choose_micro_scale(policy, factory, (0.5, 1.0), seeds, wrap=up)
    assert scale == 1.0 and set(profits) == {0.0, 0.5, 1.0}
    down = lambda c: _Constant(market, 1.0 - 0.3 * c.micro.scale)  # noqa: E731
    assert choose_micro_scale(policy, factory, (0.5, 1.0), seeds, wrap=down)[0] == 0.0
