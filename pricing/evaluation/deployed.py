"""Scoring pricing policies as deployed: the quote service's guardrails in the simulator.

Quotes pass every policy price through the hard guardrails
(:func:`~pricegraph.pricing.guardrails.batch.apply_guardrails_batch`): by default a
floor of ``1.1 x cost``, a ceiling of ``1.3 x list`` and, for a price the personal
level moved, ``list +- 15 %``. Training and the "unconstrained" tables price inside
wider simulator bounds (``0.5 .. 1.5 x list``). To report what a deployment earns,
the same policies are played again "as deployed":

* the environment's bounds become the guardrails' floor and ceiling
  (:func:`deployed_bounds`), so the oracle is solved inside them too;
* every policy's prices go through the same guardrail function as quotes do
  (:class:`GuardedPolicy`), row by row, with ``is_personalized`` set where the
  personal level moved the price (:meth:`~.HierarchicalPolicy.prices_and_flags`),
  the previous period's prices as the current price and the period's competitor prices.

Approval thresholds do not apply (no human approves simulated prices). Amounts are in
the shop currency.
"""

from __future__ import annotations

import numpy as np

from ..guardrails.batch import MAX_AMOUNT, apply_guardrails_batch
from ..guardrails.config import GuardrailConfig
from ..market.model import MarketModel
from ..market.simulator import MarketState, PriceBounds
from .baselines import PricingPolicy


def deployed_bounds(market: MarketModel, guardrails: GuardrailConfig) -> PriceBounds:
    """The guardrails' floor and ceiling as simulator bounds (``[P]`` each).

    Floor ``max(cost x (1 + min_margin_pct / 100), 0.01)``; ceiling ``list x (1 +
    max_markup_over_list_pct / 100)`` (no markup rule: ``MAX_AMOUNT``), never below the
    floor (the floor wins a conflict, as in the guardrails).
    """
    floor = np.maximum(market.unit_cost * (1.0 + guardrails.min_margin_pct / 100.0), 0.01)
    markup = guardrails.max_markup_over_list_pct
    ceiling = (
        np.full(market.num_products, MAX_AMOUNT)
        if markup is None
        else market.list_price * (1.0 + markup / 100.0)
    )
    return PriceBounds(floor, np.maximum(ceiling, floor))


class GuardedPolicy:
    """``policy`` with the deployed guardrails applied to its prices (module docstring).

    Args:
        policy: A simulator policy; when it has ``prices_and_flags`` (the hierarchy),
            the rows its personal level moved are guarded as personalised prices.
        market: The market priced (list prices and costs).
        guardrails: The guardrails quotes apply.
    """

    def __init__(
        self, policy: PricingPolicy, market: MarketModel, guardrails: GuardrailConfig
    ) -> None:
        self.policy, self.market = policy, market
        self.guardrails = guardrails.model_copy(update={"approval_threshold_pct": None})
        self.name = policy.name

    def prices(self, state: MarketState) -> np.ndarray:
        """The policy's prices of the period after the guardrails, same shape."""
        flags = getattr(self.policy, "prices_and_flags", None)
        if flags is not None:
            raw, is_personalized = flags(state)
        else:
            raw = np.asarray(self.policy.prices(state), float)
            is_personalized = np.zeros(raw.shape, dtype=bool)
        shape = raw.shape
        rows = 1 if raw.ndim == 1 else shape[0]
        previous = np.asarray(state.last_prices, float)  # [R_env, P]
        if previous.shape != shape:  # other rows than the env's: the mean price per product
            previous = np.broadcast_to(previous.mean(axis=0), shape)
        columns = {
            "list_price": np.tile(self.market.list_price, rows),
            "unit_cost": np.tile(self.market.unit_cost, rows),
            "previous_price": np.broadcast_to(previous, shape).ravel(),
            "competitor_price": np.tile(state.competitor_price, rows),
            "is_personalized": np.broadcast_to(is_personalized, shape).ravel(),
        }
        guarded = apply_guardrails_batch(raw.ravel(), columns, self.guardrails).prices
        return guarded.reshape(shape)


__all__ = ["GuardedPolicy", "deployed_bounds"]
