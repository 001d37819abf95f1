"""Keyset pages of products, customers and segment members, as named Cypher reads.

Each function runs on the service thread, makes one or two store calls, and returns
node rows (every property) ordered by key, ``limit`` of them after the key ``after``.
Filters are fixed fragments with parameters: no value is ever pasted into Cypher.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..graph.base import GraphStore
from ..graph.schema import NODES
from .loaders import Row, plain_row


def _returns(label: str, var: str) -> str:
    return ", ".join(f"{var}.{c} AS {c}" for c in NODES[label].columns)


CATEGORY_EDGES = "MATCH (c:Category)-[:CHILD_OF]->(p:Category) RETURN c.id AS child, p.id AS parent"

_PRODUCT_FILTERS = {
    "after": "p.id > $after",
    "brands": "EXISTS { MATCH (p)-[:OF_BRAND]->(b:Brand) WHERE b.id IN $brands }",
    "categories": "EXISTS { MATCH (p)-[:IN_CATEGORY]->(c:Category) WHERE c.id IN $categories }",
    "min_price": "p.list_price >= $min_price",
    "max_price": "p.list_price <= $max_price",
}
_IN_STOCK = {True: "p.stock_units > 0", False: "(p.stock_units IS NULL OR p.stock_units <= 0)"}

_CUSTOMER_FILTERS = {
    "after": "c.id > $after",
    "country": "c.country = $country",
    "segment": "EXISTS { MATCH (c)-[:IN_SEGMENT]->(s:Segment) WHERE s.id = $segment }",
    "is_anonymous": "c.is_anonymous = $is_anonymous",
}


def _page(
    store: GraphStore,
    label: str,
    var: str,
    fragments: dict[str, str],
    params: dict[str, Any],
    extra: Sequence[str] = (),
    limit: int = 20,
) -> list[Row]:
    given = {k: v for k, v in params.items() if v is not None}
    where = [fragments[k] for k in given] + list(extra)
    clause = f"WHERE {' AND '.join(where)} " if where else ""
    query = f"MATCH ({var}:{label}) {clause}RETURN {_returns(label, var)} ORDER BY id LIMIT $limit"
    frame = store.read_cypher(query, {**given, "limit": int(limit)})
    return [plain_row(r) for r in frame.to_dict("records")]


def category_descendants(store: GraphStore, category_ids: Sequence[str]) -> list[str]:
    """``category_ids`` and every category below them in the tree."""
    edges = store.read_cypher(CATEGORY_EDGES)
    children: dict[str, list[str]] = {}
    for child, parent in zip(edges.get("child", []), edges.get("parent", []), strict=True):
        children.setdefault(str(parent), []).append(str(child))
    found, frontier = set(category_ids), list(category_ids)
    while frontier:
        for child in children.get(frontier.pop(), []):
            if child not in found:
                found.add(child)
                frontier.append(child)
    return sorted(found)


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
    if categories:
        categories = category_descendants(store, categories)
    params = {
        "after": after,
        "brands": list(brands) if brands else None,
        "categories": list(categories) if categories else None,
        "min_price": min_price,
        "max_price": max_price,
    }
    extra = [_IN_STOCK[is_in_stock]] if is_in_stock is not None else []
    return _page(store, "Product", "p", _PRODUCT_FILTERS, params, extra, limit)


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
    params = {"after": after, "country": country, "segment": segment, "is_anonymous": is_anonymous}
    return _page(store, "Customer", "c", _CUSTOMER_FILTERS, params, limit=limit)


__all__ = ["CATEGORY_EDGES", "category_descendants", "customer_page", "product_page"]
