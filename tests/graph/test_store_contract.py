"""The graph-store contract, run against every backend (see tests/conftest.py)."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from pricegraph.errors import ConflictError, GraphStoreError, ReadOnlyQueryError
from pricegraph.graph import GraphStore, UpsertResult, record_events


def _small_world(store: GraphStore) -> None:
    """Five products of two brands, three customers, two orders and a view."""
    store.upsert_nodes(
        "Brand",
        pd.DataFrame(
            {"id": ["b1", "b2"], "name": ["Verne", "Aldo"], "tier": ["luxury", "premium"]}
        ),
    )
    store.upsert_nodes("Category", pd.DataFrame({"id": ["root", "bags"], "name": ["All", "Bags"]}))
    store.upsert_edges("CHILD_OF", pd.DataFrame({"source": ["bags"], "target": ["root"]}))
    store.upsert_nodes(
        "Product",
        pd.DataFrame(
            {
                "id": [f"p{i}" for i in range(1, 6)],
                "name": ["Tote", "Clutch", "Wallet", "Belt", "Scarf"],
                "list_price": [900.0, 450.0, 300.0, 250.0, 180.0],
                "cost": [300.0, 150.0, 90.0, 80.0, 50.0],
            }
        ),
    )
    store.upsert_edges(
        "OF_BRAND",
        pd.DataFrame(
            {"source": ["p1", "p2", "p3", "p4", "p5"], "target": ["b1", "b1", "b1", "b2", "b2"]}
        ),
    )
    store.upsert_edges(
        "IN_CATEGORY", pd.DataFrame({"source": ["p1", "p2"], "target": ["bags", "bags"]})
    )
    store.upsert_nodes(
        "Customer", pd.DataFrame({"id": ["c1", "c2", "c3"], "country": ["FR", "DE", "IT"]})
    )
    store.upsert_edges(
        "PURCHASED",
        pd.DataFrame(
            {
                "source": ["c1", "c1", "c2", "c2", "c3"],
                "target": ["p1", "p2", "p1", "p2", "p1"],
                "event_id": ["e1", "e2", "e3", "e4", "e5"],
                "order_id": ["o1", "o1", "o2", "o2", "o3"],
                "qty": [1, 1, 2, 1, 1],
                "unit_price": [900.0, 450.0, 810.0, 450.0, 900.0],
                "currency": ["EUR"] * 5,
                "ts": pd.to_datetime(
                    [
                        "2025-01-02 10:00",
                        "2025-01-02 10:00",
                        "2025-02-01 00:00",
                        "2025-02-01 00:00",
                        "2025-03-01 00:00",
                    ]
                ),
            }
        ),
    )
    store.upsert_edges(
        "VIEWED",
        pd.DataFrame(
            {"source": ["c3"], "target": ["p5"], "event_id": ["v1"], "ts": ["2025-03-01T09:00:00Z"]}
        ),
    )


def test_ensure_schema_is_idempotent(store: GraphStore) -> None:
    store.ensure_schema()
    store.ensure_schema()
    assert store.counts()["Product"] == 0


def test_node_upsert_counts_and_merge_semantics(store: GraphStore) -> None:
    frame = pd.DataFrame({"id": ["b1", "b2"], "name": ["A", "B"], "tier": ["luxury", "premium"]})
    assert store.upsert_nodes("Brand", frame) == UpsertResult(created=2)
    assert store.upsert_nodes("Brand", frame) == UpsertResult(unchanged=2)
    # absent columns keep their values; present ones overwrite, null included
    result = store.upsert_nodes("Brand", pd.DataFrame({"id": ["b1", "b2"], "name": ["A", "B2"]}))
    assert result == UpsertResult(updated=1, unchanged=1)
    assert store.get_node("Brand", "b2") == {
        "id": "b2",
        "name": "B2",
        "tier": "premium",
        "description": None,
    }
    store.upsert_nodes("Brand", pd.DataFrame({"id": ["b1"], "tier": [None]}))
    assert store.get_node("Brand", "b1")["tier"] is None
    assert store.counts()["Brand"] == 2


def test_duplicate_keys_in_one_upsert_are_refused(store: GraphStore) -> None:
    with pytest.raises(GraphStoreError, match="duplicate keys"):
        store.upsert_nodes("Brand", pd.DataFrame({"id": ["b1", "b1"], "name": ["A", "B"]}))
    assert store.counts()["Brand"] == 0


def test_unknown_property_is_refused(store: GraphStore) -> None:
    with pytest.raises(GraphStoreError, match="unknown properties"):
        store.upsert_nodes("Brand", pd.DataFrame({"id": ["b1"], "colour": ["red"]}))


def test_get_nodes_aligned_with_keys(store: GraphStore) -> None:
    _small_world(store)
    found = store.get_nodes("Product", ["p3", "nope", "p1"])
    assert [n["name"] if n else None for n in found] == ["Wallet", None, "Tote"]
    assert found[2]["list_price"] == pytest.approx(900.0)
    assert store.get_node("Product", "nope") is None


def test_event_edges_are_idempotent_by_event_id(store: GraphStore) -> None:
    _small_world(store)
    again = pd.DataFrame(
        {
            "source": ["c1"],
            "target": ["p1"],
            "event_id": ["e1"],
            "order_id": ["o1"],
            "qty": [1],
            "unit_price": [900.0],
            "currency": ["EUR"],
            "ts": ["2025-01-02T10:00:00"],
        }
    )
    assert store.upsert_edges("PURCHASED", again) == UpsertResult(unchanged=1)
    assert store.counts()["PURCHASED"] == 5


def test_source_identity_replaces_target(store: GraphStore) -> None:
    _small_world(store)
    result = store.upsert_edges(
        "OF_BRAND", pd.DataFrame({"source": ["p1", "p4"], "target": ["b2", "b2"]})
    )
    assert result == UpsertResult(updated=1, unchanged=1)
    brands = [n.id for n in store.neighbors("Product", "p1", rel_type="OF_BRAND")]
    assert brands == ["b2"]
    assert store.counts()["OF_BRAND"] == 5


def test_endpoint_identity_updates_properties(store: GraphStore) -> None:
    _small_world(store)
    store.upsert_nodes("Segment", pd.DataFrame({"id": ["s1"], "name": ["VIC"]}))
    first = pd.DataFrame({"source": ["c1", "c2"], "target": ["s1", "s1"], "score": [0.9, 0.4]})
    assert store.upsert_edges("IN_SEGMENT", first) == UpsertResult(created=2)
    second = first.assign(score=[0.9, 0.7])
    assert store.upsert_edges("IN_SEGMENT", second) == UpsertResult(updated=1, unchanged=1)
    scores = store.read_cypher(
        "MATCH (c:Customer)-[r:IN_SEGMENT]->(:Segment) RETURN c.id AS id, r.score AS score ORDER BY id"
    )
    assert scores["score"].tolist() == pytest.approx([0.9, 0.7])
    assert store.delete_edges("IN_SEGMENT", pd.DataFrame({"source": ["c1"], "target": ["s1"]})) == 1
    assert store.counts()["IN_SEGMENT"] == 1


def test_missing_endpoints_store_nothing(store: GraphStore) -> None:
    _small_world(store)
    bad = pd.DataFrame(
        {
            "source": ["c1", "ghost"],
            "target": ["p3", "p3"],
            "event_id": ["n1", "n2"],
            "ts": ["2025-04-01"] * 2,
        }
    )
    with pytest.raises(GraphStoreError, match="ghost"):
        store.upsert_edges("VIEWED", bad)
    assert store.counts()["VIEWED"] == 1


def test_purchase_history_newest_first_with_since_and_limit(store: GraphStore) -> None:
    _small_world(store)
    history = store.purchase_history("c2")
    assert history["event_id"].tolist() == ["e3", "e4"]
    assert history["product_name"].tolist() == ["Tote", "Clutch"]
    assert history["qty"].tolist() == [2, 1]
    assert pd.Timestamp(history["ts"].iloc[0]) == pd.Timestamp("2025-02-01")
    all_c1 = store.purchase_history("c1", since=datetime(2025, 1, 3))
    assert all_c1.empty
    assert len(store.purchase_history("c1", limit=1)) == 1
    assert store.purchase_history("nobody").empty


def test_price_history_ordered_and_filtered(store: GraphStore) -> None:
    _small_world(store)
    store.upsert_nodes("Competitor", pd.DataFrame({"id": ["k1"], "name": ["Rival"]}))
    store.upsert_nodes(
        "PricePoint",
        pd.DataFrame(
            {
                "id": ["pp1", "pp2", "pp3"],
                "product_id": ["p1"] * 3,
                "price": [900.0, 720.0, 850.0],
                "currency": ["EUR"] * 3,
                "kind": ["list", "markdown", "competitor"],
                "valid_from": ["2025-01-01", "2025-06-01", "2025-02-01"],
                "valid_to": [None, "2025-06-30", None],
                "competitor_id": [None, None, "k1"],
            }
        ),
    )
    store.upsert_edges(
        "HAS_PRICE", pd.DataFrame({"source": ["p1"] * 3, "target": ["pp1", "pp2", "pp3"]})
    )
    store.upsert_edges("OFFERED_BY", pd.DataFrame({"source": ["pp3"], "target": ["k1"]}))
    history = store.price_history("p1")
    assert history["id"].tolist() == ["pp1", "pp3", "pp2"]
    assert history["price"].tolist() == pytest.approx([900.0, 850.0, 720.0])
    assert pd.isna(history["valid_to"].iloc[0])
    assert store.price_history("p1", kinds=["markdown"])["id"].tolist() == ["pp2"]
    assert store.price_history("p2").empty
    # a page of the latest, latest first: the store cuts it, in the reverse order
    assert store.price_history("p1", newest=2)["id"].tolist() == ["pp2", "pp3"]
    assert store.price_history("p1", newest=2, skip=1)["id"].tolist() == ["pp3", "pp1"]
    assert store.price_history("p1", newest=5, skip=3).empty
    page = store.price_history("p1", kinds=["list", "competitor"], newest=1)
    assert page["id"].tolist() == ["pp3"] and page["competitor_id"].tolist() == ["k1"]
    with pytest.raises(ValueError, match="skip >= 0"):
        store.price_history("p1", newest=1, skip=-1)


def test_neighbors_by_direction_and_type(store: GraphStore) -> None:
    _small_world(store)
    out = store.neighbors("Product", "p1", direction="out")
    assert [(n.rel_type, n.id) for n in out] == [("IN_CATEGORY", "bags"), ("OF_BRAND", "b1")]
    incoming = store.neighbors("Product", "p1", direction="in", rel_type="PURCHASED")
    assert [n.id for n in incoming] == ["c1", "c2", "c3"]
    assert all(n.label == "Customer" and n.direction == "in" for n in incoming)
    assert len(store.neighbors("Product", "p1", limit=2)) == 2


def test_co_purchases_count_shared_orders(store: GraphStore) -> None:
    _small_world(store)
    co = store.co_purchases("p1")
    assert co.to_dict("records") == [{"product_id": "p2", "orders": 2}]
    assert store.co_purchases("p5").empty


def test_counts_cover_every_label_and_type(store: GraphStore) -> None:
    _small_world(store)
    counts = store.counts()
    assert counts["Product"] == 5 and counts["Customer"] == 3 and counts["Brand"] == 2
    assert counts["PURCHASED"] == 5 and counts["VIEWED"] == 1 and counts["CHILD_OF"] == 1
    assert counts["RETURNED"] == 0


def test_edge_arrays_map_keys_to_sorted_positions(store: GraphStore) -> None:
    _small_world(store)
    arrays = store.edge_arrays("PURCHASED")
    assert arrays.source_ids.tolist() == ["c1", "c2", "c3"]
    assert arrays.target_ids.tolist() == ["p1", "p2", "p3", "p4", "p5"]
    assert arrays.edge_index.dtype == np.int64
    assert arrays.edge_index.tolist() == [[0, 0, 1, 1, 2], [0, 1, 0, 1, 0]]
    assert arrays.properties["qty"].tolist() == [1, 1, 2, 1, 1]
    assert arrays.num_edges == 5
    empty = store.edge_arrays("RETURNED")
    assert empty.edge_index.shape == (2, 0)


def test_edge_arrays_keep_each_edge_with_its_own_values(store: GraphStore) -> None:
    # Every property of an edge stays with its edge (Neo4j reads edges grouped by
    # source, timestamps as integers): microseconds, nulls and a second edge of a pair.
    _small_world(store)
    store.upsert_edges(
        "PURCHASED",
        pd.DataFrame(
            {
                "source": ["c3"],
                "target": ["p1"],
                "event_id": ["e6"],
                "qty": [4],
                "ts": pd.to_datetime(["2025-04-01 12:34:56.789012"]),
            }
        ),
    )
    arrays = store.edge_arrays("PURCHASED")
    sources = arrays.source_ids[arrays.edge_index[0]].tolist()
    targets = arrays.target_ids[arrays.edge_index[1]].tolist()
    rows = dict(
        zip(
            arrays.properties["event_id"].tolist(),
            zip(
                sources,
                targets,
                arrays.properties["qty"].tolist(),
                arrays.properties["ts"].astype("datetime64[us]").astype(str).tolist(),
                pd.Series(arrays.properties["currency"]).fillna("-").tolist(),
                strict=True,
            ),
            strict=True,
        )
    )
    assert rows["e1"] == ("c1", "p1", 1, "2025-01-02T10:00:00.000000", "EUR")
    assert rows["e4"] == ("c2", "p2", 1, "2025-02-01T00:00:00.000000", "EUR")
    assert rows["e5"] == ("c3", "p1", 1, "2025-03-01T00:00:00.000000", "EUR")
    assert rows["e6"] == ("c3", "p1", 4, "2025-04-01T12:34:56.789012", "-")
    assert len(rows) == 6


def test_networkx_export_whole_and_ego(store: GraphStore) -> None:
    _small_world(store)
    whole = store.to_networkx(labels=["Customer", "Product"], rel_types=["PURCHASED"])
    assert whole.number_of_nodes() == 8 and whole.number_of_edges() == 5
    ego = store.to_networkx(seeds=[("Customer", "c3")], hops=1)
    assert set(ego.nodes) == {"Customer:c3", "Product:p1", "Product:p5"}
    assert ego.has_edge("Customer:c3", "Product:p5")
    two = store.to_networkx(seeds=[("Customer", "c3")], hops=2)
    assert "Brand:b1" in two and "Customer:c1" in two


def test_read_cypher_reads_and_refuses_writes(store: GraphStore) -> None:
    _small_world(store)
    rows = store.read_cypher(
        "MATCH (p:Product) WHERE p.list_price > $min RETURN p.id AS id ORDER BY id", {"min": 400.0}
    )
    assert rows["id"].tolist() == ["p1", "p2"]
    named = store.read_cypher("MATCH (b:Brand {name: 'CREATE'}) RETURN count(b) AS n")
    assert int(named["n"].iloc[0]) == 0
    for query in (
        "MATCH (p:Product) DETACH DELETE p",
        "CREATE (:Brand {id: 'x'})",
        "MATCH (p:Product) SET p.name = 'x'",
        "MERGE (:Brand {id: 'y'})",
        "CALL { CREATE (:Brand {id: 'z'}) }",
    ):
        with pytest.raises(ReadOnlyQueryError):
            store.read_cypher(query)
    assert store.counts()["Product"] == 5


@pytest.mark.parametrize(
    "query",
    [
        "CALL CREATE_FTS_INDEX('Product', 'product_text', ['name'])",
        "CALL DROP_FTS_INDEX('Product', 'product_text')",
        "CALL create_vector_index('Product', 'product_vector', 'name')",
        "MATCH (p:Product) CALL db.createLabel('Probe') RETURN p.id",
    ],
)
def test_read_cypher_refuses_procedures_that_write(store: GraphStore, query: str) -> None:
    _small_world(store)
    with pytest.raises(ReadOnlyQueryError, match="read-only procedures"):
        store.read_cypher(query)
    assert store.counts()["Product"] == 5
    assert store.read_cypher("MATCH (p:Product) RETURN count(p) AS n")["n"].iloc[0] == 5


def test_timestamps_are_stored_as_utc(store: GraphStore) -> None:
    store.upsert_nodes(
        "Customer", pd.DataFrame({"id": ["c9"], "signup_ts": ["2025-03-01T12:00:00+02:00"]})
    )
    assert store.get_node("Customer", "c9")["signup_ts"] == datetime(2025, 3, 1, 10, 0)


def test_clear_removes_everything(store: GraphStore) -> None:
    _small_world(store)
    store.clear()
    assert sum(store.counts().values()) == 0


def test_record_events_routes_types_and_is_idempotent(store: GraphStore) -> None:
    _small_world(store)
    events = pd.DataFrame(
        {
            "event_id": ["x1", "x2", "x3", "x4"],
            "event_type": ["view", "cart", "purchase", "return"],
            "customer_id": ["c2", "c2", "c2", "c2"],
            "product_id": ["p3", "p3", "p3", "p3"],
            "ts": pd.to_datetime(
                ["2025-04-01 10:00", "2025-04-01 10:05", "2025-04-01 10:09", "2025-04-09 12:00"]
            ),
            "order_id": [None, None, "o9", "o9"],
            "qty": [1, 1, 1, 1],
            "unit_price": [None, None, 300.0, 300.0],
            "currency": [None, None, "EUR", "EUR"],
        }
    )
    assert record_events(store, events) == UpsertResult(created=4)
    assert record_events(store, events) == UpsertResult(unchanged=4)
    counts = store.counts()
    assert (counts["VIEWED"], counts["ADDED_TO_CART"]) == (2, 1)
    assert (counts["PURCHASED"], counts["RETURNED"]) == (6, 1)
    assert store.purchase_history("c2")["event_id"].tolist()[0] == "x3"
    with pytest.raises(GraphStoreError, match="unknown event_type"):
        record_events(store, events.assign(event_type="wishlist"))


def test_node_frame_has_every_property(store: GraphStore) -> None:
    _small_world(store)
    products = store.node_frame("Product")
    assert products["id"].tolist() == ["p1", "p2", "p3", "p4", "p5"]
    assert "stock_units" in products.columns and "description" in products.columns
    assert products["list_price"].tolist() == pytest.approx([900.0, 450.0, 300.0, 250.0, 180.0])
    assert store.node_frame("Segment").empty


def test_event_id_resent_with_other_payload_is_a_conflict(store: GraphStore) -> None:
    _small_world(store)
    sent = pd.DataFrame(
        {
            "source": ["c1", "c3"],
            "target": ["p1", "p3"],
            "event_id": ["e1", "new-1"],
            "order_id": ["o1", "o9"],
            "qty": [2, 1],
            "unit_price": [900.0, 300.0],
            "currency": ["EUR", "EUR"],
            "ts": ["2025-01-02T10:00:00", "2025-05-01T10:00:00"],
        }
    )
    with pytest.raises(
        ConflictError, match=r"PURCHASED event_id 'e1'.*qty: stored 1, sent 2"
    ) as info:
        store.upsert_edges("PURCHASED", sent)
    assert (info.value.kind, info.value.key, info.value.field) == ("PURCHASED", "e1", "event_id")
    assert store.counts()["PURCHASED"] == 5  # nothing of the frame, the new event included
    moved = sent.iloc[[0]].assign(source="c2", qty=1)
    with pytest.raises(ConflictError, match="customer: stored 'c1', sent 'c2'"):
        store.upsert_edges("PURCHASED", moved)
    views = pd.DataFrame({"source": ["c3"], "target": ["p5"], "event_id": ["v1"]})
    with pytest.raises(ConflictError, match="ts: stored 2025-03-01T09:00:00, sent null"):
        store.upsert_edges("VIEWED", views.assign(ts=[None]))
    again = views.assign(ts=["2025-03-01T10:00:00+01:00"])  # the same moment
    assert store.upsert_edges("VIEWED", again) == UpsertResult(unchanged=1)


def test_transaction_commits_node_and_edges_together(store: GraphStore) -> None:
    _small_world(store)
    price = pd.DataFrame({"id": ["pp9"], "product_id": ["p1"], "price": [99.0], "kind": ["list"]})
    with store.transaction():
        store.upsert_nodes("PricePoint", price)
        with store.transaction():  # joins the open one
            store.upsert_edges("HAS_PRICE", pd.DataFrame({"source": ["p1"], "target": ["pp9"]}))
    assert store.price_history("p1")["id"].tolist() == ["pp9"]
    with pytest.raises(GraphStoreError, match="ghost"), store.transaction():
        store.upsert_nodes("PricePoint", price.assign(id="pp10"))
        store.upsert_edges("HAS_PRICE", pd.DataFrame({"source": ["ghost"], "target": ["pp10"]}))
    with pytest.raises(RuntimeError, match="client went away"), store.transaction():
        store.upsert_nodes("PricePoint", price.assign(id="pp11"))
        raise RuntimeError("client went away")
    assert store.get_nodes("PricePoint", ["pp10", "pp11"]) == [None, None]
    assert store.counts()["PricePoint"] == 1


def test_frames_follow_the_schema_types_when_values_are_all_null(store: GraphStore) -> None:
    _small_world(store)  # no customer has a signup_ts, no product a stock_units
    customers = store.node_frame("Customer")
    assert customers["signup_ts"].dtype == "datetime64[us]" and customers["signup_ts"].isna().all()
    products = store.node_frame("Product")
    assert products["cost"].dtype == np.float64 and products["stock_units"].dtype == np.float64
    assert pd.api.types.is_string_dtype(products["description"])
    store.upsert_nodes("Product", pd.DataFrame({"id": ["p1"], "cost": [None]}))
    assert store.node_frame("Product")["cost"].dtype == np.float64
    purchases = store.edge_arrays("PURCHASED").properties
    assert purchases["qty"].dtype == np.int64 and purchases["unit_price"].dtype == np.float64
    assert purchases["ts"].dtype == "datetime64[us]"


def test_new_and_stored_events_in_one_batch_create_only_the_new(store: GraphStore) -> None:
    _small_world(store)
    batch = pd.DataFrame(
        {
            "source": ["c1", "c3"],
            "target": ["p1", "p4"],
            "event_id": ["e1", "e9"],
            "order_id": ["o1", None],
            "qty": [1, 3],
            "unit_price": [900.0, None],
            "currency": ["EUR", None],
            "ts": ["2025-01-02T10:00:00", "2025-04-01T00:00:00"],
        }
    )
    assert store.upsert_edges("PURCHASED", batch) == UpsertResult(created=1, unchanged=1)
    assert store.upsert_edges("PURCHASED", batch) == UpsertResult(unchanged=2)
    assert store.counts()["PURCHASED"] == 6
    (row,) = store.purchase_history("c3", since=datetime(2025, 4, 1)).to_dict("records")
    assert (row["event_id"], row["product_id"], row["qty"]) == ("e9", "p4", 3)
    assert row["order_id"] is None or pd.isna(row["order_id"])


def test_product_page_follows_the_key_with_filters(store: GraphStore) -> None:
    _small_world(store)
    first = store.product_page(limit=2)
    assert first["id"].tolist() == ["p1", "p2"]
    assert list(first.columns) == list(store.node_frame("Product").columns)
    assert first.loc[0, "name"] == "Tote" and first.loc[0, "list_price"] == 900.0
    assert store.product_page(after="p2", limit=2)["id"].tolist() == ["p3", "p4"]
    assert store.product_page(after="p5").empty
    assert store.product_page(brands=["b2"])["id"].tolist() == ["p4", "p5"]
    assert store.product_page(categories=["root"])["id"].tolist() == ["p1", "p2"]
    assert store.product_page(min_price=250.0, max_price=450.0)["id"].tolist() == [
        "p2",
        "p3",
        "p4",
    ]
    store.upsert_nodes("Product", pd.DataFrame({"id": ["p1", "p3"], "stock_units": [2, 0]}))
    assert store.product_page(in_stock=True)["id"].tolist() == ["p1"]
    assert store.product_page(in_stock=False, brands=["b1"])["id"].tolist() == ["p2", "p3"]


def test_customer_page_and_segment_size(store: GraphStore) -> None:
    _small_world(store)
    store.upsert_nodes("Segment", pd.DataFrame({"id": ["s1"], "name": ["VIC"]}))
    store.upsert_edges(
        "IN_SEGMENT", pd.DataFrame({"source": ["c1", "c3"], "target": ["s1", "s1"], "score": 0.5})
    )
    assert store.customer_page()["id"].tolist() == ["c1", "c2", "c3"]
    assert store.customer_page(after="c1", limit=1)["id"].tolist() == ["c2"]
    assert store.customer_page(country="DE")["id"].tolist() == ["c2"]
    assert store.customer_page(segment="s1")["id"].tolist() == ["c1", "c3"]
    assert store.customer_page(country="FR' OR true //").empty  # a value, never Cypher
    assert store.segment_size("s1") == 2
    assert store.segment_size("nope") == 0


def test_subcategories_and_edge_targets(store: GraphStore) -> None:
    _small_world(store)
    assert store.subcategories(["root"]) == ["bags", "root"]
    assert store.subcategories(["bags"]) == ["bags"]
    brands = store.edge_targets("OF_BRAND", ["p1", "p4", "nope"])
    assert list(brands.columns) == ["source", "target", "score"]
    assert sorted(zip(brands["source"], brands["target"], strict=True)) == [
        ("p1", "b1"),
        ("p4", "b2"),
    ]
    assert set(brands["score"]) == {0.0}
    assert store.edge_targets("IN_CATEGORY", []).empty
    with pytest.raises(KeyError, match="unknown relationship"):
        store.edge_targets("NOPE", ["p1"])


def test_example_pair_is_the_busiest_customer_and_a_product_they_lack(store: GraphStore) -> None:
    assert store.example_pair() == (None, None)
    _small_world(store)
    assert store.example_pair() == ("c1", "p3")  # c1 and c2 bought twice; c1 sorts first
    store.upsert_edges(
        "PURCHASED",
        pd.DataFrame(
            {
                "source": ["c3"] * 4,
                "target": ["p2", "p3", "p4", "p5"],
                "event_id": ["e6", "e7", "e8", "e9"],
                "qty": 1,
                "unit_price": 100.0,
                "currency": "EUR",
                "ts": pd.to_datetime(["2025-03-02"] * 4),
            }
        ),
    )
    assert store.example_pair() == ("c3", None)  # c3 bought all five products


def test_purchase_history_carries_discount_promotion_store_and_channel(store: GraphStore) -> None:
    _small_world(store)
    store.upsert_edges(
        "PURCHASED",
        pd.DataFrame(
            {
                "source": ["c3"],
                "target": ["p2"],
                "event_id": ["e10"],
                "qty": [2],
                "unit_price": [400.0],
                "currency": ["EUR"],
                "ts": pd.to_datetime(["2025-05-01"]),
                "discount": [100.0],
                "promotion_id": ["SPRING"],
                "store_id": ["s-042"],
                "channel": ["store"],
            }
        ),
    )
    history = store.purchase_history("c3")
    assert list(history.columns)[-4:] == ["discount", "promotion_id", "store_id", "channel"]
    newest, older = history.to_dict("records")
    assert (newest["discount"], newest["promotion_id"]) == (100.0, "SPRING")
    assert (newest["store_id"], newest["channel"]) == ("s-042", "store")
    assert all(older[c] is None or pd.isna(older[c]) for c in ["discount", "channel"])
