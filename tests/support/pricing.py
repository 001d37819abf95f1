"""Simulated weekly panels with a known log-log demand (shared by the pricing tests)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pricegraph.pricing.demand.panel import calendar_features
from pricegraph.pricing.market.model import MarketModel


def simulate_panel(
    *,
    n_products: int = 6,
    n_weeks: int = 60,
    elasticity: float = -2.0,
    cross: float = 0.0,
    noise_sd: float = 0.15,
    seed: int = 0,
    category: str = "c1",
    prefix: str = "p",
) -> pd.DataFrame:
    """log q = a_j + e x + cross w + N(0, sd); x = log(p / list) in {0, -0.1, -0.2, -0.3}."""
    rng = np.random.default_rng(seed)
    weeks = pd.date_range("2024-01-01", periods=n_weeks, freq="7D")
    ids = np.repeat([f"{prefix}{i}" for i in range(n_products)], n_weeks)
    list_price = np.repeat(rng.uniform(5, 50, n_products), n_weeks)
    x = rng.choice([0.0, -0.1, -0.2, -0.3], size=len(ids))
    rel = np.exp(x).reshape(n_products, n_weeks)
    others = (rel.sum(0) - rel) / max(n_products - 1, 1)
    w = np.log(others).ravel() if n_products > 1 else np.zeros(len(ids))
    level = np.repeat(rng.normal(4.0, 0.3, n_products), n_weeks)
    units = np.exp(level + elasticity * x + cross * w + rng.normal(0, noise_sd, len(ids)))
    panel = pd.DataFrame(
        {
            "product_id": ids,
            "segment": "all",
            "week": np.tile(weeks, n_products),
            "units": units,
            "price": list_price * np.exp(x),
            "list_price": list_price,
            "category": category,
        }
    )
    return pd.concat([panel, calendar_features(panel["week"])], axis=1)


def three_product_market(
    inventory: tuple[float, ...] = (np.inf,) * 3,
    *,
    base_utility: tuple[float, float, float] = (-1.0, -1.5, -0.5),
    num_periods: int = 3,
) -> MarketModel:
    """2 segments (groups 0 | 1, 2), 3 products, up to 3 periods: a market to check by hand."""
    return MarketModel(
        list_price=np.array([100.0, 200.0, 50.0]),
        unit_cost=np.array([40.0, 90.0, 20.0]),
        product_brand=np.array([0, 1, 0]),
        product_category=np.array([0, 0, 1]),
        initial_inventory=np.array(inventory),
        base_utility=np.array(base_utility),
        product_beta=np.zeros(3),
        group_segment=np.array([0, 1, 1]),
        group_weight=np.array([10.0, 5.0, 5.0]),
        alpha=np.array([0.0, 0.5, 0.5]),
        beta=np.array([3.0, 1.5, 2.0]),
        brand_affinity=np.array([[1.0, 0.0], [0.0, 0.5], [0.0, 0.0]]),
        consideration=np.array([[0.5, 0.2, 1.0], [0.3, 0.9, 0.4], [1.0, 1.0, 1.0]]),
        visits=np.array([[2.0, 1.0, 1.5], [1.0, 1.0, 2.0], [3.0, 2.0, 1.0]])[:, :num_periods],
        competitor_price=np.array([[90.0, np.nan, 95.0], [np.nan] * 3, [55.0, 45.0, 50.0]])[
            :, :num_periods
        ],
        gamma=1.0,
        delta=1.5,
    )


def one_product_market(
    beta: float = 2.5, inventory: float = np.inf, periods: int = 1
) -> MarketModel:
    """List 100, cost 30, 100 customers per period, utility -1 - beta log(p / 100)."""
    return MarketModel(
        list_price=np.array([100.0]),
        unit_cost=np.array([30.0]),
        product_brand=np.array([0]),
        product_category=np.array([0]),
        initial_inventory=np.array([inventory]),
        base_utility=np.array([-1.0]),
        product_beta=np.zeros(1),
        group_segment=np.array([0]),
        group_weight=np.array([100.0]),
        alpha=np.zeros(1),
        beta=np.array([beta]),
        brand_affinity=np.zeros((1, 1)),
        consideration=np.ones((1, 1)),
        visits=np.ones((1, periods)),
        competitor_price=np.full((1, periods), np.nan),
        gamma=0.0,
        delta=0.0,
    )
