"""Grouped edge reads of the Neo4j backend without a server: the statement, and the
frame built from its records (what the contract suite checks end to end on a server)."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest

from pricegraph.graph import _neo4j_bulk as bulk
from pricegraph.graph._frames import read_frame
from pricegraph.graph.schema import rel_spec

PURCHASED = rel_spec("PURCHASED")


def test_grouped_edges_statement_keeps_schema_order_and_converts_timestamps() -> None:
    statement = bulk.grouped_edges(PURCHASED)
    assert statement.startswith("MATCH (a:Customer)-[r:PURCHASED]->(b:Product) WHERE a.id IN $keys")
    items = ["b.id", *(f"r.{name}" for name in PURCHASED.properties)]
    positions = [statement.index(item) for item in items]
    assert positions == sorted(positions)
    assert "CASE WHEN r.ts IS NULL THEN null ELSE" in statement
    assert "datetime({datetime: r.ts, timezone: 'UTC'}).epochSeconds * 1000000" in statement
    assert "r.ts.nanosecond / 1000" in statement
    assert "WITH a.id AS source, collect([b.id, r.event_id, " in statement
    assert statement.endswith("]) AS edges RETURN source, edges")


def _edge(target: str, event_id: str, qty: int | None, ts: datetime | None) -> list[object]:
    values = {"event_id": event_id, "qty": qty, "ts": ts, "unit_price": 2.5}
    return [target, *(values.get(name) for name in PURCHASED.properties)]


def _micros(ts: datetime | None) -> int | None:
    return None if ts is None else int((ts - datetime(1970, 1, 1)).total_seconds() * 1e6)


def test_grouped_records_give_the_frame_of_one_record_per_edge() -> None:
    edges = {
        "c1": [
            _edge("p1", "e1", 1, datetime(2025, 1, 2, 10, 0)),
            _edge("p1", "e2", None, datetime(2025, 4, 1, 12, 34, 56, 789012)),
        ],
        "c2": [_edge("p2", "e3", 3, None)],
    }
    # one record per edge, as the driver would give it without grouping
    per_edge = pd.DataFrame(
        [[source, *edge] for source, grouped in edges.items() for edge in grouped],
        columns=["source", "target", *PURCHASED.properties],
    )
    # the grouped records, timestamps as the server sends them
    ts_at = list(PURCHASED.properties).index("ts") + 1
    records = [
        [source, [[*e[:ts_at], _micros(e[ts_at]), *e[ts_at + 1 :]] for e in grouped]]  # type: ignore[arg-type]
        for source, grouped in edges.items()
    ]
    frame = bulk.grouped_edges_frame(PURCHASED, records)
    assert frame.columns.tolist() == ["source", "target", *PURCHASED.properties]
    assert frame["source"].tolist() == ["c1", "c1", "c2"]
    assert frame["ts"].dtype == "datetime64[us]"
    typed = read_frame(PURCHASED.properties, frame[list(PURCHASED.properties)])
    expected = read_frame(PURCHASED.properties, per_edge[list(PURCHASED.properties)])
    pd.testing.assert_frame_equal(typed, expected)
    assert typed["ts"].tolist()[1] == pd.Timestamp("2025-04-01 12:34:56.789012")
    assert pd.isna(typed["ts"].tolist()[2])


def test_no_records_give_an_empty_frame_with_the_columns() -> None:
    frame = bulk.grouped_edges_frame(PURCHASED, [])
    assert frame.empty and frame.columns.tolist() == ["source", "target", *PURCHASED.properties]


@pytest.mark.parametrize(("n", "sizes"), [(0, []), (1, [1]), (2_500, [1_000, 1_000, 500])])
def test_key_batches_bound_the_sources_per_query(n: int, sizes: list[int]) -> None:
    keys = [f"c{i}" for i in range(n)]
    batches = bulk.key_batches(keys)
    assert [len(b) for b in batches] == sizes
    assert [k for b in batches for k in b] == keys
