"""The embedded store under threads: reads on their own connections beside one writer,
never a torn transaction, nothing lost, and writes from several threads serialised."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from pricegraph.graph import GraphConfig, make_graph_store
from pricegraph.graph.base import READ_METHODS, GraphStore, concurrent_readers
from pricegraph.graph.ladybug_store import EmbeddedGraph

PAIRS = (
    "MATCH (pp:PricePoint) OPTIONAL MATCH (:Product)-[h:HAS_PRICE]->(pp) "
    "RETURN count(DISTINCT pp) AS points, count(h) AS edges"
)
"""One statement, so one snapshot: price points and their ``HAS_PRICE`` edges."""


@pytest.fixture
def graph(tmp_path: Path) -> Iterator[EmbeddedGraph]:
    """An embedded store with 50 products."""
    store = make_graph_store(GraphConfig(path=tmp_path / "graph", buffer_pool_mb=128))
    assert isinstance(store, EmbeddedGraph)
    products = [f"p{i}" for i in range(50)]
    store.upsert_nodes("Product", pd.DataFrame({"id": products, "name": "Tote"}))
    yield store
    store.close()


def _write_price(store: GraphStore, i: int) -> None:
    """Price point ``pp{i}`` of product ``p{i % 50}`` with its edge, in one transaction."""
    point = {
        "id": f"pp{i}",
        "product_id": f"p{i % 50}",
        "price": 10.0 + i,
        "kind": "list",
        "valid_from": pd.Timestamp("2025-01-01") + pd.Timedelta(days=i),
    }
    with store.transaction():
        store.upsert_nodes("PricePoint", pd.DataFrame([point]))
        store.upsert_edges(
            "HAS_PRICE", pd.DataFrame({"source": [point["product_id"]], "target": [point["id"]]})
        )


def test_declares_concurrent_readers(graph: EmbeddedGraph) -> None:
    assert concurrent_readers(graph) >= 2
    assert concurrent_readers(object()) == 0  # a store that declares nothing: one thread
    assert {"get_nodes", "read_cypher", "price_history"} <= READ_METHODS
    assert not {"upsert_nodes", "upsert_edges", "delete_edges", "clear"} & READ_METHODS


def test_reads_during_writes_see_whole_transactions(graph: EmbeddedGraph) -> None:
    writes, readers = 120, 4
    failures: list[BaseException] = []
    seen: list[list[int]] = [[] for _ in range(readers)]
    is_done = threading.Event()

    def write() -> None:
        try:
            for i in range(writes):
                _write_price(graph, i)
        except BaseException as exc:
            failures.append(exc)
        finally:
            is_done.set()

    def read(slot: int) -> None:
        try:
            while not is_done.is_set():
                row = graph.read_cypher(PAIRS).iloc[0]
                assert row["points"] == row["edges"], "a node without its edge was visible"
                seen[slot].append(int(row["points"]))
                nodes = graph.get_nodes("Product", ["p1", "p2", "missing"])
                assert [n["id"] if n else None for n in nodes] == ["p1", "p2", None]
                history = graph.price_history("p1")
                assert list(history["price"]) == sorted(history["price"])
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=write)]
    threads += [threading.Thread(target=read, args=(slot,)) for slot in range(readers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not failures, failures[:3]
    assert all(counts == sorted(counts) for counts in seen)  # committed writes stay
    assert sum(len(counts) for counts in seen) > 0
    final = graph.read_cypher(PAIRS).iloc[0]
    assert (final["points"], final["edges"]) == (writes, writes)
    assert len(graph.price_history("p1")) == len(range(1, writes, 50))


def test_uncommitted_writes_are_seen_inside_only(graph: EmbeddedGraph) -> None:
    outside: list[object] = []

    def read_elsewhere() -> None:
        outside.append(graph.get_node("Product", "new"))

    with graph.transaction():
        graph.upsert_nodes("Product", pd.DataFrame({"id": ["new"], "name": ["Scarf"]}))
        assert (graph.get_node("Product", "new") or {})["name"] == "Scarf"  # seen inside
        thread = threading.Thread(target=read_elsewhere)
        thread.start()
        thread.join(30)
    assert outside == [None]  # another thread's read did not wait and saw no half
    assert (graph.get_node("Product", "new") or {})["name"] == "Scarf"


def test_writes_from_several_threads_are_serialised(graph: EmbeddedGraph) -> None:
    failures: list[BaseException] = []

    def write(start: int) -> None:
        try:
            for i in range(start, 200, 4):
                _write_price(graph, i)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(start,)) for start in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not failures, failures[:3]
    final = graph.read_cypher(PAIRS).iloc[0]
    assert (final["points"], final["edges"]) == (200, 200)


def test_closes_the_read_connections_of_every_thread(tmp_path: Path) -> None:
    store = make_graph_store(GraphConfig(path=tmp_path / "graph", buffer_pool_mb=128))
    threads = [threading.Thread(target=store.counts) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    store.close()
    reopened = make_graph_store(GraphConfig(path=tmp_path / "graph", buffer_pool_mb=128))
    assert reopened.counts()["Product"] == 0
    reopened.close()
