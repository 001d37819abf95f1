"""Recommenders to beat: random, popularity, item-kNN, text, recently viewed, EASE^R, ALS
and recent neighbours.

Each builder is fitted on history purchase edges (customer, product) and returns a
:data:`~pricegraph.gnn.metrics.ScoreFn`: int64 ``[batch_size]`` customer indices ->
float32 ``[batch_size, num_products]`` scores, for
:func:`~pricegraph.gnn.metrics.evaluate_ranking`. The math runs on scipy sparse
matrices (no graph store, no I/O).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
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


def viewed_scores(
    browsing_index: Tensor,
    browsing_s: Tensor,
    history_index: Tensor,
    num_customers: int,
    num_products: int,
    cutoff_s: int,
    *,
    half_life_days: float = 7.0,
) -> ScoreFn:
    r"""Recently viewed: what you looked at (or carted) lately first, then the best sellers.

    The baseline a recommender that reads browsing events must beat. Score of product :math:`p`
    for customer :math:`u` with browsing times :math:`T_{up} < t_c` (``cutoff_s``):

    .. math::
        s_{up} = 1 + \sum_{t \in T_{up}} 2^{-(t_c - t) / h}
        \quad\text{if } T_{up} \neq \emptyset, \qquad
        s_{up} = \frac{n_p}{1 + \max_q n_q} \text{ otherwise,}

    with :math:`n_p` the product's purchases in ``history_index``, so browsed
    products come first and popularity orders the rest.

    Args:
        browsing_index: int64 ``[2, num_events]`` (customer, product) views and carts;
            only those before ``cutoff_s`` are used.
        browsing_s: int64 ``[num_events]`` UTC epoch seconds.
        history_index: int64 ``[2, num_purchases]`` purchases before ``cutoff_s``.
        num_customers: Rows of the score matrix.
        num_products: Width of the score matrix.
        cutoff_s: Start of the ranked window.
        half_life_days: Half-life of a view's weight, days. (default: ``7``)
    """
    if not half_life_days > 0:
        raise ValueError(f"half_life_days: expected > 0, got {half_life_days}")
    before = browsing_s < cutoff_s
    age_days = (cutoff_s - browsing_s[before].numpy()).astype(np.float64) / 86_400
    recent = sp.csr_array(
        (
            np.exp2(-age_days / half_life_days),
            (browsing_index[0, before].numpy(), browsing_index[1, before].numpy()),
        ),
        shape=(num_customers, num_products),
    )
    recent.sum_duplicates()
    counts = np.bincount(history_index[1].numpy(), minlength=num_products).astype(np.float64)
    popular = (counts / (1.0 + counts.max(initial=0.0))).astype(np.float32)

    def scores(customer_index: Tensor) -> Tensor:
        batch = recent[customer_index.numpy()].tocoo()
        out = np.tile(popular, (customer_index.numel(), 1))
        out[batch.row, batch.col] = 1.0 + batch.data
        return torch.from_numpy(out)

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
    normalized = sp.csc_array(interactions @ sp.diags_array(inverse.astype(np.float32)))
    transposed = sp.csr_array(normalized.T)
    num_products = normalized.shape[1]
    rows, cols, values = [np.empty(0, np.int64)], [np.empty(0, np.int64)], [np.empty(0, np.float32)]
    # One block of 1024 rows of S at a time, never the whole of it: S of 34 k customers
    # who share best sellers holds most of its 34 k x 34 k entries (over 13 GB).
    for start in range(0, num_products, 1024):
        block = (transposed[start : start + 1024] @ normalized).toarray().astype(np.float32)
        block[np.arange(block.shape[0]), np.arange(start, start + block.shape[0])] = 0.0
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


IN_PLACE_MAX_BYTES = 2**30
"""Largest EASE^R Gram matrix inverted in place with SciPy (bytes; 11,585 items). On
this project's machines SciPy's inverse (its OpenBLAS takes 32-bit sizes) died with a
segmentation fault at 16,300 and 20,000 items (2.1 and 3.2 GB) and ran at 15,500;
NumPy's (64-bit sizes) inverts larger ones, with its copies."""


