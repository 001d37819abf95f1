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

A change the guardrails send for approval (beyond ``approval_threshold_pct`` of the
current price) waits one period, as a merchant approving each week's changes would:
the period keeps the current price, and the requested price is the current one from
the next period on, when the policy's next price is guarded against it. As quotes hold
every quote of a product that has a pending change, a product with a row (segment or
customer group) waiting for approval keeps the current price in all its rows that
period; only the rows that needed approval take their requested price as current
(quotes keep one current price per product, the first quote's request). The catalogue
ceiling (a product's ``max_price``) applies where the market records one
(``meta["max_price"]``); the price ladder, off by default, is not simulated. Amounts are
in the shop currency.

The oracle is solved inside the floor and ceiling but waits for no approval, so it is
also played as deployed (:func:`deployed_policies`): its plan through the same
guardrails and approval rule, the row ``oracle plan, as deployed``, which says how much
of the oracle's profit the approval rule itself leaves.
"""

from __future__ import annotations

import numpy as np

from ..guardrails.batch import MAX_AMOUNT, apply_guardrails_batch
from ..guardrails.config import GuardrailConfig
from ..market.model import MarketModel
from ..market.oracle import OraclePolicy
from ..market.simulator import MarketState, PriceBounds
from ..policy import deciding_within
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
    ceiling = np.fmin(ceiling, catalog_ceiling(market))
    return PriceBounds(floor, np.maximum(ceiling, floor))


def catalog_ceiling(market: MarketModel) -> np.ndarray:
    """``[P]`` each product's catalogue ``max_price`` (``meta["max_price"]``), NaN where
    none is recorded."""
    recorded = market.meta.get("max_price")
    if recorded is None or len(recorded) != market.num_products:
        return np.full(market.num_products, np.nan)
    return np.array([np.nan if v is None else v for v in recorded], float)


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
        # the personal level decides inside the band in force, as in quotes
        self.policy = deciding_within(policy, guardrails.personal_band)
        self.market, self.guardrails = market, guardrails
        self.name = policy.name
        self._ceiling = catalog_ceiling(market)
        self._approved: np.ndarray | None = None  # requested last period, approved since
        self.approval_requests: dict[int, tuple[int, int]] = {}
        """Episode period -> ``(prices sent for approval, prices guarded)``, summed over
        the episodes played."""

    def prices(self, state: MarketState) -> np.ndarray:
        """The policy's prices of the period after the guardrails, same shape; a product
        with a change that needs approval keeps the current price this period, in every
        row (module docstring)."""
        flags = getattr(self.policy, "prices_and_flags", None)
        if flags is not None:
            raw, is_personalized = flags(state)
        else:
            raw = np.asarray(self.policy.prices(state), float)
            is_personalized = np.zeros(raw.shape, dtype=bool)
        shape = raw.shape
        rows = 1 if raw.ndim == 1 else shape[0]
        current = np.asarray(state.last_prices, float)  # [R_env, P]
        if current.shape != shape:  # other rows than the env's: the mean price per product
            current = np.broadcast_to(current.mean(axis=0), shape)
        approved = self._approved if state.period > 0 else None  # a new episode: none
        if approved is not None and approved.shape == shape:
            current = np.where(np.isnan(approved), current, approved)
        columns = {
            "list_price": np.tile(self.market.list_price, rows),
            "unit_cost": np.tile(self.market.unit_cost, rows),
            "previous_price": np.broadcast_to(current, shape).ravel(),
            "competitor_price": np.tile(state.competitor_price, rows),
            "ceiling_price": np.tile(self._ceiling, rows),
            "is_personalized": np.broadcast_to(is_personalized, shape).ravel(),
        }
        result = apply_guardrails_batch(raw.ravel(), columns, self.guardrails)
        waits = result.needs_approval.reshape(shape)
        guarded = result.prices.reshape(shape)
        sent, seen = self.approval_requests.get(state.period, (0, 0))
        self.approval_requests[state.period] = (sent + int(waits.sum()), seen + waits.size)
        self._approved = np.where(waits, guarded, np.nan)
        held = waits.any(axis=0) if waits.ndim == 2 else waits  # the product's every row
        return np.where(held, current, guarded)


ORACLE_AS_DEPLOYED = "oracle plan, as deployed"
"""The row of the oracle's plan through the guardrails and the approval rule."""


def deployed_policies(
    oracle: OraclePolicy,
    others: list[PricingPolicy],
    market: MarketModel,
    guardrails: GuardrailConfig,
) -> list[PricingPolicy]:
    """The as-deployed rows: the oracle (the reference, solved inside the deployed
    bounds), its plan through the guardrails (:data:`ORACLE_AS_DEPLOYED`), then every
    other policy through them."""
    planned = OraclePolicy(oracle.plan, name=ORACLE_AS_DEPLOYED)
    guarded = [GuardedPolicy(p, market, guardrails) for p in (planned, *others)]
    return [oracle, *guarded]


__all__ = [
    "ORACLE_AS_DEPLOYED",
    "GuardedPolicy",
    "catalog_ceiling",
    "deployed_bounds",
    "deployed_policies",
]
