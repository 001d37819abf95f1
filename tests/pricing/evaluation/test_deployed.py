"""Scoring as deployed: the quote guardrails applied in the simulator."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from support.pricing_rl import TINY, tiny_env, tiny_market

from pricegraph.pricing.evaluation.baselines import StaticListPolicy
from pricegraph.pricing.evaluation.deployed import (
    ORACLE_AS_DEPLOYED,
    GuardedPolicy,
    deployed_bounds,
)
from pricegraph.pricing.guardrails.config import GuardrailConfig
from pricegraph.pricing.policies.training import train_pricing


class DoubleListPolicy:
    name = "double list"

    def __init__(self, list_price: np.ndarray) -> None:
        self.list_price = list_price

    def prices(self, state) -> np.ndarray:
        return 2.0 * self.list_price


def test_deployed_bounds_are_the_guardrails_floor_and_ceiling() -> None:
    market = tiny_market()
    bounds = deployed_bounds(market, GuardrailConfig())
    np.testing.assert_allclose(bounds.floor, market.unit_cost * 1.1)
    np.testing.assert_allclose(bounds.ceiling, market.list_price * 1.3)
    loose = deployed_bounds(market, GuardrailConfig(max_markup_over_list_pct=None))
    assert np.all(loose.ceiling == 1e9)


def test_guarded_prices_are_the_guardrails_prices() -> None:
    market = tiny_market()
    env = tiny_env(market)
    env.reset(seed=0)
    config = GuardrailConfig(approval_threshold_pct=None)
    doubled = GuardedPolicy(DoubleListPolicy(market.list_price), market, config)
    np.testing.assert_allclose(doubled.prices(env.state), market.list_price * 1.3)
    listed = GuardedPolicy(StaticListPolicy(market), market, config)
    np.testing.assert_allclose(listed.prices(env.state), market.list_price)
    assert listed.name == "static list"


def test_a_change_that_needs_approval_waits_one_period() -> None:
    """As quotes do: the period keeps the current price, the approved one holds after."""
    market = tiny_market()
    env = tiny_env(market)
    env.reset(seed=0)
    doubled = GuardedPolicy(DoubleListPolicy(market.list_price), market, GuardrailConfig())
    seen = []
    for _ in range(3):
        prices = doubled.prices(env.state)
        seen.append(prices / market.list_price)
        env.step(env.action_from_prices(prices))
    # +30 % (the markup ceiling) is more than the 20 % that needs approval
    np.testing.assert_allclose(seen, [np.ones(6), np.full(6, 1.3), np.full(6, 1.3)])
    # every price of the opening period went for approval, none after
    assert doubled.approval_requests == {0: (6, 6), 1: (0, 6), 2: (0, 6)}
    env.reset(seed=1)  # a new episode starts from list price, nothing approved
    np.testing.assert_allclose(doubled.prices(env.state), market.list_price)
    assert doubled.approval_requests[0] == (12, 12)  # summed over the episodes


class SegmentPricesPolicy:
    """Segment 0 at list +25 % (needs approval), segment 1 at list +10 % (does not)."""

    name = "segment prices"

    def __init__(self, list_price: np.ndarray) -> None:
        self.list_price = list_price

    def prices(self, state) -> np.ndarray:
        return np.stack([1.25 * self.list_price, 1.1 * self.list_price])


def test_a_product_waiting_for_approval_keeps_its_price_in_every_row() -> None:
    """As quotes hold every quote of a product with a pending change: the row that needs
    no approval waits with the one that does; next period both take their prices."""
    market = tiny_market()
    env = tiny_env(market)
    env.reset(seed=0)
    guarded = GuardedPolicy(SegmentPricesPolicy(market.list_price), market, GuardrailConfig())
    first = guarded.prices(env.state)
    np.testing.assert_allclose(first, np.stack([market.list_price] * 2))
    assert guarded.approval_requests == {0: (6, 12)}  # only segment 0's rows were sent
    env.step(env.action_from_prices(first))
    second = guarded.prices(env.state)
    np.testing.assert_allclose(
        second / market.list_price, np.stack([np.full(6, 1.25), np.full(6, 1.1)])
    )


def test_the_catalogue_ceiling_bounds_deployed_prices() -> None:
    market = tiny_market()
    ceiling = [None, 90.0, None, 55.0, None, None]
    capped = replace(market, meta={"max_price": ceiling})
    bounds = deployed_bounds(capped, GuardrailConfig())
    expected = np.where(
        [c is None for c in ceiling], 1.3 * market.list_price, [c or 0 for c in ceiling]
    )
    np.testing.assert_allclose(bounds.ceiling, expected)
    env = tiny_env(capped)
    env.reset(seed=0)
    free = GuardrailConfig(approval_threshold_pct=None)
    prices = GuardedPolicy(DoubleListPolicy(market.list_price), capped, free).prices(env.state)
    np.testing.assert_allclose(prices, expected)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory):
    return train_pricing(tiny_market(inventory=30.0), TINY, tmp_path_factory.mktemp("d"))


def test_personalised_rows_stay_in_the_personal_band(trained) -> None:
    market = tiny_market(inventory=30.0)
    policy = trained.policy.with_micro(trained.policy.micro.with_scale(1.0))
    # the trained policy decides inside the deployed band (15 %): its personal prices
    # already lie in it, and where the segment price does not, it does not personalise
    env = tiny_env(market)
    env.reset(seed=0)
    raw, flags = policy.prices_and_flags(env.state)
    assert np.all((np.abs(raw - market.list_price) <= 0.15 * market.list_price + 1e-9)[flags])
    # a policy without the band: the guardrails clamp what it personalises
    policy.public = replace(policy.public, personal_band=None)
    guarded = GuardedPolicy(policy, market, GuardrailConfig(max_personal_deviation_pct=2.0))
    assert guarded.policy.public.personal_band == 0.02  # decides inside the band in force
    env = tiny_env(market)
    env.reset(seed=0)
    raw, flags = policy.prices_and_flags(env.state)
    assert flags.any() and np.array_equal(raw, policy.prices(env.state))
    prices = guarded.prices(env.state)
    band = np.abs(prices - market.list_price) <= 0.02 * market.list_price + 0.005
    assert np.all(band[flags])
    assert not np.all((np.abs(raw - market.list_price) <= 0.02 * market.list_price)[flags])


def test_train_pricing_reports_both_tables(trained) -> None:
    free, deployed = (
        trained.summary.set_index("policy"),
        trained.deployed_summary.set_index("policy"),
    )
    # the same rows, and the oracle's plan played through the guardrails and approvals
    assert [*free.index[:1], ORACLE_AS_DEPLOYED, *free.index[1:]] == list(deployed.index)
    planned = deployed.loc[ORACLE_AS_DEPLOYED, "profit_mean"]
    assert planned <= deployed.loc["oracle", "profit_mean"] * (1 + 1e-9)
    # list prices lie inside both sets of bounds: the same prices, the same episodes
    assert deployed.loc["static list", "profit_mean"] == free.loc["static list", "profit_mean"]
    # the hierarchy prices above 1.3 x list somewhere (its zones go to 1.3, meso beyond)
    assert deployed.loc["macro + meso", "profit_mean"] != free.loc["macro + meso", "profit_mean"]
    folder = trained.checkpoint_path
    assert (folder / "results_as_deployed.csv").is_file()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["guardrails_as_deployed"]["min_margin_pct"] == 10.0
    assert len(manifest["metrics_as_deployed"]) == len(deployed)
