"""``diff_edges``: the edge upsert decision both backends share, tested without a store."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest

from pricegraph.errors import ConflictError
from pricegraph.graph._frames import edge_frame, typed_frame
from pricegraph.graph.base import UpsertResult
from pricegraph.graph.diff import diff_edges
from pricegraph.graph.schema import RELS, PropType, RelSpec


def _stored(spec: RelSpec, rows: list[dict[str, object]]) -> pd.DataFrame:
    props = {"source": PropType.STRING, "target": PropType.STRING, **spec.properties}
    return typed_frame(props, pd.DataFrame(rows, columns=list(props)), what=spec.type)


def _pairs(frame: pd.DataFrame) -> list[tuple[str, str]]:
    return list(zip(frame["source"], frame["target"], strict=True))


def test_one_target_per_source_new_moved_and_unchanged() -> None:
    spec = RELS["OF_BRAND"]
    rows = edge_frame(
        spec,
        pd.DataFrame({"source": ["p1", "p2", "p3"], "target": ["b2", "b1", "b1"]}),
    )
    stored = _stored(spec, [{"source": "p1", "target": "b1"}, {"source": "p2", "target": "b1"}])
    diff = diff_edges(spec, rows, stored)
    assert _pairs(diff.new) == [("p3", "b1")]
    assert _pairs(diff.changed) == [("p1", "b2")]
    assert _pairs(diff.replaced) == [("p1", "b1")]  # the stored edge the new target replaces
    assert diff.result() == UpsertResult(1, 1, 1)
    assert _pairs(diff.writes) == [("p3", "b1"), ("p1", "b2")]


def test_one_target_per_source_with_stored_duplicates_counts_each_row_once() -> None:
    spec = RELS["OF_BRAND"]
    rows = edge_frame(spec, pd.DataFrame({"source": ["p1", "p2"], "target": ["b9", "b1"]}))
    stored = _stored(
        spec,
        [
            {"source": "p1", "target": "b1"},
            {"source": "p1", "target": "b2"},  # a parallel edge a store should not hold
            {"source": "p2", "target": "b1"},
            {"source": "p2", "target": "b1"},
        ],
    )
    diff = diff_edges(spec, rows, stored)
    assert diff.result() == UpsertResult(0, 1, 1)
    assert _pairs(diff.replaced) == [("p1", "b2")]  # the last stored copy


def test_pairs_compare_properties_nulls_equal_nulls() -> None:
    spec = RELS["IN_SEGMENT"]
    rows = edge_frame(
        spec,
        pd.DataFrame(
            {
                "source": ["c1", "c2", "c3", "c4"],
                "target": ["s1", "s1", "s1", "s2"],
                "score": [0.5, 0.4, None, 0.1],
            }
        ),
    )
    stored = _stored(
        spec,
        [
            {"source": "c1", "target": "s1", "score": 0.4},
            {"source": "c2", "target": "s1", "score": 0.4},
            {"source": "c3", "target": "s1", "score": None},
            {"source": "c4", "target": "s1", "score": 0.1},  # another pair: c4-s2 is new
        ],
    )
    diff = diff_edges(spec, rows, stored)
    assert _pairs(diff.new) == [("c4", "s2")]
    assert _pairs(diff.changed) == [("c1", "s1")]
    assert _pairs(diff.replaced) == [("c1", "s1")]
    assert diff.result() == UpsertResult(1, 1, 2)


def test_pairs_without_properties_are_never_changed() -> None:
    spec = RELS["HAS_PRICE"]
    rows = edge_frame(spec, pd.DataFrame({"source": ["p1", "p1"], "target": ["pp1", "pp2"]}))
    diff = diff_edges(spec, rows, _stored(spec, [{"source": "p1", "target": "pp1"}]))
    assert _pairs(diff.new) == [("p1", "pp2")]
    assert diff.changed.empty and diff.replaced.empty
    assert diff.result() == UpsertResult(1, 0, 1)


def test_nothing_stored_makes_every_row_new() -> None:
    spec = RELS["SIMILAR_TO"]
    rows = edge_frame(
        spec, pd.DataFrame({"source": ["p1", "p2"], "target": ["p2", "p1"], "score": [0.9, 0.9]})
    )
    diff = diff_edges(spec, rows, _stored(spec, []))
    assert diff.result() == UpsertResult(2, 0, 0)
    assert diff.writes.equals(rows)


def _event(event_id: str, qty: int) -> dict[str, object]:
    return {
        "source": "c1",
        "target": "p1",
        "event_id": event_id,
        "order_id": "o1",
        "qty": qty,
        "unit_price": 9.5,
        "currency": "EUR",
        "ts": datetime(2025, 1, 2, 10),
    }


def test_events_are_new_or_unchanged_never_updated() -> None:
    spec = RELS["PURCHASED"]
    rows = edge_frame(spec, pd.DataFrame([_event("e1", 1), _event("e2", 3)]))
    diff = diff_edges(spec, rows, _stored(spec, [_event("e1", 1)]))
    assert list(diff.new["event_id"]) == ["e2"]
    assert diff.changed.empty and diff.replaced.empty
    assert diff.result() == UpsertResult(1, 0, 1)


def test_an_event_resent_with_other_values_is_refused() -> None:
    spec = RELS["PURCHASED"]
    rows = edge_frame(spec, pd.DataFrame([_event("e1", 2)]))
    with pytest.raises(ConflictError, match="e1"):
        diff_edges(spec, rows, _stored(spec, [_event("e1", 1)]))
