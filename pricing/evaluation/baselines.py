"""Non-learned pricing policies, all behind one small :class:`PricingPolicy` protocol.

* :class:`StaticListPolicy`: list price every period.
* :class:`CostPlusPolicy`: :math:`p_j = c_j (1 + markup)`.
* :class:`CompetitorMatchPolicy`: the cheapest competitor price in force (less an
  optional undercut), list price where no competitor tracks the product.
* :class:`MyopicPolicy`: each period, the prices that maximise that period's
  expected profit under a given (estimated) :class:`~.model.MarketModel`, ignoring
  inventory and the periods to come: the oracle's problem with
  :math:`\\lambda = 0` and one period at a time.

Every policy returns prices in currency; the environment maps them into its
bounds (:meth:`~pricegraph.pricing.market.simulator.MarketEnv.action_from_prices`), and the optional
``low``/``high`` arguments clip them first.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from ...errors import ConfigError
from ..market.model import MarketModel
from ..market.oracle import market_blocks, optimise_prices
from ..market.simulator import MarketState


@runtime_checkable
class PricingPolicy(Protocol):
    """A pricing policy: the prices of the next period from the market state.

    ``prices(state)`` returns ``[P]`` (same price for everyone), ``[S, P]`` (per
    segment) or ``[R, P]`` (per price row of the env) prices in currency, > 0. It
    must not draw random numbers except from a generator it was given.
    """

    name: str
    """Label in evaluation tables."""

    def prices(self, state: MarketState) -> np.ndarray:
        """Return the prices of period ``state.period``."""
        ...


def _bounded(prices: np.ndarray, low: np.ndarray | None, high: np.ndarray | None) -> np.ndarray:
    if low is not None or high is not None:
        prices = np.clip(prices, low, high)
    return prices


class StaticListPolicy:
    """List price, always.

    Args:
        market: The market (its list prices).
        name: Label in evaluation tables.
    """

    def __init__(self, market: MarketModel, name: str = "static list") -> None:
        self.list_price = market.list_price
        self.name = name

    def prices(self, state: MarketState) -> np.ndarray:
        """Return ``[P]`` list prices."""
        return self.list_price


class CostPlusPolicy:
    """Unit cost times ``1 + markup_pct / 100`` (``markup_pct=100``: keystone, twice cost).

    Args:
        market: The market (its unit costs).
        markup_pct: Markup over unit cost in percent (>= 0).
        low: ``[P]`` optional lowest price.
        high: ``[P]`` optional highest price.
        name: Label in evaluation tables.
    """

    def __init__(
        self,
        market: MarketModel,
        markup_pct: float = 100.0,
        low: np.ndarray | None = None,
        high: np.ndarray | None = None,
        name: str | None = None,
    ) -> None:
        if markup_pct < 0:
            raise ConfigError(f"CostPlusPolicy markup_pct: expected >= 0, got {markup_pct!r}")
        self._prices = _bounded(market.unit_cost * (1 + markup_pct / 100), low, high)
        self.name = name or f"cost plus {markup_pct:g}%"

    def prices(self, state: MarketState) -> np.ndarray:
        """Return ``[P]`` cost-plus prices."""
        return self._prices


class CompetitorMatchPolicy:
    """Match the cheapest competitor price in force (list price where there is none).

    Args:
        market: The market (its list prices).
        undercut_pct: Percent below the competitor's price (0 = match).
        low: ``[P]`` optional lowest price.
        high: ``[P]`` optional highest price.
        name: Label in evaluation tables.
    """

    def __init__(
        self,
        market: MarketModel,
        undercut_pct: float = 0.0,
        low: np.ndarray | None = None,
        high: np.ndarray | None = None,
        name: str = "competitor match",
    ) -> None:
        self.list_price = market.list_price
        self.factor = 1 - undercut_pct / 100
        self.low, self.high = low, high
        self.name = name

    def prices(self, state: MarketState) -> np.ndarray:
        """Return ``[P]`` matched prices for the period."""
        comp = state.competitor_price
        matched = np.where(np.isnan(comp), self.list_price, comp * self.factor)
        return _bounded(matched, self.low, self.high)


class MyopicPolicy:
    """Maximise each period's expected profit under ``model``, ignoring inventory.

    The model stands for the estimated demand model: the true market (an upper
    reference for myopic pricing), a perturbed or pooled one, or one built with
    :func:`~.builders.market_from_demand`. Prices are planned once, on construction.

    With unlimited stock and the true model it equals the oracle (the oracle's
    problem separates by period at :math:`\\lambda = 0`; checked in
    ``bench/bench_pricing.py``). Where stock binds it sells the scarce products
    early at prices far below their shadow-priced optimum, so it falls well below
    the oracle even with the true model (about 50 % on the synthetic world at
    inventory scale 0.1, expected demand); with the meso level's estimated model
    (no substitution, exploration-only data) it reaches only about 72 % of the
    oracle even at unlimited stock. A low score there is the baseline's myopia, not a bug.

    Args:
        model: The (estimated) market model the policy believes.
        low: ``[P]`` lowest price (the env's ``price_low``).
        high: ``[P]`` highest price (the env's ``price_high``).
        horizon_periods: Periods to plan.
        start_period: Index of the model's period used for episode period 0.
        is_per_segment: One price per segment of ``model`` (else one per product).
        name: Label in evaluation tables.
    """

    def __init__(
        self,
        model: MarketModel,
        low: np.ndarray,
        high: np.ndarray,
        horizon_periods: int,
        start_period: int = 0,
        is_per_segment: bool = True,
        name: str = "myopic optimum",
    ) -> None:
        if start_period + horizon_periods > model.num_periods:
            raise ConfigError(
                f"MyopicPolicy: periods {start_period}..{start_period + horizon_periods - 1}"
                f" run past the model's {model.num_periods} periods"
            )
        rows = model.group_segment if is_per_segment else np.zeros(model.num_groups, np.int64)
        num_rows = model.num_segments if is_per_segment else 1
        periods = slice(start_period, start_period + horizon_periods)
        blocks = market_blocks(model, periods, rows, num_rows)
        cost = np.broadcast_to(model.unit_cost, (horizon_periods, model.num_products))
        plan, _ = optimise_prices(blocks, cost, model.list_price, low, high)
        self.plan = plan if is_per_segment else plan[:, 0]
        self.name = name

    def prices(self, state: MarketState) -> np.ndarray:
        """Return the planned ``[S, P]`` (or ``[P]``) prices of ``state.period``."""
        return self.plan[state.period]


__all__ = [
    "CompetitorMatchPolicy",
    "CostPlusPolicy",
    "MyopicPolicy",
    "PricingPolicy",
    "StaticListPolicy",
]
