"""Fixtures shared by the CLI tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh data directory under ``tmp_path`` (also the working directory), small
    buffer pool, no config file, CPU."""
    monkeypatch.setenv("PRICEGRAPH_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("PRICEGRAPH_GRAPH__BUFFER_POOL_MB", "128")
    monkeypatch.setenv("PRICEGRAPH_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("PRICEGRAPH_DEVICE", "cpu")
    monkeypatch.chdir(tmp_path)
    return tmp_path
