"""Export of a hand-made graph to HeteroData: shapes, dtypes, counts, times, text."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from pricegraph.gnn.data import EDGE_RELS, EVENT_EDGE_TYPES, export_hetero
from pricegraph.graph import GraphConfig, GraphStore, make_graph_store

T0 = datetime(2025, 1, 1)


def _events(rows: list[tuple[str, str, str, int]], *, with_order: bool) -> pd.DataFrame:
    """(event_id, customer, product, day) rows -> an event edge frame."""
    frame = pd.DataFrame(rows, columns=["event_id", "source", "target", "day"])
    frame["ts"] = [T0 + pd.Timedelta(days=d) for d in frame.pop("day")]
    if with_order:
        frame["order_id"] = "O" + frame["event_id"]
        frame["qty"], frame["unit_price"], frame["currency"] = 1, 10.0, "EUR"
    return frame


@pytest.fixture
def graph(tmp_path: Path) -> Iterator[GraphStore]:
    """3 customers (one guest), 3 products (2 brands, 2 categories), a few events."""
    store = make_graph_store(GraphConfig(path=tmp_path / "graph", buffer_pool_mb=128))
    store.upsert_nodes("Brand", pd.DataFrame({"id": ["b1", "b2"], "name": ["B1", "B2"]}))
    store.upsert_nodes("Category", pd.DataFrame({"id": ["root", "bags"], "name": ["R", "Bags"]}))
    store.upsert_nodes("Product", pd.DataFrame({"id": ["p1", "p2", "p3"], "name": ["a", "b", "c"]}))
    store.upsert_nodes(
        "Customer", pd.DataFrame({"id": ["c1", "c2", "g1"], "is_anonymous": [False, False, True]})
    )
    store.upsert_edges(
        "OF_BRAND", pd.DataFrame({"source": ["p1", "p2", "p3"], "target": ["b1", "b1", "b2"]})
    )
    store.upsert_edges(
        "IN_CATEGORY", pd.DataFrame({"source": ["p1", "p2", "p3"], "target": ["bags"] * 3})
    )
    store.upsert_edges("CHILD_OF", pd.DataFrame({"source": ["bags"], "target": ["root"]}))
    purchases = [("e1", "c1", "p1", 0), ("e2", "c1", "p2", 3), ("e3", "g1", "p3", 10)]
    store.upsert_edges("PURCHASED", _events(purchases, with_order=True))
    store.upsert_edges("VIEWED", _events([("v1", "c2", "p1", 1)], with_order=False))
    carts = _events([("k1", "c2", "p2", 2)], with_order=False).assign(qty=1)
    store.upsert_edges("ADDED_TO_CART", carts)
    yield store
    store.close()


def test_export_counts_shapes_and_dtypes(graph: GraphStore) -> None:
    snapshot = export_hetero(graph)
    data, counts = snapshot.data, graph.counts()
    assert snapshot.num_customers == 3 and snapshot.num_products == 3
    assert data["brand"].num_nodes == 2 and data["category"].num_nodes == 2
    for (src, name, dst), rel in EDGE_RELS.items():
        edge_index = data[src, name, dst].edge_index
        assert edge_index.dtype == torch.int64
        assert edge_index.shape == (2, counts[rel])
        assert torch.equal(data[dst, f"rev_{name}", src].edge_index, edge_index.flip(0))
    for edge_type in EVENT_EDGE_TYPES:
        assert data[edge_type].time.dtype == torch.int64
    assert list(snapshot.node_ids["customer"]) == ["c1", "c2", "g1"]
    assert data["customer"].is_anonymous.tolist() == [False, False, True]
    assert data["product"].x.shape == (3, 384) and data["product"].x.dtype == torch.float32
    assert not data["product"].has_text.any()


def test_edges_map_to_the_right_keys_and_times(graph: GraphStore) -> None:
    snapshot = export_hetero(graph)
    ids = snapshot.node_ids
    edge_index = snapshot.edge_index()
    pairs = {(ids["customer"][c], ids["product"][p]) for c, p in edge_index.T.tolist()}
    assert pairs == {("c1", "p1"), ("c1", "p2"), ("g1", "p3")}
    day_s = 86_400
    t0_s = int(pd.Timestamp(T0).timestamp())
    times = dict(zip(map(tuple, edge_index.T.tolist()), snapshot.edge_time().tolist(), strict=True))
    assert times[(2, 2)] - t0_s == 10 * day_s and times[(0, 1)] - t0_s == 3 * day_s
    child, parent = snapshot.data["category", "child_of", "category"].edge_index[:, 0].tolist()
    assert (ids["category"][child], ids["category"][parent]) == ("bags", "root")


def test_product_features_fill_x_and_mask(graph: GraphStore) -> None:
    vector = np.arange(4, dtype=np.float32)
    snapshot = export_hetero(graph, product_features={"p2": vector, "zz": vector}, feature_dim=4)
    product = snapshot.data["product"]
    assert product.has_text.tolist() == [False, True, False]
    assert torch.equal(product.x[1], torch.from_numpy(vector))
    assert float(product.x[[0, 2]].abs().sum()) == 0.0
    with pytest.raises(ValueError, match="feature_dim=384"):
        export_hetero(graph, product_features={"p1": vector})


def test_snapshot_id_follows_counts_and_recency(graph: GraphStore) -> None:
    first = export_hetero(graph).snapshot_id
    assert export_hetero(graph).snapshot_id == first
    graph.upsert_edges("VIEWED", _events([("v2", "c1", "p3", 30)], with_order=False))
    assert export_hetero(graph).snapshot_id != first
