"""Loading files: mapping, validation, rejects, idempotent and resumable loads."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pandas as pd
import pytest

from pricegraph.errors import ConfigError, DataValidationError
from pricegraph.graph import GraphStore
from pricegraph.loaders import FileMapping, formats, load_files, read_mapping
from pricegraph.loaders import writer as writer_module
from pricegraph.pricing.guardrails import batch as guardrails_batch


def _write_catalog(folder: Path) -> Path:
    """A tiny catalog in three formats, with a few deliberately bad rows."""
    (folder / "brands.csv").write_text(
        "code,label,tier\nB1,Verne,luxury\nB2,Aldo,premium\n", encoding="utf-8"
    )
    (folder / "categories.csv").write_text(
        "category_id,name,parent_id\nroot,All,\nbags,Bags,root\nshoes,Shoes,root\n"
        "boots,Boots,shoes\nghost,Ghost,nowhere\n",
        encoding="utf-8",
    )
    (folder / "products.csv").write_text(
        "sku,title,brand,category_id,list_price,cost\n"
        "P1,Tote,B1,bags,900,300\n"
        "P2,Clutch,B1,bags,450,150\n"
        "P3,Boot,B2,boots,-5,80\n"  # line 4: negative price
        "P4,Loafer,B9,shoes,250,80\n"  # line 5: unknown brand
        "P5,,B2,shoes,250,80\n"  # line 6: missing name
        "P1,Tote bis,B1,bags,910,300\n"  # line 7: duplicate key, other values
        "P2,Clutch,B1,bags,450,150\n"  # line 8: exact duplicate of line 3
        "P6,Scarf,B2,shoes,abc,40\n",  # line 9: not a number
        encoding="utf-8",
    )
    with gzip.open(folder / "customers.jsonl.gz", "wt", encoding="utf-8") as handle:
        for row in [
            {"customer_id": "C1", "country": "FR", "signup_ts": "2024-05-01T10:00:00Z"},
            {"customer_id": "C2", "country": "DE", "signup_ts": "yesterday"},
            {"customer_id": "C3", "country": "IT", "is_anonymous": True},
        ]:
            handle.write(json.dumps(row) + "\n")
    events = pd.DataFrame(
        {
            "event_type": ["purchase", "purchase", "view", "return", "purchase", "cart"],
            "customer_id": ["C1", "C1", "C3", "C1", "C3", "C3"],
            "product_id": ["P1", "P2", "P1", "P2", "P2", "P1"],
            "ts": pd.to_datetime(
                [
                    "2025-01-02 10:00",
                    "2025-01-02 10:00",
                    "2025-01-03 09:00",
                    "2025-01-09 12:00",
                    "2025-01-05 08:00",
                    "2025-01-05 07:59",
                ]
            ),
            "order_id": ["O1", "O1", None, "O1", None, None],
            "qty": [1, 1, None, 1, 2, 1],
            "unit_price": [900.0, 450.0, None, 450.0, 440.0, None],
        }
    )
    events.to_parquet(folder / "events.parquet")
    mapping = folder / "mapping.toml"
    mapping.write_text(
        """
[defaults]
timezone = "UTC"

[[files]]
path = "events.parquet"
kind = "events"

[[files]]
path = "products.csv"
kind = "products"
[files.columns]
product_id = "sku"
name = "title"
brand_id = "brand"

[[files]]
path = "brands.csv"
kind = "brands"
[files.columns]
brand_id = "code"
name = "label"

[[files]]
path = "categories.csv"
kind = "categories"

