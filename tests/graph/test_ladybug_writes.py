"""The embedded store's small-write path: key-indexed plans, a flat buffer pool, and the
event-id tables that stand in for an index on ``event_id``."""

from __future__ import annotations

import gc
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from pricegraph.errors import ConflictError
from pricegraph.graph import GraphConfig, UpsertResult, make_graph_store
from pricegraph.graph._ladybug_cypher import event_key_table
from pricegraph.graph.ladybug_store import SMALL_WRITE_ROWS, EmbeddedGraph
from pricegraph.graph.schema import RELS

_MB = 1 << 20


def _open(path: Path) -> EmbeddedGraph:
    store = make_graph_store(GraphConfig(path=path, buffer_pool_mb=128))
    assert isinstance(store, EmbeddedGraph)
    return store


@pytest.fixture
def graph(tmp_path: Path) -> Iterator[EmbeddedGraph]:
    """An embedded store with 400 customers, 200 products, 4,000 purchases, brands and a
    segment: big enough that LadybugDB plans as it does on real data."""
    store = _open(tmp_path / "graph")
    customers = [f"c{i}" for i in range(1, 401)]
    products = [f"p{i}" for i in range(1, 201)]
    store.upsert_nodes("Customer", pd.DataFrame({"id": customers}))
    store.upsert_nodes("Product", pd.DataFrame({"id": products, "name": "Tote"}))
    store.upsert_nodes("Brand", pd.DataFrame({"id": ["b1", "b2"], "name": ["Verne", "Aldo"]}))
    store.upsert_nodes("Segment", pd.DataFrame({"id": ["s1"], "name": ["VIC"]}))
    store.upsert_edges("OF_BRAND", pd.DataFrame({"source": products, "target": "b1"}))
    store.upsert_edges("IN_SEGMENT", pd.DataFrame({"source": customers, "target": "s1"}))
    purchases = pd.concat(
        [_purchase(f"h{i}", customers[1 + i % 399], products[i % 200]) for i in range(4000)]
    )
    store.upsert_edges("PURCHASED", pd.concat([_purchase("e1", "c1", "p1"), purchases]))
    yield store
    store.close()


def _purchase(event_id: str, customer: str, product: str, qty: int = 1) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source": [customer],
            "target": [product],
            "event_id": [event_id],
            "order_id": ["o1"],
            "qty": [qty],
            "unit_price": [900.0],
            "currency": ["EUR"],
            "ts": ["2025-01-02T10:00:00"],
        }
    )