def ease_weights(interactions: sp.csr_array, l2: float) -> np.ndarray:
    r"""Item-item weights of EASE^R (Steck, "Embarrassingly Shallow Autoencoders for
    Sparse Data", WWW 2019, https://arxiv.org/abs/1905.03375).

    The closed form of :math:`\min_B \lVert X - XB \rVert_F^2 + \lambda \lVert B
    \rVert_F^2` subject to :math:`\mathrm{diag}(B) = 0`:
    :math:`P = (X^\top X + \lambda I)^{-1}`, :math:`B_{ij} = -P_{ij} / P_{jj}`,
    :math:`B_{jj} = 0`.

    Args:
        interactions: Binary ``[num_customers, num_items]``.
        l2: :math:`\lambda > 0`.

    Returns:
        float32 ``[num_items, num_items]`` (dense: one float64 matrix of ``8
        num_items^2`` bytes while solving, inverted and scaled in place, up to
        :data:`IN_PLACE_MAX_BYTES`; above, NumPy's inverse, with its copies).
    """
    if not l2 > 0:
        raise ValueError(f"EASE l2: expected > 0, got {l2}")
    gram = (interactions.T @ interactions).toarray().astype(np.float64)
    gram[np.diag_indices_from(gram)] += l2
    if gram.nbytes <= IN_PLACE_MAX_BYTES:
        # in place: each float64 copy of a large catalogue's matrix is gigabytes
        precision = scipy.linalg.inv(gram, overwrite_a=True, check_finite=False)
    else:  # NumPy's OpenBLAS takes 64-bit sizes (see IN_PLACE_MAX_BYTES)
        precision = np.linalg.inv(gram)
    del gram
    precision /= -np.diag(precision).copy()[None, :]
    np.fill_diagonal(precision, 0.0)
    return precision.astype(np.float32)


def ease_scores(
    edge_index: Tensor,
    num_customers: int,
    num_products: int,
    *,
    l2: float = 200.0,
    max_products: int = 20_000,
) -> ScoreFn:
    r"""EASE^R scores :math:`X_u B` (see :func:`ease_weights`).

    The dense Gram matrix limits the catalogue: above ``max_products`` distinct
    history products only the ``max_products`` most bought are modelled, and the
    others score below every modelled product (ordered by purchases).

    Args:
        edge_index: int64 ``[2, num_purchases]`` history (customer, product).
        num_customers: Rows of the interaction matrix.
        num_products: Width of the score matrix.
        l2: Ridge weight :math:`\lambda`, chosen on validation. (default: ``200``)
        max_products: Largest modelled catalogue. (default: ``20000``)
    """
    counts = np.bincount(edge_index[1].numpy(), minlength=num_products)
    bought = np.flatnonzero(counts)
    if bought.size > max_products:
        bought = np.sort(np.argsort(-counts, kind="stable")[:max_products])
    interactions = interaction_matrix(edge_index, num_customers, num_products)[:, bought]
    weights = ease_weights(sp.csr_array(interactions), l2)
    share = (counts / max(int(counts.max()), 1)).astype(np.float32)  # in [0, 1]
    unmodelled = np.ones(num_products, dtype=bool)
    unmodelled[bought] = False

    def scores(customer_index: Tensor) -> Tensor:
        modelled = interactions[customer_index.numpy()] @ weights
        lowest = modelled.min(axis=1, keepdims=True) if modelled.size else 0.0
        out = np.empty((customer_index.numel(), num_products), dtype=np.float32)
        out[:, bought] = modelled
        out[:, unmodelled] = lowest - 2.0 + share[unmodelled]
        return torch.from_numpy(out)

    return scores


