"""Outlier quantities (fuel by the litre, wholesale lines) stay out of the best sellers
the pricing market is built on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from support.pricing import simulate_panel

from pricegraph.graph import GraphConfig, GraphStore, make_graph_store
from pricegraph.loaders import FileMapping, load_files, read_mapping
from pricegraph.pricing.demand.fit import fit_demand
from pricegraph.pricing.market.from_store import OutlierLines, market_from_store
from pricegraph.synthetic import generate_world, write_world
from pricegraph.synthetic.config import WorldConfig


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GraphStore]:
    folder = tmp_path_factory.mktemp("outliers")
    config = WorldConfig(seed=5, n_brands=4, n_customers=60, n_products=20, n_days=120)
    write_world(generate_world(config), folder / "w")
    graph = make_graph_store(GraphConfig(path=folder / "graph", buffer_pool_mb=128))
    load_files(graph, read_mapping(folder / "w" / "mapping.toml"), rejects_dir=folder / "rej")
    yield graph
    graph.close()


def test_outlier_lines_and_products_are_kept_out_of_the_best_sellers(
    store: GraphStore, tmp_path: Path
) -> None:
    products = store.node_frame("Product")["id"].tolist()
    panel = simulate_panel(n_products=len(products), n_weeks=30, elasticity=-2.3)
    panel["product_id"] = panel["product_id"].map({f"p{i}": p for i, p in enumerate(products)})
    model = fit_demand(panel)
    before = market_from_store(store, max_products=5, num_periods=4, model=model)
    assert before.meta["outlier_lines"] == 0 and before.meta["outlier_products"] == 0
    assert before.meta["outlier_qty_limit"] == 20.0  # a typical product sells 1 a line

    lines = store.read_cypher(
        "MATCH (c:Customer)-[r:PURCHASED]->(p:Product) RETURN p.id AS product, "
        "c.id AS customer, r.ts AS ts"
    )
    per_product = lines["product"].value_counts()
    outside = [p for p in per_product.index if p not in before.product_ids]
    bulk, fuel = outside[0], outside[-1]  # bulk: most lines, so its median stays 1
    assert per_product[bulk] > 3
    fuel_lines = int(per_product[fuel])
    customer, ts = lines["customer"].iloc[0], lines["ts"].min()
    rows = [(bulk, n) for n in range(3)] + [(fuel, n) for n in range(fuel_lines + 1)]
    events = pd.DataFrame(
        {
            "event_type": "purchase",
            "customer_id": customer,
            "product_id": [p for p, _ in rows],
            "ts": ts.isoformat(),
            "order_id": [f"OUT-{p}-{n}" for p, n in rows],
            "qty": 5000,
            "unit_price": 50.0,
        }
    )
    events.to_csv(tmp_path / "bulk.csv", index=False)
    load_files(store, [FileMapping(tmp_path / "bulk.csv", "events")], rejects_dir=tmp_path)

    after = market_from_store(store, max_products=5, num_periods=4, model=model)
    assert after.product_ids == before.product_ids
    assert after.meta["outlier_lines"] == 3 + fuel_lines + 1
    assert after.meta["outlier_products"] == 1
    unguarded = market_from_store(
        store, max_products=5, num_periods=4, model=model, outlier_factor=np.inf
    )
    assert {bulk, fuel} <= set(unguarded.product_ids)


def test_the_limit_follows_the_catalogues_quantities() -> None:
    products = [f"item{i % 30}" for i in range(300)] + ["gas"] * 40
    qty = [1.0 + (i % 3 == 0) for i in range(300)] + [400.0] * 39 + [2.0]
    found = OutlierLines.of(pd.DataFrame({"product_id": products, "qty": qty}), factor=10.0)
    assert found.limit == 10.0  # the median of the products' median lines is 1
    assert found.is_outlier.sum() == 39 and found.products == frozenset({"gas"})
