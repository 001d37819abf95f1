"""The contract between pricing policies and the quote service.

A quote asks one question: at which multiple of the list price should this
customer be offered this product now? A hierarchical policy answers it in three
levels, each recorded so that the quote can explain itself:

* **macro**: a price *zone* per category and period (e.g. ``discount`` = 0.85 x list);
* **meso**: a multiplier per customer segment within the zone;
* **micro**: a personal adjustment for this customer and product, a fraction of
  the segment's price (``-0.03`` = 3 % below it); the personal-deviation
  guardrail bounds the final price around the list price.

.. math::

    p^{policy} = p^{list} \\cdot m_{zone} \\cdot m_{segment} \\cdot (1 + a_{personal})

Guardrails (:mod:`pricegraph.pricing.guardrails`) are applied afterwards by the
quote service, never by the policy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np


@dataclass(frozen=True)
class QuoteState:
    """What a policy may look at for one (customer, product) quote.

    No protected attribute (see :mod:`pricegraph.pricing.fairness`) is ever here.

    Attributes:
        customer_id: Graph key of the customer.
        product_id: Graph key of the product.
        category_id: The product's category key (``""`` when it has none).
        segment_id: The customer's segment key, ``None`` when not segmented.
        period: Index of the pricing period (e.g. ISO week number - 1), >= 0.
        list_price: Current list price, shop currency, gross.
        unit_cost: Unit cost, same currency (may be an estimate).
        inventory_ratio: Stock left / stock at the period start, in ``[0, inf)``;
            ``1.0`` when unknown.
        competitor_price_ratio: Cheapest competitor price / list price; ``1.0``
            when there is none.
        days_since_last_purchase: The customer's recency, days; ``None`` = never.
        customer_vector: GNN ``graph`` vector float32 ``[graph_dim]``, or ``None``.
        product_vector: GNN ``graph`` vector float32 ``[graph_dim]``, or ``None``.
    """

    customer_id: str
    product_id: str
    category_id: str
    segment_id: str | None
    period: int
    list_price: float
    unit_cost: float
    inventory_ratio: float = 1.0
    competitor_price_ratio: float = 1.0
    days_since_last_purchase: float | None = None
    customer_vector: np.ndarray | None = None
    product_vector: np.ndarray | None = None


@dataclass(frozen=True)
class LevelDecision:
    """The three levels of a policy's answer.

    Attributes:
        zone: Macro zone name (e.g. ``"list"``).
        zone_multiplier: Price of the zone / list price, > 0.
        segment_multiplier: Meso multiplier within the zone, > 0 (``1.0`` = none).
        personal_adjustment: Micro adjustment as a fraction of the zone x segment price.
        is_personalized: Whether ``personal_adjustment`` depends on the customer
            (drives the disclosure flag).
    """

    zone: str
    zone_multiplier: float
    segment_multiplier: float = 1.0
    personal_adjustment: float = 0.0
    is_personalized: bool = False

    @property
    def multiplier(self) -> float:
        """Proposed price / list price."""
        return self.zone_multiplier * self.segment_multiplier * (1.0 + self.personal_adjustment)

    def proposed_price(self, list_price: float) -> float:
        """The policy's price before guardrails, shop currency."""
        return list_price * self.multiplier


@runtime_checkable
class QuotePolicy(Protocol):
    """A pricing policy as the quote service sees it."""

    @property
    def version(self) -> str:
        """Version of the policy (and of the models behind it), for the audit log."""
        ...

    def decide(self, state: QuoteState) -> LevelDecision:
        """The level decisions for one quote (pure: same state, same answer)."""
        ...


class ListPricePolicy:
    """The fallback policy: list price, no segment or personal adjustment."""

    version = "list-price"

    def decide(self, state: QuoteState) -> LevelDecision:
        """Always the ``list`` zone at 1.0."""
        return LevelDecision(zone="list", zone_multiplier=1.0)


def decide_all(policy: QuotePolicy, states: Sequence[QuoteState]) -> list[LevelDecision]:
    """``policy``'s decisions for ``states``: through its ``decide_many`` when it has one
    (one batched network call), else one ``decide`` per state."""
    many = getattr(policy, "decide_many", None)
    if many is not None:
        return list(many(states))
    return [policy.decide(state) for state in states]


__all__ = ["LevelDecision", "ListPricePolicy", "QuotePolicy", "QuoteState", "decide_all"]
