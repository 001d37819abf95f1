"""Shared fixtures: small real stores, and the path of the shared real data."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pricegraph.graph import GraphConfig, GraphStore, make_graph_store


def _neo4j_config() -> GraphConfig | None:
    uri = os.environ.get("PRICEGRAPH_NEO4J_URI")
    if not uri:
        return None
    return GraphConfig(
        backend="neo4j",
        neo4j_uri=uri,
        neo4j_user=os.environ.get("PRICEGRAPH_NEO4J_USER", "neo4j"),
        neo4j_password=os.environ.get("PRICEGRAPH_NEO4J_PASSWORD", ""),
        neo4j_database=os.environ.get("PRICEGRAPH_NEO4J_DATABASE", "neo4j"),
    )


@pytest.fixture(params=["embedded", "neo4j"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[GraphStore]:
    """Every graph backend: embedded always, Neo4j when PRICEGRAPH_NEO4J_URI is set.

    The Neo4j database is cleared before and after each test: point the variable
    at a scratch database.
    """
    if request.param == "embedded":
        graph = make_graph_store(GraphConfig(path=tmp_path / "graph", buffer_pool_mb=128))
    else:
        config = _neo4j_config()
        if config is None:
            pytest.skip("Neo4j contract tests need PRICEGRAPH_NEO4J_URI (a scratch database)")
        graph = make_graph_store(config)
    graph.clear()
    try:
        yield graph
    finally:
        graph.clear()
        graph.close()


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[GraphStore]:
    """The embedded store alone, in a fresh folder."""
    graph = make_graph_store(GraphConfig(path=tmp_path / "graph", buffer_pool_mb=128))
    yield graph
    graph.close()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A ``postgresql://`` URL whose tables live in a fresh schema of their own, dropped
    after the test; skipped without ``PRICEGRAPH_TEST_POSTGRES_URL`` (``scripts/test``
    and CI start a throwaway server and set it when PostgreSQL is installed)."""
    base = os.environ.get("PRICEGRAPH_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("PostgreSQL records tests need PRICEGRAPH_TEST_POSTGRES_URL")
    from pricegraph.pricing.records.postgres import scratch_schema

    with scratch_schema(base, "test") as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def records_target(request: pytest.FixtureRequest, tmp_path: Path) -> str | Path:
    """Every records database backend (:mod:`pricegraph.pricing.records`): a SQLite file
    always, PostgreSQL when ``PRICEGRAPH_TEST_POSTGRES_URL`` is set."""
    if request.param == "sqlite":
        return tmp_path / "records" / "quotes.sqlite"
    return str(request.getfixturevalue("postgres_url"))