def als_scores(
    edge_index: Tensor,
    num_customers: int,
    num_products: int,
    *,
    factors: int = 64,
    regularization: float = 0.05,
    alpha: float = 10.0,
    iterations: int = 15,
    seed: int = 0,
) -> ScoreFn:
    r"""Implicit-feedback matrix factorisation (Hu, Koren & Volinsky, ICDM 2008).

    Weighted least squares on the binary purchase matrix with confidence
    :math:`1 + \alpha r_{up}`, solved by alternating least squares with the
    conjugate-gradient solver of the `implicit` library; score
    :math:`x_u^\top y_p`.

    Args:
        edge_index: int64 ``[2, num_purchases]`` history (customer, product).
        num_customers: Rows of the interaction matrix.
        num_products: Width of the score matrix.
        factors: Latent dimension. (default: ``64``)
        regularization: L2 weight on the factors. (default: ``0.05``)
        alpha: Confidence weight of a purchase. (default: ``10``)
        iterations: ALS sweeps. (default: ``15``)
        seed: Seed of the initial factors.
    """
    from implicit.cpu.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

    interactions = interaction_matrix(edge_index, num_customers, num_products)
    with threadpool_limits(1, "blas"):  # implicit runs its own threads
        model = AlternatingLeastSquares(
            factors=factors,
            regularization=regularization,
            alpha=alpha,
            iterations=iterations,
            random_state=seed,
        )
        model.fit(sp.csr_matrix(interactions), show_progress=False)
    customers = torch.from_numpy(np.asarray(model.user_factors, dtype=np.float32))
    products = torch.from_numpy(np.asarray(model.item_factors, dtype=np.float32))

    def scores(customer_index: Tensor) -> Tensor:
        return customers[customer_index] @ products.T

    return scores


def recent_neighbour_scores(
    edge_index: Tensor,
    time_s: Tensor,
    num_customers: int,
    num_products: int,
    cutoff_s: int,
    *,
    num_neighbors: int = 100,
    half_life_days: float = 14.0,
) -> ScoreFn:
    r"""Bought by customers like you, recently: customer-kNN with recency decay.

    Customers are alike by the cosine of their binary purchase histories
    (:func:`item_similarity` on the transposed matrix, ``num_neighbors`` kept).
    Score of product :math:`p` for customer :math:`u`:

    .. math::
        s_{up} = \sum_{v \in N(u)} \cos(u, v) \sum_{t \in T_{vp}}
            2^{-(t_c - t) / h}

    over the purchase times :math:`T_{vp} < t_c` (``cutoff_s``) of :math:`p` by
    neighbour :math:`v`, half-life :math:`h` days.

    Args:
        edge_index: int64 ``[2, num_purchases]`` all purchases (customer, product);
            only those before ``cutoff_s`` are used.
        time_s: int64 ``[num_purchases]`` UTC epoch seconds.
        num_customers: Rows of the interaction matrix.
        num_products: Width of the score matrix.
        cutoff_s: Start of the ranked window.
        num_neighbors: Neighbours per customer. (default: ``100``)
        half_life_days: Half-life of a purchase's weight, days. (default: ``14``)
    """
    if not half_life_days > 0:
        raise ValueError(f"half_life_days: expected > 0, got {half_life_days}")
    before = time_s < cutoff_s
    history, history_s = edge_index[:, before], time_s[before]
    interactions = interaction_matrix(history, num_customers, num_products)
    neighbours = item_similarity(sp.csr_array(interactions.T), num_neighbors=num_neighbors)
    age_days = (cutoff_s - history_s.numpy()).astype(np.float64) / 86_400
    decay = np.exp2(-age_days / half_life_days).astype(np.float32)
    recent = sp.csr_array(
        (decay, (history[0].numpy(), history[1].numpy())), shape=(num_customers, num_products)
    )
    recent.sum_duplicates()

    def scores(customer_index: Tensor) -> Tensor:
        batch = neighbours[customer_index.numpy()] @ recent
        return torch.from_numpy(batch.toarray().astype(np.float32))

    return scores


__all__ = [
    "als_scores",
    "ease_scores",
    "ease_weights",
    "interaction_matrix",
    "item_knn_scores",
    "item_similarity",
    "popularity_scores",
    "random_scores",
    "recent_neighbour_scores",
    "recent_popularity_scores",
    "text_scores",
    "viewed_scores",
]
