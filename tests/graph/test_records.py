"""Small upserts as plain records: typed like frames, diffed like frames, clashes refused."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from pricegraph.errors import ConflictError, GraphStoreError
from pricegraph.graph._frames import check_event_conflicts, clean_record, typed_frame
from pricegraph.graph._records import (
    edge_records,
    node_records,
    split_edges,
    split_nodes,
    typed_records,
)
from pricegraph.graph.schema import NODES, RELS, PropType

PROPS = {
    "id": PropType.STRING,
    "price": PropType.DOUBLE,
    "units": PropType.INT64,
    "is_anonymous": PropType.BOOLEAN,
    "ts": PropType.TIMESTAMP,
}


@pytest.mark.parametrize(
    ("column", "values"),
    [
        ("id", ["a", 7, None, np.nan]),
        ("price", [1.5, 2, np.float32(0.25), None, np.nan, "3.5"]),
        ("units", [1, np.int64(2), 3.0, None, pd.NA]),
        ("is_anonymous", [True, False, np.bool_(True), None]),
        (
            "ts",
            [
                "2025-03-01T12:00:00+02:00",
                "2025-03-01",
                datetime(2025, 3, 1, 10, 0, 0, 123456),
                pd.Timestamp("2025-03-01 10:00:00.123456789"),
                None,
                pd.NaT,
            ],
        ),
    ],
)
def test_records_are_typed_as_frames_are(column: str, values: list[object]) -> None:
    frame = pd.DataFrame({column: pd.Series(values, dtype=object)})
    by_frame = [clean_record(r) for r in typed_frame(PROPS, frame, what="T").to_dict("records")]
    assert typed_records(PROPS, frame, what="T") == by_frame


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("price", "cheap"),
        ("units", 1.5),
        ("is_anonymous", "maybe"),
        ("is_anonymous", 1),
        ("ts", "not a time"),
    ],
)
def test_a_value_of_the_wrong_type_names_the_column(column: str, value: object) -> None:
    frame = pd.DataFrame({column: [value]})
    with pytest.raises(GraphStoreError, match=rf"'T\.{column}' cannot be read as"):
        typed_records(PROPS, frame, what="T")


def test_node_records_refuse_what_node_frames_refuse() -> None:
    spec = NODES["Brand"]
    with pytest.raises(GraphStoreError, match="unknown properties"):
        node_records(spec, pd.DataFrame({"id": ["b1"], "colour": ["red"]}))
    with pytest.raises(GraphStoreError, match=r"duplicate keys in one upsert: \['b1'\]"):
        node_records(spec, pd.DataFrame({"id": ["b1", "b2", "b1"]}))
    with pytest.raises(GraphStoreError, match="must not be null"):
        node_records(spec, pd.DataFrame({"id": [None]}))


def test_split_nodes_compares_only_the_columns_sent() -> None:
    rows = [{"id": "b1", "name": "A"}, {"id": "b2", "name": "B2"}, {"id": "b3", "name": None}]
    stored = {
        "b1": {"id": "b1", "name": "A", "tier": "luxury"},
        "b2": {"id": "b2", "name": "B"},
    }
    new, changed, unchanged = split_nodes(rows, stored, "id")
    assert ([r["id"] for r in new], [r["id"] for r in changed], unchanged) == (["b3"], ["b2"], 1)


def test_edge_records_keep_the_last_row_of_an_identity() -> None:
    frame = pd.DataFrame({"source": ["p1", "p2", "p1"], "target": ["b1", "b1", "b2"]})
    rows = edge_records(RELS["OF_BRAND"], frame)
    assert rows == [{"source": "p2", "target": "b1"}, {"source": "p1", "target": "b2"}]


def test_split_edges_by_identity() -> None:
    brand = split_edges(
        RELS["OF_BRAND"],
        [{"source": "p1", "target": "b2"}, {"source": "p2", "target": "b1"}],
        [{"source": "p1", "target": "b1"}, {"source": "p2", "target": "b1"}],
    )
    assert brand.removed == [{"source": "p1", "target": "b1"}]
    assert (brand.created, len(brand.rewritten), brand.unchanged) == ([], 1, 1)
    segment = split_edges(
        RELS["IN_SEGMENT"],
        [{"source": "c1", "target": "s1", "score": 0.5}, {"source": "c2", "target": "s1"}],
        [{"source": "c1", "target": "s1", "score": 0.4}],
    )
    assert segment.removed == [{"source": "c1", "target": "s1"}]
    assert [r["source"] for r in segment.created] == ["c2"] and segment.unchanged == 0


def test_a_resent_event_is_unchanged_and_a_clashing_one_refused() -> None:
    spec = RELS["PURCHASED"]
    stored = {"source": "c1", "target": "p1", "event_id": "e1", "order_id": "o1", "qty": 1}
    stored |= {"unit_price": 90.0, "currency": "EUR", "ts": datetime(2025, 1, 2, 10)}
    sent = {k: v for k, v in stored.items() if k != "currency"}  # absent: not compared
    assert split_edges(spec, [sent], [stored]).unchanged == 1
    clash = sent | {"qty": 2, "unit_price": 80.0}
    other = clash | {"event_id": "e2"}
    with pytest.raises(ConflictError) as info:
        check_event_conflicts(spec, pd.DataFrame([clash, other]), pd.DataFrame([stored]))
    assert str(info.value) == (
        "PURCHASED event_id 'e1' is already recorded with other values (qty: stored 1, "
        "sent 2; unit_price: stored 90.0, sent 80.0); an event is recorded once: send a "
        "changed event with a new event_id"
    )
    assert (info.value.key, info.value.field, info.value.keys) == ("e1", "event_id", ["e1"])
