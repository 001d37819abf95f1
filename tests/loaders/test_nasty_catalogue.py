"""The nasty catalogue (duplicated names, missing list prices, huge quantities, free
items, unicode, customers without purchases) loads whole, and the report says so."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pricegraph.graph import GraphStore
from pricegraph.loaders import load_files, read_mapping
from pricegraph.synthetic import WorldConfig, generate_world, nasty_world, write_world
from pricegraph.synthetic.nasty import UNICODE_BRAND_NAME, UNICODE_CUSTOMER_ID, UNICODE_PRODUCT_NAME

CONFIG = WorldConfig(seed=1, n_brands=4, n_products=30, n_customers=40, n_days=30)


def test_the_nasty_catalogue_loads_whole(embedded: GraphStore, tmp_path: Path) -> None:
    clean = generate_world(CONFIG)
    world = nasty_world(clean)
    assert all(world.tables()[k].equals(nasty_world(clean).tables()[k]) for k in world.tables())
    report = load_files(
        embedded, read_mapping(write_world(world, tmp_path / "nasty")), rejects_dir=tmp_path
    )
    assert report.totals["rejected"] == 0, [f.first_rejects for f in report.files]
    counts = embedded.counts()
    assert (counts["Product"], counts["Customer"]) == (30, 43)
    purchases = world.events[world.events["event_type"] == "purchase"]
    assert counts["PURCHASED"] == len(purchases)

    products = embedded.node_frame("Product").set_index("id")
    assert products["list_price"].isna().sum() == 8  # positions 1, 5, ..., 29
    assert products["cost"].isna().sum() == 8
    first_name = products.loc["P00001", "name"]
    assert (products["name"] == first_name).sum() == 6  # P00001 and every fifth
    assert products.loc["P00030", "name"] == UNICODE_PRODUCT_NAME
    assert pd.isna(products.loc["P00030", "description"])
    brands = embedded.node_frame("Brand")
    assert UNICODE_BRAND_NAME in set(brands["name"])

    idle = embedded.get_node("Customer", UNICODE_CUSTOMER_ID)
    assert idle is not None and idle["id"] == UNICODE_CUSTOMER_ID
    assert embedded.purchase_history(UNICODE_CUSTOMER_ID).empty

    lines = embedded.read_cypher(
        "MATCH (:Customer)-[r:PURCHASED]->(:Product) RETURN r.qty AS qty, r.unit_price AS price"
    )
    assert (lines["price"] == 0.0).sum() == 2  # free items kept
    assert (lines["qty"] == 5_000).sum() == 2
    (events,) = [f for f in report.files if f.kind == "events"]
    (note,) = events.notes
    assert note.startswith("2 purchase lines have quantities above ")
    assert "qty 5,000" in note and "events.csv.gz line " in note
