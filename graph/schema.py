"""The knowledge-graph schema: the one place both graph backends derive from.

Every node has a string natural key ``id`` (unique: a primary key in LadybugDB, a
uniqueness constraint in Neo4j). Timestamps are UTC, stored without a zone
(``TIMESTAMP`` / Neo4j ``LocalDateTime``) and returned as naive ``datetime`` in UTC.
Money amounts are gross prices in the row's ``currency`` (ISO 4217).

Relationship identity decides what "upsert" means for an edge:

* ``event``: events (purchases, returns, views, carts) are keyed by their
  ``event_id``; a second upsert of the same id changes nothing.
* ``endpoints``: at most one edge per (source, target) pair.
* ``source``: at most one edge per source node (a product has one brand); an
  upsert with a new target replaces the old edge.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal


class PropType(StrEnum):
    """Property types, named after their LadybugDB spelling."""

    STRING = "STRING"
    DOUBLE = "DOUBLE"
    INT64 = "INT64"
    BOOLEAN = "BOOLEAN"
    TIMESTAMP = "TIMESTAMP"


RelIdentity = Literal["event", "endpoints", "source"]


@dataclass(frozen=True)
class NodeSpec:
    """A node label, its key and its typed properties (the key included)."""

    label: str
    properties: dict[str, PropType]
    key: str = "id"

    @property
    def columns(self) -> list[str]:
        """Property names in storage order, the key first."""
        return [self.key, *[p for p in self.properties if p != self.key]]


@dataclass(frozen=True)
class RelSpec:
    """A relationship type between two labels and its typed properties."""

    type: str
    source: str
    target: str
    identity: RelIdentity
    properties: dict[str, PropType] = field(default_factory=dict)

    @property
    def is_event(self) -> bool:
        """Whether edges of this type are events keyed by ``event_id``."""
        return self.identity == "event"


S, D, N, B, T = (
    PropType.STRING,
    PropType.DOUBLE,
    PropType.INT64,
    PropType.BOOLEAN,
    PropType.TIMESTAMP,
)

NODES: dict[str, NodeSpec] = {
    spec.label: spec
    for spec in [
        NodeSpec(
            "Customer",
            {
                "id": S,
                "country": S,
                "signup_ts": T,
                "is_anonymous": B,
                "profile_text": S,
                # a JSON object of the customer's attributes (loaders.formats)
                "attributes": S,
            },
        ),
        NodeSpec(
            "Product",
            {
                "id": S,
                "name": S,
                "description": S,
                "attributes": S,
                "cost": D,
                "list_price": D,
                "max_price": D,
                "currency": S,
                "stock_units": N,
            },
        ),
        NodeSpec("Brand", {"id": S, "name": S, "tier": S, "description": S}),
        NodeSpec("Category", {"id": S, "name": S}),
        NodeSpec(
            "PricePoint",
            {
                "id": S,
                "product_id": S,
                "price": D,
                "currency": S,
                "kind": S,
                "valid_from": T,
                "valid_to": T,
                "source": S,
                "competitor_id": S,
            },
        ),
        NodeSpec("Competitor", {"id": S, "name": S}),
        NodeSpec(
            "Segment",
            {
                "id": S,
                "name": S,
                "description": S,
                "version": S,
                # the profile at segmentation time (segments.profiles)
                "spend_mean": D,
                "spend_median": D,
                "orders_mean": D,
                "recency_days_mean": D,
                "discount_share": D,
                "price_sensitivity": S,
                "top_categories": S,
                "top_brands": S,
            },
        ),
    ]
}

_ORDER_EVENT = {
    "event_id": S,
    "order_id": S,
    "qty": N,
    "unit_price": D,  # paid per unit, after discounts
    "currency": S,
    "ts": T,
    "discount": D,  # taken off the whole line
    "promotion_id": S,
    "store_id": S,
    "channel": S,
}

RELS: dict[str, RelSpec] = {
    spec.type: spec
    for spec in [
        RelSpec("PURCHASED", "Customer", "Product", "event", dict(_ORDER_EVENT)),
        RelSpec("RETURNED", "Customer", "Product", "event", dict(_ORDER_EVENT)),
        RelSpec("VIEWED", "Customer", "Product", "event", {"event_id": S, "ts": T}),
        RelSpec(
            "ADDED_TO_CART", "Customer", "Product", "event", {"event_id": S, "qty": N, "ts": T}
        ),
        RelSpec("OF_BRAND", "Product", "Brand", "source"),
        RelSpec("IN_CATEGORY", "Product", "Category", "source"),
        RelSpec("CHILD_OF", "Category", "Category", "source"),
        RelSpec("HAS_PRICE", "Product", "PricePoint", "endpoints"),
        RelSpec("OFFERED_BY", "PricePoint", "Competitor", "source"),
        RelSpec("IN_SEGMENT", "Customer", "Segment", "endpoints", {"score": D}),
        RelSpec("SIMILAR_TO", "Product", "Product", "endpoints", {"score": D}),
    ]
}

PRICE_KINDS = ("list", "markdown", "transaction", "competitor")
"""Allowed values of ``PricePoint.kind``."""

EVENT_RELS = {
    "purchase": "PURCHASED",
    "return": "RETURNED",
    "view": "VIEWED",
    "cart": "ADDED_TO_CART",
}
"""Event type names used in files and APIs, mapped to their relationship type."""


def node_spec(label: str) -> NodeSpec:
    """Return the spec of ``label`` or raise ``KeyError`` naming the known labels."""
    try:
        return NODES[label]
    except KeyError:
        raise KeyError(f"unknown node label {label!r}; known: {', '.join(NODES)}") from None


def rel_spec(rel_type: str) -> RelSpec:
    """Return the spec of ``rel_type`` or raise ``KeyError`` naming the known types."""
    try:
        return RELS[rel_type]
    except KeyError:
        raise KeyError(f"unknown relationship {rel_type!r}; known: {', '.join(RELS)}") from None


__all__ = [
    "EVENT_RELS",
    "NODES",
    "PRICE_KINDS",
    "RELS",
    "NodeSpec",
    "PropType",
    "RelIdentity",
    "RelSpec",
    "node_spec",
    "rel_spec",
]
