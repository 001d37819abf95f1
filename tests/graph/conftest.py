"""The graph tests run the contract on both write paths of the embedded store."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pricegraph.graph import GraphConfig, GraphStore, make_graph_store
from pricegraph.graph.ladybug_store import EmbeddedGraph


@pytest.fixture(params=["embedded", "embedded-bulk", "neo4j"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[GraphStore]:
    """Every graph backend, as in ``tests/conftest.py``; the embedded one twice: with
    its small-write path (``MERGE``), and sending every upsert through ``COPY``."""
    if request.param.startswith("embedded"):
        graph = make_graph_store(GraphConfig(path=tmp_path / "graph", buffer_pool_mb=128))
        if request.param == "embedded-bulk":
            assert isinstance(graph, EmbeddedGraph)
            graph.small_write_rows = 0
    else:
        uri = os.environ.get("PRICEGRAPH_NEO4J_URI")
        if not uri:
            pytest.skip("Neo4j contract tests need PRICEGRAPH_NEO4J_URI (a scratch database)")
        graph = make_graph_store(
            GraphConfig(
                backend="neo4j",
                neo4j_uri=uri,
                neo4j_user=os.environ.get("PRICEGRAPH_NEO4J_USER", "neo4j"),
                neo4j_password=os.environ.get("PRICEGRAPH_NEO4J_PASSWORD", ""),
                neo4j_database=os.environ.get("PRICEGRAPH_NEO4J_DATABASE", "neo4j"),
            )
        )
    graph.clear()
    try:
        yield graph
    finally:
        graph.clear()
        graph.close()
