"""``pricegraph serve --workers N`` refuses to start, in one line, when a server is down."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.cli import runner

from pricegraph.api.cli import app

GRAPH_URI = "bolt://127.0.0.1:1"  # port 1: closed, refused at once
VECTORS_URL = "http://127.0.0.1:1"
RECORDS_URL = "postgresql://pricing:s3cret-pw@127.0.0.1:1/records"


@pytest.fixture
def servers_down(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRICEGRAPH_GRAPH__BACKEND", "neo4j")
    monkeypatch.setenv("PRICEGRAPH_GRAPH__NEO4J_URI", GRAPH_URI)
    monkeypatch.setenv("PRICEGRAPH_GRAPH__NEO4J_PASSWORD", "hunter2")
    monkeypatch.setenv("PRICEGRAPH_VECTORS__URL", VECTORS_URL)
    monkeypatch.setenv("PRICEGRAPH_VECTORS__TIMEOUT_S", "2")
    monkeypatch.setenv("PRICEGRAPH_PRICING__DATABASE_URL", RECORDS_URL)


@pytest.mark.usefixtures("servers_down")
def test_workers_refuse_to_start_naming_every_server_that_is_down() -> None:
    result = runner.invoke(app, ["serve", "--workers", "2", "--port", "18766"])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output  # one error line, no example queries, no workers
    (line,) = lines
    assert line.startswith("error: cannot start the API workers:")
    assert GRAPH_URI in line and VECTORS_URL in line and "hunter2" not in line
    assert "records database postgresql://pricing@127.0.0.1:1/records" in line
    assert "s3cret-pw" not in line


@pytest.mark.usefixtures("env")
def test_example_ids_come_from_the_graph_or_are_placeholders() -> None:
    import pandas as pd

    from pricegraph.api.commands._common import load_settings, open_store
    from pricegraph.api.commands.serve import example_ids

    settings = load_settings()
    assert example_ids(settings) == ("<customer-id>", "<product-id>")
    with open_store(settings) as store:
        store.upsert_nodes("Product", pd.DataFrame({"id": ["p1", "p2"], "name": ["A", "B"]}))
        store.upsert_nodes("Customer", pd.DataFrame({"id": ["c1", "c2"]}))
        store.upsert_edges(
            "PURCHASED",
            pd.DataFrame(
                {
                    "source": ["c2", "c2", "c1"],
                    "target": ["p2", "p2", "p1"],
                    "event_id": ["e1", "e2", "e3"],
                    "qty": 1,
                    "unit_price": 10.0,
                    "currency": "EUR",
                    "ts": pd.to_datetime(["2025-01-01"] * 3),
                }
            ),
        )
    assert example_ids(settings) == ("c2", "p1")
