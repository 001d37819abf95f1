"""The value rules (dates in range, keys, text lengths, UTF-8 text, line amounts,
currency codes) refuse the same rows, with the same field and reason, on both paths:
the plain validator of API writes and the pandas validator of files; the good rows of
the same batch are stored, and a re-run changes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from pricegraph.graph import GraphConfig, GraphStore, make_graph_store
from pricegraph.loaders import FileMapping, RefIndex, load_files, validate
from pricegraph.loaders.readers import read_raw, records_frame
from pricegraph.loaders.record_validation import validate_plain
from pricegraph.loaders.service import load_records
from pricegraph.loaders.validation import Validated
from pricegraph.loaders.value_rules import (
    GROSS_AMOUNT_REASON,
    KEY_REASON,
    LINE_AMOUNT_REASON,
    NOT_UTF8,
    is_key,
    length_reason,
    shown,
)

DATE = "expected a date-time (ISO 8601) in the years 1900 to 2199"
CURRENCY = "expected an ISO 4217 currency code (three capital letters, e.g. EUR)"
T0 = "2024-06-01T10:00:00Z"
VIEW = {"event_type": "view", "customer_id": "C1", "product_id": "P1", "ts": T0}
BUY = {**VIEW, "event_type": "purchase", "order_id": "O1", "qty": 1, "unit_price": 100.0}
PRICE = {"product_id": "P1", "price": 90.0, "kind": "list", "valid_from": T0}
SEED = {
    "brands": [{"brand_id": "B1", "name": "Acme"}],
    "products": [{"product_id": "P1", "name": "Tote", "brand_id": "B1"}],
    "customers": [{"customer_id": "C1"}],
}


def lines(*records: dict[str, Any]) -> list[dict[str, Any]]:
    """``records`` numbered as API items are: ``_line`` 1, 2, ..."""
    return [{**record, "_line": n} for n, record in enumerate(records, start=1)]


Case = tuple[str, list[dict[str, Any]], list[tuple[int, str, str]]]
"""Kind, records, and the rejects expected: ``(line, field, reason)``."""

CASES: dict[str, Case] = {
    "event dates": (
        "events",
        lines(
            {**VIEW, "event_id": "E-D1", "ts": "1900-01-01T00:00:00Z"},
            {**VIEW, "event_id": "E-D2", "ts": "0001-01-01T00:00:00Z"},
            {**VIEW, "event_id": "E-D3", "ts": "3000-01-01T00:00:00Z"},
            {**VIEW, "event_id": "E-D4", "ts": "2199-12-31T23:59:59Z"},
            {**VIEW, "event_id": "E-D5", "ts": "1899-12-31T23:59:59"},
        ),
        [(2, "ts", DATE), (3, "ts", DATE), (5, "ts", DATE)],
    ),
    "price dates": (
        "prices",
        lines(
            {**PRICE, "valid_from": "1900-01-01T00:00:00Z"},
            {**PRICE, "valid_from": "1899-06-01T00:00:00Z"},
            {**PRICE, "valid_from": "2200-01-01T00:00:00Z"},
            {**PRICE, "kind": "markdown", "valid_to": "2200-01-01T00:00:00"},
            {**PRICE, "kind": "markdown", "valid_from": "2100-01-01", "valid_to": "2199-12-31"},
        ),
        [(2, "valid_from", DATE), (3, "valid_from", DATE), (4, "valid_to", DATE)],
    ),
    "customer dates": (
        "customers",
        lines(
            {"customer_id": "C-S1", "signup_ts": "1850-01-01T00:00:00"},
            {"customer_id": "C-S2", "signup_ts": "2024-01-01T00:00:00"},
        ),
        [(1, "signup_ts", DATE)],
    ),
    "product keys": (
        "products",
        lines(
            {"product_id": "X\x004", "name": "Nul"},
            {"product_id": "X\n5", "name": "Newline"},
            {"product_id": "X\u202e6", "name": "Right-to-left override"},
            {"product_id": "P" * 201, "name": "Too long"},
            {"product_id": "P" * 200, "name": "Longest"},
            {"product_id": "kund-\u00f8-\u65e5\u672c", "name": "Unicode"},
            {"product_id": "85123A", "name": "Online Retail", "brand_id": "B\x01x"},
            {"product_id": "85123B", "name": "Online Retail", "category_id": "c\u200bx"},
        ),
        [
            (1, "product_id", KEY_REASON),
            (2, "product_id", KEY_REASON),
            (3, "product_id", KEY_REASON),
            (4, "product_id", KEY_REASON),
            (7, "brand_id", KEY_REASON),
            (8, "category_id", KEY_REASON),
        ],
    ),
    "event keys": (
        "events",
        lines(
            {**BUY, "event_id": "E\x00N"},
            {**BUY, "event_id": "E" * 10_000},
            {**BUY, "event_id": "E-K3", "order_id": "O\x7fx"},
            {**BUY, "event_id": "E-K4", "store_id": "S\u2028x", "promotion_id": "C536379"},
            {**BUY, "event_id": "E-K5", "order_id": "C536379", "customer_id": "C\tx"},
            {**BUY, "event_id": "E-K6", "order_id": "536365", "promotion_id": "SPRING"},
        ),
        [
            (1, "event_id", KEY_REASON),
            (2, "event_id", KEY_REASON),
            (3, "order_id", KEY_REASON),
            (4, "store_id", KEY_REASON),
            (5, "customer_id", KEY_REASON),
        ],
    ),
    "price point and competitor keys": (
        "prices",
        lines(
            {**PRICE, "price_point_id": "PP\t1"},
            {**PRICE, "price_point_id": "PP-2"},
            {**PRICE, "kind": "competitor", "competitor_id": "K\x00x"},
        ),
        [(1, "price_point_id", KEY_REASON), (3, "competitor_id", KEY_REASON)],
    ),
    "text lengths": (
        "products",
        lines(
            {"product_id": "P-L1", "name": "n" * 500, "description": "d" * 10_000},
            {"product_id": "P-L2", "name": "n" * 501},
            {"product_id": "P-L3", "name": "Long text", "description": "d" * 10_001},
            {"product_id": "P-L4", "name": "Long attributes", "attributes": "a=" + "x" * 10_000},
        ),
        [
            (2, "name", length_reason(500)),
            (3, "description", length_reason(10_000)),
            (4, "attributes", length_reason(10_000)),
        ],
    ),
    "event channel length": (
        "events",
        lines(
            {**VIEW, "event_id": "E-C1", "channel": "c" * 200},
            {**VIEW, "event_id": "E-C2", "channel": "c" * 201},
        ),
        [(2, "channel", length_reason(200))],
    ),
    "text that is not UTF-8": (
        "products",
        lines(
            {"product_id": "P-U1", "name": "a\udc00b"},
            {"product_id": "P-U2", "name": "Fine", "description": "\ud800"},
            {"product_id": "P\udfff3", "name": "Bad key"},
            {"product_id": "P-U4", "name": "\u00c9charpe \U0001f9e3 N\u0153ud"},
        ),
        [(1, "name", NOT_UTF8), (2, "description", NOT_UTF8), (3, "product_id", NOT_UTF8)],
    ),
    "line amounts and currencies": (
        "events",
        lines(
            {**BUY, "event_id": "E-A1", "qty": 2, "unit_price": 6e8},
            {**BUY, "event_id": "E-A2", "discount": 1e9},
            {**BUY, "event_id": "E-A3", "qty": 10, "unit_price": 1e8},
            {**BUY, "event_id": "E-A4", "discount": 150.0},
            {**BUY, "event_id": "E-A5", "currency": "usd"},
            {**BUY, "event_id": "E-A6", "currency": "not-a-currency"},
            {**BUY, "event_id": "E-A7", "currency": " GBP "},
            {**BUY, "event_id": "E-A8", "unit_price": 2e9},
        ),
        [
            (1, "qty", LINE_AMOUNT_REASON),
            (2, "discount", GROSS_AMOUNT_REASON),
            (5, "currency", CURRENCY),
            (6, "currency", CURRENCY),
            (8, "unit_price", "expected a number in [0, 1e+09]"),
        ],
    ),
    "product currencies": (
        "products",
        lines(
            {"product_id": "P-C1", "name": "Euro", "currency": "EUR"},
            {"product_id": "P-C2", "name": "Lower", "currency": "eur"},
            {"product_id": "P-C3", "name": "Four", "currency": "EURO"},
        ),
        [(2, "currency", CURRENCY), (3, "currency", CURRENCY)],
    ),
}


def seed(store: GraphStore) -> RefIndex:
    """The brand, product and customer the cases name."""
    refs = RefIndex(store)
    for kind, records in SEED.items():
        _, checked = load_records(store, kind, lines(*records), refs, source="seed")
        assert checked.rejects.empty
    return refs


@pytest.fixture(scope="module")
def refs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RefIndex]:
    graph = make_graph_store(
        GraphConfig(path=tmp_path_factory.mktemp("rules") / "graph", buffer_pool_mb=64)
    )
    yield seed(graph)
    graph.close()


def refused(checked: Validated) -> list[tuple[int, str, str]]:
    return [(int(r.line), r.field, r.reason) for r in checked.rejects.itertuples()]


def good_lines(records: list[dict[str, Any]], expected: list[tuple[int, str, str]]) -> list[int]:
    bad = {line for line, _, _ in expected}
    return [record["_line"] for record in records if record["_line"] not in bad]


@pytest.mark.parametrize("case", list(CASES))
def test_both_validators_refuse_the_same(case: str, refs: RefIndex) -> None:
    kind, records, expected = CASES[case]
    mapping = FileMapping(path=Path(f"graphql-{kind}"), kind=kind)
    plain = validate_plain(records, mapping, refs)
    reference = validate(records_frame(records), mapping, refs)
    assert plain is not None  # the plain path decides these values itself
    assert refused(plain) == expected
    assert refused(reference) == expected
    pd.testing.assert_frame_equal(plain.rejects, reference.rejects)
    pd.testing.assert_frame_equal(plain.frame, reference.frame)
    assert list(plain.frame["_line"]) == good_lines(records, expected)


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    """The records as a JSON lines file (lone surrogates as ``\\udc00`` escapes)."""
    rows = [{k: v for k, v in record.items() if k != "_line"} for record in records]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


@pytest.mark.parametrize("case", list(CASES))
def test_api_writes_and_file_loads_refuse_the_same_and_store_the_rest(
    case: str, tmp_path: Path
) -> None:
    """API writes (``load_records``) and a file load of the same rows: the same rejects,
    the good rows stored once; each sent again changes nothing."""
    kind, records, expected = CASES[case]
    good = len(good_lines(records, expected))
    api_store = make_graph_store(GraphConfig(path=tmp_path / "api", buffer_pool_mb=64))
    file_store = make_graph_store(GraphConfig(path=tmp_path / "file", buffer_pool_mb=64))
    try:
        api_refs = seed(api_store)
        rejects = tmp_path / "graphql.rejects.csv"
        result, checked = load_records(
            api_store, kind, records, api_refs, source="graphql", rejects_path=rejects
        )
        assert refused(checked) == expected and rejects.exists()
        assert (result.created, result.updated) == (good, 0)
        again, _ = load_records(api_store, kind, records, seed(api_store), source="graphql")
        assert (again.created, again.updated, again.unchanged) == (0, 0, good)

        file_refs = seed(file_store)
        mapping = FileMapping(write_jsonl(tmp_path / f"{kind}.jsonl", records), kind)
        assert refused(validate(read_raw(mapping), mapping, file_refs)) == expected
        for run in range(2):
            report = load_files(file_store, [mapping], rejects_dir=tmp_path / "rejects")
            (loaded,) = report.files
            assert (loaded.loaded, loaded.rejected) == (good, len({r[0] for r in expected}))
            assert loaded.result.created == (good if run == 0 else 0)
            assert loaded.result.updated == 0
        assert api_store.counts() == file_store.counts()
    finally:
        api_store.close()
        file_store.close()


def test_stored_product_keys_are_keys_the_api_reads(tmp_path: Path) -> None:
    """Every product id the loaders store passes the API's key rule (one definition)."""
    store = make_graph_store(GraphConfig(path=tmp_path / "graph", buffer_pool_mb=64))
    try:
        refs = seed(store)
        _, records, _ = CASES["product keys"]
        load_records(store, "products", records, refs, source="graphql")
        assert all(is_key(key) for key in store.existing_keys("Product"))
        assert store.get_nodes("Product", ["X\x004", "P" * 201]) == [None, None]
    finally:
        store.close()


def test_rejects_show_lone_surrogates_escaped() -> None:
    assert shown("a\udc00b") == "a\\udc00b" and shown("\u00e9") == "\u00e9"
