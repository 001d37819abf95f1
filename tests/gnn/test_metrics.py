"""Recall@k and NDCG@k on a 3-customer toy computed by hand."""

from __future__ import annotations

from math import log2

import pytest
import torch

from pricegraph.gnn.metrics import evaluate_ranking, top_k_excluding
from pricegraph.gnn.split import CustomerItems, EvalWindow

# 3 customers x 5 products, k = 2.
HISTORY = torch.tensor([[0, 1, 2], [0, 4, 1]])  # c0 bought 0, c1 bought 4, c2 bought 1
POSITIVES = torch.tensor([[0, 0, 1, 2, 2, 2], [1, 2, 3, 0, 4, 2]])
SCORES = torch.tensor(
    [
        [9.0, 7.0, 1.0, 8.0, 0.0],  # drop 0 -> top [3, 1]: hit at rank 2 of 2 positives
        [0.0, 1.0, 2.0, 5.0, 9.0],  # drop 4 -> top [3, 2]: hit at rank 1 of 1 positive
        [1.0, 9.0, 0.0, 2.0, 3.0],  # drop 1 -> top [4, 3]: hit at rank 1 of 3 positives
    ]
)


def _window() -> EvalWindow:
    return EvalWindow(
        start_s=0,
        end_s=1,
        customer_index=torch.arange(3),
        positives=CustomerItems.from_edge_index(POSITIVES, 3),
        history=CustomerItems.from_edge_index(HISTORY, 3),
        history_edge_index=HISTORY,
    )


def _scores(customer_index: torch.Tensor) -> torch.Tensor:
    return SCORES[customer_index]


def test_top_k_skips_excluded_products() -> None:
    top = top_k_excluding(SCORES, HISTORY, k=2)
    assert top.tolist() == [[3, 1], [3, 2], [4, 3]]


@pytest.mark.parametrize("batch_size", [1, 2, 1024])
def test_recall_and_ndcg_match_hand_computation(batch_size: int) -> None:
    result = evaluate_ranking(_scores, _window(), k=2, batch_size=batch_size)
    ideal_two = 1 + 1 / log2(3)
    # Recall divides by |positives| (LightGCN), so c2 gets 1/3, not 1/min(k, 3).
    assert result.recall == pytest.approx((1 / 2 + 1 + 1 / 3) / 3)
    ndcg = ((1 / log2(3)) / ideal_two + 1.0 + 1.0 / ideal_two) / 3
    assert result.ndcg == pytest.approx(ndcg)
    assert result.num_customers == 3 and result.k == 2


def test_perfect_scores_give_ones() -> None:
    window = _window()
    perfect = torch.zeros(3, 5)
    perfect[POSITIVES[0], POSITIVES[1]] = 1.0
    result = evaluate_ranking(lambda c: perfect[c], window, k=3)
    assert result.recall == pytest.approx(1.0) and result.ndcg == pytest.approx(1.0)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="k=0"):
        evaluate_ranking(_scores, _window(), k=0)
    with pytest.raises(ValueError, match=r"expected \[3, num_products\]"):
        evaluate_ranking(lambda c: SCORES[:1], _window(), k=2)


@pytest.mark.parametrize("batch_size", [1, 2, 1024])
def test_per_customer_values_match_hand_computation_and_the_means(batch_size: int) -> None:
    from pricegraph.gnn.metrics import rank_customers

    per_customer = rank_customers(_scores, _window(), k=2, batch_size=batch_size)
    ideal_two = 1 + 1 / log2(3)
    assert per_customer.customer_index.tolist() == [0, 1, 2]
    assert per_customer.recall == pytest.approx([1 / 2, 1.0, 1 / 3])
    assert per_customer.ndcg == pytest.approx([(1 / log2(3)) / ideal_two, 1.0, 1 / ideal_two])
    means, pyg = per_customer.mean(), evaluate_ranking(_scores, _window(), k=2)
    assert means.recall == pytest.approx(pyg.recall) and means.ndcg == pytest.approx(pyg.ndcg)
    assert means.num_customers == pyg.num_customers == 3
