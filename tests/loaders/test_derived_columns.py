"""Derived columns in the mapping: a retailer's files load as they are, without pandas.

A small grocery-like world: product names from two columns, a two-level category path
whose second level recurs under two departments (ids prefixed by the department),
brands from the manufacturer column of the products file, customers that only appear
in the transactions file, unit price = (sales - coupon discount) / quantity, and the
discount, coupon, store and channel kept on the events.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from pricegraph.errors import ConfigError, DataValidationError
from pricegraph.graph import GraphStore
from pricegraph.loaders import FileMapping, load_files, read_mapping
from pricegraph.loaders.derive import evaluate, parse_expression
from pricegraph.loaders.validation import HEAD_ROWS

PRODUCTS = (
    "PRODUCT_ID,MANUFACTURER,DEPARTMENT,COMMODITY_DESC,SUB_COMMODITY_DESC,CURR_SIZE\n"
    "1,69,GROCERY,SOUP,CANNED SOUP,10.5 OZ\n"
    "2,69,GROCERY,SNACKS,CHIPS,12 OZ\n"
    "3,12,DELI,SNACKS,PRETZELS,\n"
)
TRANSACTIONS = (
    "household_key,BASKET_ID,PRODUCT_ID,QUANTITY,SALES_VALUE,COUPON_DISC,DAY,STORE_ID\n"
    "7,B1,1,2,3.00,-0.50,2025-01-02,364\n"
    "7,B1,2,1,2.00,0,2025-01-02,364\n"
    "8,B2,3,4,6.00,-1.00,2025-01-03,412\n"
    "8,B2,1,0,0.00,0,2025-01-03,412\n"
)
MAPPING = """
[[files]]
path = "product.csv"
kind = "brands"
[files.derive]
brand_id = "'M' || MANUFACTURER"
name = "CONCAT('Manufacturer ', MANUFACTURER)"

[[files]]
path = "product.csv"
kind = "categories"
[files.derive]
category_id = "DEPARTMENT"
name = "DEPARTMENT"

[[files]]
path = "product.csv"
kind = "categories"
[files.derive]
category_id = "DEPARTMENT || '/' || COMMODITY_DESC"
name = "COMMODITY_DESC"
parent_id = "DEPARTMENT"

[[files]]
path = "product.csv"
kind = "products"
[files.columns]
product_id = "PRODUCT_ID"
[files.derive]
name = "SUB_COMMODITY_DESC || COALESCE(' ' || CURR_SIZE, '')"
brand_id = "'M' || MANUFACTURER"
category_id = "DEPARTMENT || '/' || COMMODITY_DESC"
[files.constants]
currency = "USD"

[[files]]
path = "transaction_data.csv"
kind = "customers"
[files.derive]
customer_id = "household_key"

