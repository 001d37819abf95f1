"""The Neo4j backend without a server: errors, repr, value conversion and generated Cypher.

Behaviour against a real server is pinned down by the shared contract suite
(``test_store_contract.py``), which runs when ``PRICEGRAPH_NEO4J_URI`` is set.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone

import neo4j
import neo4j.time
import numpy as np
import pandas as pd
import pytest

from pricegraph.errors import GraphStoreError
from pricegraph.graph import NODES, RELS, GraphConfig, make_graph_store
from pricegraph.graph import _neo4j_cypher as cypher
from pricegraph.graph._frames import edge_frame, node_frame
from pricegraph.graph.neo4j_store import Neo4jGraph

SECRET = "s3cret-Pa55word"
CLOSED_PORT_URIS = ["bolt://127.0.0.1:1", "neo4j://127.0.0.1:1"]


@pytest.mark.parametrize("uri", CLOSED_PORT_URIS)
def test_unreachable_server_fails_naming_the_uri_not_the_password(uri: str) -> None:
    with pytest.raises(GraphStoreError) as info:
        Neo4jGraph(uri, password=SECRET, connection_timeout_s=1.0)
    message = str(info.value)
    assert uri in message and "cannot connect" in message
    assert SECRET not in message and SECRET not in repr(info.value.__cause__)
    assert isinstance(info.value.__cause__, neo4j.exceptions.DriverError)


def test_factory_builds_the_neo4j_backend_and_wraps_its_failure() -> None:
    config = GraphConfig(backend="neo4j", neo4j_uri="bolt://127.0.0.1:1", neo4j_password=SECRET)
    with pytest.raises(GraphStoreError, match=re.escape("bolt://127.0.0.1:1")):
        make_graph_store(config)


@pytest.mark.parametrize("uri", ["http://localhost:7474", "localhost:7687", "redis://x:1"])
def test_unsupported_uri_is_refused_before_connecting(uri: str) -> None:
    with pytest.raises(GraphStoreError, match="expected a scheme among"):
        Neo4jGraph(uri, password=SECRET)


def test_batch_size_must_be_positive() -> None:
    with pytest.raises(GraphStoreError, match="batch_size"):
        Neo4jGraph("bolt://127.0.0.1:1", batch_size=0)


def test_repr_shows_uri_and_database_not_the_password(monkeypatch: pytest.MonkeyPatch) -> None:
    # No server here: skip the connectivity check and the schema statements only.
    monkeypatch.setattr(neo4j.Driver, "verify_connectivity", lambda self, **config: None)
    monkeypatch.setattr(Neo4jGraph, "ensure_schema", lambda self: None)
    graph = Neo4jGraph("neo4j://db.example:7687", password=SECRET, database="scratch")
    try:
        assert repr(graph) == "Neo4jGraph(uri='neo4j://db.example:7687', database='scratch')"
        assert SECRET not in repr(graph) and SECRET not in str(graph)
    finally:
        graph.close()


# -- values --------------------------------------------------------------------------


@pytest.mark.parametrize("null", [None, float("nan"), np.nan, pd.NaT, pd.NA, np.datetime64("NaT")])
def test_nulls_become_none(null: object) -> None:
    assert cypher.to_neo4j(null) is None


@pytest.mark.parametrize(
    ("value", "expected", "kind"),
    [
        (np.int64(7), 7, int),
        (np.int32(-3), -3, int),
        (np.float64(2.5), 2.5, float),
        (np.float32(0.5), 0.5, float),
        (np.bool_(True), True, bool),
        (np.str_("p1"), "p1", str),
        ("p1", "p1", str),
        (3, 3, int),
    ],
)
def test_numpy_scalars_become_python(value: object, expected: object, kind: type) -> None:
    converted = cypher.to_neo4j(value)
    assert converted == expected and type(converted) is kind


@pytest.mark.parametrize(
    "value",
    [
        datetime(2025, 3, 1, 12, 0, tzinfo=timezone(timedelta(hours=2))),
        pd.Timestamp("2025-03-01T12:00:00+02:00"),
        pd.Timestamp("2025-03-01T10:00:00"),
        np.datetime64("2025-03-01T10:00:00", "ns"),
        np.datetime64("2025-03-01T10:00:00", "us"),
        datetime(2025, 3, 1, 10, 0),
    ],
)
def test_datetimes_become_naive_utc(value: object) -> None:
    converted = cypher.to_neo4j(value)
    assert type(converted) is datetime and converted.tzinfo is None
    assert converted == datetime(2025, 3, 1, 10, 0)


def test_containers_are_converted_element_by_element() -> None:
    value = {"a": [np.int64(1), np.nan], "b": (pd.NaT, "x"), "c": np.array([1.5, 2.0])}
    assert cypher.to_neo4j(value) == {"a": [1, None], "b": [None, "x"], "c": [1.5, 2.0]}


def test_frame_rows_are_plain_python() -> None:
    frame = node_frame(
        NODES["Product"],
        pd.DataFrame(
            {
                "id": ["p1", "p2"],
                "cost": [10.5, None],
                "stock_units": [3, None],
                "currency": ["EUR", None],
            }
        ),
    )
    rows = cypher.frame_rows(frame)
    assert rows == [
        {"id": "p1", "cost": 10.5, "stock_units": 3, "currency": "EUR"},
        {"id": "p2", "cost": None, "stock_units": None, "currency": None},
    ]
    assert type(rows[0]["stock_units"]) is int and type(rows[0]["cost"]) is float


def test_frame_rows_of_events_keep_time_and_bool() -> None:
    customers = node_frame(
        NODES["Customer"],
        pd.DataFrame(
            {
                "id": ["c1", "c2"],
                "signup_ts": ["2025-03-01T12:00:00+02:00", None],
                "is_anonymous": [True, None],
            }
        ),
    )
    assert cypher.frame_rows(customers) == [
        {"id": "c1", "signup_ts": datetime(2025, 3, 1, 10, 0), "is_anonymous": True},
        {"id": "c2", "signup_ts": None, "is_anonymous": None},
    ]
    events = edge_frame(
        RELS["VIEWED"],
        pd.DataFrame(
            {"source": ["c1"], "target": ["p1"], "event_id": ["v1"], "ts": ["2025-01-02"]}
        ),
    )
    (row,) = cypher.frame_rows(events.iloc[0:1])
    assert row == {"source": "c1", "target": "p1", "event_id": "v1", "ts": datetime(2025, 1, 2)}
    assert cypher.frame_rows(events.iloc[0:0]) == []


def test_results_come_back_as_python_values() -> None:
    local = neo4j.time.DateTime(2025, 3, 1, 10, 0, 0)
    assert cypher.from_neo4j(local) == datetime(2025, 3, 1, 10, 0)
    assert cypher.from_neo4j(local).tzinfo is None
    assert cypher.from_neo4j(neo4j.time.Date(2025, 3, 1)) == date(2025, 3, 1)
    assert cypher.from_neo4j([local, {"d": local}, "x", 1]) == [
        datetime(2025, 3, 1, 10, 0),
        {"d": datetime(2025, 3, 1, 10, 0)},
        "x",
        1,
    ]


# -- generated Cypher ----------------------------------------------------------------

STATEMENTS = cypher.all_statements()


def test_every_label_and_type_has_its_statements() -> None:
    text = "\n".join(STATEMENTS)
    for label in NODES:
        assert f"CREATE CONSTRAINT {label.lower()}_id IF NOT EXISTS FOR (n:{label}) " in text
        assert f"MERGE (n:{label} {{id: row.id}})" in text
    for rel in RELS.values():
        assert f"-[r:{rel.type}" in text
        has_index = f"CREATE INDEX {rel.type.lower()}_event_id IF NOT EXISTS" in text
        assert has_index == rel.is_event


@pytest.mark.parametrize("statement", STATEMENTS)
def test_statements_are_neo4j_cypher_with_parameters_only(statement: str) -> None:
    for embedded_only in ("LOAD FROM", "COPY", "label(", "BEGIN TRANSACTION"):
        assert embedded_only not in statement
    assert "'" not in statement and '"' not in statement  # values travel as parameters
    assert statement.count("(") == statement.count(")")
    assert statement.count("[") == statement.count("]")
    assert statement.count("{") == statement.count("}")
    if "row." in statement:
        assert statement.startswith("UNWIND $rows AS row ")
    if "k." in statement or " k " in statement:
        assert statement.startswith("UNWIND $keys AS k ")


def test_events_are_created_with_their_properties_not_merged() -> None:
    statement = cypher.edge_merge(RELS["PURCHASED"])
    assert statement == cypher.event_create(RELS["PURCHASED"])
    assert "CREATE (a)-[r:PURCHASED {event_id: row.event_id}]->(b) SET " in statement
    assert "MERGE" not in statement
    assert "r.event_id = " not in statement and "r.qty = row.qty" in statement


def test_neighbors_use_neo4j_functions() -> None:
    statement = cypher.neighbors("Product", "PURCHASED", "in")
    assert "<-[r:PURCHASED]-(m)" in statement
    assert "type(r) AS rel_type" in statement and "labels(m)[0] AS node_label" in statement
    assert statement.endswith("LIMIT $limit")


def test_failures_after_connecting_are_wrapped(monkeypatch: pytest.MonkeyPatch) -> None:
    # The server "goes away" after the constructor: reads and writes raise GraphStoreError.
    monkeypatch.setattr(neo4j.Driver, "verify_connectivity", lambda self, **config: None)
    monkeypatch.setattr(Neo4jGraph, "ensure_schema", lambda self: None)
    graph = Neo4jGraph(
        "bolt://127.0.0.1:1", password=SECRET, connection_timeout_s=1.0, max_retry_time_s=0.2
    )
    try:
        for call in (
            graph.counts,
            lambda: graph.upsert_nodes("Brand", pd.DataFrame({"id": ["b1"]})),
            lambda: graph.read_cypher("MATCH (n) RETURN count(n) AS n"),
        ):
            with pytest.raises(GraphStoreError, match=re.escape("bolt://127.0.0.1:1")) as info:
                call()
            assert SECRET not in str(info.value)
            assert isinstance(info.value.__cause__, neo4j.exceptions.DriverError)
    finally:
        graph.close()


# -- against a server (PRICEGRAPH_NEO4J_URI) -------------------------------------------


@pytest.fixture
def server_graph() -> Iterator[Neo4jGraph]:
    """The Neo4j store on the scratch database of ``PRICEGRAPH_NEO4J_URI``, emptied."""
    uri = os.environ.get("PRICEGRAPH_NEO4J_URI")
    if not uri:
        pytest.skip("needs a Neo4j server: set PRICEGRAPH_NEO4J_URI (a scratch database)")
    graph = Neo4jGraph(
        uri,
        user=os.environ.get("PRICEGRAPH_NEO4J_USER", "neo4j"),
        password=os.environ.get("PRICEGRAPH_NEO4J_PASSWORD", ""),
        database=os.environ.get("PRICEGRAPH_NEO4J_DATABASE", "neo4j"),
    )
    graph.clear()
    yield graph
    graph.clear()
    graph.close()


def test_clear_on_server_deletes_a_graph_larger_than_one_batch(
    server_graph: Neo4jGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pricegraph.graph import _neo4j_writes

    monkeypatch.setattr(_neo4j_writes, "CLEAR_BATCH", 3)
    customers = [f"c{i}" for i in range(7)]
    server_graph.upsert_nodes("Customer", pd.DataFrame({"id": customers}))
    server_graph.upsert_nodes("Product", pd.DataFrame({"id": ["p1", "p2"]}))
    events = pd.DataFrame(
        {
            "source": customers * 2,
            "target": ["p1"] * 7 + ["p2"] * 7,
            "event_id": [f"v{i}" for i in range(14)],
            "ts": ["2025-01-02T10:00:00"] * 14,
        }
    )
    server_graph.upsert_edges("VIEWED", events)
    server_graph.clear()
    assert sum(server_graph.counts().values()) == 0


def test_counts_on_an_empty_server_log_no_notifications(
    server_graph: Neo4jGraph, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("DEBUG", logger="neo4j.notifications"):
        assert sum(server_graph.counts().values()) == 0
    assert not [r for r in caplog.records if r.name == "neo4j.notifications"]


def test_node_frame_on_server_is_typed_like_the_embedded_store(server_graph: Neo4jGraph) -> None:
    server_graph.upsert_nodes("Customer", pd.DataFrame({"id": ["c1", "c2"]}))
    frame = server_graph.node_frame("Customer")
    assert frame["signup_ts"].dtype == "datetime64[us]"
    assert frame["id"].tolist() == ["c1", "c2"]
