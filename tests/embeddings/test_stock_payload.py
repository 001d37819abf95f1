"""A product payload claims ``in_stock`` only from a stock figure."""

from __future__ import annotations

import pandas as pd

from pricegraph.embeddings.pipeline import product_items
from pricegraph.graph import GraphStore


def test_in_stock_is_absent_without_stock_data(embedded: GraphStore) -> None:
    embedded.upsert_nodes(
        "Product",
        pd.DataFrame(
            {
                "id": ["milk", "eggs", "salt"],
                "name": ["Milk", "Eggs", "Salt"],
                "stock_units": pd.array([None, 0, 12], dtype="Int64"),
            }
        ),
    )
    items = product_items(embedded).set_index("key")
    assert {k: p["in_stock"] for k, p in items["payload"].items()} == {
        "milk": None,
        "eggs": False,
        "salt": True,
    }
