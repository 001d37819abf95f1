"""Smoke test: ``bench/bench_neo4j.py`` measures the driver's client side, says why the
server part is skipped without a server, and writes its figures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_neo4j_without_a_server(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PRICEGRAPH_NEO4J_URI"}
    command = [sys.executable, "bench/bench_neo4j.py", "--edges", "3000", "--repeat", "1"]
    done = subprocess.run(
        [*command, "--out", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "against a server: skipped: no Neo4j server" in done.stdout
    assert "PRICEGRAPH_NEO4J_URI" in done.stdout
    written = json.loads((tmp_path / "bench_neo4j.json").read_text(encoding="utf-8"))
    client = written["client_side"]
    assert client["edges"] == 3000
    assert client["record_per_edge_s"] > 0 and client["record_per_source_s"] > 0
    assert "server" not in written
