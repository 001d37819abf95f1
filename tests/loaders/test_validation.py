"""``validate`` messages: every reject names the file, the row and the field, and says
what was expected and what was found."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pricegraph.errors import DataValidationError
from pricegraph.graph import GraphConfig, GraphStore, make_graph_store
from pricegraph.loaders import FileMapping, RefIndex, validate
from pricegraph.loaders.readers import read_raw
from pricegraph.loaders.validation import rejects_message

PRODUCTS = """product_id,name,list_price,cost,brand_id
P1,Tote,90.0,30.0,B1
P2,Clutch,-3.5,10.0,B1
P3,Scarf,abc,10.0,B1
P4,Belt,20.0,5.0,B9
,Wallet,20.0,5.0,B1
"""


@pytest.fixture
def refs(tmp_path: Path) -> Iterator[RefIndex]:
    graph: GraphStore = make_graph_store(GraphConfig(path=tmp_path / "graph", buffer_pool_mb=64))
    index = RefIndex(graph)
    index.add("Brand", ["B1"])
    yield index
    graph.close()


def _mapping(tmp_path: Path, text: str) -> FileMapping:
    path = tmp_path / "products.csv"
    path.write_text(text, encoding="utf-8")
    return FileMapping(path=path, kind="products")


def test_each_reject_names_file_row_field_expectation_and_value(
    tmp_path: Path, refs: RefIndex
) -> None:
    mapping = _mapping(tmp_path, PRODUCTS)
    checked = validate(read_raw(mapping), mapping, refs)
    assert list(checked.frame["product_id"]) == ["P1"]
    messages = rejects_message(checked.rejects, limit=10)
    # The header is line 1: P2 is on line 3.
    assert messages[0].startswith('products.csv row 3, field "list_price": expected')
    assert messages[0].endswith(', got "-3.5"')
    assert messages[1].startswith('products.csv row 4, field "list_price": expected')
    assert messages[1].endswith(', got "abc"')
    assert messages[2] == 'products.csv row 5, field "brand_id": unknown Brand id, got "B9"'
    assert messages[3] == 'products.csv row 6, field "product_id": missing required value, got ""'
    assert checked.rejected_rows == 4


def test_a_long_value_is_quoted_cut(tmp_path: Path, refs: RefIndex) -> None:
    text = "product_id,name,list_price,cost,brand_id\nP1,Tote," + "9" * 300 + "x,1.0,B1\n"
    mapping = _mapping(tmp_path, text)
    message = rejects_message(validate(read_raw(mapping), mapping, refs).rejects)[0]
    assert message.startswith('products.csv row 2, field "list_price"')
    assert message.endswith('\u2026"') and len(message) < 300


def test_a_missing_required_column_names_the_file_the_field_and_the_fix(
    tmp_path: Path, refs: RefIndex
) -> None:
    mapping = _mapping(tmp_path, "name,list_price\nTote,1.0\n")  # no product_id
    with pytest.raises(DataValidationError) as info:
        validate(read_raw(mapping), mapping, refs)
    error = info.value
    assert error.path is not None and error.path.endswith("products.csv")
    assert error.field == "product_id" and "product_id" in str(error)
    assert "required column missing" in str(error) and "--map" in str(error)
