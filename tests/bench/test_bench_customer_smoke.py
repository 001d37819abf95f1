"""Smoke tests of the customer-state benchmarks on tiny worlds: they run the whole
pipeline and write figures that are numbers in their ranges."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_bench_sensitivity_tiny(tmp_path: Path) -> None:
    out = _run("bench/bench_sensitivity.py", "--tiny", "--out", str(tmp_path))
    assert "Spearman" in out
    report = json.loads((tmp_path / "sensitivity.json").read_text())
    states = {row["state"] for row in report["rows"]}
    assert {"graph", "text", "rfm", "latent segment"} <= states
    assert all(-1.0 <= row["rho"] <= 1.0 for row in report["rows"])
    assert (tmp_path / "sensitivity.png").stat().st_size > 0


def test_bench_personal_tiny(tmp_path: Path) -> None:
    _run("bench/bench_personal.py", "--tiny", "--states", "none", "graph", "--out", str(tmp_path))
    rows = json.loads((tmp_path / "personal.json").read_text())["rows"]
    assert [row["state"] for row in rows] == ["none", "graph"]
    for row in rows:
        assert row["group_oracle_profit"] >= row["segment_oracle_profit"] - 1e-6
        assert 0.0 <= row["gate"] <= 1.0
        assert math.isnan(row["captured_pct"]) or row["gate"] > 0 or row["captured_pct"] == 0
    merged = _run(
        "bench/bench_personal.py", "--merge", str(tmp_path / "personal.json"),
        "--out", str(tmp_path / "merged"),
    )  # fmt: skip
    assert "wrote" in merged
    again = json.loads((tmp_path / "merged" / "personal.json").read_text())
    assert [row["state"] for row in again["rows"]] == ["none", "graph"]
    none = next(row for row in again["summary"] if row["state"] == "none")
    gap = rows[1]["captured_pct"] - rows[0]["captured_pct"]
    assert none["graph_minus_mean"] == gap or (
        math.isnan(gap) and math.isnan(none["graph_minus_mean"])
    )
