"""The named event reads, run against every backend (see tests/graph/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest

from pricegraph.errors import GraphStoreError
from pricegraph.graph import GraphStore, events_between, events_by_id, record_events

_PURCHASE_COLUMNS = ["source", "target", "event_id", "order_id", "qty", "unit_price", "currency"]


def _events(store: GraphStore) -> None:
    """Two customers, three products; four purchases and a view."""
    store.upsert_nodes("Customer", pd.DataFrame({"id": ["c1", "c2"]}))
    store.upsert_nodes("Product", pd.DataFrame({"id": ["p1", "p2", "p3"]}))
    events = pd.DataFrame(
        {
            "event_id": ["e1", "e2", "e3", "e4", "v1"],
            "event_type": ["purchase"] * 4 + ["view"],
            "customer_id": ["c1", "c1", "c2", "c2", "c1"],
            "product_id": ["p1", "p2", "p1", "p3", "p1"],
            "ts": pd.to_datetime(["2025-01-02 10:00"] * 4 + ["2025-01-01 09:00"]),
            "order_id": ["o1", "o1", "o2", "o2", None],
            "qty": [1, 2, 1, 3, None],
            "unit_price": [90.0, 45.0, 90.0, 30.0, None],
            "currency": ["EUR"] * 4 + [None],
        }
    )
    assert record_events(store, events).created == 5


def _rows(frame: pd.DataFrame) -> list[tuple[object, ...]]:
    """The purchase columns of ``frame`` as sorted tuples (backends order rows freely)."""
    typed = frame[_PURCHASE_COLUMNS].astype({"qty": "int64", "unit_price": "float64"})
    return sorted(typed.itertuples(index=False, name=None))


def test_events_by_id_returns_stored_events_with_their_properties(store: GraphStore) -> None:
    _events(store)
    found = events_by_id(store, "PURCHASED", ["e2", "e4", "missing", "v1"])
    assert _rows(found) == [
        ("c1", "p2", "e2", "o1", 2, 45.0, "EUR"),
        ("c2", "p3", "e4", "o2", 3, 30.0, "EUR"),
    ]
    assert "ts" in found.columns
    viewed = events_by_id(store, "VIEWED", ["v1", "e1"])
    assert viewed[["source", "target", "event_id"]].values.tolist() == [["c1", "p1", "v1"]]
    assert pd.Timestamp(viewed["ts"].iloc[0]).replace(tzinfo=None) == pd.Timestamp(
        "2025-01-01 09:00"
    )


def test_events_between_returns_the_cross_product_of_one_type(store: GraphStore) -> None:
    _events(store)
    found = events_between(store, "PURCHASED", ["c1", "c2"], ["p1", "p3"])
    assert sorted(found["event_id"]) == ["e1", "e3", "e4"]
    assert _rows(found)[0] == ("c1", "p1", "e1", "o1", 1, 90.0, "EUR")
    assert sorted(events_between(store, "VIEWED", ["c1"], ["p1", "p2"])["event_id"]) == ["v1"]


@pytest.mark.parametrize(
    "read",
    [
        lambda store: events_by_id(store, "RETURNED", ["e1"]),
        lambda store: events_by_id(store, "PURCHASED", []),
        lambda store: events_between(store, "PURCHASED", ["c2"], ["p2"]),
        lambda store: events_between(store, "ADDED_TO_CART", ["c1"], ["p1"]),
    ],
)
def test_nothing_found_is_empty_with_the_columns(
    store: GraphStore, read: Callable[[GraphStore], pd.DataFrame]
) -> None:
    _events(store)
    found = read(store)
    assert found.empty
    assert {"source", "target", "event_id", "ts"} <= set(found.columns)


def test_reads_in_a_transaction_see_its_writes(store: GraphStore) -> None:
    _events(store)
    with store.transaction():
        store.delete_edges("PURCHASED", pd.DataFrame({"source": ["c1"], "target": ["p1"]}))
        assert events_by_id(store, "PURCHASED", ["e1"]).empty
        assert sorted(events_between(store, "PURCHASED", ["c1"], ["p1", "p2"])["event_id"]) == [
            "e2"
        ]


def test_a_relationship_that_is_not_an_event_is_refused(store: GraphStore) -> None:
    with pytest.raises(GraphStoreError, match=r"expected an event relationship.*'OF_BRAND'"):
        events_by_id(store, "OF_BRAND", ["e1"])
    with pytest.raises(GraphStoreError, match="'OF_BRAND'"):
        events_between(store, "OF_BRAND", ["p1"], ["b1"])
