"""Smoke test of ``pricegraph segments`` on a tiny world."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
from support.cli import run_cli as _run
from support.cli import runner

import pricegraph.api.commands.segments  # noqa: F401  (registers the command)
from pricegraph.api.cli import app


def test_segments_command(env: Path) -> None:
    _run("generate", "--customers", "80", "--products", "30", "--days", "30", "--seed", "3")
    _run("load", str(env / "var" / "world" / "mapping.toml"))
    out = _run("segments", "--k-max", "4", "--vector-weight", "0", "--seed", "1")
    assert "Silhouette per k" in out and "chosen k:" in out and "SEG-v1-1" in out
    assert "IN_SEGMENT edges (v1): 80 created" in out
    lines = out.splitlines()  # not a terminal: plain progress lines
    assert "segments: features: started" in lines
    assert any(line.startswith("segments: features: done in ") for line in lines)
    assert "segments: KMeans k=2..4: 0/3 (0.0 %)" in lines
    assert any(line.startswith("segments: KMeans k=2..4: 3/3 (100.0 %)") for line in lines)
    png = env / "var" / "segments.png"
    assert png.read_bytes()[:4] == b"\x89PNG"
    again = _run("segments", "--k-max", "4", "--vector-weight", "0", "--seed", "1")
    assert "0 created, 0 updated, 80 unchanged, 0 stale deleted" in again
    assert "Segment" in _run("stats")
    # csv: standard output holds the profiles only, every column, descriptions too
    result = runner.invoke(
        app, ["segments", "--k-max", "4", "--vector-weight", "0", "--seed", "1", "--format", "csv"]
    )
    assert result.exit_code == 0, result.output
    profiles = pd.read_csv(io.StringIO(result.stdout))
    assert "description" in profiles.columns and profiles["size"].sum() == 80
    assert "chosen k:" in result.stderr and "chosen k:" not in result.stdout


def test_segments_command_errors(env: Path) -> None:
    result = runner.invoke(app, ["segments", "--k-min", "5", "--k-max", "3"])
    assert result.exit_code == 2 and "k_min=5, k_max=3" in result.output


def test_segments_without_vectors_says_what_to_do(env: Path) -> None:
    result = runner.invoke(app, ["segments"])
    assert result.exit_code == 2 and "pricegraph embed" in result.output
