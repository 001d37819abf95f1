"""The Neo4j backend's pure parts: event writes, batched clearing, columnar reads, options.

No server: the statements and loops are checked as values here; the contract
suite (``test_store_contract.py``) runs them against a server when
``PRICEGRAPH_NEO4J_URI`` is set.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import neo4j
import neo4j.time
import pandas as pd
import pytest

from pricegraph.errors import GraphStoreError
from pricegraph.graph import NODES, RELS, _neo4j_writes
from pricegraph.graph import _neo4j_cypher as cypher
from pricegraph.graph._frames import edge_frame
from pricegraph.graph._neo4j_config import BULK_FETCH_SIZE, driver_options
from pricegraph.graph.diff import diff_edges
from pricegraph.graph.neo4j_store import Neo4jGraph
from pricegraph.graph.schema import RelSpec

SECRET = "s3cret-Pa55word"


def _purchases(event_ids: list[str]) -> pd.DataFrame:
    n = len(event_ids)
    return edge_frame(
        RELS["PURCHASED"],
        pd.DataFrame(
            {
                "source": ["c1"] * n,
                "target": ["p1"] * n,
                "event_id": event_ids,
                "qty": [1] * n,
                "ts": ["2025-01-02T10:00:00"] * n,
            }
        ),
    )


# -- events: filtered, then created ---------------------------------------------------


@pytest.mark.parametrize("spec", [s for s in RELS.values() if s.is_event], ids=lambda s: s.type)
def test_every_event_type_is_written_with_create_and_endpoints_by_key(spec: RelSpec) -> None:
    statement = cypher.edge_merge(spec)
    assert "MERGE" not in statement
    assert statement.startswith(
        f"UNWIND $rows AS row MATCH (a:{spec.source} {{id: row.source}}) "
        f"MATCH (b:{spec.target} {{id: row.target}}) "
        f"CREATE (a)-[r:{spec.type} {{event_id: row.event_id}}]->(b)"
    )


@pytest.mark.parametrize("spec", [s for s in RELS.values() if not s.is_event], ids=lambda s: s.type)
def test_keyed_edges_still_merge_on_their_endpoints(spec: RelSpec) -> None:
    assert f"MERGE (a)-[r:{spec.type}]->(b)" in cypher.edge_merge(spec)


def test_only_events_not_stored_reach_the_create() -> None:
    spec = RELS["PURCHASED"]
    rows = _purchases(["e1", "e2", "e3"])
    stored = _purchases(["e2"])
    diff = diff_edges(spec, rows, stored)
    assert diff.writes["event_id"].tolist() == ["e1", "e3"]
    assert cypher.frame_rows(diff.writes)[0]["event_id"] == "e1"
    # A re-load: every id is stored, nothing is written (the CREATE never runs).
    assert diff_edges(spec, rows, rows).writes.empty


def test_a_batch_sending_one_id_twice_creates_it_once() -> None:
    rows = _purchases(["e1", "e1", "e2"])
    assert rows["event_id"].tolist() == ["e1", "e2"]
    assert diff_edges(RELS["PURCHASED"], rows, _purchases([])).writes["event_id"].tolist() == [
        "e1",
        "e2",
    ]


# -- clear: relationships first, bounded transactions ---------------------------------


def test_clear_deletes_every_relationship_type_before_any_label() -> None:
    statements = cypher.clear_statements()
    assert len(statements) == len(RELS) + len(NODES)
    relationships, nodes = statements[: len(RELS)], statements[len(RELS) :]
    for statement, spec in zip(relationships, RELS.values(), strict=True):
        assert f"-[r:{spec.type}]->" in statement and "WITH r LIMIT $limit DELETE r " in statement
        assert "DETACH" not in statement
    for statement, label in zip(nodes, NODES, strict=True):
        assert statement.startswith(f"MATCH (n:{label}) WITH n LIMIT $limit DETACH DELETE n")
    assert all(s.endswith("RETURN count(*) AS deleted") for s in statements)


@pytest.mark.parametrize(
    ("stored", "limit", "calls"), [(0, 5, 1), (4, 5, 1), (5, 5, 2), (23, 5, 5)]
)
def test_drain_runs_batches_until_one_is_short(stored: int, limit: int, calls: int) -> None:
    left, sizes = [stored], []

    def delete_batch(n: int) -> int:
        deleted = min(n, left[0])
        left[0] -= deleted
        sizes.append(deleted)
        return deleted

    assert cypher.drain(delete_batch, limit) == stored
    assert left == [0] and len(sizes) == calls and max(sizes) <= limit


def test_drain_refuses_a_limit_below_one() -> None:
    with pytest.raises(ValueError, match="got 0"):
        cypher.drain(lambda n: 0, 0)


@pytest.fixture
def offline_graph(monkeypatch: pytest.MonkeyPatch) -> Iterator[Neo4jGraph]:
    """A ``Neo4jGraph`` whose driver never connects (no server here)."""
    monkeypatch.setattr(neo4j.Driver, "verify_connectivity", lambda self, **config: None)
    monkeypatch.setattr(Neo4jGraph, "ensure_schema", lambda self: None)
    graph = Neo4jGraph("bolt://127.0.0.1:1", password=SECRET)
    yield graph
    graph.close()


def test_store_clear_runs_bounded_transactions_in_order(
    offline_graph: Neo4jGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A fake server: 7 PURCHASED edges, 3 customers, 2 products; each write transaction
    # deletes at most $limit elements of its statement.
    left = {"PURCHASED]": 7, "(n:Customer)": 3, "(n:Product)": 2}
    transactions: list[tuple[str, int]] = []

    def transact(steps: list[tuple[str, dict[str, int]]], *, write: bool) -> list[object]:
        assert write and len(steps) == 1
        (statement, params), deleted = steps[0], 0
        for marker, n in left.items():
            if marker in statement:
                deleted = min(n, params["limit"])
                left[marker] -= deleted
        transactions.append((statement, deleted))
        return [(["deleted"], [{"deleted": deleted}])]

    monkeypatch.setattr(_neo4j_writes, "CLEAR_BATCH", 2)
    monkeypatch.setattr(offline_graph._session, "transact", transact)
    offline_graph.clear()
    assert set(left.values()) == {0}
    assert max(deleted for _, deleted in transactions) <= 2
    first_node = next(i for i, (s, _) in enumerate(transactions) if "(n:" in s)
    assert all("-[r:" in s for s, _ in transactions[:first_node])
    assert not any("-[r:" in s for s, _ in transactions[first_node:])
    assert sum(d for s, d in transactions if "PURCHASED]" in s) == 7


# -- reads: columnar frames ------------------------------------------------------------


def test_columns_frame_keeps_plain_columns_and_converts_temporal_ones() -> None:
    records = [
        ["c1", 1, 2.5, neo4j.time.DateTime(2025, 3, 1, 10, 0, 0)],
        ["c2", None, None, None],
    ]
    frame = cypher.columns_frame(["source", "qty", "price", "ts"], records)
    assert frame["source"].tolist() == ["c1", "c2"]
    assert frame["qty"].tolist()[0] == 1 and pd.isna(frame["qty"].tolist()[1])
    assert frame["ts"].tolist()[0] == datetime(2025, 3, 1, 10, 0)
    assert type(frame["ts"].tolist()[0]) in (datetime, pd.Timestamp)


def test_columns_frame_of_no_records_keeps_the_column_names() -> None:
    frame = cypher.columns_frame(["source", "target"], [])
    assert frame.empty and frame.columns.tolist() == ["source", "target"]


# -- driver options ---------------------------------------------------------------------


def test_driver_options_silence_unrecognized_notifications() -> None:
    options = driver_options(connection_timeout_s=3.0, max_retry_time_s=7.0)
    assert options["connection_timeout"] == 3.0 and options["max_transaction_retry_time"] == 7.0
    assert options["notifications_min_severity"] is neo4j.NotificationMinimumSeverity.WARNING
    assert options["notifications_disabled_classifications"] == [
        neo4j.NotificationDisabledClassification.UNRECOGNIZED
    ]
    assert BULK_FETCH_SIZE == -1  # every record of a bulk read in one fetch


def test_the_driver_accepts_the_options_without_a_server() -> None:
    options = driver_options(connection_timeout_s=1.0, max_retry_time_s=1.0)
    driver = neo4j.GraphDatabase.driver("bolt://127.0.0.1:1", auth=("neo4j", SECRET), **options)
    driver.close()


def test_errors_are_one_line_without_the_password(offline_graph: Neo4jGraph) -> None:
    error = offline_graph._session.error(
        "read failed", RuntimeError(f"line one\n  line {SECRET} two")
    )
    assert isinstance(error, GraphStoreError)
    assert "\n" not in str(error) and "line one line *** two" in str(error)
