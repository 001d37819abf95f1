"""Non-learned recommenders to beat: random, popularity, item-kNN and text similarity.

Each builder is fitted on history purchase edges (customer, product) and returns a
:data:`~pricegraph.gnn.metrics.ScoreFn`: int64 ``[batch_size]`` customer indices ->
float32 ``[batch_size, num_products]`` scores, for
:func:`~pricegraph.gnn.metrics.evaluate_ranking`. The math runs on scipy sparse
matrices (no graph store, no I/O).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor

from pricegraph.gnn.metrics import ScoreFn


def interaction_matrix(edge_index: Tensor, num_customers: int, num_products: int) -> sp.csr_array:
    """Binary customer x product matrix ``[num_customers, num_products]`` (float32 CSR)."""
    rows, cols = edge_index[0].numpy(), edge_index[1].numpy()
    ones = np.ones(rows.size, dtype=np.float32)
    matrix = sp.csr_array((ones, (rows, cols)), shape=(num_customers, num_products))
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return matrix


def random_scores(num_products: int, *, seed: int = 0) -> ScoreFn:
    """Uniform random scores, the floor every recommender must clear.

    Args:
        num_products: Width of the score matrix.
        seed: Seed of the generator; the same seed and batches give the same scores.
    """
    generator = torch.Generator().manual_seed(seed)

    def scores(customer_index: Tensor) -> Tensor:
        return torch.rand(customer_index.numel(), num_products, generator=generator)

    return scores


def popularity_scores(edge_index: Tensor, num_products: int) -> ScoreFn:
    """Score = number of history purchase events of the product, for every customer.

    Args:
        edge_index: int64 ``[2, num_purchases]`` (customer, product), duplicates
            counted.
        num_products: Width of the score matrix.
    """
    counts = torch.bincount(edge_index[1], minlength=num_products).to(torch.float32)

    def scores(customer_index: Tensor) -> Tensor:
        return counts.expand(customer_index.numel(), num_products)

    return scores


def recent_popularity_scores(
    edge_index: Tensor, time_s: Tensor, num_products: int, cutoff_s: int, *, days: float = 7.0
) -> ScoreFn:
    """Score = purchase events of the product in the ``days`` before ``cutoff_s``.

    Retail demand is seasonal and trend-driven: what sold last week is a much
    stronger guess than all-time popularity, so this is the popularity baseline
    a temporal evaluation must beat.

    Args:
        edge_index: int64 ``[2, num_purchases]`` (customer, product).
        time_s: int64 ``[num_purchases]`` UTC epoch seconds.
        num_products: Width of the score matrix.
        cutoff_s: Start of the evaluation window (purchases at or after it are unseen).
        days: Length of the look-back. (default: ``7``)
    """
    recent = (time_s < cutoff_s) & (time_s >= cutoff_s - days * 86_400)
    counts = torch.bincount(edge_index[1, recent], minlength=num_products).to(torch.float32)

    def scores(customer_index: Tensor) -> Tensor:
        return counts.expand(customer_index.numel(), num_products)

    return scores


def item_similarity(interactions: sp.csr_array, *, num_neighbors: int = 50) -> sp.csr_array:
    r"""Cosine item-item similarity, keeping each item's ``num_neighbors`` best.

    :math:`S_{ij} = \frac{r_i \cdot r_j}{\lVert r_i \rVert \lVert r_j \rVert}` over
    the binary customer columns :math:`r_i`, diagonal zeroed, then per row only the
    ``num_neighbors`` largest entries are kept.

    Args:
        interactions: Binary ``[num_customers, num_products]``.
        num_neighbors: Neighbours kept per item. (default: ``50``)

    Returns:
        float32 CSR ``[num_products, num_products]``; row ``i`` holds item ``i``'s
        neighbours.
    """
    norms = np.sqrt(np.asarray(interactions.sum(axis=0), dtype=np.float64)).ravel()
    inverse = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    normalized = (interactions @ sp.diags_array(inverse.astype(np.float32))).tocsc()
    similarity = (normalized.T @ normalized).tocsr().astype(np.float32)
    similarity.setdiag(0.0)
    similarity.eliminate_zeros()
    num_products = similarity.shape[0]
    rows, cols, values = [np.empty(0, np.int64)], [np.empty(0, np.int64)], [np.empty(0, np.float32)]
    for start in range(0, num_products, 1024):  # dense blocks of 1024 rows at a time
        block = similarity[start : start + 1024].toarray()
        keep = min(num_neighbors, block.shape[1])
        top = np.argpartition(-block, keep - 1, axis=1)[:, :keep]
        top_values = np.take_along_axis(block, top, axis=1)
        nonzero = top_values > 0
        rows.append((np.nonzero(nonzero)[0] + start).astype(np.int64))
        cols.append(top[nonzero])
        values.append(top_values[nonzero])
    return sp.csr_array(
        (np.concatenate(values), (np.concatenate(rows), np.concatenate(cols))),
        shape=(num_products, num_products),
    )


def item_knn_scores(
    edge_index: Tensor, num_customers: int, num_products: int, *, num_neighbors: int = 50
) -> ScoreFn:
    r"""Item-based collaborative filtering on co-purchases.

    Score of product :math:`j` for customer :math:`u`:
    :math:`\sum_{i \in H_u} S_{ij}` with :math:`S` from :func:`item_similarity`
    (products bought together by the same customers score high).

    Args:
        edge_index: int64 ``[2, num_purchases]`` history (customer, product).
        num_customers: Rows of the interaction matrix.
        num_products: Columns of the interaction matrix.
        num_neighbors: Neighbours kept per item. (default: ``50``)
    """
    interactions = interaction_matrix(edge_index, num_customers, num_products)
    similarity = item_similarity(interactions, num_neighbors=num_neighbors)

    def scores(customer_index: Tensor) -> Tensor:
        batch = interactions[customer_index.numpy()]
        return torch.from_numpy((batch @ similarity).toarray().astype(np.float32))

    return scores


def text_scores(edge_index: Tensor, x: Tensor, has_text: Tensor, num_customers: int) -> ScoreFn:
    r"""Content-only scores: cosine between a customer profile and product text.

    The profile of :math:`u` is the mean of the unit text vectors of the distinct
    products in its history that have text; the score of product :math:`j` is
    :math:`\cos(\bar{x}_u, x_j)`. Products without text score ``-2`` (below any
    cosine); customers without a profile score ``0`` everywhere.

    Args:
        edge_index: int64 ``[2, num_purchases]`` history (customer, product).
        x: float32 ``[num_products, feature_dim]`` product text vectors.
        has_text: bool ``[num_products]``; rows of ``x`` that are real vectors.
        num_customers: Rows of the interaction matrix.
    """
    vectors = x.numpy().astype(np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
    text_mask = has_text.numpy().astype(np.float32)
    interactions = interaction_matrix(edge_index, num_customers, x.shape[0])
    interactions = interactions @ sp.diags_array(text_mask)
    totals = np.asarray(interactions.sum(axis=1)).ravel()
    profiles = interactions @ unit / np.maximum(totals, 1.0)[:, None]
    profile_norms = np.linalg.norm(profiles, axis=1, keepdims=True)
    profiles = np.divide(
        profiles, profile_norms, out=np.zeros_like(profiles), where=profile_norms > 0
    )
    missing = ~has_text.numpy()

    def scores(customer_index: Tensor) -> Tensor:
        batch = profiles[customer_index.numpy()] @ unit.T
        batch[:, missing] = -2.0
        return torch.from_numpy(batch.astype(np.float32))

    return scores


__all__ = [
    "interaction_matrix",
    "item_knn_scores",
    "item_similarity",
    "popularity_scores",
    "random_scores",
    "recent_popularity_scores",
    "text_scores",
]
