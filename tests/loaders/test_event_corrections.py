"""Event ids come from what identifies a line, so a corrected file updates its events."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pricegraph.graph import GraphStore
from pricegraph.loaders import FileMapping, load_files
from pricegraph.loaders.validation import derived_event_ids

HEADER = "event_type,customer_id,product_id,ts,order_id,qty,unit_price\n"
LINES = [
    "purchase,C1,P1,2025-01-02T10:00:00,O1,1,9.5",
    "purchase,C1,P1,2025-01-02T10:00:00,O1,2,9.5",  # a second line of P1 in O1
    "purchase,C1,P2,2025-01-02T10:00:00,O1,1,4.0",
    "purchase,C1,P1,2025-02-01T10:00:00,O2,5,9.0",  # another order, same pair
    "return,C1,P2,2025-01-09T10:00:00,O1,1,4.0",
]


def _catalog(folder: Path) -> list[FileMapping]:
    (folder / "brands.csv").write_text("brand_id,name\nB1,Verne\n", encoding="utf-8")
    (folder / "products.csv").write_text(
        "product_id,name,brand_id,list_price\nP1,Tote,B1,10\nP2,Cap,B1,4\n", encoding="utf-8"
    )
    (folder / "customers.csv").write_text("customer_id\nC1\n", encoding="utf-8")
    return [
        FileMapping(folder / "brands.csv", "brands"),
        FileMapping(folder / "products.csv", "products"),
        FileMapping(folder / "customers.csv", "customers"),
    ]


def _purchases(store: GraphStore) -> list[tuple[str, str, int, float]]:
    rows = store.read_cypher(
        "MATCH (:Customer)-[r:PURCHASED]->(p:Product) "
        "RETURN r.order_id AS o, p.id AS p, r.qty AS q, r.unit_price AS u"
    )
    return sorted(zip(rows["o"], rows["p"], rows["q"], rows["u"], strict=True))


def test_a_corrected_quantity_and_price_update_the_stored_purchase(
    embedded: GraphStore, tmp_path: Path
) -> None:
    events = tmp_path / "events.csv"
    events.write_text(HEADER + "\n".join(LINES) + "\n", encoding="utf-8")
    mappings = [*_catalog(tmp_path), FileMapping(events, "events")]
    first = load_files(embedded, mappings, rejects_dir=tmp_path / "r")
    assert first.files[-1].result.created == 5
    assert _purchases(embedded) == [
        ("O1", "P1", 1, 9.5),
        ("O1", "P1", 2, 9.5),
        ("O1", "P2", 1, 4.0),
        ("O2", "P1", 5, 9.0),
    ]
    corrected = [*LINES]
    corrected[0] = "purchase,C1,P1,2025-01-02T10:00:00,O1,3,8.5"
    events.write_text(HEADER + "\n".join(corrected) + "\n", encoding="utf-8")
    second = load_files(embedded, mappings, rejects_dir=tmp_path / "r").files[-1]
    assert (second.result.created, second.result.updated, second.result.unchanged) == (0, 1, 4)
    assert _purchases(embedded) == [
        ("O1", "P1", 2, 9.5),
        ("O1", "P1", 3, 8.5),
        ("O1", "P2", 1, 4.0),
        ("O2", "P1", 5, 9.0),
    ]
    assert embedded.counts()["PURCHASED"] == 4 and embedded.counts()["RETURNED"] == 1
    third = load_files(embedded, mappings, rejects_dir=tmp_path / "r").files[-1]
    assert (third.result.created, third.result.updated, third.result.unchanged) == (0, 0, 5)


def test_derived_ids_ignore_values_a_user_may_correct() -> None:
    frame = pd.DataFrame(
        {
            "event_type": ["purchase"] * 3,
            "customer_id": ["C1"] * 3,
            "product_id": ["P1", "P1", "P2"],
            "ts": pd.to_datetime(["2025-01-02"] * 3),
            "order_id": ["O1"] * 3,
            "qty": [1, 2, 1],
            "unit_price": [9.5, 9.5, 4.0],
        }
    )
    ids = derived_event_ids(frame)
    assert len(set(ids)) == 3  # two lines of P1 in one order stay two events
    corrected = frame.assign(qty=[7, 2, 1], unit_price=[1.0, 9.5, 4.5])
    assert derived_event_ids(corrected) == ids
    twice = pd.concat([frame.iloc[[0]], frame.iloc[[0]]])
    assert len(set(derived_event_ids(twice))) == 1  # an identical line is its first copy


def test_an_explicit_event_id_is_kept_and_corrected_on_reload_but_not_by_the_api(
    embedded: GraphStore, tmp_path: Path
) -> None:
    from pricegraph.errors import ConflictError
    from pricegraph.loaders.service import load_records
    from pricegraph.loaders.validation import RefIndex

    events = tmp_path / "events.csv"
    header = "event_id," + HEADER
    events.write_text(header + "E1," + LINES[0] + "\n", encoding="utf-8")
    mappings = [*_catalog(tmp_path), FileMapping(events, "events")]
    load_files(embedded, mappings, rejects_dir=tmp_path / "r")
    events.write_text(header + "E1," + LINES[0].replace(",1,9.5", ",4,9.5") + "\n")
    report = load_files(embedded, mappings, rejects_dir=tmp_path / "r").files[-1]
    assert report.result.updated == 1
    assert _purchases(embedded) == [("O1", "P1", 4, 9.5)]
    record = dict(zip(header.strip().split(","), ("E1," + LINES[0]).split(","), strict=True))
    with pytest.raises(ConflictError, match="E1"):
        load_records(
            embedded,
            "events",
            [{**record, "_line": 1}],
            RefIndex(embedded),
            source="api",
            rejects_path=tmp_path / "r" / "api.rejects.csv",
        )
    assert _purchases(embedded) == [("O1", "P1", 4, 9.5)]
