"""Loading files: mapping, validation, rejects, idempotent and resumable loads."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pandas as pd
import pytest

from pricegraph.errors import ConfigError, DataValidationError
from pricegraph.graph import GraphStore
from pricegraph.loaders import FileMapping, load_files, read_mapping
from pricegraph.loaders import writer as writer_module


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
    assert got[(4, "list_price")] == "expected a number > 0"
    assert got[(5, "brand_id")] == "unknown Brand id"
    assert got[(6, "name")] == "missing required value"
    assert got[(7, "product_id")] == "duplicate product_id, first at line 2"
    assert got[(9, "list_price")] == "expected a number > 0"
    assert set(rejects["file"]) == {"products.csv"}
    assert "sku" in rejects.columns  # the raw row travels with the reason
    assert products.first_rejects[0] == (
        'products.csv row 4, field "list_price": expected a number > 0, got "-5"'
    )
    events = next(f for f in report.files if f.kind == "events")
    ev_rejects = pd.read_csv(events.rejects_path)
    assert ev_rejects[["line", "field"]].values.tolist() == [[5, "order_id"]]
    customers = next(f for f in report.files if f.kind == "customers")
    assert pd.read_csv(customers.rejects_path)[["line", "field"]].values.tolist() == [
        [2, "signup_ts"]
    ]


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
