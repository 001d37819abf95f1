"""Keyset pages of products and customers as API rows.

Each function runs on a service thread and makes one named store read
(:meth:`~pricegraph.graph.base.GraphStore.product_page`,
:meth:`~pricegraph.graph.base.GraphStore.customer_page`): node rows (every property,
plain values) ordered by key, ``limit`` of them after the key ``after``.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..graph.base import GraphStore
from .loaders import Row, plain_row


def product_page(
    store: GraphStore,
    *,
    after: str | None,
    limit: int,
    brands: Sequence[str] | None = None,
    categories: Sequence[str] | None = None,
    min_price: float | None = None,
    max_price: float | None = None,
    is_in_stock: bool | None = None,
) -> list[Row]:
    """Products by key after ``after``; a category matches its subcategories."""
    frame = store.product_page(
        after=after,
        limit=limit,
        brands=brands,
        categories=categories,
        min_price=min_price,
        max_price=max_price,
        in_stock=is_in_stock,
    )
    return [plain_row(r) for r in frame.to_dict("records")]


def customer_page(
    store: GraphStore,
    *,
    after: str | None,
    limit: int,
    country: str | None = None,
    segment: str | None = None,
    is_anonymous: bool | None = None,
) -> list[Row]:
    """Customers by key after ``after``, filtered by country, segment and anonymity."""
    frame = store.customer_page(
        after=after, limit=limit, country=country, segment=segment, is_anonymous=is_anonymous
    )
    return [plain_row(r) for r in frame.to_dict("records")]


__all__ = ["customer_page", "product_page"]
