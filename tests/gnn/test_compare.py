"""The validation-only protocol, intervals and verdicts, on a two-community toy world."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from support.recs import FAST, SNAPSHOT, SPLIT, toy_world

from pricegraph.gnn.baselines import item_knn_scores, random_scores
from pricegraph.gnn.compare import (
    baseline_runs,
    baselines,
    blend,
    hybrid_run,
    tune_and_test,
    validation_winner,
)
from pricegraph.gnn.data import PURCHASED, VIEWED, GraphSnapshot
from pricegraph.gnn.split import EvalWindow, temporal_split
from pricegraph.gnn.verdict import comparison_table, verdict


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
    assert "viewed" not in baselines(SNAPSHOT, FAST)  # no views or carts in this graph
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


def test_cold_start_ranking_ranks_only_products_never_bought_before_the_window() -> None:
    from pricegraph.gnn.compare import cold_start_ranking
    from pricegraph.gnn.split import CustomerItems

    # 3 customers, 5 products; products 3 and 4 were never bought before the window.
    history = torch.tensor([[0, 1, 2], [0, 1, 2]])
    positives = torch.tensor([[0, 0, 1, 2], [3, 1, 2, 4]])  # c1 bought no cold product
    window = EvalWindow(
        start_s=0,
        end_s=1,
        customer_index=torch.arange(3),
        positives=CustomerItems.from_edge_index(positives, 3),
        history=CustomerItems.from_edge_index(history, 3),
        history_edge_index=history,
    )
    scores = torch.tensor([[9.0, 8.0, 7.0, 1.0, 2.0]]).expand(3, 5)
    cold = cold_start_ranking(lambda batch: scores[batch], window, 5, k=1)
    assert cold is not None and cold.customer_index.tolist() == [0, 2]
    # Warm products (higher scores) are not candidates: top-1 is product 4 for both.
    assert cold.recall.tolist() == [0.0, 1.0]
    no_cold = EvalWindow(0, 1, torch.arange(3), window.history, window.history, history)
    assert cold_start_ranking(lambda batch: scores[batch], no_cold, 5) is None


def test_the_viewed_baseline_joins_where_the_graph_has_views() -> None:
    """Customers view what they buy 1-3 days before buying it: browsing predicts purchases."""
    snapshot = toy_world()
    purchases, purchase_s = snapshot.edge_index(PURCHASED), snapshot.edge_time(PURCHASED)
    lead = torch.randint(1, 4, (purchase_s.numel(),), generator=torch.Generator().manual_seed(0))
    snapshot.data[VIEWED].edge_index = purchases.clone()
    snapshot.data[VIEWED].time = purchase_s - lead * 86_400
    methods = baselines(snapshot, FAST)
    assert list(methods).index("viewed") == list(methods).index("text") + 1
    split = temporal_split(snapshot, test_days=28, val_days=28)
    run, popular = (
        tune_and_test(name, methods[name].build, methods[name].grid, snapshot, split, k=FAST.k)
        for name in ("viewed", "popularity")
    )
    assert run.params["half_life_days"] in FAST.viewed_half_life_days
    # Views made in the 3 days before the cut-off name some of the next purchases.
    assert run.test.recall.mean() > popular.test.recall.mean()
