"""What one quote is computed from, besides the policy and the config, and its JSON form.

:class:`QuoteInput` bundles the policy's :class:`~pricegraph.pricing.policy.QuoteState`
with the product and customer facts the guardrails and the rationale read. The audit
log records it with :func:`input_to_dict` (vectors by hash, the market observation by
digest) and replays rebuild it with :func:`input_from_dict`. Amounts are gross, in the
shop currency.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from ..policy import MarketObservation, QuoteState

_VECTORS = ("customer_vector", "product_vector")
_STATE_FIELDS = tuple(
    spec.name for spec in fields(QuoteState) if spec.name not in (*_VECTORS, "market")
)


@dataclass(frozen=True)
class ProductFacts:
    """What the guardrails and the rationale need about one product (gross amounts)."""

    product_id: str
    category_id: str
    list_price: float
    unit_cost: float
    is_cost_estimated: bool
    """No cost in the graph: ``unit_cost = default_cost_ratio * list_price``."""
    stock_units: float | None
    current_price: float
    """The own price in force at ``now`` (markdown, else list)."""
    competitor_price: float | None
    """The cheapest competitor price in force at ``now``."""
    lowest_price_30d: float | None
    """The lowest own price in force in the 30 days before ``now``."""
    ladder_lower: float | None = None
    """Price in force of the cheaper neighbour in the brand/category price ladder."""
    ladder_upper: float | None = None
    """Price in force of the dearer neighbour in the brand/category price ladder."""
    ceiling_price: float | None = None
    """The catalogue's absolute price ceiling (``Product.max_price``)."""
    currency: str | None = None
    """The product's stored ISO 4217 currency (``Product.currency``); ``None``: none stored
    (and in the inputs of quotes recorded before it was)."""


@dataclass(frozen=True)
class CustomerFacts:
    """What the rationale needs about one customer."""

    customer_id: str
    segment_id: str | None
    segment_name: str | None
    segment_description: str | None
    days_since_last_purchase: float | None


@dataclass(frozen=True)
class QuoteInput:
    """Everything a quote is computed from, besides the policy and the config."""

    state: QuoteState
    product: ProductFacts
    customer: CustomerFacts


_PRODUCT_FIELDS = tuple(spec.name for spec in fields(ProductFacts))
_CUSTOMER_FIELDS = tuple(spec.name for spec in fields(CustomerFacts))


def vector_hash(vector: np.ndarray | None) -> str | None:
    """SHA-256 (first 16 hex digits) of a vector's float32 bytes; ``None`` for no vector."""
    if vector is None:
        return None
    data = np.ascontiguousarray(vector, dtype=np.float32).tobytes()
    return hashlib.sha256(data).hexdigest()[:16]


def input_to_dict(item: QuoteInput) -> dict[str, Any]:
    """JSON-ready form of ``item``: vectors replaced by their :func:`vector_hash`, the
    market observation by its digest."""
    state = {name: getattr(item.state, name) for name in _STATE_FIELDS}
    for name in _VECTORS:
        state[f"{name}_hash"] = vector_hash(getattr(item.state, name))
    market = item.state.market
    state["market_digest"] = None if market is None else market.digest
    return {
        "state": state,
        "product": {name: getattr(item.product, name) for name in _PRODUCT_FIELDS},
        "customer": {name: getattr(item.customer, name) for name in _CUSTOMER_FIELDS},
    }


def input_from_dict(
    data: Mapping[str, Any],
    vectors: Mapping[str, np.ndarray | None],
    market: MarketObservation | None = None,
) -> QuoteInput:
    """Rebuild a :class:`QuoteInput` from :func:`input_to_dict`, the two vectors and the
    market observation (the current one: only its digest is recorded)."""
    state = {
        k: v
        for k, v in data["state"].items()
        if not k.endswith("_vector_hash") and k != "market_digest"
    }
    return QuoteInput(
        QuoteState(**state, **{name: vectors.get(name) for name in _VECTORS}, market=market),
        ProductFacts(**data["product"]),
        CustomerFacts(**data["customer"]),
    )


__all__ = [
    "CustomerFacts",
    "ProductFacts",
    "QuoteInput",
    "input_from_dict",
    "input_to_dict",
    "vector_hash",
]
