"""A tiny hand-made market for the RL pricing tests (shared by the tests under tests/pricing/)."""

from __future__ import annotations

import numpy as np
import torch

from pricegraph.pricing.market.model import MarketModel
from pricegraph.pricing.market.simulator import MarketEnv, PriceBounds, SimulatorConfig
from pricegraph.pricing.policies.macro import MacroConfig
from pricegraph.pricing.policies.meso import MesoConfig
from pricegraph.pricing.policies.micro import MicroConfig
from pricegraph.pricing.policies.training import PricingTrainConfig

torch.set_num_threads(1)  # small MLPs on a shared CPU


def tiny_market(
    beta: float = 0.4, inventory: float = np.inf, periods: int = 6, utility_shift: float = 0.0
) -> MarketModel:
    """6 products in 2 categories, 2 segments of 2 groups; small ``beta``: exclusive pays."""
    num_products, num_groups = 6, 4
    return MarketModel(
        list_price=np.array([100.0, 80.0, 120.0, 50.0, 60.0, 40.0]),
        unit_cost=np.array([40.0, 30.0, 50.0, 20.0, 25.0, 15.0]),
        product_brand=np.zeros(num_products, np.int64),
        product_category=np.array([0, 0, 0, 1, 1, 1]),
        initial_inventory=np.full(num_products, inventory),
        base_utility=np.array([-2.0, -2.2, -2.5, -1.8, -2.0, -2.1]) + utility_shift,
        product_beta=np.zeros(num_products),
        group_segment=np.array([0, 0, 1, 1]),
        group_weight=np.array([30.0, 30.0, 20.0, 20.0]) * np.exp(-utility_shift),
        alpha=np.zeros(num_groups),
        beta=np.array([beta, beta * 1.2, beta * 2.0, beta * 2.5]),
        brand_affinity=np.zeros((num_groups, 1)),
        consideration=np.full((num_groups, num_products), 0.8),
        visits=np.ones((num_groups, periods)),
        competitor_price=np.full((num_products, periods), np.nan),
        gamma=0.0,
        delta=0.0,
        segment_names=("loyal", "bargain"),
        category_names=("bags", "shoes"),
        product_ids=tuple(f"p{j}" for j in range(num_products)),
    )


def tiny_env(market: MarketModel, is_stochastic: bool = True, horizon: int = 4) -> MarketEnv:
    """The tiny market's env: bounds 0.5..1.5 x list, ``horizon`` periods."""
    config = SimulatorConfig(horizon_periods=horizon, is_stochastic=is_stochastic)
    return MarketEnv(market, PriceBounds.around_list(market), config)


TINY = PricingTrainConfig(
    simulator=SimulatorConfig(horizon_periods=4),
    macro=MacroConfig(total_timesteps=96, n_steps=48, batch_size=24, n_epochs=2),
    meso=MesoConfig(explore_episodes=10),
    micro=MicroConfig(total_timesteps=200, learning_starts=50),
    eval_episodes=2,
    device="cpu",
)

"""Tiny training budgets for the hierarchy and train_pricing tests."""