def _capture(store: EmbeddedGraph, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """Record every statement the store runs from now on."""
    seen: list[tuple[str, Any]] = []
    execute = store._execute

    def recording(query: str, params: dict[str, Any] | None = None) -> Any:
        seen.append((query, params))
        return execute(query, params)

    monkeypatch.setattr(store, "_execute", recording)
    return seen


def _operators(store: EmbeddedGraph, query: str, params: Any) -> list[str]:
    plan = store._conn.execute("EXPLAIN " + query, params or {}).get_all()[0][0]
    return re.findall(r"([A-Z_]+)\[\d+\]", plan)


def test_small_writes_use_keys_never_whole_tables(
    graph: EmbeddedGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = _capture(graph, monkeypatch)
    graph.upsert_nodes("Product", pd.DataFrame({"id": ["p3", "p1"], "name": ["Scarf", "Tote 2"]}))
    graph.upsert_edges("OF_BRAND", pd.DataFrame({"source": ["p1", "p3"], "target": ["b2", "b1"]}))
    graph.upsert_edges(
        "IN_SEGMENT", pd.DataFrame({"source": ["c1"], "target": ["s1"], "score": [0.4]})
    )
    graph.upsert_edges(
        "IN_SEGMENT", pd.DataFrame({"source": ["c1"], "target": ["s1"], "score": [0.9]})
    )
    graph.upsert_edges("PURCHASED", _purchase("e1", "c1", "p1"))  # re-sent
    graph.upsert_edges("PURCHASED", _purchase("e2", "c2", "p1"))
    statements = [(q, p) for q, p in seen if q not in ("BEGIN TRANSACTION", "COMMIT")]
    assert statements and not any(q.startswith(("COPY", "LOAD")) for q, _ in statements)
    for query, params in statements:
        # Every node comes from a primary-key scan or look-up, never from a scan of its
        # whole table; relationship scans extend from such nodes (their adjacency only).
        assert "SCAN_NODE_TABLE" not in _operators(graph, query, params), query
    assert [n.id for n in graph.neighbors("Product", "p1", rel_type="OF_BRAND")] == ["b2"]


def test_larger_writes_are_copied(graph: EmbeddedGraph, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _capture(graph, monkeypatch)
    keys = [f"k{i}" for i in range(SMALL_WRITE_ROWS + 1)]
    assert graph.upsert_nodes("Brand", pd.DataFrame({"id": keys})) == UpsertResult(len(keys))
    assert any(q.startswith("COPY Brand") for q, _ in seen)


def test_small_writes_leave_the_buffer_pool_flat(tmp_path: Path) -> None:
    def write(store: EmbeddedGraph, count: int, prefix: str) -> int:
        before = store.buffer_pool_bytes()
        for i in range(count):
            key = f"{prefix}{i}"
            price = pd.DataFrame({"id": [key], "product_id": ["p1"], "price": [1.0 + i]})
            with store.transaction():
                store.upsert_nodes("PricePoint", price)
                store.upsert_edges("HAS_PRICE", pd.DataFrame({"source": ["p1"], "target": [key]}))
        return store.buffer_pool_bytes() - before

    store = _open(tmp_path / "graph")
    try:
        store.upsert_nodes("Product", pd.DataFrame({"id": ["p1"], "name": ["Tote"]}))
        write(store, 20, "warm-")
        assert write(store, 300, "small-") < 4 * _MB
        store.small_write_rows = 0  # the COPY path, for scale: megabytes per write
        assert write(store, 10, "copy-") > 10 * _MB
    finally:
        store.close()


def test_event_ids_of_an_older_database_are_indexed_on_open(tmp_path: Path) -> None:
    store = _open(tmp_path / "graph")
    store.upsert_nodes("Customer", pd.DataFrame({"id": ["c1", "c2"]}))
    store.upsert_nodes("Product", pd.DataFrame({"id": ["p1"]}))
    store.upsert_edges("PURCHASED", _purchase("e1", "c1", "p1"))
    store._execute(f"MATCH (k:{event_key_table(RELS['PURCHASED'])}) DELETE k")  # as before
    store.close()
    store = _open(tmp_path / "graph")
    try:
        assert store.upsert_edges("PURCHASED", _purchase("e1", "c1", "p1")) == UpsertResult(
            unchanged=1
        )
        with pytest.raises(ConflictError, match="customer: stored 'c1', sent 'c2'"):
            store.upsert_edges("PURCHASED", _purchase("e1", "c2", "p1"))
    finally:
        store.close()


@pytest.mark.parametrize("small_write_rows", [SMALL_WRITE_ROWS, 0])
def test_deleted_and_cleared_events_can_be_recorded_again(
    graph: EmbeddedGraph, small_write_rows: int
) -> None:
    graph.small_write_rows = small_write_rows
    pair = pd.DataFrame({"source": ["c1"], "target": ["p1"]})
    assert graph.delete_edges("PURCHASED", pair) == 1
    moved = _purchase("e1", "c2", "p1", qty=3)  # no longer a clash: e1 is gone
    assert graph.upsert_edges("PURCHASED", moved) == UpsertResult(created=1)
    graph.clear()
    graph.upsert_nodes("Customer", pd.DataFrame({"id": ["c1"]}))
    graph.upsert_nodes("Product", pd.DataFrame({"id": ["p1"]}))
    assert graph.upsert_edges("PURCHASED", _purchase("e1", "c1", "p1")) == UpsertResult(created=1)


def test_a_query_result_whose_construction_was_interrupted_is_collected_quietly(
    tmp_path: Path,
) -> None:
    """A Ctrl-C inside ladybug's ``QueryResult.__init__`` (before ``is_closed``) or
    ``PreparedStatement.__init__`` (before ``_prepared_statement``) left an instance
    whose ``__del__`` printed a traceback at exit (an interrupted ``pricegraph load``);
    the store makes closing it a no-op, and a result built whole still closes."""
    import ladybug

    store = _open(tmp_path / "graph")
    try:
        unraisable: list[Any] = []
        hook, sys.unraisablehook = sys.unraisablehook, unraisable.append
        try:
            half = ladybug.QueryResult.__new__(ladybug.QueryResult)
            half.connection = store._conn  # __init__ stopped here
            statement = ladybug.PreparedStatement.__new__(ladybug.PreparedStatement)
            del half, statement  # PreparedStatement.__init__ stopped before its first line
            gc.collect()
        finally:
            sys.unraisablehook = hook
        assert unraisable == []

        result = store._conn.execute("RETURN 1")
        assert result.is_closed is False
        result.close()
        assert result.is_closed is True
    finally:
        store.close()
