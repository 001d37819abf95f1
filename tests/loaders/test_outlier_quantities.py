"""The load report counts purchase lines with outlier quantities and shows the largest."""

from __future__ import annotations

from pathlib import Path

from pricegraph.graph import GraphStore
from pricegraph.loaders import FileMapping, load_files


def _files(folder: Path, quantities: list[int]) -> list[FileMapping]:
    (folder / "products.csv").write_text(
        "product_id,name\nMILK,Milk\nBREAD,Bread\nFUEL,Gasoline\n", encoding="utf-8"
    )
    (folder / "customers.csv").write_text("customer_id\nH1\nH2\n", encoding="utf-8")
    products = ["MILK", "BREAD", "MILK", "BREAD", "FUEL", "MILK"]
    rows = [
        f"e{i},purchase,H{1 + i % 2},{product},2025-01-0{1 + i},o{i},{qty},1.5"
        for i, (product, qty) in enumerate(zip(products, quantities, strict=True))
    ]
    header = "event_id,event_type,customer_id,product_id,ts,order_id,qty,unit_price\n"
    (folder / "events.csv").write_text(header + "\n".join(rows) + "\n", encoding="utf-8")
    return [
        FileMapping(folder / "products.csv", "products"),
        FileMapping(folder / "customers.csv", "customers"),
        FileMapping(folder / "events.csv", "events"),
    ]


def test_outlier_quantities_are_counted_with_the_largest_line(
    embedded: GraphStore, tmp_path: Path
) -> None:
    # product medians 1 (MILK), 2 (BREAD), 5000 (FUEL): norm 2, limit 40
    report = load_files(
        embedded, _files(tmp_path, [1, 2, 41, 2, 5000, 1]), rejects_dir=tmp_path / "rejects"
    )
    events = report.files[-1]
    assert (events.kind, events.loaded) == ("events", 6)
    assert events.notes == (
        "2 purchase lines have quantities above 40 (20 times the median over this file's "
        "products of their median line quantity), e.g. events.csv line 6: product FUEL, "
        "qty 5,000; they are stored, and train-pricing --from-graph applies the same rule "
        "to every stored purchase",
    )
    assert embedded.counts()["PURCHASED"] == 6  # flagged, not refused


def test_ordinary_quantities_say_nothing(embedded: GraphStore, tmp_path: Path) -> None:
    report = load_files(
        embedded, _files(tmp_path, [1, 2, 3, 2, 30, 1]), rejects_dir=tmp_path / "rejects"
    )
    assert report.files[-1].notes == ()
