"""Stacked re-ranking: gradient-boosted trees over the candidates of several recommenders.

Each *source* (a fitted score function: EASE^R, recent neighbours, popularity,
text similarity, ..., the encoder) proposes its ``candidates`` best products per
customer, bought products excluded. Every candidate gets the same features
(:func:`candidate_features`):

* per source, the row-wise z-score of its score and the log of its rank
  (ranks past ``4 * candidates`` are cut there);
* what the graph knows beyond co-purchases: the cosine between the product's
  text vector and the customer's recency-weighted text profile (the mean text
  vector of their purchases, half-life ``profile_half_life_days``), and time: the
  product's purchases in the last 7 and 28 days and in all, days since its first
  and its last purchase (new products are young), the customer's distinct
  products, days since their last purchase and purchases in the last 28 days;
* the graph around the pair: the share of the customer's purchases, and of their
  views and carts, that went to the product's brand and to its category (the
  ``customer -> product -> brand/category`` paths), how often the customer viewed
  and carted the product itself and how many days ago they last viewed it, and
  the product's views in the last 28 days. Graphs without views, brands or
  categories give these columns one value, which the trees cannot split on.

Everything is computed from events strictly before the window's cut-off
(:func:`rerank_inputs`). A ``HistGradientBoostingClassifier`` (scikit-learn)
learns from labelled windows which candidates were bought
(:func:`fit_reranker`); :func:`reranked_scores` ranks a later window with the
same feature function, so training, evaluation and serving read the same
features.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.ensemble import HistGradientBoostingClassifier
from torch import Tensor

from pricegraph.gnn.data import CARTED, PURCHASED, VIEWED, GraphSnapshot
from pricegraph.gnn.metrics import ScoreFn
from pricegraph.gnn.split import SECONDS_PER_DAY, CustomerItems, EvalWindow

NEVER_DAYS = 999.0
"""Age given to a product or customer without a purchase before the cut-off."""
CONTEXT_FEATURES = (
    "text_profile_cosine",
    "product_log_purchases",
    "product_log_purchases_7d",
    "product_log_purchases_28d",
    "product_days_since_first",
    "product_days_since_last",
    "product_log_views_28d",
    "customer_log_products",
    "customer_days_since_last",
    "customer_log_purchases_28d",
    "brand_share_purchases",
    "category_share_purchases",
    "brand_share_browsing",
    "category_share_browsing",
    "customer_log_views",
    "customer_log_carts",
    "customer_days_since_viewed",
)
"""Features of every candidate after the per-source ones, in column order."""
OF_BRAND = ("product", "of_brand", "brand")
IN_CATEGORY = ("product", "in_category", "category")


@dataclass(frozen=True)
class RerankConfig:
    """Candidate generation and the gradient-boosted model."""

    candidates: int = 50
    """Candidates each source proposes per customer."""
    labelled_windows: int = 1
    """Labelled windows (of the evaluation window's length) the trees learn from,
    the latest before the ranked window first."""
    profile_half_life_days: float = 30.0
    """Half-life of a purchase's weight in the customer's text profile, days."""
    max_iter: int = 200
    """Boosting iterations (scikit-learn stops earlier on its held-out 10 %)."""
    learning_rate: float = 0.05
    """Shrinkage of each tree."""
    max_leaf_nodes: int = 15
    """Leaves per tree."""
    min_samples_leaf: int = 200
    """Smallest leaf. These tree settings were chosen on validation windows only
    (Online Retail's last one before its test, synthetic worlds 5 and 7): against 31
    leaves of at least 50 candidates they scored equal on Online Retail and higher on
    both worlds, where under 400 customers per window overfit bigger trees."""
    batch_size: int = 512
    """Customers whose candidates are learned from at once."""
    max_batch_cells: int = 1 << 24
    """Most scores per source held at once (customers x products): larger batches
    are built in chunks."""
    seed: int = 0
    """Seed of the model's held-out split."""

    def __post_init__(self) -> None:
        for name in (
            "candidates",
            "labelled_windows",
            "max_iter",
            "max_leaf_nodes",
            "min_samples_leaf",
            "batch_size",
            "max_batch_cells",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"RerankConfig.{name}: expected >= 1, got {getattr(self, name)}")
        if self.candidates > 16_000:  # ranks are uint16 up to 4 * candidates
            raise ValueError(f"RerankConfig.candidates: expected <= 16000, got {self.candidates}")
        if not self.profile_half_life_days > 0:
            raise ValueError(
                f"RerankConfig.profile_half_life_days: expected > 0, got "
                f"{self.profile_half_life_days}"
            )


@dataclass(frozen=True)
class RerankInputs:
    """What the features of one cut-off read (see :func:`rerank_inputs`).

    Attributes:
        sources: Source name -> score function fitted on purchases before ``cutoff_s``.
        cutoff_s: The cut-off, UTC epoch seconds.
        history: Products bought before the cut-off per customer (never candidates).
        profiles: float32 ``[num_customers, dim]`` unit-norm recency-weighted text
            profiles (zeros without purchases of products with text).
        text: float32 ``[num_products, dim]`` unit-norm product text vectors.
        product_stats: float32 ``[num_products, 6]``.
        customer_stats: float32 ``[num_customers, 3]``.
        pair_stats: The customer-product tables, in the order of
            :data:`CONTEXT_FEATURES` after the customer's features.
    """

    sources: Mapping[str, ScoreFn]
    cutoff_s: int
    history: CustomerItems
    profiles: np.ndarray
    text: np.ndarray
    product_stats: np.ndarray
    customer_stats: np.ndarray
    pair_stats: tuple[PairTable, ...]


@dataclass(frozen=True)
class PairTable:
    """A customer x group table read at (customer, product) pairs.

    Attributes:
        values: ``[num_customers, num_groups]`` sparse; absent entries are 0.
        group_of: int64 ``[num_products]`` group of each product (-1: none), or
            ``None`` when the groups are the products themselves.
        offset: Value read as ``offset - stored`` when not ``None`` (lets ages be
            stored sparsely as ``NEVER_DAYS - age``), else the stored value.
    """

    values: sp.csr_array
    group_of: np.ndarray | None = None
    offset: float | None = None

    def read(self, customer: np.ndarray, product: np.ndarray) -> np.ndarray:
        """float32 ``[n]`` values at the pairs (absent pairs and products without a
        group read 0, or ``offset``)."""
        group = product if self.group_of is None else self.group_of[product]
        out = np.zeros(customer.size, dtype=np.float64)
        has = group >= 0
        if has.any() and self.values.nnz:
            out[has] = np.asarray(self.values[customer[has], group[has]]).ravel()
        if self.offset is not None:
            out = self.offset - out
        return out.astype(np.float32)


def _first_target(snapshot: GraphSnapshot, edge_type: tuple[str, str, str]) -> np.ndarray:
    """Product -> the target of its first ``edge_type`` edge (-1 without one)."""
    out = np.full(snapshot.num_products, -1, dtype=np.int64)
    if edge_type in snapshot.data.edge_types:
        edges = snapshot.edge_index(edge_type).numpy()
        sources, first = np.unique(edges[0], return_index=True)
        out[sources] = edges[1, first]
    return out


def _events_before(
    snapshot: GraphSnapshot, edge_type: tuple[str, str, str], cutoff_s: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(customer, product, age in days) of the ``edge_type`` events before the cut-off."""
    if edge_type not in snapshot.data.edge_types:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    time_s = snapshot.edge_time(edge_type).numpy()
    before = time_s < cutoff_s
    edges = snapshot.edge_index(edge_type).numpy()[:, before]
    return edges[0], edges[1], (cutoff_s - time_s[before]) / SECONDS_PER_DAY


def _shares(
    customer: np.ndarray, group: np.ndarray, num_customers: int, num_groups: int
) -> sp.csr_array:
    """Share of each customer's events in each group (events without a group count
    in the total)."""
    total = np.bincount(customer, minlength=num_customers).astype(np.float64)
    has = group >= 0
    counts = sp.csr_array(
        (np.ones(int(has.sum())), (customer[has], group[has])),
        shape=(num_customers, max(num_groups, 1)),
    )
    counts.sum_duplicates()
    return sp.csr_array(sp.diags_array(1.0 / np.maximum(total, 1.0)) @ counts)


def _pair_stats(
    snapshot: GraphSnapshot,
    cutoff_s: int,
    bought: tuple[np.ndarray, np.ndarray],
) -> tuple[tuple[PairTable, ...], np.ndarray]:
    """The customer-product tables of :data:`CONTEXT_FEATURES` and the product's log
    views in the last 28 days."""
    num_customers, num_products = snapshot.num_customers, snapshot.num_products
    brand_of, category_of = _first_target(snapshot, OF_BRAND), _first_target(snapshot, IN_CATEGORY)
    num_brands = int(brand_of.max()) + 1
    num_categories = int(category_of.max()) + 1
    view_customer, view_product, view_age = _events_before(snapshot, VIEWED, cutoff_s)
    cart_customer, cart_product, _ = _events_before(snapshot, CARTED, cutoff_s)
    browse_customer = np.concatenate([view_customer, cart_customer])
    browse_product = np.concatenate([view_product, cart_product])

    def log_counts(customer: np.ndarray, product: np.ndarray) -> sp.csr_array:
        table = sp.csr_array(
            (np.ones(customer.size), (customer, product)), shape=(num_customers, num_products)
        )
        table.sum_duplicates()
        return sp.csr_array((np.log1p(table.data), table.indices, table.indptr), shape=table.shape)

    freshest = _max_duplicates(
        view_customer, view_product, NEVER_DAYS - view_age, (num_customers, num_products)
    )
    tables = (
        PairTable(_shares(bought[0], brand_of[bought[1]], num_customers, num_brands), brand_of),
        PairTable(
            _shares(bought[0], category_of[bought[1]], num_customers, num_categories), category_of
        ),
        PairTable(
            _shares(browse_customer, brand_of[browse_product], num_customers, num_brands),
            brand_of,
        ),
        PairTable(
            _shares(browse_customer, category_of[browse_product], num_customers, num_categories),
            category_of,
        ),
        PairTable(log_counts(view_customer, view_product)),
        PairTable(log_counts(cart_customer, cart_product)),
        PairTable(freshest, offset=NEVER_DAYS),
    )
    recent_views = np.log1p(np.bincount(view_product[view_age < 28], minlength=num_products))
    return tables, recent_views.astype(np.float32)


def _max_duplicates(
    row: np.ndarray, column: np.ndarray, value: np.ndarray, shape: tuple[int, int]
) -> sp.csr_array:
    """A sparse table holding the largest ``value`` per (row, column)."""
    if not row.size:
        return sp.csr_array(shape)
    key = row.astype(np.int64) * shape[1] + column
    order = np.lexsort((-value, key))
    first = np.ones(order.size, dtype=bool)
    first[1:] = key[order][1:] != key[order][:-1]
    keep = order[first]
    return sp.csr_array((np.maximum(value[keep], 1e-6), (row[keep], column[keep])), shape=shape)


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.maximum(norms, 1e-12)).astype(np.float32)


def rerank_inputs(
    snapshot: GraphSnapshot,
    cutoff_s: int,
    sources: Mapping[str, ScoreFn],
    config: RerankConfig,
) -> RerankInputs:
    """Everything :func:`candidate_features` needs at ``cutoff_s`` besides the sources.

    Args:
        snapshot: The exported graph (product ``x`` = text vectors).
        cutoff_s: Only purchases strictly before it are read.
        sources: Score functions fitted on purchases before ``cutoff_s``, in a fixed
            order (the feature columns follow it).
        config: Settings.
    """
    if not sources:
        raise ValueError("rerank_inputs: sources is empty, expected at least one")
    num_customers, num_products = snapshot.num_customers, snapshot.num_products
    purchases, purchase_s = snapshot.edge_index(PURCHASED), snapshot.edge_time(PURCHASED)
    before = purchase_s < cutoff_s
    customer = purchases[0, before].numpy()
    product = purchases[1, before].numpy()
    age_days = (cutoff_s - purchase_s[before].numpy()).astype(np.float64) / SECONDS_PER_DAY

    def counts(index: np.ndarray, size: int, keep: np.ndarray | None = None) -> np.ndarray:
        chosen = index if keep is None else index[keep]
        return np.log1p(np.bincount(chosen, minlength=size)).astype(np.float32)

    oldest = np.zeros(num_products)
    np.maximum.at(oldest, product, np.minimum(age_days, NEVER_DAYS))
    latest = np.full(num_products, NEVER_DAYS)
    np.minimum.at(latest, product, np.minimum(age_days, NEVER_DAYS))
    bought = np.bincount(product, minlength=num_products) > 0
    pair_stats, recent_views = _pair_stats(snapshot, cutoff_s, (customer, product))
    product_stats = np.column_stack(
        [
            counts(product, num_products),
            counts(product, num_products, age_days < 7),
            counts(product, num_products, age_days < 28),
            np.where(bought, oldest, NEVER_DAYS),
            latest,
            recent_views,
        ]
    ).astype(np.float32)
    history = CustomerItems.from_edge_index(purchases[:, before], num_customers)
    last_seen = np.full(num_customers, NEVER_DAYS)
    np.minimum.at(last_seen, customer, np.minimum(age_days, NEVER_DAYS))
    customer_stats = np.column_stack(
        [
            np.log1p(history.counts().numpy()).astype(np.float32),
            last_seen,
            counts(customer, num_customers, age_days < 28),
        ]
    ).astype(np.float32)
    text = _unit_rows(snapshot.data["product"].x.numpy().astype(np.float32))
    weight = np.exp2(-age_days / config.profile_half_life_days)
    recency = sp.csr_array((weight, (customer, product)), shape=(num_customers, num_products))
    profiles = _unit_rows(np.asarray(recency @ text))
    return RerankInputs(
        dict(sources), cutoff_s, history, profiles, text, product_stats, customer_stats, pair_stats
    )


@dataclass(frozen=True)
class Candidates:
    """Candidate (customer, product) pairs of a batch and their features.

    Attributes:
        row: int64 ``[n]`` position of the customer in the batch.
        product: int64 ``[n]`` product index.
        features: float32 ``[n, num_features]``.
    """

    row: np.ndarray
    product: np.ndarray
    features: np.ndarray


def feature_names(source_names: list[str]) -> list[str]:
    """Column names of :func:`candidate_features` for sources in this order."""
    names = [f"{source}_{kind}" for source in source_names for kind in ("z", "log_rank")]
    return [*names, *CONTEXT_FEATURES]


def candidate_features(inputs: RerankInputs, batch: Tensor, config: RerankConfig) -> Candidates:
    """Candidates of the customers ``batch`` and their features (see the module docs).

    Customers are taken in chunks of at most ``config.max_batch_cells`` scores per
    source, so memory stays bounded on large catalogues.

    Args:
        inputs: :func:`rerank_inputs` at the window's cut-off.
        batch: int64 ``[batch_size]`` customer indices.
        config: Settings.
    """
    rows_per_chunk = max(1, config.max_batch_cells // max(inputs.text.shape[0], 1))
    parts = [_chunk_features(inputs, chunk, config) for chunk in torch.split(batch, rows_per_chunk)]
    if len(parts) == 1:
        return parts[0]
    offsets = np.cumsum([0] + [chunk.numel() for chunk in torch.split(batch, rows_per_chunk)])
    return Candidates(
        np.concatenate([part.row + offset for part, offset in zip(parts, offsets, strict=False)]),
        np.concatenate([part.product for part in parts]),
        np.concatenate([part.features for part in parts]),
    )


def _row_moments(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of each row's finite entries (float64 ``[rows]``)."""
    finite = np.isfinite(scores)
    count = np.maximum(finite.sum(axis=1), 1)
    values = np.where(finite, scores, 0.0).astype(np.float64)
    mean = values.sum(axis=1) / count
    squares = np.where(finite, (values - mean[:, None]) ** 2, 0.0).sum(axis=1) / count
    return mean, np.maximum(np.sqrt(squares), 1e-12)


def _chunk_features(inputs: RerankInputs, batch: Tensor, config: RerankConfig) -> Candidates:
    customers = batch.numpy()
    history = inputs.history.pairs(batch).numpy()
    num_products = inputs.text.shape[0]
    depth = 4 * config.candidates
    take = min(depth, num_products)
    is_candidate = np.zeros((customers.size, num_products), dtype=bool)
    per_source = []
    for scores_fn in inputs.sources.values():
        scores = scores_fn(batch).to(torch.float32).numpy().copy()
        scores[history[0], history[1]] = -np.inf
        top = np.argpartition(-scores, take - 1, axis=1)[:, :take]
        order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1, kind="stable")
        top = np.take_along_axis(top, order, axis=1)
        np.put_along_axis(is_candidate, top[:, : config.candidates], True, axis=1)
        per_source.append((scores, top, *_row_moments(scores)))
    is_candidate[history[0], history[1]] = False
    row, product = np.nonzero(is_candidate)
    del is_candidate
    columns: list[np.ndarray] = []
    rank = np.empty((customers.size, num_products), dtype=np.uint16)
    positions = np.arange(take, dtype=np.uint16)[None, :]
    for scores, top, mean, spread in per_source:
        value = scores[row, product].astype(np.float64)
        z = np.where(np.isfinite(value), (value - mean[row]) / spread[row], -10.0)
        rank.fill(depth)
        np.put_along_axis(rank, top, positions, axis=1)
        columns += [z, np.log1p(rank[row, product].astype(np.float32))]
    cosine = np.einsum("ij,ij->i", inputs.profiles[customers[row]], inputs.text[product])
    features = np.column_stack(
        [
            *columns,
            cosine,
            inputs.product_stats[product],
            inputs.customer_stats[customers[row]],
            *(table.read(customers[row], product) for table in inputs.pair_stats),
        ]
    ).astype(np.float32)
    return Candidates(row.astype(np.int64), product.astype(np.int64), features)


def fit_reranker(
    labelled: Sequence[tuple[RerankInputs, EvalWindow]], config: RerankConfig
) -> HistGradientBoostingClassifier | None:
    """Learn which candidates the customers of labelled windows bought.

    Args:
        labelled: ``(inputs, window)`` pairs: :func:`rerank_inputs` at
            ``window.start_s`` and the window (its evaluated customers and their new
            products). Their candidates are pooled.
        config: Settings.

    Returns:
        The fitted classifier, or ``None`` when the candidates hold no purchase (or
        only purchases): nothing to learn from.
    """
    features, labels = [], []
    for inputs, window in labelled:
        if inputs.cutoff_s != window.start_s:
            raise ValueError(
                f"fit_reranker: inputs are cut at {inputs.cutoff_s}, the window starts at "
                f"{window.start_s}"
            )
        for batch in torch.split(window.customer_index, config.batch_size):
            found = candidate_features(inputs, batch, config)
            bought = window.positives.pairs(batch).numpy()
            is_bought = np.zeros((batch.numel(), inputs.text.shape[0]), dtype=bool)
            is_bought[bought[0], bought[1]] = True
            features.append(found.features)
            labels.append(is_bought[found.row, found.product])
    if not features:
        return None
    label = np.concatenate(labels)
    if label.all() or not label.any():
        return None
    model = HistGradientBoostingClassifier(
        max_iter=config.max_iter,
        learning_rate=config.learning_rate,
        max_leaf_nodes=config.max_leaf_nodes,
        min_samples_leaf=config.min_samples_leaf,
        random_state=config.seed,
    )
    return model.fit(np.concatenate(features), label)


def reranked_scores(
    model: HistGradientBoostingClassifier, inputs: RerankInputs, config: RerankConfig
) -> ScoreFn:
    """Scores of ``model`` over the candidates at ``inputs``' cut-off.

    Candidates score their predicted purchase probability (in [0, 1]); every other
    product scores below them, ordered by the first source's z-score.
    """
    first = next(iter(inputs.sources.values()))

    def scores(batch: Tensor) -> Tensor:
        found = candidate_features(inputs, batch, config)
        fallback = first(batch).to(torch.float32).numpy().astype(np.float64)
        mean, spread = _row_moments(fallback)
        z = (fallback - mean[:, None]) / spread[:, None]
        out = np.where(np.isfinite(fallback), z, -10.0) - 100.0
        if found.row.size:
            out[found.row, found.product] = model.predict_proba(found.features)[:, 1]
        return torch.from_numpy(out.astype(np.float32))

    return scores


__all__ = [
    "Candidates",
    "RerankConfig",
    "RerankInputs",
    "candidate_features",
    "feature_names",
    "fit_reranker",
    "rerank_inputs",
    "reranked_scores",
]