[[files]]
path = "customers.jsonl.gz"
kind = "customers"
""",
        encoding="utf-8",
    )
    return mapping


def _load(store: GraphStore, mapping: Path, rejects: Path):
    return load_files(store, read_mapping(mapping), rejects_dir=rejects)


def test_load_applies_files_in_dependency_order_and_reports(
    embedded: GraphStore, tmp_path: Path
) -> None:
    report = _load(embedded, _write_catalog(tmp_path), tmp_path / "rejects")
    by_kind = {f.kind: f for f in report.files}
    assert [f.kind for f in report.files] == [
        "brands",
        "categories",
        "products",
        "customers",
        "events",
    ]
    assert (by_kind["products"].rows, by_kind["products"].loaded) == (8, 2)
    assert (by_kind["products"].rejected, by_kind["products"].skipped) == (5, 1)
    assert by_kind["categories"].loaded == 4 and by_kind["categories"].rejected == 1
    assert by_kind["customers"].loaded == 2 and by_kind["customers"].rejected == 1
    assert by_kind["events"].loaded == 5 and by_kind["events"].rejected == 1
    counts = embedded.counts()
    assert counts["Product"] == 2 and counts["Brand"] == 2 and counts["Category"] == 4
    assert counts["PURCHASED"] == 2 and counts["RETURNED"] == 1 and counts["VIEWED"] == 1
    assert counts["ADDED_TO_CART"] == 1 and counts["CHILD_OF"] == 3 and counts["OF_BRAND"] == 2
    tote = embedded.get_node("Product", "P1")
    assert tote["name"] == "Tote" and tote["list_price"] == 900.0 and tote["currency"] == "EUR"
    assert embedded.get_node("Customer", "C3")["is_anonymous"] is True


def test_rejects_name_file_line_field_and_reason(embedded: GraphStore, tmp_path: Path) -> None:
    report = _load(embedded, _write_catalog(tmp_path), tmp_path / "rejects")
    products = next(f for f in report.files if f.kind == "products")
    rejects = pd.read_csv(products.rejects_path)
    got = {(r.line, r.field): r.reason for r in rejects.itertuples()}
    assert got[(4, "list_price")] == "expected a number in [0.01, 1e+09]"
    assert got[(5, "brand_id")] == "unknown Brand id"
    assert got[(6, "name")] == "missing required value"
    assert got[(7, "product_id")] == "duplicate product_id, first at line 2"
    assert got[(9, "list_price")] == "expected a number in [0.01, 1e+09]"
    assert set(rejects["file"]) == {"products.csv"}
    assert "sku" in rejects.columns  # the raw row travels with the reason
    assert products.first_rejects[0] == (
        'products.csv row 4, field "list_price": expected a number in [0.01, 1e+09], got "-5"'
    )
    events = next(f for f in report.files if f.kind == "events")
    ev_rejects = pd.read_csv(events.rejects_path)
    assert ev_rejects[["line", "field"]].values.tolist() == [[5, "order_id"]]
    customers = next(f for f in report.files if f.kind == "customers")
    assert pd.read_csv(customers.rejects_path)[["line", "field"]].values.tolist() == [
        [2, "signup_ts"]
    ]


def test_amounts_are_bounded_per_field(embedded: GraphStore, tmp_path: Path) -> None:
    """Prices and costs lie in [0.01, 1e9]; an event's unit price in [0, 1e9] (free
    items, and real sub-cent transactions); each refusal names file, row and field."""
    (tmp_path / "products.csv").write_text(
        "product_id,name,list_price,cost,max_price\n"
        "P1,Tote,0.01,0.01,1e9\n"  # line 2: the bounds themselves
        "P2,Pad,0.001,,\n"  # line 3: below a cent
        "P3,Gold,1e12,,\n"  # line 4: above the largest amount
        "P4,Bag,90,2000000000,\n"  # line 5: a cost above it
        "P5,Scarf,inf,,\n"  # line 6: infinite
        "P6,Belt,40,,1e308\n",  # line 7: a ceiling above it
        encoding="utf-8",
    )
    (tmp_path / "prices.csv").write_text(
        "product_id,price,kind,valid_from\n"
        "P1,0.004,markdown,2024-06-01\n"  # line 2
        "P1,1e9,list,2024-06-01\n",  # line 3
        encoding="utf-8",
    )
    (tmp_path / "customers.csv").write_text("customer_id\nC1\n", encoding="utf-8")
    (tmp_path / "events.csv").write_text(
        "event_type,customer_id,product_id,ts,order_id,qty,unit_price\n"
        "purchase,C1,P1,2024-06-02T10:00:00Z,O1,1,0\n"  # line 2: a free item
        "purchase,C1,P1,2024-06-02T10:01:00Z,O2,100,0.001\n"  # line 3: sub-cent
        "purchase,C1,P1,2024-06-02T10:02:00Z,O3,1,1e10\n"  # line 4: too large
        "return,C1,P1,2024-06-02T10:03:00Z,O4,1,-1\n",  # line 5: negative
        encoding="utf-8",
    )
    mappings = [
        FileMapping(tmp_path / name, kind)
        for name, kind in [
            ("products.csv", "products"),
            ("prices.csv", "prices"),
            ("customers.csv", "customers"),
            ("events.csv", "events"),
        ]
    ]
    report = load_files(embedded, mappings, rejects_dir=tmp_path / "rejects")
    by_kind = {f.kind: f for f in report.files}
    refused = {
        kind: [(r.file, r.line, r.field) for r in pd.read_csv(f.rejects_path).itertuples()]
        for kind, f in by_kind.items()
        if f.rejects_path is not None
    }
    assert refused == {
        "products": [
            ("products.csv", 3, "list_price"),
            ("products.csv", 4, "list_price"),
            ("products.csv", 5, "cost"),
            ("products.csv", 6, "list_price"),
            ("products.csv", 7, "max_price"),
        ],
        "prices": [("prices.csv", 2, "price")],
        "events": [("events.csv", 4, "unit_price"), ("events.csv", 5, "unit_price")],
    }
    assert by_kind["products"].first_rejects[0] == (
        'products.csv row 3, field "list_price": expected a number in [0.01, 1e+09], got "0.001"'
    )
    events = pd.read_csv(by_kind["events"].rejects_path)
    assert set(events["reason"]) == {"expected a number in [0, 1e+09]"}
    assert by_kind["events"].loaded == 2 and embedded.counts()["PURCHASED"] == 2


def test_amount_bounds_match_what_the_guardrails_accept() -> None:
    assert formats.MAX_AMOUNT == guardrails_batch.MAX_AMOUNT
    assert formats.MIN_PRICE == 0.01  # a cent: quotes are rounded to cents


def test_a_long_bad_value_is_quoted_by_a_short_prefix(embedded: GraphStore, tmp_path: Path) -> None:
    (tmp_path / "products.csv").write_text(
        "product_id,name,list_price\nP1,Tote," + "9" * 500 + "x\n", encoding="utf-8"
    )
    mapping = FileMapping(tmp_path / "products.csv", "products")
    report = load_files(embedded, [mapping], rejects_dir=tmp_path / "rejects")
    message = report.files[0].first_rejects[0]
    assert message.endswith('got "' + "9" * 39 + '\u2026"') and len(message) < 150
    assert pd.read_csv(report.files[0].rejects_path, dtype=str)["value"][0] == "9" * 500 + "x"


def test_rerun_is_idempotent(embedded: GraphStore, tmp_path: Path) -> None:
    mapping = _write_catalog(tmp_path)
    first = _load(embedded, mapping, tmp_path / "rejects")
    counts = embedded.counts()
    second = _load(embedded, mapping, tmp_path / "rejects")
    assert embedded.counts() == counts
    assert second.totals == first.totals
    assert all(f.result.created == 0 and f.result.updated == 0 for f in second.files)
    assert sum(f.result.unchanged for f in second.files) == second.totals["loaded"]


def test_interrupted_load_resumes_to_the_clean_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pricegraph.graph import GraphConfig, make_graph_store

    mapping = _write_catalog(tmp_path)
    clean = make_graph_store(GraphConfig(path=tmp_path / "clean", buffer_pool_mb=128))
    _load(clean, mapping, tmp_path / "r1")
    expected = clean.counts()
    clean.close()

    broken = make_graph_store(GraphConfig(path=tmp_path / "broken", buffer_pool_mb=128))
    real_write = writer_module._write_chunk
    calls = {"n": 0}

    def dies_after_three_chunks(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 3:
            raise KeyboardInterrupt("killed")
        return real_write(*args, **kwargs)

    monkeypatch.setattr(writer_module, "_write_chunk", dies_after_three_chunks)
    with pytest.raises(KeyboardInterrupt):
        _load(broken, mapping, tmp_path / "r2")
    partial = broken.counts()
    assert partial != expected
    monkeypatch.setattr(writer_module, "_write_chunk", real_write)
    _load(broken, mapping, tmp_path / "r2")
    assert broken.counts() == expected
    broken.close()


def test_missing_required_column_names_file_and_field(embedded: GraphStore, tmp_path: Path) -> None:
    path = tmp_path / "brands.csv"
    path.write_text("code,label\nB1,Verne\n", encoding="utf-8")
    with pytest.raises(DataValidationError) as info:
        load_files(embedded, [FileMapping(path, "brands")], rejects_dir=tmp_path)
    assert info.value.field == "brand_id" and info.value.path == str(path)
    assert "brands.csv" in str(info.value) and "brand_id" in str(info.value)


def test_mapping_errors_are_clear(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown kind 'widgets'"):
        FileMapping(tmp_path / "x.csv", "widgets")
    with pytest.raises(ConfigError, match="'colour' is not a column of kind 'brands'"):
        FileMapping(tmp_path / "x.csv", "brands", columns={"colour": "c"})
    bad = tmp_path / "m.toml"
    bad.write_text("[[files]]\nkind = 'brands'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="missing 'path'"):
        read_mapping(bad)
    with pytest.raises(ConfigError, match="does not exist"):
        read_mapping(tmp_path / "nope.toml")
