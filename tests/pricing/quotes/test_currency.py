"""A quote says its currency (the product's stored one) and whether its cost is estimated."""

from __future__ import annotations

import pandas as pd
from support.quotes import NOW, World, make_service

from pricegraph.graph import GraphStore
from pricegraph.pricing.config import PricingConfig
from pricegraph.pricing.policy import ListPricePolicy
from pricegraph.pricing.quotes.service import QuoteService
from pricegraph.pricing.quotes.state import stored_currencies


def _catalog(store: GraphStore) -> None:
    store.upsert_nodes(
        "Product",
        pd.DataFrame(
            {
                "id": ["P-COST", "P-NOCOST"],
                "name": ["Kettle", "Toaster"],
                "list_price": [50.0, 40.0],
                "cost": [20.0, None],
                "currency": ["GBP", None],
            }
        ),
    )
    store.upsert_nodes("Customer", pd.DataFrame({"id": ["C1"]}))


def test_an_estimated_cost_and_the_currency_are_fields(embedded: GraphStore) -> None:
    _catalog(embedded)
    service = QuoteService(embedded, None, ListPricePolicy(), PricingConfig(), clock=lambda: NOW)
    stored = service.quote("C1", "P-COST", requested_by="t")
    estimated = service.quote("C1", "P-NOCOST", requested_by="t")
    assert (stored.currency, stored.cost_estimated) == ("GBP", False)
    assert "Cost: estimated" not in stored.rationale
    assert (estimated.currency, estimated.cost_estimated) == (None, True)
    assert "Cost: estimated at 24.00 (60 % of list; none stored)." in estimated.rationale
    output = estimated.output(is_json=True)
    assert output["currency"] is None and output["cost_estimated"] is True
    assert stored.output()["currency"] == "GBP"


def test_the_currency_is_read_again_with_the_snapshot(embedded: GraphStore) -> None:
    _catalog(embedded)
    assert stored_currencies(embedded) == {"P-COST": "GBP"}
    service = QuoteService(embedded, None, ListPricePolicy(), PricingConfig(), clock=lambda: NOW)
    assert service.quote("C1", "P-NOCOST", requested_by="t").currency is None
    embedded.upsert_nodes("Product", pd.DataFrame({"id": ["P-NOCOST"], "currency": ["USD"]}))
    assert service.quote("C1", "P-NOCOST", requested_by="t").currency is None  # cached
    service.invalidate()
    assert service.quote("C1", "P-NOCOST", requested_by="t").currency == "USD"


def test_the_synthetic_worlds_quotes_are_in_its_currency(world: World) -> None:
    service = make_service(world)
    quotes = service.quote_batch(
        [(world.customers[0], p) for p in world.products[:5]], requested_by="t"
    )
    for quote in quotes:
        node = world.store.get_node("Product", quote.product_id)
        assert node is not None and quote.currency == node["currency"] == "EUR"
        assert quote.cost_estimated is False  # the synthetic catalogue stores every cost
