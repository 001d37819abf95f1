"""Keyset pages and edge lookups: the named reads the API lists and links nodes with.

Plain openCypher that LadybugDB and Neo4j 5 both accept, run by a backend's ``run``
(see :mod:`pricegraph.graph.queries`) through
:class:`~pricegraph.graph._shared_reads.SharedReads`.

A page is the first ``limit`` nodes of a label ordered by key after the key ``after``
(keyset pagination: a page costs ``limit`` rows however deep it is), with every
property of :mod:`pricegraph.graph.schema`. Filters are fixed fragments with
parameters, joined with ``AND``: no value is ever pasted into Cypher.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from .queries import Run
from .schema import node_spec, rel_spec

CATEGORY_EDGES = "MATCH (c:Category)-[:CHILD_OF]->(p:Category) RETURN c.id AS child, p.id AS parent"

SEGMENT_SIZE = "MATCH (c:Customer)-[:IN_SEGMENT]->(s:Segment {id: $segment}) RETURN count(c) AS n"

BUSIEST_CUSTOMER = (
    "MATCH (c:Customer)-[:PURCHASED]->(:Product) "
    "RETURN c.id AS customer, count(*) AS n ORDER BY n DESC, customer LIMIT 1"
)
FIRST_UNBOUGHT_PRODUCT = (
    "MATCH (p:Product) WHERE NOT EXISTS { MATCH (:Customer {id: $customer})-[:PURCHASED]->(p) } "
    "RETURN p.id AS product ORDER BY product LIMIT 1"
)

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

TARGET_COLUMNS = ["source", "target", "score"]


def _page(
    run: Run,
    label: str,
    var: str,
    fragments: dict[str, str],
    params: dict[str, Any],
    extra: Sequence[str] = (),
    limit: int = 20,
) -> pd.DataFrame:
    columns = node_spec(label).columns
    given = {k: v for k, v in params.items() if v is not None}
    where = [fragments[k] for k in given] + list(extra)
    clause = f"WHERE {' AND '.join(where)} " if where else ""
    returns = ", ".join(f"{var}.{c} AS {c}" for c in columns)
    query = f"MATCH ({var}:{label}) {clause}RETURN {returns} ORDER BY id LIMIT $limit"
    frame = run(query, {**given, "limit": int(limit)})
    if frame.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    return frame[columns].reset_index(drop=True)


def subcategories(run: Run, category_ids: Sequence[str]) -> list[str]:
    """See :meth:`GraphStore.subcategories`: one read of the tree, walked here."""
    edges = run(CATEGORY_EDGES, {})
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
    run: Run,
    *,
    after: str | None,
    limit: int,
    brands: Sequence[str] | None,
    categories: Sequence[str] | None,
    min_price: float | None,
    max_price: float | None,
    in_stock: bool | None,
) -> pd.DataFrame:
    """See :meth:`GraphStore.product_page`."""
    if categories:
        categories = subcategories(run, categories)
    params = {
        "after": after,
        "brands": list(brands) if brands else None,
        "categories": list(categories) if categories else None,
        "min_price": min_price,
        "max_price": max_price,
    }
    extra = [_IN_STOCK[in_stock]] if in_stock is not None else []
    return _page(run, "Product", "p", _PRODUCT_FILTERS, params, extra, limit)


def customer_page(
    run: Run,
    *,
    after: str | None,
    limit: int,
    country: str | None,
    segment: str | None,
    is_anonymous: bool | None,
) -> pd.DataFrame:
    """See :meth:`GraphStore.customer_page`."""
    params = {"after": after, "country": country, "segment": segment, "is_anonymous": is_anonymous}
    return _page(run, "Customer", "c", _CUSTOMER_FILTERS, params, limit=limit)


def edge_targets(run: Run, rel_type: str, keys: Sequence[str]) -> pd.DataFrame:
    """See :meth:`GraphStore.edge_targets`."""
    spec = rel_spec(rel_type)
    score = "r.score" if "score" in spec.properties else "0.0"
    query = (
        f"MATCH (s:{spec.source})-[r:{spec.type}]->(t:{spec.target}) WHERE s.id IN $keys "
        f"RETURN s.id AS source, t.id AS target, {score} AS score"
    )
    frame = run(query, {"keys": [str(k) for k in keys]})
    if frame.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in TARGET_COLUMNS})
    return frame[TARGET_COLUMNS].reset_index(drop=True)


def segment_size(run: Run, segment_id: str) -> int:
    """See :meth:`GraphStore.segment_size`."""
    frame = run(SEGMENT_SIZE, {"segment": segment_id})
    return int(frame.iloc[0, 0]) if len(frame) else 0


def example_pair(run: Run) -> tuple[str | None, str | None]:
    """See :meth:`GraphStore.example_pair`."""
    customers = run(BUSIEST_CUSTOMER, {})
    if customers.empty:
        return None, None
    customer = str(customers["customer"].iloc[0])
    products = run(FIRST_UNBOUGHT_PRODUCT, {"customer": customer})
    return customer, (str(products["product"].iloc[0]) if len(products) else None)


__all__ = [
    "BUSIEST_CUSTOMER",
    "CATEGORY_EDGES",
    "FIRST_UNBOUGHT_PRODUCT",
    "SEGMENT_SIZE",
    "customer_page",
    "edge_targets",
    "example_pair",
    "product_page",
    "segment_size",
    "subcategories",
]
