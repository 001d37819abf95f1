"""Smoke test: the headroom benchmark runs on tiny worlds and reports each world's fact."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_headroom_tiny(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "bench/bench_headroom.py", "--tiny", "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((tmp_path / "headroom.json").read_text())
    rows = {row["beta_log_sd"]: row for row in report["rows"]}
    assert set(rows) == {0.3, 1.0}
    for row in rows.values():
        assert row["group_oracle"] >= row["segment_oracle"] * (1 - 1e-9)
        expected = 100 * (row["group_oracle"] / row["segment_oracle"] - 1)
        assert abs(row["headroom_pct"] - expected) < 1e-9
    assert rows[1.0]["headroom_pct"] > rows[0.3]["headroom_pct"]
    assert "± n/a %" in result.stdout and (tmp_path / "headroom.png").is_file()
