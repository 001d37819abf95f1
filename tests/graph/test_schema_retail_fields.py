"""A store written before discounts, stores, channels and customer attributes existed
opens with them added, keeps its events, and a re-load adds the new values as updates."""

from __future__ import annotations

from pathlib import Path

import ladybug
import pandas as pd

from pricegraph.graph import GraphConfig, make_graph_store
from pricegraph.loaders import FileMapping, load_files

HEADER = "event_id,event_type,customer_id,product_id,ts,order_id,qty,unit_price"
LINE = "E1,purchase,C1,P1,2025-01-02T10:00:00,O1,2,4.5"


def test_an_older_store_gains_the_retail_fields_and_keeps_its_events(tmp_path: Path) -> None:
    path = tmp_path / "graph"
    old = ladybug.Database(str(path))
    connection = ladybug.Connection(old)
    for statement in (
        "CREATE NODE TABLE Customer(id STRING, country STRING, signup_ts TIMESTAMP, "
        "is_anonymous BOOLEAN, profile_text STRING, PRIMARY KEY(id))",
        "CREATE NODE TABLE Product(id STRING, name STRING, PRIMARY KEY(id))",
        "CREATE REL TABLE PURCHASED(FROM Customer TO Product, event_id STRING, "
        "order_id STRING, qty INT64, unit_price DOUBLE, currency STRING, ts TIMESTAMP)",
        "CREATE (:Customer {id: 'C1'})",
        "CREATE (:Product {id: 'P1', name: 'Soup'})",
        "MATCH (c:Customer {id: 'C1'}), (p:Product {id: 'P1'}) CREATE (c)-[:PURCHASED "
        "{event_id: 'E1', order_id: 'O1', qty: 2, unit_price: 4.5, currency: 'EUR', "
        "ts: timestamp('2025-01-02 10:00:00')}]->(p)",
    ):
        connection.execute(statement)
    connection.close()
    old.close()

    store = make_graph_store(GraphConfig(path=path, buffer_pool_mb=64))
    try:
        (kept,) = store.read_cypher(
            "MATCH ()-[r:PURCHASED]->() RETURN r.event_id AS id, r.qty AS qty, "
            "r.discount AS discount, r.store_id AS store"
        ).to_dict("records")
        assert kept["id"] == "E1" and kept["qty"] == 2
        assert pd.isna(kept["discount"]) and pd.isna(kept["store"])
        assert store.get_node("Customer", "C1")["attributes"] is None

        (tmp_path / "events.csv").write_text(f"{HEADER}\n{LINE}\n", encoding="utf-8")
        same = FileMapping(tmp_path / "events.csv", "events")
        result = load_files(store, [same], rejects_dir=tmp_path).files[0].result
        assert (result.created, result.updated, result.unchanged) == (0, 0, 1)

        (tmp_path / "events.csv").write_text(
            f"{HEADER},coupon,store\n{LINE},0.5,S9\n", encoding="utf-8"
        )
        richer = FileMapping(
            tmp_path / "events.csv",
            "events",
            columns={"discount": "coupon", "store_id": "store"},
            constants={"channel": "store"},
        )
        result = load_files(store, [richer], rejects_dir=tmp_path).files[0].result
        assert (result.created, result.updated, result.unchanged) == (0, 1, 0)
        (row,) = store.read_cypher(
            "MATCH ()-[r:PURCHASED]->() RETURN r.discount AS discount, r.store_id AS store, "
            "r.channel AS channel"
        ).to_dict("records")
        assert row == {"discount": 0.5, "store": "S9", "channel": "store"}
    finally:
        store.close()