[[files]]
path = "transaction_data.csv"
kind = "events"
[files.columns]
customer_id = "household_key"
product_id = "PRODUCT_ID"
order_id = "BASKET_ID"
qty = "QUANTITY"
ts = "DAY"
store_id = "STORE_ID"
[files.derive]
unit_price = "(SALES_VALUE + COUPON_DISC) / QUANTITY"
discount = "-COUPON_DISC"
[files.constants]
event_type = "purchase"
currency = "USD"
channel = "store"
"""


def _world(folder: Path, mapping: str = MAPPING) -> Path:
    (folder / "product.csv").write_text(PRODUCTS, encoding="utf-8")
    (folder / "transaction_data.csv").write_text(TRANSACTIONS, encoding="utf-8")
    path = folder / "mapping.toml"
    path.write_text(mapping, encoding="utf-8")
    return path


def test_a_retailers_files_load_as_they_are(embedded: GraphStore, tmp_path: Path) -> None:
    report = load_files(embedded, read_mapping(_world(tmp_path)), rejects_dir=tmp_path / "rej")
    counts = embedded.counts()
    assert counts["Brand"] == 2 and counts["Product"] == 3 and counts["Customer"] == 2
    categories = embedded.read_cypher(
        "MATCH (c:Category) OPTIONAL MATCH (c)-[:CHILD_OF]->(p:Category) "
        "RETURN c.id AS id, c.name AS name, p.id AS parent ORDER BY id"
    )
    categories = categories.astype(object).where(categories.notna(), None)
    assert categories.to_dict("records") == [
        {"id": "DELI", "name": "DELI", "parent": None},
        {"id": "DELI/SNACKS", "name": "SNACKS", "parent": "DELI"},
        {"id": "GROCERY", "name": "GROCERY", "parent": None},
        {"id": "GROCERY/SNACKS", "name": "SNACKS", "parent": "GROCERY"},
        {"id": "GROCERY/SOUP", "name": "SOUP", "parent": "GROCERY"},
    ]
    products = embedded.read_cypher(
        "MATCH (p:Product)-[:OF_BRAND]->(b:Brand), (p)-[:IN_CATEGORY]->(c:Category) "
        "RETURN p.id AS id, p.name AS name, b.name AS brand, c.id AS category ORDER BY id"
    )
    assert products.to_dict("records") == [
        {"id": "1", "name": "CANNED SOUP 10.5 OZ", "brand": "Manufacturer 69",
         "category": "GROCERY/SOUP"},
        {"id": "2", "name": "CHIPS 12 OZ", "brand": "Manufacturer 69",
         "category": "GROCERY/SNACKS"},
        {"id": "3", "name": "PRETZELS", "brand": "Manufacturer 12", "category": "DELI/SNACKS"},
    ]  # fmt: skip
    events = embedded.read_cypher(
        "MATCH (c:Customer)-[r:PURCHASED]->(p:Product) RETURN c.id AS customer, "
        "p.id AS product, r.qty AS qty, r.unit_price AS unit_price, r.discount AS discount, "
        "r.store_id AS store, r.channel AS channel ORDER BY customer, product"
    )
    assert events.to_dict("records") == [
        {"customer": "7", "product": "1", "qty": 2, "unit_price": 1.25, "discount": 0.5,
         "store": "364", "channel": "store"},
        {"customer": "7", "product": "2", "qty": 1, "unit_price": 2.0, "discount": 0.0,
         "store": "364", "channel": "store"},
        {"customer": "8", "product": "3", "qty": 4, "unit_price": 1.25, "discount": 1.0,
         "store": "412", "channel": "store"},
    ]  # fmt: skip
    by_kind = {(f.path.name, f.kind): f for f in report.files}
    assert by_kind[("transaction_data.csv", "customers")].skipped == 2  # repeated households
    bad = by_kind[("transaction_data.csv", "events")]
    assert bad.rejected == 1
    assert bad.first_rejects[0].startswith(
        'transaction_data.csv row 5, field "qty": expected a whole number >= 1'
    )
    rejects = pd.read_csv(bad.rejects_path)
    unit_price = rejects[rejects["field"] == "unit_price"].iloc[0]
    assert unit_price["reason"] == "cannot compute: division by zero"
    assert unit_price["value"] == "SALES_VALUE=0.00, COUPON_DISC=0, QUANTITY=0"
    assert bad.rejects_path.name == "transaction_data.csv.events-2.rejects.csv"

    again = load_files(embedded, read_mapping(tmp_path / "mapping.toml"), rejects_dir=tmp_path)
    assert embedded.counts() == counts
    assert sum(f.result.created + f.result.updated for f in again.files) == 0


def test_a_bad_value_in_an_expression_rejects_the_row_naming_the_inputs(
    embedded: GraphStore, tmp_path: Path
) -> None:
    (tmp_path / "p.csv").write_text("sku,title,price,vat\nA,Milk,1.10,0.2\nB,Eggs,n/a,0.2\n")
    mapping = FileMapping(
        tmp_path / "p.csv",
        "products",
        columns={"product_id": "sku", "name": "title"},
        derived={"list_price": "round(price * (1 + vat), 2)"},
    )
    report = load_files(embedded, [mapping], rejects_dir=tmp_path / "rej").files[0]
    assert (report.loaded, report.rejected) == (1, 1)
    assert report.first_rejects == [
        'p.csv row 3, field "list_price": cannot compute: price is not a number, '
        'got "price=n/a, vat=0.2"'
    ]
    stored = embedded.read_cypher("MATCH (p:Product) RETURN p.list_price AS price")
    assert stored["price"].tolist() == [1.32]


def test_an_expression_naming_a_missing_column_stops_the_load(
    embedded: GraphStore, tmp_path: Path
) -> None:
    (tmp_path / "p.csv").write_text("sku,title\nA,Milk\n")
    mapping = FileMapping(
        tmp_path / "p.csv", "products", derived={"product_id": "sku", "name": "concat(titel)"}
    )
    with pytest.raises(DataValidationError) as info:
        load_files(embedded, [mapping], rejects_dir=tmp_path)
    message = str(info.value)
    assert "p.csv" in message and "derive.name" in message and "'titel'" in message
    assert "did you mean 'title'" in message
    assert embedded.counts().get("Product", 0) == 0


@pytest.mark.parametrize(
    ("expression", "error"),
    [
        ("(a + b", "unable to parse '(a + b' as Expr"),
        ("a + ", "unable to parse 'a + ' as Expr"),
        ("upper(a, b)", "no function matches the given name and arguments"),
        ("eval(a)", "unsupported function 'eval'"),
        ("a; b", "found unexpected token ';'"),
        ("__import__('os')", "unsupported function '__import__'"),
        ("read_csv('/etc/passwd')", "unsupported function 'read_csv'"),
        ("Sales Value", 'put a column name with spaces in double quotes: "Sales Value"'),
        (" ", "empty expression"),
    ],
)
def test_a_bad_expression_is_a_config_error_naming_the_file_and_key(
    tmp_path: Path, expression: str, error: str
) -> None:
    path = tmp_path / "mapping.toml"
    path.write_text(
        f"[[files]]\npath = 'p.csv'\nkind = 'products'\n[files.derive]\nname = '''{expression}'''\n"
    )
    with pytest.raises(ConfigError) as info:
        read_mapping(path)
    message = str(info.value)
    assert "[[files]] #1" in message and "[files.derive] name" in message and error in message


def test_mapping_tables_and_keys_are_checked(tmp_path: Path) -> None:
    path = tmp_path / "mapping.toml"
    path.write_text('[[files]]\npath = "p.csv"\nkind = "products"\n[files.derive]\ncost = 3\n')
    with pytest.raises(ConfigError, match="must be an expression in quotes"):
        read_mapping(path)
    path.write_text('[default]\ntimezone = "UTC"\n[[files]]\npath = "p.csv"\nkind = "products"\n')
    with pytest.raises(ConfigError, match=r"unknown keys \['default'\]"):
        read_mapping(path)
    with pytest.raises(ConfigError, match="both derived and mapped"):
        FileMapping(tmp_path / "p.csv", "products", columns={"name": "a"}, derived={"name": "b"})
    with pytest.raises(ConfigError, match="attributes apply to kinds customers, products"):
        FileMapping(tmp_path / "e.csv", "events", attributes={"age": "AGE"})


def test_expressions_compute_column_wise() -> None:
    frame = pd.DataFrame({"a": ["1", "2", "", "x"], "b": [2.0, 0.0, 1.0, 1.0]})
    frame["c d"] = [" u ", "v", None, "z"]
    result = evaluate(parse_expression("-a / b + 1"), frame, numeric=True)
    assert result.values.iloc[0] == 0.5 and pd.isna(result.values.iloc[2])
    assert result.bad.tolist() == [False, True, False, True]
    assert result.reasons.tolist() == ["", "division by zero", "", "a is not a number"]
    comma = evaluate(parse_expression("a * 2"), pd.DataFrame({"a": ["1,5", " 3 "]}), True)
    assert comma.reasons.tolist() == ["a is not a number", ""]  # never read as 15
    assert comma.values.tolist()[1] == 6.0
    text = evaluate(parse_expression('upper(trim("c d"))'), frame, numeric=False)
    assert text.values.tolist() == ["U", "V", None, "Z"]
    strict = evaluate(parse_expression("a || '-' || b"), frame, numeric=False)
    assert strict.values.tolist() == ["1-2", "2-0", None, "x-1"]  # missing when a part is
    lenient = evaluate(parse_expression("concat(a, '-', b)"), frame, numeric=False)
    assert lenient.values.tolist() == ["1-2", "2-0", "-1", "x-1"]  # SQL's CONCAT skips it
    coalesced = evaluate(parse_expression("coalesce(a, 'none')"), frame, numeric=False)
    assert coalesced.values.tolist() == ["1", "2", "none", "x"]


def test_text_columns_stay_text_in_a_numeric_expression() -> None:
    frame = pd.DataFrame({"dept": ["DELI", "GROCERY", "DELI"], "price": ["2", "3", "4"]})
    case = "CASE WHEN dept = 'DELI' THEN price * 1.1 ELSE price END"
    result = evaluate(parse_expression(case), frame, numeric=True)
    assert result.values.round(2).tolist() == [2.2, 3.0, 4.4] and not result.bad.any()
    with pytest.raises(ValueError, match="not a number"):
        evaluate(parse_expression("dept"), frame, numeric=True)
    with pytest.raises(ValueError, match="an aggregate"):
        evaluate(parse_expression("sum(price)"), frame, numeric=True)


def test_an_attribute_is_a_number_only_where_every_value_is_one() -> None:
    frame = pd.DataFrame({"size": ["2", "5+", "1"], "income": ["35", "50", "75"]})
    sizes = evaluate(parse_expression("size"), frame, numeric=None)
    assert not sizes.is_numeric and sizes.values.tolist() == ["2", "5+", "1"]
    scaled = evaluate(parse_expression("income * 1000"), frame, numeric=None)
    assert scaled.is_numeric and scaled.values.tolist() == [35000.0, 50000.0, 75000.0]
    constant = evaluate(parse_expression("'store'"), frame, numeric=False)
    assert constant.values.tolist() == ["store"] * 3


def test_customer_attributes_are_typed_and_protected_ones_are_named(
    embedded: GraphStore, tmp_path: Path
) -> None:
    (tmp_path / "hh.csv").write_text(
        "household_key,AGE_DESC,MARITAL_STATUS_CODE,INCOME_DESC,HOUSEHOLD_SIZE_DESC,NOTES\n"
        "7,45-54,A,35-49K,2,likes soup\n"
        "8,25-34,,50-74K,1,Age: 30. Married.\n"
    )
    mapping = FileMapping(
        tmp_path / "hh.csv",
        "customers",
        columns={"customer_id": "household_key", "profile_text": "NOTES"},
        attributes={
            "age": "AGE_DESC",
            "marital_status": "MARITAL_STATUS_CODE",
            "income": "INCOME_DESC",
            "household_size": "HOUSEHOLD_SIZE_DESC",
        },
    )
    report = load_files(embedded, [mapping], rejects_dir=tmp_path).files[0]
    stored = embedded.read_cypher(
        "MATCH (c:Customer) RETURN c.id AS id, c.attributes AS attributes ORDER BY id"
    )
    assert [json.loads(a) for a in stored["attributes"]] == [
        {"age": "45-54", "household_size": 2, "income": "35-49K", "marital_status": "A"},
        {"age": "25-34", "household_size": 1, "income": "50-74K"},
    ]
    attributes, texts = report.notes
    assert attributes.startswith(
        "customer attributes that are protected, proxies or demographics: age (protected), "
        "household_size (demographic), income (demographic), marital_status (protected);"
    )
    assert texts.startswith("1 profile text states demographics (age, married)")


def test_a_customers_attributes_column_must_hold_json_objects(
    embedded: GraphStore, tmp_path: Path
) -> None:
    (tmp_path / "c.jsonl").write_text(
        '{"customer_id": "C1", "attributes": {"loyalty_tier": "gold", "visits": 3}}\n'
        '{"customer_id": "C2", "attributes": "gold"}\n'
    )
    report = load_files(
        embedded, [FileMapping(tmp_path / "c.jsonl", "customers")], rejects_dir=tmp_path
    ).files[0]
    assert (report.loaded, report.rejected) == (1, 1)
    assert report.first_rejects == [
        'c.jsonl row 2, field "attributes": expected a JSON object, got "gold"'
    ]
    assert report.notes == ()
    stored = embedded.read_cypher("MATCH (c:Customer) RETURN c.attributes AS a")
    assert stored["a"].tolist() == ['{"loyalty_tier":"gold","visits":3}']


def test_the_mappings_currency_fills_rows_without_one(embedded: GraphStore, tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text(
        "product_id,name,list_price,currency\nA,Milk,1.1,\nB,Tea,2,GBP\n"
    )
    (tmp_path / "mapping.toml").write_text(
        '[defaults]\ncurrency = "USD"\n[[files]]\npath = "p.csv"\nkind = "products"\n'
    )
    load_files(embedded, read_mapping(tmp_path / "mapping.toml"), rejects_dir=tmp_path)
    stored = embedded.read_cypher("MATCH (p:Product) RETURN p.currency AS c ORDER BY p.id")
    assert stored["c"].tolist() == ["USD", "GBP"]
    with pytest.raises(ConfigError, match="currency 'usd' is not an ISO 4217 code"):
        FileMapping(tmp_path / "p.csv", "products", currency="usd")


DEPARTMENTS_THEN_SALES = """
[[files]]
path = "dept.csv"
kind = "categories"
[files.derive]
category_id = "DEPARTMENT"
name = "DEPARTMENT"

