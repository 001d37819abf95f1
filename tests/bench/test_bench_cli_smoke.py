"""Smoke test: ``bench/bench_cli.py`` runs and prints and writes its ratio."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_cli(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "bench/bench_cli.py", "--repeats", "1", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    printed = re.search(r"help_to_floor_ratio (\d+\.\d+)", done.stdout)
    assert printed is not None, done.stdout
    written = json.loads((tmp_path / "bench_cli.json").read_text(encoding="utf-8"))
    assert written["repeats"] == 1 and written["help_median_s"] > 0
    assert float(printed.group(1)) == written["help_to_floor_ratio"] > 0
