"""A load killed with SIGKILL half-way, run again, ends exactly like one clean load."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from pricegraph.graph import GraphConfig, make_graph_store
from pricegraph.loaders.synthetic import generate_world, write_world
from pricegraph.loaders.synthetic_config import WorldConfig


def _load(data_dir: Path, mapping: Path, chunk_rows: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "PRICEGRAPH_DATA_DIR": str(data_dir),
        "PRICEGRAPH_GRAPH__BUFFER_POOL_MB": "256",
        "PRICEGRAPH_LOADERS__CHUNK_ROWS": str(chunk_rows),
    }
    code = "from pricegraph.api.cli import main; main()"
    return subprocess.Popen(
        [sys.executable, "-c", code, "load", str(mapping)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _counts(data_dir: Path) -> dict[str, int]:
    store = make_graph_store(GraphConfig(path=data_dir / "graph", buffer_pool_mb=256))
    try:
        return store.counts()
    finally:
        store.close()


def test_sigkill_then_rerun_matches_a_clean_load(tmp_path: Path) -> None:
    config = WorldConfig(seed=11, n_customers=800, n_products=200, n_days=90)
    mapping = write_world(generate_world(config), tmp_path / "world")

    started = time.perf_counter()
    clean = _load(tmp_path / "clean", mapping, chunk_rows=2_000)
    assert clean.wait(timeout=300) == 0, clean.stderr.read().decode()
    clean_seconds = time.perf_counter() - started
    expected = _counts(tmp_path / "clean")
    assert expected["VIEWED"] > 10_000

    killed = _load(tmp_path / "killed", mapping, chunk_rows=2_000)
    time.sleep(clean_seconds * 0.6)  # somewhere in the events, whatever the machine
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait(timeout=60)
    partial = _counts(tmp_path / "killed")
    assert partial["VIEWED"] < expected["VIEWED"], "the kill came after the end of the load"

    again = _load(tmp_path / "killed", mapping, chunk_rows=2_000)
    assert again.wait(timeout=300) == 0, again.stderr.read().decode()
    assert _counts(tmp_path / "killed") == expected
