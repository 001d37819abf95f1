"""Write validated canonical rows into the graph: nodes first, then their edges, each
chunk's nodes and edges in one store transaction."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from ..graph.base import GraphStore, UpsertResult
from ..graph.events import record_events

_NODE_COLUMNS: dict[str, tuple[str, str, dict[str, str]]] = {
    # kind: (label, key column, canonical column -> property)
    "brands": ("Brand", "brand_id", {"name": "name", "tier": "tier", "description": "description"}),
    "categories": ("Category", "category_id", {"name": "name"}),
    "competitors": ("Competitor", "competitor_id", {"name": "name"}),
    "products": (
        "Product",
        "product_id",
        {
            c: c
            for c in (
                "name",
                "description",
                "attributes",
                "cost",
                "list_price",
                "max_price",
                "currency",
                "stock_units",
            )
        },
    ),
    "customers": (
        "Customer",
        "customer_id",
        {c: c for c in ("country", "signup_ts", "is_anonymous", "profile_text")},
    ),
    "prices": (
        "PricePoint",
        "price_point_id",
        {
            c: c
            for c in (
                "product_id",
                "price",
                "currency",
                "kind",
                "valid_from",
                "valid_to",
                "source",
                "competitor_id",
            )
        },
    ),
}
_NODE_COLUMNS["competitor_prices"] = _NODE_COLUMNS["prices"]

_EDGES: dict[str, list[tuple[str, str, str]]] = {
    # kind: [(relationship, source column, target column)]
    "categories": [("CHILD_OF", "category_id", "parent_id")],
    "products": [
        ("OF_BRAND", "product_id", "brand_id"),
        ("IN_CATEGORY", "product_id", "category_id"),
    ],
    "prices": [
        ("HAS_PRICE", "product_id", "price_point_id"),
        ("OFFERED_BY", "price_point_id", "competitor_id"),
    ],
}
_EDGES["competitor_prices"] = _EDGES["prices"]

NODE_LABEL = {kind: spec[0] for kind, spec in _NODE_COLUMNS.items()}
"""The node label each kind writes (events write edges only)."""


def write_rows(
    store: GraphStore,
    kind: str,
    rows: pd.DataFrame,
    present: set[str],
    *,
    chunk_rows: int = 1_000_000,
    on_chunk: Callable[[int], None] | None = None,
) -> UpsertResult:
    """Upsert validated rows of ``kind`` chunk by chunk.

    Each chunk's nodes and edges are written in one transaction
    (:meth:`~pricegraph.graph.base.GraphStore.transaction`) before the next chunk
    starts, so a load stopped or failing half-way leaves whole chunks (never a node
    without the edges of its row), and running it again completes it with exactly the
    result of one clean run.

    Args:
        store: The graph store.
        kind: The kind of the rows.
        rows: Canonical, validated rows.
        present: Canonical columns the file provided (absent ones keep stored values).
        chunk_rows: Rows per chunk, i.e. per transaction (on Neo4j one server
            transaction: keep it to what the server's transaction memory takes).
        on_chunk: Called with the number of rows after each chunk (progress).

    Returns:
        The summed result of the upserts of the kind's main element (nodes, or
        event edges for ``events``).
    """
    total = UpsertResult()
    for start in range(0, len(rows), chunk_rows):
        chunk = rows.iloc[start : start + chunk_rows]
        with store.transaction():
            total += _write_chunk(store, kind, chunk, present)
        if on_chunk is not None:
            on_chunk(len(chunk))
    return total


def _write_chunk(
    store: GraphStore, kind: str, chunk: pd.DataFrame, present: set[str]
) -> UpsertResult:
    if kind == "events":
        return record_events(store, chunk)
    label, key, props = _NODE_COLUMNS[kind]
    columns = {key: "id", **{c: p for c, p in props.items() if c in present}}
    nodes = chunk[list(columns)].rename(columns=columns)
    result = store.upsert_nodes(label, nodes)
    for rel_type, source, target in _EDGES.get(kind, []):
        if target not in present:
            continue
        edges = chunk[[source, target]].dropna()
        if len(edges):
            store.upsert_edges(rel_type, edges.set_axis(["source", "target"], axis=1))
    return result


__all__ = ["NODE_LABEL", "write_rows"]
