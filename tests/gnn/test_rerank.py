"""The stacked re-ranker: inputs before the cut-off only, candidates, learning, fallbacks."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from support.recs import DAY_S, FAST, SNAPSHOT, SPLIT, purchase_snapshot
from torch import Tensor

from pricegraph.gnn.compare import baselines, tune_and_test
from pricegraph.gnn.data import GraphSnapshot
from pricegraph.gnn.learned_runs import rerank_run
from pricegraph.gnn.metrics import ScoreFn, evaluate_ranking
from pricegraph.gnn.rerank import (
    NEVER_DAYS,
    RerankConfig,
    candidate_features,
    feature_names,
    fit_reranker,
    rerank_inputs,
    reranked_scores,
)
from pricegraph.gnn.split import CustomerItems, EvalWindow, window_before

SMALL = RerankConfig(candidates=6, max_iter=50, min_samples_leaf=5)


def _oracle(window: EvalWindow) -> ScoreFn:
    """1 for the products each customer buys in ``window``, else 0: a perfect source."""

    def scores(batch: Tensor) -> Tensor:
        out = torch.zeros(batch.numel(), SNAPSHOT.num_products)
        pairs = window.positives.pairs(batch)
        out[pairs[0], pairs[1]] = 1.0
        return out

    return scores


def _noise(seed: int) -> ScoreFn:
    def scores(batch: Tensor) -> Tensor:
        generator = torch.Generator().manual_seed(seed)
        return torch.rand(batch.numel(), SNAPSHOT.num_products, generator=generator)

    return scores


def test_inputs_read_only_purchases_before_the_cut_off() -> None:
    rows = [(0, 0, 1), (0, 1, 5), (1, 1, 9), (2, 2, 30)]
    snapshot = purchase_snapshot(rows, 3, torch.eye(3), "tiny")
    inputs = rerank_inputs(snapshot, 10 * DAY_S, {"noise": _noise(0)}, RerankConfig())
    log = np.log1p
    # product 1: bought on days 5 and 9 (ages 5 and 1); product 2 only after the cut-off.
    # (the last column, views in 28 days, is 0: this graph has no views)
    assert inputs.product_stats[1].tolist() == pytest.approx([log(2), log(2), log(2), 5.0, 1.0, 0])
    assert inputs.product_stats[2].tolist() == pytest.approx([0, 0, 0, NEVER_DAYS, NEVER_DAYS, 0])
    assert inputs.product_stats[0].tolist() == pytest.approx([log(1), 0, log(1), 9.0, 9.0, 0])
    # customer 0: two products, last bought 5 days ago; customer 2 nothing yet.
    assert inputs.customer_stats[0].tolist() == pytest.approx([log(2), 5.0, log(2)])
    assert inputs.customer_stats[2].tolist() == pytest.approx([0.0, NEVER_DAYS, 0.0])
    # Text profiles: customer 1 bought product 1 only, customer 2 has none.
    assert inputs.profiles[1].tolist() == pytest.approx([0.0, 1.0, 0.0])
    assert inputs.profiles[2].tolist() == [0.0, 0.0, 0.0]
    assert inputs.history.pairs(torch.tensor([2])).shape[1] == 0


def _add_edges(snapshot: GraphSnapshot, edge_type: tuple[str, str, str], rows: list) -> None:
    """Add ``(source, target[, day])`` edges of ``edge_type`` to the snapshot."""
    index = torch.tensor([[row[0] for row in rows], [row[1] for row in rows]])
    snapshot.data[edge_type].edge_index = index
    if len(rows[0]) == 3:
        snapshot.data[edge_type].time = torch.tensor([row[2] * DAY_S for row in rows])


def test_pair_features_read_views_carts_brands_and_categories_before_the_cut_off() -> None:
    # customer 0 bought products 0, 2, 3 before day 10 and product 1 after it.
    purchases = [(0, 0, 1), (0, 2, 2), (0, 3, 3), (0, 1, 12), (1, 2, 4)]
    snapshot = purchase_snapshot(purchases, 2, torch.eye(4), "pairs")
    _add_edges(snapshot, ("product", "of_brand", "brand"), [(0, 0), (1, 0), (2, 1)])  # 3: none
    _add_edges(snapshot, ("product", "in_category", "category"), [(0, 0), (1, 1), (2, 1), (3, 1)])
    views = [(0, 1, 4), (0, 1, 8), (0, 2, 5), (0, 3, 11), (1, 0, 9)]
    _add_edges(snapshot, ("customer", "viewed", "product"), views)
    _add_edges(snapshot, ("customer", "carted", "product"), [(0, 1, 8)])
    every = {"flat": lambda batch: torch.zeros(batch.numel(), 4)}
    config = RerankConfig(candidates=4)
    inputs = rerank_inputs(snapshot, 10 * DAY_S, every, config)
    found = candidate_features(inputs, torch.tensor([0, 1]), config)
    names = feature_names(["flat"])
    pairs = list(zip(found.row.tolist(), found.product.tolist(), strict=True))
    assert pairs == [(0, 1), (1, 0), (1, 1), (1, 3)]  # bought products are never candidates

    def feature(pair: tuple[int, int], name: str) -> float:
        return float(found.features[pairs.index(pair), names.index(name)])

    # Customer 0, product 1 (brand 0, category 1): purchases 0, 2, 3 -> brand 0 once,
    # category 1 twice; views and carts before day 10: 1, 1, 2 and a cart of 1.
    assert feature((0, 1), "brand_share_purchases") == pytest.approx(1 / 3)
    assert feature((0, 1), "category_share_purchases") == pytest.approx(2 / 3)
    assert feature((0, 1), "brand_share_browsing") == pytest.approx(3 / 4)
    assert feature((0, 1), "category_share_browsing") == pytest.approx(1.0)
    assert feature((0, 1), "customer_log_views") == pytest.approx(np.log(3))
    assert feature((0, 1), "customer_log_carts") == pytest.approx(np.log(2))
    assert feature((0, 1), "customer_days_since_viewed") == pytest.approx(2.0)
    assert feature((0, 1), "product_log_views_28d") == pytest.approx(np.log(3))
    # Customer 1 viewed product 0 only; product 3 has no brand; the view of
    # product 3 on day 11 comes after the cut-off.
    assert feature((1, 0), "customer_days_since_viewed") == pytest.approx(1.0)
    assert feature((1, 3), "customer_days_since_viewed") == NEVER_DAYS
    assert feature((1, 3), "brand_share_purchases") == 0.0
    assert feature((1, 3), "category_share_purchases") == pytest.approx(1.0)
    assert feature((1, 3), "product_log_views_28d") == 0.0


def test_candidates_leave_out_bought_products_and_carry_every_feature() -> None:
    sources = {"oracle": _oracle(SPLIT.val), "noise": _noise(1)}
    inputs = rerank_inputs(SNAPSHOT, SPLIT.val.start_s, sources, SMALL)
    batch = SPLIT.val.customer_index[:30]
    found = candidate_features(inputs, batch, SMALL)
    assert found.features.shape == (found.row.size, len(feature_names(list(sources))))
    assert np.isfinite(found.features).all()
    bought = set(map(tuple, SPLIT.val.history.pairs(batch).T.tolist()))
    pairs = set(zip(found.row.tolist(), found.product.tolist(), strict=True))
    assert not pairs & bought
    per_customer = np.bincount(found.row, minlength=batch.numel())
    assert per_customer.max() <= 2 * SMALL.candidates and per_customer.min() >= SMALL.candidates
    # Every product the oracle scores 1 (bought in the window) is a candidate.
    positives = set(map(tuple, SPLIT.val.positives.pairs(batch).T.tolist()))
    assert positives <= pairs


def test_features_built_in_chunks_equal_those_built_at_once() -> None:
    def per_customer(batch: Tensor) -> Tensor:  # the same scores whatever the batch
        products = torch.arange(SNAPSHOT.num_products, dtype=torch.float32)
        return torch.sin(batch[:, None].float() * 1.7 + products[None, :] * 0.31)

    sources = {"oracle": _oracle(SPLIT.val), "fixed": per_customer}
    inputs = rerank_inputs(SNAPSHOT, SPLIT.val.start_s, sources, SMALL)
    batch = SPLIT.val.customer_index[:30]
    whole = candidate_features(inputs, batch, SMALL)
    chunked = candidate_features(inputs, batch, replace(SMALL, max_batch_cells=7 * 24))
    assert np.array_equal(whole.row, chunked.row)
    assert np.array_equal(whole.product, chunked.product)
    assert np.allclose(whole.features, chunked.features)


def test_the_reranker_learns_from_one_window_and_ranks_the_next() -> None:
    earlier = window_before(SNAPSHOT, SPLIT.val)
    train = rerank_inputs(
        SNAPSHOT, earlier.start_s, {"noise": _noise(2), "oracle": _oracle(earlier)}, SMALL
    )
    model = fit_reranker([(train, earlier)], SMALL)
    assert model is not None
    sources = {"noise": _noise(3), "oracle": _oracle(SPLIT.val)}
    scores = reranked_scores(
        model, rerank_inputs(SNAPSHOT, SPLIT.val.start_s, sources, SMALL), SMALL
    )
    learned = evaluate_ranking(scores, SPLIT.val, k=5)
    noise = evaluate_ranking(_noise(3), SPLIT.val, k=5)
    # The trees found the source that tells the truth, although the noise comes first.
    assert learned.recall > 0.95 and noise.recall < 0.6
    with pytest.raises(ValueError, match="cut at"):
        fit_reranker([(train, SPLIT.val)], SMALL)


def test_nothing_to_learn_gives_no_model() -> None:
    def away_from_five(batch: Tensor) -> Tensor:
        out = torch.zeros(batch.numel(), SNAPSHOT.num_products)
        out[:, 5] = -1.0
        return out

    customers = torch.tensor([0, 1, 2])
    only_five = CustomerItems.from_edge_index(
        torch.tensor([[0, 1, 2], [5, 5, 5]]), SNAPSHOT.num_customers
    )
    nobody_bought = CustomerItems.from_edge_index(
        torch.zeros((2, 0), dtype=torch.long), SNAPSHOT.num_customers
    )
    window = EvalWindow(
        SPLIT.val.start_s,
        SPLIT.val.end_s,
        customers,
        only_five,
        nobody_bought,
        torch.zeros((2, 0), dtype=torch.long),
    )
    config = RerankConfig(candidates=1)
    inputs = rerank_inputs(SNAPSHOT, window.start_s, {"away": away_from_five}, config)
    assert fit_reranker([(inputs, window)], config) is None


def test_the_window_before_has_the_same_length_and_its_own_history() -> None:
    earlier = window_before(SNAPSHOT, SPLIT.val)
    assert earlier.end_s == SPLIT.val.start_s
    assert earlier.end_s - earlier.start_s == SPLIT.val.end_s - SPLIT.val.start_s
    assert earlier.history_edge_index.shape[1] < SPLIT.val.history_edge_index.shape[1]
    assert earlier.num_customers > 0
    first_s = int(SNAPSHOT.edge_time().min())
    very_early = EvalWindow(
        first_s,
        first_s + 10 * DAY_S,
        *([SPLIT.val.customer_index] + [SPLIT.val.positives] * 2),
        SPLIT.val.history_edge_index,
    )
    with pytest.raises(ValueError, match="no purchase before"):
        window_before(SNAPSHOT, very_early)


def test_too_little_history_before_validation_is_said_not_hidden() -> None:
    ease = baselines(SNAPSHOT, FAST)["ease"]
    run = tune_and_test("ease", ease.build, ease.grid, SNAPSHOT, SPLIT, k=FAST.k)

    def cannot_refit(window: EvalWindow) -> ScoreFn:
        raise ValueError("nothing to train on")

    stacked = rerank_run("rerank", SNAPSHOT, SPLIT, [run], {"ease": cannot_refit}, SMALL, k=5)
    assert stacked.val.recall == pytest.approx(run.val.recall)
    assert "0 labelled window(s) before validation: nothing to train on" in stacked.note
    assert "validated as ease alone" in stacked.note
    # The test ranking still learns from the validation window.
    assert stacked.test.recall.size == run.test.recall.size
    assert stacked.params["sources"] == {"ease": run.params}


def test_two_labelled_windows_refit_the_sources_before_each() -> None:
    ease = baselines(SNAPSHOT, FAST)["ease"]
    run = tune_and_test("ease", ease.build, ease.grid, SNAPSHOT, SPLIT, k=FAST.k)
    starts: list[int] = []

    def refit(window: EvalWindow) -> ScoreFn:
        starts.append(window.start_s)
        return ease.build(SNAPSHOT, window, run.params)

    config = RerankConfig(candidates=6, labelled_windows=2, max_iter=20, min_samples_leaf=5)
    stacked = rerank_run("rerank", SNAPSHOT, SPLIT, [run], {"ease": refit}, config, k=5)
    length = SPLIT.val.end_s - SPLIT.val.start_s
    assert starts == [SPLIT.val.start_s - length, SPLIT.val.start_s - 2 * length]
    assert "labelled window" not in stacked.note
    assert 0.0 <= stacked.val.recall <= 1.0 and stacked.test.recall.size > 0
