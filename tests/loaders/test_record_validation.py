"""The plain-record validator against the pandas one: the same rows, rejects and skips."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from pricegraph.errors import DataValidationError
from pricegraph.graph import GraphConfig, GraphStore, make_graph_store
from pricegraph.loaders import FileMapping, RefIndex, validate
from pricegraph.loaders.record_validation import validate_plain, validate_records
from pricegraph.loaders.validation import Validated

KNOWN = {
    "Brand": ["B1", "B2"],
    "Category": ["bags", "shoes"],
    "Product": ["P1", "P2", "P3"],
    "Customer": ["C1", "C2"],
    "Competitor": ["K1"],
}


@pytest.fixture(scope="module")
def refs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RefIndex]:
    """A reference index over an empty embedded store, with a few keys added by hand."""
    graph: GraphStore = make_graph_store(
        GraphConfig(path=tmp_path_factory.mktemp("refs") / "graph", buffer_pool_mb=64)
    )
    index = RefIndex(graph)
    for label, keys in KNOWN.items():
        index.add(label, keys)
    yield index
    graph.close()


def lines(*records: dict[str, Any]) -> list[dict[str, Any]]:
    """``records`` numbered as API items are: ``_line`` 1, 2, ..."""
    return [{**record, "_line": n} for n, record in enumerate(records, start=1)]


def assert_same(plain: Validated, reference: Validated) -> None:
    pd.testing.assert_frame_equal(plain.frame, reference.frame)
    pd.testing.assert_frame_equal(plain.rejects, reference.rejects)
    pd.testing.assert_frame_equal(plain.skipped, reference.skipped)


def both(
    kind: str, records: list[dict[str, Any]], refs: RefIndex
) -> tuple[Validated | None, Validated]:
    mapping = FileMapping(path=Path(f"graphql-{kind}"), kind=kind)
    return validate_plain(records, mapping, refs), validate(pd.DataFrame(records), mapping, refs)


P = {"product_id": "P9", "name": "Tote", "list_price": 90.0, "cost": 30.0, "brand_id": "B1"}
T0 = "2024-06-01T00:00:00"
PRICE = {"product_id": "P1", "price": 99.0, "kind": "list", "valid_from": T0}
VIEW = {"event_type": "view", "customer_id": "C1", "product_id": "P1", "ts": T0}
BUY = {**VIEW, "event_type": "purchase", "order_id": "O1", "qty": 2, "unit_price": 45.5}

PLAIN_CASES: dict[str, tuple[str, list[dict[str, Any]]]] = {
    "products good": ("products", lines(P, {**P, "product_id": "P8", "category_id": "bags"})),
    "products missing and blank": (
        "products",
        lines({**P, "name": None}, {"product_id": "P7", "list_price": 3.0}, {**P, "name": "  "}),
    ),
    "products bad numbers": (
        "products",
        lines(
            *[
                {**P, "product_id": f"P{i}", "list_price": price}
                for i, price in enumerate([-1.0, 0.0, math.nan, math.inf, -math.inf, 5e-324])
            ],
            {**P, "product_id": "Q1", "list_price": 1e308, "cost": -0.0},
            {**P, "product_id": "Q2", "list_price": 5},
        ),
    ),
    "products stock units": (
        "products",
        lines(
            *[
                {**P, "product_id": f"S{i}", "stock_units": n}
                for i, n in enumerate([1.5, -1, 3.0, 0, math.inf, 7, None])
            ]
        ),
    ),
    "products ints with a gap show as floats": (
        "products",
        lines({**P, "list_price": -5}, {**P, "product_id": "P8", "list_price": None}),
    ),
    "products references, trimming, currency": (
        "products",
        lines(
            {**P, "brand_id": "B9"},
            {**P, "product_id": " P8\t", "category_id": "nowhere", "currency": " GBP "},
            {**P, "product_id": "P7", "brand_id": " B2 "},
        ),
    ),
    "products duplicates": (
        "products",
        lines(P, dict(P), {**P, "name": "Tote bis"}, dict(P), {**P, "product_id": "P8"}),
    ),
    "prices good and derived ids": (
        "prices",
        lines(PRICE, {**PRICE, "kind": "markdown", "valid_from": "2024-06-01T02:00:00+02:00"}),
    ),
    "prices bad rules": (
        "prices",
        lines(
            {**PRICE, "kind": "sale"},
            {**PRICE, "kind": "competitor"},
            {**PRICE, "kind": "competitor", "competitor_id": "K1", "price": 0.0},
            {**PRICE, "valid_to": T0},
            {**PRICE, "valid_to": "2024-05-01T00:00:00.250000", "kind": "markdown"},
            {**PRICE, "product_id": "P404"},
            {**PRICE, "kind": "competitor", "competitor_id": "K2"},
            {**PRICE, "price": None},
        ),
    ),
    "prices same derived id": (
        "prices",
        lines(PRICE, {**PRICE, "price": 98.0}, {**PRICE, "valid_from": "2024-06-01T00:00:00Z"}),
    ),
    "prices mixed offsets": (
        "prices",
        lines(
            {**PRICE, "valid_from": "2024-06-01T00:00:00+05:30", "valid_to": "2024-06-02"},
            {**PRICE, "valid_from": "2024-06-01 10:00", "kind": "markdown"},
            {**PRICE, "valid_from": "2024-06-01T10:00Z", "kind": "transaction"},
        ),
    ),
    "events good and derived ids": (
        "events",
        lines(VIEW, BUY, {**BUY, "event_id": "E1"}, {**VIEW, "event_type": "cart", "qty": None}),
    ),
    "events bad rules": (
        "events",
        lines(
            {**BUY, "order_id": None},
            {**BUY, "unit_price": None, "qty": 0},
            {**BUY, "qty": 1.5},
            {**BUY, "unit_price": -1.0},
            {**BUY, "unit_price": 0.0, "event_id": "E2"},
            {**VIEW, "event_type": "click"},
            {**VIEW, "customer_id": "C404", "product_id": "P404"},
            {**BUY, "unit_price": math.nan, "event_id": "E3"},
            {**BUY, "unit_price": math.inf, "event_id": "E4"},
        ),
    ),
    "events duplicates": (
        "events",
        lines(VIEW, dict(VIEW), {**BUY, "event_id": "E1"}, {**VIEW, "event_id": "E1"}, BUY),
    ),
    "customers booleans": (
        "customers",
        lines(
            *[
                {"customer_id": f"C{i}", "is_anonymous": v, "signup_ts": T0}
                for i, v in enumerate([True, False, "yes", " N ", "maybe", None, ""])
            ]
        ),
    ),
    "competitor prices": (
        "competitor_prices",
        lines(
            {"competitor_id": "K1", "product_id": "P1", "price": 80.0, "valid_from": T0},
            {"competitor_id": "K9", "product_id": "P1", "price": 80.0, "valid_from": T0},
            {"competitor_id": "K1", "product_id": "P1", "price": 81.0, "valid_from": T0},
        ),
    ),
    "categories with parents in the batch": (
        "categories",
        lines(
            {"category_id": "boots", "name": "Boots", "parent_id": "shoes"},
            {"category_id": "heels", "name": "Heels", "parent_id": "boots"},
            {"category_id": "socks", "name": "Socks", "parent_id": "drawer"},
        ),
    ),
}


@pytest.mark.parametrize("case", list(PLAIN_CASES))
def test_plain_path_matches_pandas(case: str, refs: RefIndex) -> None:
    kind, records = PLAIN_CASES[case]
    plain, reference = both(kind, records, refs)
    assert plain is not None, "the plain path should handle API-shaped values"
    assert_same(plain, reference)


def test_the_cases_reject_and_accept_what_they_say(refs: RefIndex) -> None:
    plain, _ = both(*PLAIN_CASES["products bad numbers"], refs)
    assert plain is not None
    assert list(plain.rejects[["field", "value"]].itertuples(index=False)) == [
        *[("list_price", v) for v in ["-1.0", "0.0", "inf", "-inf", "5e-324"]],
        ("cost", "-0.0"),
        ("list_price", "1e+308"),
    ]
    assert set(plain.rejects["reason"]) == {"expected a number in [0.01, 1e+09]"}
    assert list(plain.frame["product_id"]) == ["P2", "Q2"]  # NaN: no price given
    shown, _ = both(*PLAIN_CASES["products ints with a gap show as floats"], refs)
    assert shown is not None and list(shown.rejects["value"]) == ["-5.0"]
    duplicates, _ = both(*PLAIN_CASES["products duplicates"], refs)
    assert duplicates is not None
    assert list(duplicates.skipped["reason"]) == ["exact duplicate of line 1"] * 2
    assert list(duplicates.rejects["reason"]) == ["duplicate product_id, first at line 1"]


DEFER_CASES: dict[str, tuple[str, list[dict[str, Any]]]] = {
    "a string in a number field": ("products", lines({**P, "list_price": "abc"})),
    "a numeric string": ("products", lines({**P, "list_price": " 12.5 "})),
    "a number in a text field": ("products", lines({**P, "name": 5})),
    "a bool in a number field": ("events", lines({**BUY, "qty": True})),
    "a huge integer": ("events", lines({**BUY, "qty": 2**70})),
    "a number in a bool field": ("customers", lines({"customer_id": "C1", "is_anonymous": 1})),
    "a bad time": ("prices", lines({**PRICE, "valid_from": "yesterday"})),
    "an impossible date": ("prices", lines({**PRICE, "valid_from": "2023-02-29"})),
    "a compact time": ("prices", lines({**PRICE, "valid_from": "20240601T100000"})),
    "nanoseconds": ("prices", lines({**PRICE, "valid_from": "2024-06-01T00:00:00.1234567"})),
    "a unicode space": ("products", lines({**P, "name": "Tote\u3000"})),
    "a control character": ("products", lines({**P, "name": "Tote\x1c"})),
    "a datetime object": ("prices", lines({**PRICE, "valid_from": pd.Timestamp(T0)})),
}


@pytest.mark.parametrize("case", list(DEFER_CASES))
def test_unplain_values_go_to_pandas(case: str, refs: RefIndex) -> None:
    kind, records = DEFER_CASES[case]
    plain, reference = both(kind, records, refs)
    assert plain is None
    mapping = FileMapping(path=Path(f"graphql-{kind}"), kind=kind)
    assert_same(validate_records(records, mapping, refs), reference)


def test_local_time_zones_go_to_pandas(refs: RefIndex) -> None:
    mapping = FileMapping(path=Path("prices.csv"), kind="prices", timezone="Europe/Paris")
    records = lines(PRICE)
    assert validate_plain(records, mapping, refs) is None
    expected = validate(pd.DataFrame(records), mapping, refs)
    assert_same(validate_records(records, mapping, refs), expected)
    assert expected.frame["valid_from"].iloc[0] == pd.Timestamp("2024-05-31T22:00:00")


def test_large_batches_go_to_pandas(refs: RefIndex) -> None:
    mapping = FileMapping(path=Path("graphql-products"), kind="products")
    records = lines(P, {**P, "product_id": "P8", "list_price": -1.0})
    small = validate_records(records, mapping, refs, small_batch_rows=1)
    assert_same(small, validate(pd.DataFrame(records), mapping, refs))


def test_a_missing_required_column_raises_the_same(refs: RefIndex) -> None:
    mapping = FileMapping(path=Path("graphql-products"), kind="products")
    records = lines({"name": "No id"})
    with pytest.raises(DataValidationError) as plain:
        validate_plain(records, mapping, refs)
    with pytest.raises(DataValidationError) as reference:
        validate(pd.DataFrame(records), mapping, refs)
    assert str(plain.value) == str(reference.value) and plain.value.field == "product_id"


POOLS: dict[str, dict[str, list[Any]]] = {
    "products": {
        "product_id": ["P1", "P9", " P9 ", "", None, "Q"],
        "name": ["Tote", "  ", None, "Bag"],
        "brand_id": ["B1", "B9", None],
        "category_id": ["bags", "nowhere", None],
        "list_price": [90.0, 0.0, -2.5, math.nan, math.inf, 12, None, 1e12, 0.005],
        "cost": [30.0, 0, None, -1.0],
        "stock_units": [3, 0, -1, 2.5, 4.0, None],
        "currency": ["EUR", " gbp", None],
    },
    "events": {
        "event_id": [None, "E1", "E2"],
        "event_type": ["view", "purchase", "return", "cart", "click"],
        "customer_id": ["C1", "C2", "C9"],
        "product_id": ["P1", "P2", "P9"],
        "ts": [T0, "2024-06-01T02:00:00+02:00", "2024-06-01 00:00:00.5", "2024-06-01", None],
        "order_id": ["O1", None, " "],
        "qty": [1, 2, 0, 1.5, None],
        "unit_price": [10.0, 0.0, -0.0, -1.0, math.nan, None, 2],
        "currency": ["EUR", None],
    },
    "prices": {
        "price_point_id": [None, "PP1"],
        "product_id": ["P1", "P2", "P9"],
        "price": [99.0, 0.0, -1.0, 1e9, 1e10, None],
        "kind": ["list", "markdown", "competitor", "sale"],
        "valid_from": [T0, "2024-06-01T00:00:00Z", "2024-07-01T00:00", None],
        "valid_to": [None, T0, "2024-08-01T00:00:00+01:00"],
        "competitor_id": [None, "K1", "K9"],
        "source": [None, "feed"],
    },
}


@pytest.mark.parametrize("kind", list(POOLS))
def test_random_batches_match_pandas(kind: str, refs: RefIndex) -> None:
    """Random batches of good and bad values (fields sometimes absent): where the plain
    path answers, it answers exactly as pandas does."""
    rng = random.Random(13)
    pool, answered = POOLS[kind], 0
    for _ in range(150):
        size = rng.randint(1, 6)
        names = [name for name in pool if rng.random() < 0.85]
        records = lines(
            *[{name: rng.choice(pool[name]) for name in names if rng.random() < 0.9}
              for _ in range(size)]
        )  # fmt: skip
        try:
            plain, reference = both(kind, records, refs)
        except DataValidationError:  # a required column absent: both raise (tested above)
            continue
        if plain is not None:
            answered += 1
            assert_same(plain, reference)
    assert answered >= 50