[[files]]
path = "sales.csv"
kind = "events"
[files.columns]
customer_id = "household_key"
product_id = "PRODUCT_ID"
qty = "QUANTITY"
ts = "DAY"
[files.derive]
unit_price = "{expression}"
[files.constants]
event_type = "purchase"
"""


@pytest.mark.parametrize(
    ("expression", "error"),
    [
        ("DEPARTMENT * 2", "cannot be computed on this file"),  # text where a number is needed
        ("SUM(QUANTITY)", "gives 1 values for 2 rows (an aggregate?)"),
        ("DEPARTMENT", "computes text (['GROCERY']), not a number"),
    ],
)
def test_an_expression_that_cannot_be_computed_stops_the_load_before_anything_is_written(
    embedded: GraphStore, tmp_path: Path, expression: str, error: str
) -> None:
    (tmp_path / "dept.csv").write_text("DEPARTMENT\nGROCERY\nDELI\n", encoding="utf-8")
    (tmp_path / "sales.csv").write_text(
        "household_key,PRODUCT_ID,DEPARTMENT,QUANTITY,DAY\n"
        "7,1,GROCERY,2,2025-01-02\n8,2,DELI,1,2025-01-03\n",
        encoding="utf-8",
    )
    path = tmp_path / "mapping.toml"
    path.write_text(DEPARTMENTS_THEN_SALES.format(expression=expression), encoding="utf-8")
    with pytest.raises(DataValidationError) as info:
        load_files(embedded, read_mapping(path), rejects_dir=tmp_path / "rej")
    message = str(info.value)
    assert message.startswith(f"{tmp_path / 'sales.csv'}")
    assert f"[[files]] #2: [files.derive] unit_price = '{expression}'" in message
    assert error in message and "\n" not in message
    assert not any(embedded.counts().values())  # dept.csv, loaded first, is not written


def _products(path: Path, prices: list[str]) -> None:
    rows = [f"P{i},Tote {i},{price}" for i, price in enumerate(prices)]
    path.write_text("sku,title,price\n" + "\n".join(rows) + "\n", encoding="utf-8")


def test_text_in_the_first_rows_of_a_column_that_holds_numbers_is_rejected_per_row(
    embedded: GraphStore, tmp_path: Path
) -> None:
    _products(tmp_path / "p.csv", ["n/a"] * HEAD_ROWS + ["5"] * 3)  # numbers after the head
    mapping = FileMapping(
        tmp_path / "p.csv",
        "products",
        columns={"product_id": "sku", "name": "title"},
        derived={"list_price": "price * 2"},
    )
    report = load_files(embedded, [mapping], rejects_dir=tmp_path / "rej").files[0]
    assert (report.loaded, report.rejected) == (3, HEAD_ROWS)
    assert report.first_rejects[0] == (
        'p.csv row 2, field "list_price": cannot compute: price is not a number, got "price=n/a"'
    )
    stored = embedded.read_cypher("MATCH (p:Product) RETURN p.list_price AS price")
    assert stored["price"].tolist() == [10.0] * 3


def test_a_column_empty_in_the_first_rows_and_text_further_on_stops_at_its_file(
    embedded: GraphStore, tmp_path: Path
) -> None:
    (tmp_path / "b.csv").write_text("brand_id,name\nB1,Verne\n", encoding="utf-8")
    _products(tmp_path / "p.csv", [""] * HEAD_ROWS + ["ask"])
    mappings = [
        FileMapping(tmp_path / "b.csv", "brands"),
        FileMapping(
            tmp_path / "p.csv",
            "products",
            columns={"product_id": "sku", "name": "title"},
            derived={"list_price": "price * 2"},
        ),
    ]
    with pytest.raises(DataValidationError, match="list_price = 'price \\* 2' cannot be computed"):
        load_files(embedded, mappings, rejects_dir=tmp_path / "rej")
    counts = embedded.counts()  # what the README says: the files before it are written
    assert counts["Brand"] == 1 and counts.get("Product", 0) == 0


@pytest.mark.parametrize(
    "expression",
    ["CASE WHEN n IN (SELECT 1) THEN 1 ELSE 0 END", "EXISTS (SELECT 1)", "n IN (VALUES (1))"],
)
def test_a_subquery_is_refused_naming_the_mapping_entry(tmp_path: Path, expression: str) -> None:
    path = tmp_path / "mapping.toml"
    path.write_text(
        "[[files]]\npath = 'p.csv'\nkind = 'products'\n"
        f"[files.derive]\nlist_price = '''{expression}'''\n"
    )
    with pytest.raises(ConfigError) as info:
        read_mapping(path)
    message = str(info.value)
    assert "[[files]] #1" in message and "\n" not in message
    assert f"[files.derive] list_price = {expression!r}: a subquery (SELECT ...)" in message
    assert "_POLARS_TMP_SQL" not in message
    assert parse_expression('"SubPlan" || n').columns == ("SubPlan", "n")  # a name, not a plan
