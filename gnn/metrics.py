r"""All-ranking evaluation of recommendations (the LightGCN protocol).

For every evaluated customer :math:`u`, every product is scored, the products in
the customer's history :math:`H_u` are excluded, and the top :math:`k` of the rest
are compared with the customer's positives :math:`P_u` (binary relevance):

.. math::
    \mathrm{recall@}k(u) = \frac{|\mathrm{top}_k(u) \cap P_u|}{|P_u|}, \qquad
    \mathrm{NDCG@}k(u) = \frac{\sum_{i=1}^{k} [\mathrm{top}_k(u)_i \in P_u] / \log_2(i+1)}
        {\sum_{i=1}^{\min(k, |P_u|)} 1 / \log_2(i+1)}

both averaged over the evaluated customers. This is what LightGCN (He et al., 2020,
https://arxiv.org/abs/2002.02126) reports. PyG's ``LinkPredRecall`` divides the hits
by the number of ground-truth labels (:math:`|P_u|`, not :math:`\min(k, |P_u|)`)
and ``LinkPredNDCG`` normalises by the ideal DCG of :math:`\min(k, |P_u|)` hits, so
both match and are used here; positives must be distinct (pairs are deduplicated
by :class:`~pricegraph.gnn.split.CustomerItems`), or a pair would count twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor
from torch_geometric.metrics import LinkPredNDCG, LinkPredRecall

from pricegraph.gnn.split import EvalWindow

ScoreFn = Callable[[Tensor], Tensor]
"""``scores(customer_index)``: int64 ``[batch_size]`` -> float ``[batch_size, num_products]``
(higher = more recommended)."""


@dataclass(frozen=True)
class RankingResult:
    """Mean metrics over the evaluated customers.

    Attributes:
        k: Cut-off.
        recall: Mean recall@k in ``[0, 1]``.
        ndcg: Mean NDCG@k in ``[0, 1]``.
        num_customers: Customers averaged over (those with >= 1 positive).
    """

    k: int
    recall: float
    ndcg: float
    num_customers: int


def top_k_excluding(scores: Tensor, exclude_pairs: Tensor, k: int) -> Tensor:
    """Top-``k`` product indices per row after masking excluded products.

    Args:
        scores: float ``[batch_size, num_products]``.
        exclude_pairs: int64 ``[2, num_excluded]``: (row in batch, product) pairs
            that may not be recommended.
        k: Cut-off; fewer columns come back when there are fewer products.

    Returns:
        int64 ``[batch_size, min(k, num_products)]``, best first. Excluded products
        only appear when a row has fewer than ``k`` allowed products, at the end.
    """
    masked = scores.to(torch.float32).clone()
    masked[exclude_pairs[0], exclude_pairs[1]] = float("-inf")
    return torch.topk(masked, min(k, masked.size(1)), dim=1).indices


def evaluate_ranking(
    scores: ScoreFn, window: EvalWindow, *, k: int = 20, batch_size: int = 1024
) -> RankingResult:
    """Recall@k and NDCG@k of a score function on one evaluation window.

    Args:
        scores: Maps a batch of customer indices to scores over all products.
        window: The evaluated customers, their positives and their history.
        k: Cut-off. (default: ``20``)
        batch_size: Customers scored at once; memory is
            ``batch_size * num_products`` floats. (default: ``1024``)

    Returns:
        The means over ``window.customer_index``.

    Raises:
        ValueError: ``k`` or ``batch_size`` < 1.
    """
    if k < 1 or batch_size < 1:
        raise ValueError(f"k and batch_size must be >= 1, got k={k}, batch_size={batch_size}")
    recall, ndcg = LinkPredRecall(k=k), LinkPredNDCG(k=k)
    for batch in torch.split(window.customer_index, batch_size):
        batch_scores = scores(batch)
        if batch_scores.shape[0] != batch.numel():
            raise ValueError(
                f"scores: expected [{batch.numel()}, num_products] for {batch.numel()} "
                f"customers, got {list(batch_scores.shape)}"
            )
        pred_index_mat = top_k_excluding(batch_scores, window.history.pairs(batch), k)
        edge_label_index = window.positives.pairs(batch)
        recall.update(pred_index_mat, edge_label_index)
        ndcg.update(pred_index_mat, edge_label_index)
    return RankingResult(
        k=k,
        recall=float(recall.compute()),
        ndcg=float(ndcg.compute()),
        num_customers=int(recall.total),
    )


@dataclass(frozen=True)
class CustomerMetrics:
    """Recall@k and NDCG@k of every evaluated customer of one window.

    What bootstrap intervals over customers resample
    (:mod:`pricegraph.gnn.bootstrap`); their means equal :func:`evaluate_ranking`.

    Attributes:
        k: Cut-off.
        customer_index: int64 ``[num_customers]``, the window's evaluated customers.
        recall: float64 ``[num_customers]`` in ``[0, 1]``.
        ndcg: float64 ``[num_customers]`` in ``[0, 1]``.
    """

    k: int
    customer_index: np.ndarray
    recall: np.ndarray
    ndcg: np.ndarray

    def mean(self) -> RankingResult:
        """The means as a :class:`RankingResult`."""
        size = int(self.recall.size)
        recall = float(self.recall.mean()) if size else 0.0
        ndcg = float(self.ndcg.mean()) if size else 0.0
        return RankingResult(k=self.k, recall=recall, ndcg=ndcg, num_customers=size)


def rank_customers(
    scores: ScoreFn, window: EvalWindow, *, k: int = 20, batch_size: int = 1024
) -> CustomerMetrics:
    """Recall@k and NDCG@k per evaluated customer (the formulas of the module docstring).

    Args:
        scores: Maps a batch of customer indices to scores over all products.
        window: The evaluated customers, their positives and their history.
        k: Cut-off. (default: ``20``)
        batch_size: Customers scored at once. (default: ``1024``)

    Returns:
        One value per customer of ``window.customer_index``, in its order.

    Raises:
        ValueError: ``k`` or ``batch_size`` < 1, or ``scores`` of the wrong shape.
    """
    if k < 1 or batch_size < 1:
        raise ValueError(f"k and batch_size must be >= 1, got k={k}, batch_size={batch_size}")
    discounts = 1.0 / torch.log2(torch.arange(2, k + 2, dtype=torch.float64))
    ideal = torch.cumsum(discounts, 0)
    recalls, ndcgs = [], []
    for batch in torch.split(window.customer_index, batch_size):
        batch_scores = scores(batch)
        if batch_scores.shape[0] != batch.numel():
            raise ValueError(
                f"scores: expected [{batch.numel()}, num_products] for {batch.numel()} "
                f"customers, got {list(batch_scores.shape)}"
            )
        top = top_k_excluding(batch_scores, window.history.pairs(batch), k)
        positives = window.positives.pairs(batch)
        is_positive = torch.zeros(batch_scores.shape, dtype=torch.bool)
        is_positive[positives[0], positives[1]] = True
        hits = torch.gather(is_positive, 1, top).to(torch.float64)
        num_positives = torch.bincount(positives[0], minlength=batch.numel()).to(torch.float64)
        recalls.append(hits.sum(1) / num_positives.clamp(min=1))
        dcg = (hits * discounts[: hits.shape[1]]).sum(1)
        best = ideal[(num_positives.clamp(min=1, max=k) - 1).long()]
        ndcgs.append(dcg / best)
    recall = torch.cat(recalls) if recalls else torch.zeros(0, dtype=torch.float64)
    ndcg = torch.cat(ndcgs) if ndcgs else torch.zeros(0, dtype=torch.float64)
    return CustomerMetrics(k, window.customer_index.numpy().copy(), recall.numpy(), ndcg.numpy())


__all__ = [
    "CustomerMetrics",
    "RankingResult",
    "ScoreFn",
    "evaluate_ranking",
    "rank_customers",
    "top_k_excluding",
]
