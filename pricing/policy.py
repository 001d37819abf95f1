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

Guardrails (:mod:`pricegraph.pricing.guardrails.apply`) are applied afterwards by the
quote service, never by the policy.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cached_property
from typing import Any, Protocol, runtime_checkable

import numpy as np


@dataclass(frozen=True, eq=False)
class MarketObservation:
    """What the shop sees of its whole catalogue when it quotes (the macro level's input).

    Built once per request from the graph snapshot and shared by every state of the
    request; the policy reads the products it was trained on and computes its own
    features from them, with the same function as in training.

    Attributes:
        product_rows: Product key -> row of the arrays.
        stock_units: ``[num_products]`` units on hand, float64, NaN where unknown.
        competitor_price: ``[num_products]`` cheapest competitor price in force, gross in
            the shop currency, NaN where none.
    """

    product_rows: Mapping[str, int]
    stock_units: np.ndarray
    competitor_price: np.ndarray

    @cached_property
    def digest(self) -> str:
        """SHA-256 (first 16 hex digits) of the keys and both arrays (for the audit log)."""
        hasher = hashlib.sha256()
        hasher.update("\x1f".join(self.product_rows).encode())
        for values in (self.stock_units, self.competitor_price):
            hasher.update(np.ascontiguousarray(values, dtype=np.float64).tobytes())
        return hasher.hexdigest()[:16]

    def lookup(self, product_ids: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        """``(stock_units, competitor_price)`` of ``product_ids``, NaN for unknown keys.

        The rows of the last ``product_ids`` asked for are kept (a policy asks for its
        own products on every request).
        """
        cached = self.__dict__.get("_rows")
        if cached is not None and cached[0] is product_ids:
            rows = cached[1]
        else:
            rows = np.array([self.product_rows.get(p, -1) for p in product_ids], np.int64)
            self.__dict__["_rows"] = (product_ids, rows)
        known = rows >= 0
        stock = np.full(rows.size, np.nan)
        competitor = np.full(rows.size, np.nan)
        stock[known] = self.stock_units[rows[known]]
        competitor[known] = self.competitor_price[rows[known]]
        return stock, competitor


@dataclass(frozen=True)
class Season:
    """The calendar of a policy's plan: period ``t`` is the ``period_days`` days from
    ``start + t * period_days`` (UTC).

    Attributes:
        start: First day of the season's period 0.
        period_days: Days per period.
    """

    start: date
    period_days: int = 7

    def period_of(self, now: datetime) -> int:
        """The season period ``now`` falls in: negative before the season starts, past
        its last period after it ends (a policy clamps it into its plan)."""
        day = (now.astimezone(UTC) if now.tzinfo else now).date()
        return (day - self.start).days // self.period_days


@dataclass(frozen=True)
class QuoteState:
    """What a policy may look at for one (customer, product) quote.

    No protected attribute (see :mod:`pricegraph.pricing.guardrails.fairness`) is ever here.

    Attributes:
        customer_id: Graph key of the customer.
        product_id: Graph key of the product.
        category_id: The product's category key (``""`` when it has none).
        segment_id: The customer's segment key, ``None`` when not segmented.
        period: Index of the pricing period: in the policy's :class:`Season` when it
            has one (negative before it starts), else ``(day of year - 1) //
            period_days``.
        list_price: Current list price, shop currency, gross.
        unit_cost: Unit cost, same currency (may be an estimate).
        inventory_ratio: Stock left / stock at the period start, in ``[0, inf)``;
            ``1.0`` when unknown.
        competitor_price_ratio: Cheapest competitor price / list price; ``1.0``
            when there is none.
        days_since_last_purchase: The customer's recency, days; ``None`` = never.
        customer_vector: GNN ``graph`` vector float32 ``[graph_dim]``, or ``None``.
        product_vector: GNN ``graph`` vector float32 ``[graph_dim]``, or ``None``.
        market: The whole catalogue's stock and competitor prices at quote time
            (shared by the states of one request), or ``None`` when not observed.
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
    market: MarketObservation | None = None


@dataclass(frozen=True)
class LevelDecision:
    """A policy's answer for one quote and the numbers each level used (the decision record).

    The rationale of a quote is written from these fields only
    (:func:`~pricegraph.pricing.quotes.explain.rationale`), so it states nothing the decision
    did not use.

    Attributes:
        zone: Macro zone name (e.g. ``"list"``).
        zone_multiplier: Price of the zone / list price, > 0.
        segment_multiplier: Meso multiplier within the zone, > 0 (``1.0`` = none).
        personal_adjustment: Micro adjustment as a fraction of the zone x segment price.
        is_personalized: The personal level moved the price (``personal_adjustment``
            is not 0); drives the disclosure flag and the personal-deviation guardrail.
        levels: The levels of a hierarchical policy that priced (``"macro"``,
            ``"macro+meso"`` or ``"full"``), ``"list"`` for the list-price fallback, ``""``
            for a policy that records no levels.
        period: The plan period the policy priced with (``None``: no plan).
        requested_period: The quote's period (differs from ``period`` when clamped
            into the plan).
        category: The policy's category whose zone was used (``None``: the product's
            category is not one the policy prices, so the ``list`` zone).
        category_stock_ratio: Macro input: mean stock on hand over season-start stock
            of ``category``'s products.
        category_competitor_ratio: Macro input: mean cheapest competitor price over
            list price of ``category``'s products (1 where none).
        priced_segments: The policy segments whose plan set the segment multiplier:
            the customer's own, or every one (their mean) when the policy does not know
            the customer's segment; empty when the meso level did not price.
        segment_slopes: The estimated price slopes of ``priced_segments`` (demand
            falls by about ``slope`` % per 1 % of price).
        micro_slope: The slope input of the personal level (``None``: level off).
        micro_scale: The validation gate on the personal level, in ``[0, 1]``.
        customer_signal: What the personal level read of the customer: ``"graph
            state"`` (its graph vector through the policy's customer sensitivity model),
            ``"fallback: ..."`` naming why not (no graph vector, segment unknown to the
            policy, no sensitivity model in the policy), ``None`` when the level is off.
        customer_ratio: The customer's estimated price slope over its segment's mean
            estimate (1 on a fallback): the micro input that personalises.
        customer_slope: The customer's estimated price slope (``None`` on a fallback).
        customer_slope_low: Lower end of its interval (coverage of the model).
        customer_slope_high: Upper end of its interval.
    """

    zone: str
    zone_multiplier: float
    segment_multiplier: float = 1.0
    personal_adjustment: float = 0.0
    is_personalized: bool = False
    levels: str = ""
    period: int | None = None
    requested_period: int | None = None
    category: str | None = None
    category_stock_ratio: float | None = None
    category_competitor_ratio: float | None = None
    priced_segments: tuple[str, ...] = ()
    segment_slopes: tuple[float, ...] = ()
    micro_slope: float | None = None
    micro_scale: float | None = None
    customer_signal: str | None = None
    customer_ratio: float | None = None
    customer_slope: float | None = None
    customer_slope_low: float | None = None
    customer_slope_high: float | None = None

    @property
    def multiplier(self) -> float:
        """Proposed price / list price."""
        return self.zone_multiplier * self.segment_multiplier * (1.0 + self.personal_adjustment)

    def proposed_price(self, list_price: float) -> float:
        """The policy's price before guardrails, shop currency."""
        return list_price * self.multiplier


