"""Customer events (purchase, return, view, cart): ``record_events`` writes them as
edges, and two named reads find stored ones, by event id and by customer and product.

The reads are plain openCypher that LadybugDB and Neo4j 5 both accept, run through
:meth:`~pricegraph.graph.base.GraphStore.read_cypher`: inside
:meth:`~pricegraph.graph.base.GraphStore.transaction` they see the writes made
before them. Values go in parameters, never into the Cypher.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ..errors import GraphStoreError
from .base import GraphStore, UpsertResult
from .schema import EVENT_RELS, RelSpec, rel_spec

EVENT_COLUMNS = ("event_id", "event_type", "customer_id", "product_id", "ts")
"""Columns every event frame needs; ``order_id, qty, unit_price, currency`` are used
where the event's relationship has them."""


def record_events(store: GraphStore, events: pd.DataFrame) -> UpsertResult:
    """Write events as ``PURCHASED``/``RETURNED``/``VIEWED``/``ADDED_TO_CART`` edges.

    Idempotent by ``event_id``: an event already recorded is reported unchanged.

    Args:
        store: The graph store.
        events: One row per event with :data:`EVENT_COLUMNS` and, for purchases
            and returns, ``order_id``, ``qty``, ``unit_price`` and ``currency``.

    Raises:
        GraphStoreError: A column is missing, an ``event_type`` is unknown, or a
            customer or product does not exist (nothing of that type is written).
    """
    missing = [c for c in EVENT_COLUMNS if c not in events.columns]
    if missing:
        raise GraphStoreError(f"events: missing columns {missing}")
    unknown = sorted(set(events["event_type"].dropna()) - set(EVENT_RELS))
    if unknown or events["event_type"].isna().any():
        raise GraphStoreError(f"events: unknown event_type {unknown}; known: {list(EVENT_RELS)}")
    total = UpsertResult()
    for event_type, rel_type in EVENT_RELS.items():
        rows = events[events["event_type"] == event_type]
        if rows.empty:
            continue
        props = [p for p in rel_spec(rel_type).properties if p in rows.columns]
        frame = rows[props].assign(source=rows["customer_id"], target=rows["product_id"])
        total += store.upsert_edges(rel_type, frame)
    return total


_STORED_BY_ID = (
    "MATCH (c:Customer)-[r:{rel}]->(p:Product) WHERE r.event_id IN $ids "
    "RETURN c.id AS source, p.id AS target, {props}"
)
_STORED_BY_PAIR = (
    "MATCH (c:Customer)-[r:{rel}]->(p:Product) WHERE c.id IN $customers "
    "AND p.id IN $products RETURN c.id AS source, p.id AS target, {props}"
)


def events_by_id(store: GraphStore, rel_type: str, event_ids: Sequence[str]) -> pd.DataFrame:
    """The stored ``rel_type`` events whose ``event_id`` is one of ``event_ids``.

    Args:
        store: The graph store.
        rel_type: An event relationship (a value of :data:`EVENT_RELS`).
        event_ids: The event ids to look up (ids not stored are skipped).

    Returns:
        One row per stored event, in no particular order: ``source`` (customer key),
        ``target`` (product key) and the relationship's properties as stored.
        Empty, with those columns, when none is stored.

    Raises:
        GraphStoreError: ``rel_type`` is not an event relationship, or the read fails.
    """
    spec = _event_spec(rel_type)
    query = _STORED_BY_ID.format(rel=spec.type, props=_returns(spec))
    return _frame(spec, store.read_cypher(query, {"ids": [str(k) for k in event_ids]}))


def events_between(
    store: GraphStore,
    rel_type: str,
    customer_ids: Sequence[str],
    product_ids: Sequence[str],
) -> pd.DataFrame:
    """The stored ``rel_type`` events from any of ``customer_ids`` to any of ``product_ids``.

    Every event of the cross product is returned; a caller that wants given
    ``(customer, product)`` pairs filters the result.

    Args:
        store: The graph store.
        rel_type: An event relationship (a value of :data:`EVENT_RELS`).
        customer_ids: Customer keys.
        product_ids: Product keys.

    Returns:
        As :func:`events_by_id`.

    Raises:
        GraphStoreError: ``rel_type`` is not an event relationship, or the read fails.
    """
    spec = _event_spec(rel_type)
    query = _STORED_BY_PAIR.format(rel=spec.type, props=_returns(spec))
    params = {
        "customers": [str(k) for k in customer_ids],
        "products": [str(k) for k in product_ids],
    }
    return _frame(spec, store.read_cypher(query, params))


def _event_spec(rel_type: str) -> RelSpec:
    if rel_type not in EVENT_RELS.values():
        raise GraphStoreError(
            f"events: expected an event relationship {list(EVENT_RELS.values())}, got {rel_type!r}"
        )
    return rel_spec(rel_type)


def _returns(spec: RelSpec) -> str:
    return ", ".join(f"r.{name} AS {name}" for name in spec.properties)


def _frame(spec: RelSpec, frame: pd.DataFrame) -> pd.DataFrame:
    columns = ["source", "target", *spec.properties]
    if frame.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    return frame.reset_index(drop=True)


__all__ = ["EVENT_COLUMNS", "events_between", "events_by_id", "record_events"]
