"""A column the mapping names must exist in the file: refused before anything is written."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest

from pricegraph.errors import DataValidationError
from pricegraph.graph import GraphStore
from pricegraph.loaders import FileMapping, load_files, read_mapping
from pricegraph.loaders.readers import read_columns, read_head, read_raw

EVENTS = (
    "event_type,customer_id,product_id,ts,order_id,quantity,unit_price\n"
    "purchase,C1,P1,2025-01-02T10:00:00,O1,3,9.5\n"
    "purchase,C1,P2,2025-01-02T10:00:00,O1,1,4.0\n"
)


def _write(folder: Path, qty_column: str) -> Path:
    (folder / "brands.csv").write_text("brand_id,name\nB1,Verne\n", encoding="utf-8")
    (folder / "products.csv").write_text(
        "product_id,name,brand_id,list_price\nP1,Tote,B1,10\nP2,Cap,B1,4\n", encoding="utf-8"
    )
    (folder / "customers.csv").write_text("customer_id\nC1\n", encoding="utf-8")
    (folder / "events.csv").write_text(EVENTS, encoding="utf-8")
    mapping = folder / "mapping.toml"
    mapping.write_text(
        f"""
[[files]]
path = "brands.csv"
kind = "brands"

[[files]]
path = "products.csv"
kind = "products"

[[files]]
path = "customers.csv"
kind = "customers"

[[files]]
path = "events.csv"
kind = "events"
[files.columns]
qty = "{qty_column}"
""",
        encoding="utf-8",
    )
    return mapping


def test_a_misspelled_column_is_refused_before_anything_is_written(
    embedded: GraphStore, tmp_path: Path
) -> None:
    mapping = _write(tmp_path, "quantty")
    before = embedded.counts()
    with pytest.raises(DataValidationError) as info:
        load_files(embedded, read_mapping(mapping), rejects_dir=tmp_path / "rejects")
    message = str(info.value)
    assert "events.csv" in message and "'qty'" in message and "'quantty'" in message
    assert "did you mean 'quantity'?" in message
    assert f"{mapping} [[files]] #4: mapping key 'qty'" in message  # the line to fix
    assert info.value.field == "qty" and info.value.value == "quantty"
    assert info.value.path == str(tmp_path / "events.csv")
    assert embedded.counts() == before  # the brands and products files came first
    assert embedded.get_node("Brand", "B1") is None


def test_the_right_column_loads_its_values(embedded: GraphStore, tmp_path: Path) -> None:
    load_files(embedded, read_mapping(_write(tmp_path, "quantity")), rejects_dir=tmp_path)
    rows = embedded.read_cypher(
        "MATCH (:Customer)-[r:PURCHASED]->(p:Product) RETURN p.id AS product, r.qty AS qty"
    )
    assert sorted(zip(rows["product"], rows["qty"], strict=True)) == [("P1", 3), ("P2", 1)]


def test_an_unnamed_optional_column_still_defaults(embedded: GraphStore, tmp_path: Path) -> None:
    path = tmp_path / "brands.csv"
    path.write_text("code,label\nB1,Verne\n", encoding="utf-8")
    mapping = FileMapping(path, "brands", columns={"brand_id": "code", "name": "label"})
    report = load_files(embedded, [mapping], rejects_dir=tmp_path)
    assert report.files[0].loaded == 1  # tier is not named, so it may be absent


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
def test_columns_are_read_without_rows(tmp_path: Path, suffix: str) -> None:
    frame = pd.DataFrame({"brand_id": ["B1"], "name": ["Verne"]})
    path = tmp_path / f"brands{suffix}"
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix == ".parquet":
        frame.to_parquet(path)
    else:
        frame.to_json(path, orient="records", lines=True)
    assert read_columns(FileMapping(path, "brands")) == ["brand_id", "name"]


def test_a_mapped_column_missing_from_a_frame_is_refused_by_validation(tmp_path: Path) -> None:
    from pricegraph.loaders.validation import validate

    raw = pd.DataFrame({"code": ["B1"], "_line": [2]})
    mapping = FileMapping(tmp_path / "b.csv", "brands", columns={"brand_id": "cod"})
    with pytest.raises(DataValidationError, match=r"did you mean 'code'\?"):
        validate(raw, mapping, refs=None)  # type: ignore[arg-type]


def test_a_gzipped_parquet_file_is_refused_before_anything_is_written(
    embedded: GraphStore, tmp_path: Path
) -> None:
    (tmp_path / "brands.csv").write_text("brand_id,name\nB1,Verne\n", encoding="utf-8")
    parquet = tmp_path / "products.parquet"
    pd.DataFrame({"product_id": ["P1"], "name": ["Tote"], "brand_id": ["B1"]}).to_parquet(parquet)
    gzipped = tmp_path / "products.parquet.gz"
    gzipped.write_bytes(gzip.compress(parquet.read_bytes()))
    mappings = [FileMapping(tmp_path / "brands.csv", "brands"), FileMapping(gzipped, "products")]
    with pytest.raises(DataValidationError) as info:
        load_files(embedded, mappings, rejects_dir=tmp_path / "rejects")
    message = str(info.value)
    assert message.startswith(f"{gzipped}: ") and "\n" not in message
    assert "Parquet is compressed inside" in message and "load the .parquet file" in message
    assert "magic bytes" not in message
    assert not any(embedded.counts().values())  # brands.csv came first, not written
    report = load_files(embedded, [FileMapping(parquet, "products")], rejects_dir=tmp_path)
    assert report.files[0].rejected == 1  # the plain .parquet reads (its brand is unknown)


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz", ".parquet", ".jsonl", ".jsonl.gz"])
def test_the_head_is_the_first_rows_as_the_whole_file_reads_them(
    tmp_path: Path, suffix: str
) -> None:
    frame = pd.DataFrame({"brand_id": [f"B{i}" for i in range(5)], "tier": [1, 2, 3, 4, 5]})
    path = tmp_path / f"brands{suffix}"
    if suffix.startswith(".csv"):
        frame.to_csv(path, index=False)
    elif suffix == ".parquet":
        frame.to_parquet(path, row_group_size=2)  # the head spans row groups
    else:
        frame.to_json(path, orient="records", lines=True)
    mapping = FileMapping(path, "brands")
    whole = read_raw(mapping)
    pd.testing.assert_frame_equal(read_head(mapping, 3), whole.head(3))
    pd.testing.assert_frame_equal(read_head(mapping, 50), whole)  # fewer rows: all of them
