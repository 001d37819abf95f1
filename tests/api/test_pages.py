"""Keyset pages of products and customers on a hand-made embedded graph."""

from __future__ import annotations

import pandas as pd
import pytest

from pricegraph.api.pages import customer_page, product_page
from pricegraph.graph.base import GraphStore


@pytest.fixture
def graph(embedded: GraphStore) -> GraphStore:
    """Five products in a two-level category tree, two brands, four customers."""
    embedded.upsert_nodes(
        "Product",
        pd.DataFrame(
            {
                "id": ["p1", "p2", "p3", "p4", "p5"],
                "name": ["Tote", "Clutch", "Scarf", "Belt", "Boot"],
                "list_price": [90.0, 40.0, 25.0, 60.0, 120.0],
                "stock_units": [3, 0, None, 7, 1],
            }
        ),
    )
    embedded.upsert_nodes("Brand", pd.DataFrame({"id": ["b1", "b2"], "name": ["Verne", "Aldo"]}))
    embedded.upsert_nodes(
        "Category", pd.DataFrame({"id": ["bags", "totes", "shoes"], "name": ["B", "T", "S"]})
    )
    embedded.upsert_edges("CHILD_OF", pd.DataFrame({"source": ["totes"], "target": ["bags"]}))
    embedded.upsert_edges(
        "IN_CATEGORY",
        pd.DataFrame(
            {"source": ["p1", "p2", "p3", "p5"], "target": ["totes", "bags", "shoes", "shoes"]}
        ),
    )
    embedded.upsert_edges(
        "OF_BRAND",
        pd.DataFrame({"source": ["p1", "p2", "p3", "p4", "p5"], "target": ["b1", "b2", "b1", "b2", "b1"]}),
    )  # fmt: skip
    embedded.upsert_nodes(
        "Customer",
        pd.DataFrame(
            {
                "id": ["c1", "c2", "c3", "c4"],
                "country": ["FR", "DE", "FR", "FR"],
                "is_anonymous": [False, False, True, False],
            }
        ),
    )
    embedded.upsert_nodes("Segment", pd.DataFrame({"id": ["s1"], "name": ["VIC"]}))
    embedded.upsert_edges(
        "IN_SEGMENT", pd.DataFrame({"source": ["c1", "c4"], "target": ["s1", "s1"], "score": 1.0})
    )
    return embedded


def _ids(rows: list[dict]) -> list[str]:
    return [row["id"] for row in rows]


def test_pages_follow_the_key(graph: GraphStore) -> None:
    first = product_page(graph, after=None, limit=2)
    assert _ids(first) == ["p1", "p2"]
    assert first[0]["name"] == "Tote" and first[0]["list_price"] == 90.0  # every property
    assert _ids(product_page(graph, after="p2", limit=2)) == ["p3", "p4"]
    assert _ids(product_page(graph, after="p4", limit=2)) == ["p5"]
    assert product_page(graph, after="p5", limit=2) == []


def test_a_category_matches_its_subcategories(graph: GraphStore) -> None:
    assert graph.subcategories(["bags"]) == ["bags", "totes"]
    assert _ids(product_page(graph, after=None, limit=10, categories=["bags"])) == ["p1", "p2"]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"brands": ["b2"]}, ["p2", "p4"]),
        ({"min_price": 50.0}, ["p1", "p4", "p5"]),
        ({"max_price": 40.0}, ["p2", "p3"]),
        ({"min_price": 30.0, "max_price": 100.0, "brands": ["b1"]}, ["p1"]),
        ({"is_in_stock": True}, ["p1", "p4", "p5"]),
        ({"is_in_stock": False}, ["p2", "p3"]),  # no stock figure: not in stock
    ],
)
def test_product_filters(graph: GraphStore, filters: dict, expected: list[str]) -> None:
    assert _ids(product_page(graph, after=None, limit=10, **filters)) == expected


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, ["c1", "c2", "c3", "c4"]),
        ({"country": "FR"}, ["c1", "c3", "c4"]),
        ({"segment": "s1"}, ["c1", "c4"]),
        ({"is_anonymous": True}, ["c3"]),
        ({"country": "FR", "is_anonymous": False, "after": "c1"}, ["c4"]),
    ],
)
def test_customer_filters(graph: GraphStore, filters: dict, expected: list[str]) -> None:
    after = filters.pop("after", None)
    assert _ids(customer_page(graph, after=after, limit=10, **filters)) == expected


def test_a_value_is_a_parameter_never_cypher(graph: GraphStore) -> None:
    assert customer_page(graph, after=None, limit=10, country="FR' OR true //") == []
