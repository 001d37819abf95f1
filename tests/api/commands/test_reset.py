"""``pricegraph reset``: it empties the graph, and Ctrl-C stops it between delete batches
with a one-line message, exit code 130 and no traceback; running it again finishes it
(real ``pricegraph`` processes, SIGINT, the embedded store)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import ladybug
import pandas as pd
from support.cli import build_world, run_cli
from support.kill import stored_counts

from pricegraph.api.commands.reset import interrupted_message
from pricegraph.graph import GraphConfig, make_graph_store
from pricegraph.graph import _ladybug_cypher as cypher
from pricegraph.graph.ladybug_store import CLEAR_BATCH
from pricegraph.graph.schema import NODES, RELS

_LEFT = re.compile(
    r"interrupted: reset of the graph at (\S+) stopped between delete batches; "
    r"([\d,]+) nodes and ([\d,]+) relationships are left\. "
    r"Run `pricegraph reset --yes` again to finish\."
)
_CUSTOMERS, _PRODUCTS, _PURCHASES = 20_000, 100, 150_000


def test_reset_empties_a_loaded_graph(tmp_path: Path) -> None:
    env = build_world(tmp_path, customers=60, products=30, days=20, seed=3)
    before = stored_counts(tmp_path / "var")
    assert before["Customer"] == 60 and before["PURCHASED"] > 0
    out = run_cli("reset", "--yes", env=env)
    assert "cleared (0 elements left)" in out
    assert set(stored_counts(tmp_path / "var").values()) == {0}


def test_sigint_stops_the_reset_between_batches_and_a_rerun_finishes_it(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    _build_graph(data_dir / "graph")
    before = stored_counts(data_dir)
    assert before["PURCHASED"] == _PURCHASES > CLEAR_BATCH  # more than one batch of events

    stopped = _start_reset(data_dir)
    assert stopped.stdout is not None
    line = stopped.stdout.readline().decode()
    assert "Clearing the graph at" in line, line
    stopped.send_signal(signal.SIGINT)  # the clear has just started
    _, stderr_bytes = stopped.communicate(timeout=300)
    stderr = stderr_bytes.decode()
    assert stopped.returncode == 130, stderr
    assert "Traceback" not in stderr, stderr
    found = _LEFT.search(stderr)
    assert found is not None, stderr
    assert found.group(1) == str(data_dir / "graph")
    nodes_left, relationships_left = (int(g.replace(",", "")) for g in found.groups()[1:])

    # nothing half-applied: every type lost whole batches only, and every stored event
    # still has its event id (read before the store is opened: opening rebuilds them)
    assert _events_without_ids(data_dir / "graph") == {}
    left = stored_counts(data_dir)
    for name, n in left.items():
        assert n == 0 or (before[name] - n) % CLEAR_BATCH == 0, (name, before[name], n)
    assert nodes_left == sum(n for name, n in left.items() if name in NODES)
    assert relationships_left == sum(n for name, n in left.items() if name not in NODES)
    assert nodes_left + relationships_left > 0  # it stopped before the end

    again = _start_reset(data_dir)
    _, stderr_bytes = again.communicate(timeout=300)
    assert again.returncode == 0, stderr_bytes.decode()
    assert set(stored_counts(data_dir).values()) == {0}


def test_interrupted_message_counts_nodes_and_relationships_apart() -> None:
    counts = {"Customer": 1_500, "Product": 2, "PURCHASED": 30_000, "VIEWED": 4}
    message = interrupted_message("/data/graph", counts)
    assert "1,502 nodes and 30,004 relationships are left" in message
    assert "graph at /data/graph" in message and "pricegraph reset --yes" in message
    assert "not counted" in interrupted_message("bolt://db:7687", None)


def _build_graph(path: Path) -> None:
    """Customers and products with purchases (events, with their event ids)."""
    store = make_graph_store(GraphConfig(path=path, buffer_pool_mb=256))
    try:
        store.upsert_nodes("Customer", pd.DataFrame({"id": [f"c{i}" for i in range(_CUSTOMERS)]}))
        store.upsert_nodes("Product", pd.DataFrame({"id": [f"p{i}" for i in range(_PRODUCTS)]}))
        purchases = pd.DataFrame(
            {
                "source": [f"c{i % _CUSTOMERS}" for i in range(_PURCHASES)],
                "target": [f"p{i % _PRODUCTS}" for i in range(_PURCHASES)],
                "event_id": [f"e{i}" for i in range(_PURCHASES)],
                "qty": 1,
            }
        )
        store.upsert_edges("PURCHASED", purchases)
    finally:
        store.close()


def _start_reset(data_dir: Path) -> subprocess.Popen[bytes]:
    """Start ``pricegraph reset --yes`` on the graph under ``data_dir``; its standard
    output and error are pipes."""
    env = {
        **os.environ,
        "PRICEGRAPH_DATA_DIR": str(data_dir),
        "PRICEGRAPH_GRAPH__BUFFER_POOL_MB": "256",
        "PRICEGRAPH_CONFIG": str(data_dir / "absent.toml"),
        "COLUMNS": "160",
    }
    code = "from pricegraph.api.cli import main; main()"
    return subprocess.Popen(
        [sys.executable, "-c", code, "reset", "--yes"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _events_without_ids(path: Path) -> dict[str, tuple[int, int]]:
    """Event types whose edge count differs from their event-id count, read straight
    from the LadybugDB folder: ``{type: (edges, ids)}``."""
    database = ladybug.Database(str(path), buffer_pool_size=64 << 20, max_db_size=1 << 34)
    connection = ladybug.Connection(database)
    try:
        found = {}
        for spec in RELS.values():
            if spec.is_event:
                edges = connection.execute(cypher.count_edges(spec)).get_all()[0][0]
                ids = connection.execute(cypher.count_rows(cypher.event_key_table(spec)))
                found[spec.type] = (edges, ids.get_all()[0][0])
        return {name: n for name, n in found.items() if n[0] != n[1]}
    finally:
        connection.close()
        database.close()
