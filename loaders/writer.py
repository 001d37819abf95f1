"""Write validated canonical rows into the graph: nodes first, then their edges, each
chunk's nodes and edges in one store transaction.

A file re-loaded with corrected event values (an event id already stored, sent with
another quantity, price, currency or time) updates those events in place and counts
them as updated: a user correcting a file expects the correction, not a refusal. The
store itself records an event once and refuses a changed payload
(:class:`~pricegraph.errors.ConflictError`, as the API does); the loader asks it only
on such a conflict, then deletes the stored edges of the corrected events' customer
and product pairs, restores those pairs' other events as they were, and writes the
chunk, all in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from ..errors import ConflictError
from ..graph._frames import changed_rows, typed_frame
from ..graph.base import GraphStore, UpsertResult
from ..graph.events import events_between, events_by_id, record_events
from ..graph.schema import EVENT_RELS, PropType, rel_spec

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
        {c: c for c in ("country", "signup_ts", "is_anonymous", "profile_text", "attributes")},
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


class LoadInterrupted(KeyboardInterrupt):
    """An interrupt (Ctrl-C) stopped :func:`write_rows`: the chunks before the one in
    flight are stored, the chunk in flight was rolled back (or, when the interrupt
    came during its commit, stored whole), and running the same load again completes it.

    Attributes:
        kind: The kind being written.
        rows_stored: Rows of ``kind`` in the chunks known to be committed (an
            interrupt during a commit leaves that chunk stored but uncounted).
        rows_total: Rows of ``kind`` to write.
        chunk_rows: Rows per chunk (per transaction).
    """

    def __init__(self, kind: str, rows_stored: int, rows_total: int, chunk_rows: int) -> None:
        super().__init__(
            f"{kind}: {rows_stored:,} of {rows_total:,} rows stored in chunks of "
            f"{chunk_rows:,}; the chunk in flight is stored whole or not at all"
        )
        self.kind, self.rows_stored = kind, rows_stored
        self.rows_total, self.chunk_rows = rows_total, chunk_rows


def write_rows(
    store: GraphStore,
    kind: str,
    rows: pd.DataFrame,
    present: set[str],
    *,
    chunk_rows: int = 1_000_000,
    on_chunk: Callable[[int], None] | None = None,
    is_correcting_events: bool = False,
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
        is_correcting_events: Update stored events sent again with other values (file
            re-loads, see the module docstring) instead of refusing them.

    Returns:
        The summed result of the upserts of the kind's main element (nodes, or
        event edges for ``events``).

    Raises:
        ConflictError: An event id is stored with other values and
            ``is_correcting_events`` is false (nothing of that chunk is stored).
        LoadInterrupted: A ``KeyboardInterrupt`` (Ctrl-C) arrived; it says how many
            rows the committed chunks hold (the chunk in flight was rolled back).
    """
    total = UpsertResult()
    stored = 0
    try:
        for start in range(0, len(rows), chunk_rows):
            chunk = rows.iloc[start : start + chunk_rows]
            try:
                with store.transaction():
                    total += _write_chunk(store, kind, chunk, present)
            except ConflictError:
                if kind != "events" or not is_correcting_events:
                    raise
                total += _rewrite_corrected_events(store, chunk)
            stored += len(chunk)
            if on_chunk is not None:
                on_chunk(len(chunk))
    except KeyboardInterrupt as exc:
        if isinstance(exc, LoadInterrupted):
            raise
        raise LoadInterrupted(kind, stored, len(rows), chunk_rows) from exc
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


def _rewrite_corrected_events(store: GraphStore, chunk: pd.DataFrame) -> UpsertResult:
    """Write an events chunk some of whose ids are stored with other values.

    In one transaction (its reads see only committed data and its own writes): the
    corrected events' ``(customer, product)`` pairs are deleted and their other
    stored events written back unchanged, then the chunk is written. The corrected
    events count as updated, the others as the store reports them.
    """
    corrected = 0
    with store.transaction():
        restore = []
        for event_type, rel_type in EVENT_RELS.items():
            rows = chunk[chunk["event_type"] == event_type]
            if len(rows):
                found = _corrected(store, rel_type, rows)
                if found is not None:
                    restore.append(found)
                    corrected += found[3]
        for rel_type, pairs, kept, _ in restore:
            store.delete_edges(rel_type, pairs)
            if len(kept):
                store.upsert_edges(rel_type, kept)
        result = record_events(store, chunk)
    return UpsertResult(result.created - corrected, result.updated + corrected, result.unchanged)


def _corrected(
    store: GraphStore, rel_type: str, rows: pd.DataFrame
) -> tuple[str, pd.DataFrame, pd.DataFrame, int] | None:
    """``(rel_type, pairs to delete, their events to restore, corrected count)`` of the
    events in ``rows`` stored with other values; ``None`` when there are none."""
    spec = rel_spec(rel_type)
    props = {"source": PropType.STRING, "target": PropType.STRING, **spec.properties}
    stored = events_by_id(store, rel_type, [str(k) for k in rows["event_id"]])
    if stored.empty:
        return None
    columns = [c for c in ["source", "target", *spec.properties] if c in stored.columns]
    incoming = rows.assign(source=rows["customer_id"], target=rows["product_id"])
    incoming = incoming[[c for c in columns if c in incoming.columns]]
    changed = changed_rows(
        typed_frame(props, incoming, what=rel_type),
        typed_frame(props, stored[columns], what=rel_type),
        "event_id",
    )
    ids = set(changed["event_id"])
    if not ids:
        return None
    pairs = stored.loc[stored["event_id"].isin(ids), ["source", "target"]].drop_duplicates()
    around = events_between(
        store, rel_type, sorted(set(pairs["source"])), sorted(set(pairs["target"]))
    )
    keys = set(pairs["source"] + "\x1f" + pairs["target"])
    in_pair = (around["source"] + "\x1f" + around["target"]).isin(keys)
    kept = around[in_pair & ~around["event_id"].isin(ids)]
    return rel_type, pairs, kept, len(ids)


__all__ = ["NODE_LABEL", "LoadInterrupted", "write_rows"]
