"""Products without a list price stay out of the market built from the graph, as quotes
refuse them (one list-price contract for train-pricing --from-graph and quote)."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest
from support.pricing import simulate_panel

from pricegraph.errors import DataValidationError
from pricegraph.graph import GraphConfig, GraphStore, make_graph_store
from pricegraph.loaders import load_files, read_mapping
from pricegraph.pricing.demand.fit import fit_demand
from pricegraph.pricing.demand.model import DemandModel
from pricegraph.pricing.market.from_store import market_from_store
from pricegraph.synthetic import generate_world, nasty_world, write_world
from pricegraph.synthetic.config import WorldConfig


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GraphStore]:
    """20 products; every 4th from the second (5 of them) has no list price."""
    folder = tmp_path_factory.mktemp("unpriced")
    config = WorldConfig(seed=5, n_brands=4, n_customers=60, n_products=20, n_days=120)
    world = nasty_world(generate_world(config), huge_lines=0, free_lines=0)
    write_world(world, folder / "w")
    graph = make_graph_store(GraphConfig(path=folder / "graph", buffer_pool_mb=128))
    load_files(graph, read_mapping(folder / "w" / "mapping.toml"), rejects_dir=folder / "rej")
    yield graph
    graph.close()


def demand_of(products: list[str]) -> DemandModel:
    """A demand model with a negative elasticity for every one of ``products``."""
    panel = simulate_panel(n_products=len(products), n_weeks=30, elasticity=-2.3)
    panel["product_id"] = panel["product_id"].map({f"p{i}": p for i, p in enumerate(products)})
    return fit_demand(panel)


def test_products_without_a_list_price_are_left_out_and_counted(store: GraphStore) -> None:
    nodes = store.node_frame("Product").set_index("id")
    products = sorted(nodes.index)
    unpriced = sorted(nodes.index[nodes["list_price"].isna()])
    assert len(products) == 20 and len(unpriced) == 5
    market = market_from_store(store, max_products=20, num_periods=4, model=demand_of(products))
    assert set(market.product_ids) == set(products) - set(unpriced)
    assert market.meta["no_list_price"] == 5 and market.meta["products"] == 15
    # the season starts the week after the last sale: its first day is the first week's
    assert market.meta["season_start"] == market.meta["weeks"][0]
    last_sale = pd.to_datetime(pd.Series(store.edge_arrays("PURCHASED").properties["ts"])).max()
    first = pd.Timestamp(market.meta["season_start"])
    assert first.weekday() == 0 and 0 < (first - last_sale.tz_localize(None)).days <= 7
    priced = nodes.loc[list(market.product_ids), "list_price"].to_numpy(float)
    assert market.list_price == pytest.approx(priced)  # the catalog's, never the model's


def test_a_store_whose_candidates_all_lack_a_list_price_is_a_clear_error(
    store: GraphStore,
) -> None:
    nodes = store.node_frame("Product").set_index("id")
    unpriced = sorted(nodes.index[nodes["list_price"].isna()])
    with pytest.raises(DataValidationError, match=r"none of the 5 products .* has a list price"):
        market_from_store(store, max_products=20, num_periods=4, model=demand_of(unpriced))