@runtime_checkable
class QuotePolicy(Protocol):
    """A pricing policy as the quote service sees it.

    ``decide_many`` is the one decision path: a single quote is a batch of one.
    """

    @property
    def version(self) -> str:
        """Version of the policy (and of the models behind it), for the audit log."""
        ...

    def decide_many(self, states: Sequence[QuoteState]) -> list[LevelDecision]:
        """The decisions for ``states``, aligned with them (pure: same states, same answers)."""
        ...


def deciding_within(policy: Any, band: float | None) -> Any:
    """``policy`` deciding inside the personal ``band`` (a fraction of list price, ``None``:
    no band) when its personal level takes one
    (:meth:`~pricegraph.pricing.policies.hierarchy.HierarchicalPolicy.with_personal_band`),
    else ``policy`` itself: quotes and the as-deployed evaluation both decide inside the
    band of the guardrails in force."""
    with_band = getattr(policy, "with_personal_band", None)
    return policy if with_band is None else with_band(band)


class ListPricePolicy:
    """The fallback policy: list price, no segment or personal adjustment."""

    version = "list-price"

    def decide_many(self, states: Sequence[QuoteState]) -> list[LevelDecision]:
        """Always the ``list`` zone at 1.0."""
        return [LevelDecision(zone="list", zone_multiplier=1.0, levels="list") for _ in states]


__all__ = [
    "LevelDecision",
    "ListPricePolicy",
    "MarketObservation",
    "QuotePolicy",
    "QuoteState",
    "Season",
    "deciding_within",
]
