"""Smoke test of ``pricegraph segments`` on a tiny world."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import pricegraph.api.commands.segments  # noqa: F401  (registers the command)
from pricegraph.api.cli import app

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PRICEGRAPH_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("PRICEGRAPH_GRAPH__BUFFER_POOL_MB", "128")
    monkeypatch.setenv("PRICEGRAPH_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_segments_command(env: Path) -> None:
    _run("generate", "--customers", "80", "--products", "30", "--days", "30", "--seed", "3")
    _run("load", str(env / "var" / "world" / "mapping.toml"))
    out = _run("segments", "--k-max", "4", "--vector-weight", "0", "--seed", "1")
    assert "Silhouette per k" in out and "chosen k:" in out and "SEG-v1-1" in out
    assert "IN_SEGMENT edges (v1): 80 created" in out
    png = env / "var" / "segments.png"
    assert png.read_bytes()[:4] == b"\x89PNG"
    again = _run("segments", "--k-max", "4", "--vector-weight", "0", "--seed", "1")
    assert "0 created, 0 updated, 80 unchanged, 0 stale deleted" in again
    assert "Segment" in _run("stats")


def test_segments_command_errors(env: Path) -> None:
    result = runner.invoke(app, ["segments", "--k-min", "5", "--k-max", "3"])
    assert result.exit_code == 2 and "k_min=5, k_max=3" in result.output


def test_segments_without_vectors_says_what_to_do(tmp_path, monkeypatch) -> None:
    from typer.testing import CliRunner

    from pricegraph.api.cli import app

    monkeypatch.setenv("PRICEGRAPH_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("PRICEGRAPH_GRAPH__BUFFER_POOL_MB", "128")
    monkeypatch.setenv("PRICEGRAPH_CONFIG", str(tmp_path / "absent.toml"))
    result = CliRunner().invoke(app, ["segments"])
    assert result.exit_code == 2 and "pricegraph embed" in result.output
