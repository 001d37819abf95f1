"""Smoke test: the simulator benchmark runs end to end on a tiny world (figures not checked)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_simulator(tmp_path: Path) -> None:
    args = ["--n-products", "30", "--n-customers", "200", "--customers-per-segment", "8"]
    args += ["--periods", "4", "--episodes", "2", "--steps", "20", "--out", str(tmp_path)]
    result = subprocess.run(
        [sys.executable, "bench/bench_simulator.py", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "oracle_solve_s" in result.stdout and "env_steps_per_s" in result.stdout
    report = json.loads((tmp_path / "simulator.json").read_text())
    summary = report["summary"]
    assert {row["policy"] for row in summary} >= {"oracle", "static list"}
    assert "profit % open-loop oracle" in result.stdout and "profit % bound" in result.stdout
    oracle = next(row for row in summary if row["policy"] == "oracle")
    assert (
        abs(oracle["profit_pct_bound"] - 100 * oracle["profit_mean"] / report["profit_bound"])
        < 1e-9
    )
    beats_oracle = [row["policy"] for row in summary if row["profit_pct_oracle"] > 100 + 1e-9]
    if beats_oracle:  # a figure above 100 % of the oracle comes with the reason
        assert f"above 100 % of the open-loop oracle ({', '.join(beats_oracle)})" in result.stdout
    assert (tmp_path / "simulator_profit.png").exists()
