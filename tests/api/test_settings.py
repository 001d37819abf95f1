"""Building the root settings: paths resolved against the data directory, no disk checks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pricegraph.api.settings import Settings


def test_relative_store_paths_resolve_against_the_data_dir(env: Path) -> None:
    settings = Settings(data_dir=env / "absent", vectors={"path": env / "elsewhere"})
    assert settings.graph.path == env / "absent" / "graph"
    assert settings.vectors.path == env / "elsewhere"


def test_validation_needs_no_folder_and_creates_none(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Validating settings looks only at its own sources (``.env``, the TOML file); the
    graph, vector, API and policy paths are checked where their stores and files are
    opened (the trained policy by ``PricingConfig.policy_folder``, when quotes load it)."""
    Settings()  # imports what validation imports, before anything is recorded
    looked_at: list[str] = []
    real_stat = os.stat

    def recording_stat(path: object, *args: object, **kwargs: object) -> os.stat_result:
        looked_at.append(str(path))
        return real_stat(path, *args, **kwargs)  # type: ignore[arg-type]

    with monkeypatch.context() as patch:
        patch.setattr(os, "stat", recording_stat)
        settings = Settings(data_dir=env / "absent")

    sources = {".env", str(env / "absent.toml")}
    assert set(looked_at) <= sources, looked_at
    assert settings.graph.path == env / "absent" / "graph"
    assert sorted(p.name for p in env.iterdir()) == []
