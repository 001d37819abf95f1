"""Smoke test: ``bench/bench_scale.py --tiny`` runs the whole CLI chain and reports each stage."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHAIN = ["generate", "load", "embed", "train-gnn", "segments", "fit-demand", "train-pricing"]


def test_bench_scale_tiny(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = subprocess.run(
        [
            sys.executable,
            "bench/bench_scale.py",
            "--tiny",
            "--quotes",
            "2",
            "--out",
            str(out),
            "--work",
            str(tmp_path / "data"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads((out / "bench_scale.json").read_text(encoding="utf-8"))
    stages = {s["stage"]: s for s in result["stages"]}
    assert list(stages) == [*CHAIN, "quote-1", "quote-2"]
    for stage in stages.values():
        assert stage["returncode"] == 0
        assert stage["seconds"] > 0 and stage["peak_mib"] > 0, stage
        assert f"\n{stage['stage']} " in done.stdout  # a row of the printed table
    assert result["world"]["products"] == 300 and result["world"]["events"] > 1000
    for name in ("load", "embed"):
        floor = result["floors"][name]
        assert 0 < floor["seconds"] < stages[name]["seconds"] * 10, floor
        ratio = stages[name]["ratio_to_floor"]
        assert math.isfinite(ratio) and ratio > 0
        assert ratio == round(stages[name]["seconds"] / floor["seconds"], 2)
    assert result["floors"]["load"]["rows"] == sum(result["world"].values())
    assert result["floors"]["embed"]["texts"] == stages["embed"]["texts_encoded"] > 300
    for name in ("generate", "train-gnn", "quote-1"):
        assert stages[name]["floor_s"] is None and stages[name]["ratio_to_floor"] is None
    for number in (1, 2):
        quote = stages[f"quote-{number}"]
        assert quote["price"] > 0 and quote["list_price"] > 0
    assert "--from-graph" in stages["train-pricing"]["args"]
    assert "n/a" in done.stdout and "floor load: pyarrow" in done.stdout
