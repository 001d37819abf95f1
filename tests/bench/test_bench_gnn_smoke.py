"""Smoke test: the GNN speed benchmark runs end to end on a tiny synthetic graph.

It checks that the script works and reports its figures, not the figures themselves.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_gnn_synthetic(tmp_path: Path) -> None:
    args = ["--cases", "synthetic-50k", "--scale", "0.002", "--epochs", "1"]
    args += ["--lightgcn-epochs", "1", "--device", "cpu", "--out", str(tmp_path)]
    result = subprocess.run(
        [sys.executable, "bench/bench_gnn.py", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((tmp_path / "bench_gnn.json").read_text())
    (line,) = report["table"]
    assert line["case"] == "synthetic-50k" and line["nodes"] == 140
    assert line["s/epoch encoder"] > 0 and line["s/epoch LightGCN (cpu)"] > 0
    assert line["steps/epoch"] >= 1 and line["peak MiB encoder"] > 0
    assert (tmp_path / "bench_gnn.png").exists()
