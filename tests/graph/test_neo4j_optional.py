"""The Neo4j driver is an optional extra: without it, the backend says how to install it."""

from __future__ import annotations

import sys

import pytest

from pricegraph.errors import GraphStoreError
from pricegraph.graph import GraphConfig, make_graph_store


def test_a_missing_driver_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "neo4j", None)  # `import neo4j` raises ImportError
    config = GraphConfig(backend="neo4j", neo4j_uri="bolt://127.0.0.1:1")
    with pytest.raises(GraphStoreError, match=r"pip install 'pricegraph\[neo4j\]'") as caught:
        make_graph_store(config)
    assert isinstance(caught.value.__cause__, ImportError)
