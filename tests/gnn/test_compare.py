"""The validation-only protocol, intervals and verdicts, on a two-community toy world."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from torch_geometric.data import HeteroData

from pricegraph.gnn.baselines import item_knn_scores, random_scores
from pricegraph.gnn.compare import (
    CompareConfig,
    baseline_runs,
    blend,
    comparison_table,
    hybrid_run,
    tune_and_test,
    validation_winner,
    verdict,
)
from pricegraph.gnn.data import GraphSnapshot
from pricegraph.gnn.split import EvalWindow, temporal_split

DAY_S = 86_400
FAST = CompareConfig(
    k=5,
    ease_l2=(1.0, 50.0),
    als_grid=((4, 0.05, 10.0),),
    als_iterations=5,
    recent_half_life_days=(7.0, 90.0),
    num_resamples=200,
)


def _world(seed: int = 0) -> GraphSnapshot:
    """120 customers, 24 products over 200 days: customers 0-59 buy from products
    0-11, 60-119 from 12-23, 10 purchases each; product 23 is also a fad bought by
    everyone in the last 40 days. Text vectors carry the community."""
    rng = np.random.default_rng(seed)
    rows = []
    for customer in range(120):
        first = 0 if customer < 60 else 12
        for _ in range(10):
            rows.append((customer, first + int(rng.integers(0, 12)), int(rng.integers(0, 200))))
        if rng.random() < 0.5:
            rows.append((customer, 23, int(rng.integers(160, 200))))
    edge_index = torch.tensor([[c for c, _, _ in rows], [p for _, p, _ in rows]])
    time_s = torch.tensor([d * DAY_S for _, _, d in rows])
    data = HeteroData()
    data["customer"].num_nodes, data["product"].num_nodes = 120, 24
    data["customer"].is_anonymous = torch.zeros(120, dtype=torch.bool)
    x = torch.from_numpy(rng.normal(size=(24, 8)).astype(np.float32)) * 0.1
    x[:12, 0] += 1.0
    x[12:, 1] += 1.0
    data["product"].x, data["product"].has_text = x, torch.ones(24, dtype=torch.bool)
    data["customer", "purchased", "product"].edge_index = edge_index
    data["customer", "purchased", "product"].time = time_s
    data["product", "rev_purchased", "customer"].edge_index = edge_index.flip(0)
    data["product", "rev_purchased", "customer"].time = time_s
    ids = {
        "customer": np.array([f"c{i:03d}" for i in range(120)], dtype=object),
        "product": np.array([f"p{i:02d}" for i in range(24)], dtype=object),
    }
    return GraphSnapshot(data, ids, f"world{seed}")


SNAPSHOT = _world()
SPLIT = temporal_split(SNAPSHOT, test_days=28, val_days=28)


def _quality_builder(calls: list[tuple[str, float]]):
    """Scores = ``signal`` x item-kNN + random noise: the larger, the better."""

    def build(snapshot: GraphSnapshot, window: EvalWindow, params: dict[str, Any]):
        calls.append(("val" if window is SPLIT.val else "test", params["signal"]))
        popular = item_knn_scores(window.history_edge_index, 120, 24)
        noise = random_scores(24, seed=1)
        return lambda batch: params["signal"] * popular(batch) + noise(batch)

    return build


def test_the_setting_is_chosen_on_validation_and_the_test_is_ranked_once() -> None:
    calls: list[tuple[str, float]] = []
    grid = [{"signal": 0.0}, {"signal": 10.0}, {"signal": 0.01}]
    run = tune_and_test("toy", _quality_builder(calls), grid, SNAPSHOT, SPLIT, k=5)
    assert calls == [("val", 0.0), ("val", 10.0), ("val", 0.01), ("test", 10.0)]
    assert run.params == {"signal": 10.0} and run.name == "toy"
    assert run.test.recall.shape == (SPLIT.test.num_customers,)
    assert run.val.num_customers == SPLIT.val.num_customers
    assert run.fit_s >= 0 and run.tune_s >= 0
    with pytest.raises(ValueError, match="toy: the grid of settings is empty"):
        tune_and_test("toy", _quality_builder(calls), [], SNAPSHOT, SPLIT)


def test_baselines_are_tuned_tested_and_told_apart() -> None:
    runs = baseline_runs(SNAPSHOT, SPLIT, FAST)
    names = [run.name for run in runs]
    assert names == [
        "random", "popularity", "popularity_7d", "item_knn", "text",
        "recent_neighbors", "als", "ease",
    ]  # fmt: skip
    by_name = {run.name: run for run in runs}
    assert by_name["ease"].params["l2"] in FAST.ease_l2
    assert by_name["recent_neighbors"].params["half_life_days"] in (7.0, 90.0)
    table = comparison_table(runs, FAST)
    assert list(table.index) == names
    for metric in ("recall@5", "ndcg@5"):
        assert (table[f"{metric}_low"] <= table[metric]).all()
        assert (table[metric] <= table[f"{metric}_high"]).all()
    assert (table["customers"] == SPLIT.test.num_customers).all()
    # The fad (product 23) and the communities make every collaborative method beat random.
    for name in ("ease", "als", "recent_neighbors", "item_knn"):
        result = verdict(by_name[name], by_name["random"], FAST)
        assert result.beats("recall@5"), str(result)
    same = verdict(by_name["ease"], by_name["ease"], FAST)
    assert not same.beats("recall@5") and "no difference from ease" in str(same)
    winner = validation_winner(runs)
    assert winner.val.recall == max(run.val.recall for run in runs)
    # Same seed, same data: the same table.
    again = comparison_table(baseline_runs(SNAPSHOT, SPLIT, FAST), FAST)
    columns = [c for c in table.columns if c != "fit_s"]
    assert table[columns].equals(again[columns])


def test_hybrid_blends_on_one_scale_and_picks_its_weight_on_validation() -> None:
    runs = {run.name: run for run in baseline_runs(SNAPSHOT, SPLIT, FAST)}
    first, second = runs["item_knn"], runs["random"]
    hybrid = hybrid_run("knn+random", first, second, SPLIT, (0.0, 0.5, 1.0))
    assert hybrid.params["weight"] in (0.5, 1.0)  # noise alone never wins validation
    batch = torch.tensor([0, 1])
    assert first.val_scores is not None and second.val_scores is not None
    mixed = blend(first.val_scores, second.val_scores, 1.0)(batch)
    assert mixed.mean(dim=1) == pytest.approx([0.0, 0.0], abs=1e-5)
    assert mixed.std(dim=1, unbiased=False) == pytest.approx([1.0, 1.0], abs=1e-4)
    with pytest.raises(ValueError, match="expected in \\[0, 1\\], got 2"):
        blend(first.val_scores, second.val_scores, 2)
