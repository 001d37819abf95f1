"""Smoke tests of train_pricing: table, plots, manifest and seeding."""

from __future__ import annotations

import json

import numpy as np
from pricing_rl_support import TINY, tiny_market

from pricegraph.pricing.train_pricing import train_pricing


def test_train_pricing_writes_everything_and_is_seeded(tmp_path) -> None:
    market = tiny_market(inventory=30.0)
    first = train_pricing(market, TINY, tmp_path / "a")
    names = set(first.summary["policy"])
    assert {"oracle", "hierarchical (full)", "macro + meso", "macro only", "static list",
            "competitor match", "myopic (estimated)"} <= names  # fmt: skip
    assert any(name.startswith("cost plus") for name in names)
    folder = first.checkpoint_path
    for name in ("macro.zip", "micro.zip", "meso.npz", "manifest.json", "results.csv",
                 "learning_curves.png", "profit_vs_oracle.png"):  # fmt: skip
        assert (folder / name).is_file(), name
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["version"] == first.policy.version
    assert {"config", "seeds", "metrics", "created"} <= set(manifest)
    second = train_pricing(market, TINY, tmp_path / "b")
    columns = ["profit_mean", "revenue_mean", "units_mean"]
    assert np.allclose(first.summary[columns], second.summary[columns])
