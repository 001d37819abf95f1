"""``record_events``: customer events (purchase, return, view, cart) into their edges."""

from __future__ import annotations

import pandas as pd

from ..errors import GraphStoreError
from .base import GraphStore, UpsertResult
from .schema import EVENT_RELS, rel_spec

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


__all__ = ["EVENT_COLUMNS", "record_events"]
