"""Customer segments: KMeans over RFM, price sensitivity and customer vectors.

Segments are the meso level of pricing, between one customer and everyone. Each
known customer gets a feature row built from the purchase history in the graph:

* ``recency``: days from the customer's last purchase to the data's last
  purchase or return timestamp (the data's "now"), ``log1p``-scaled.
* ``frequency``: distinct orders, ``log1p``-scaled.
* ``monetary``: net spend, :math:`\\sum qty \\cdot unit\\_price` of purchases minus
  the same sum over returns, clipped at 0 and ``log1p``-scaled (currency units,
  gross, as loaded).
* ``discount_share``: share of the customer's purchase spend paid at least
  ``discount_threshold_pct`` below the product's ``list_price`` (the
  price-sensitivity estimator, see :func:`discounted_spend`).

Customers without purchases are kept (they are a segment of their own in
practice): recency is the longest observed recency plus one day, frequency and
monetary are 0, and discount share is the population median (neutral after
standardising). The four columns are standardised (``StandardScaler``).

Customer vectors (text today, GNN ``graph`` vectors later: ``using``) are
PCA-reduced and scaled so the block carries ``vector_weight`` times the total
variance of the behaviour block; customers without a vector get the block
mean (zeros). ``k`` is chosen by silhouette over ``k_min..k_max`` (sampled when
``n > silhouette_sample``), then clusters are renumbered by descending mean net
spend so that ids are stable between runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from rich.progress import Progress
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import adjusted_rand_score, silhouette_score
from sklearn.preprocessing import StandardScaler

from ..embeddings.base import VectorStore
from ..embeddings.catalog import product_table
from ..errors import DataValidationError
from ..graph.base import GraphStore, UpsertResult
from .profiles import profile_segments, segment_key

BEHAVIOUR_COLUMNS = ("recency_days", "frequency", "monetary", "discount_share")
"""Raw behaviour features per customer, in feature-matrix order."""


@dataclass(frozen=True)
class SegmentConfig:
    """How segments are built; saved with each result."""

    seed: int = 0
    """Seed of KMeans and of the silhouette sample."""
    k_min: int = 2
    """Smallest number of segments tried (>= 2)."""
    k_max: int = 10
    """Largest number of segments tried (>= k_min; capped at customers - 1)."""
    criterion: str = "silhouette"
    """How k is chosen; only ``"silhouette"`` (highest mean silhouette wins)."""
    vector_weight: float = 0.5
    """Variance of the vector block relative to the behaviour block (0 = no vectors)."""
    vector_components: int = 8
    """PCA components kept of the customer vectors."""
    using: str = "text"
    """Named vector of the customers collection (``"graph"`` once the GNN lands)."""
    version: str = "v1"
    """Version tag of the written ``Segment`` nodes (``SEG-<version>-<n>``)."""
    include_anonymous: bool = False
    """Whether customers with ``is_anonymous`` true are segmented."""
    n_init: int = 10
    """KMeans restarts per k."""
    silhouette_sample: int = 2000
    """Above this many customers, silhouette uses a seeded sample of this size."""
    discount_threshold_pct: float = 5.0
    """A line counts as discounted when paid at least this far below list price."""

    def __post_init__(self) -> None:
        if not 2 <= self.k_min <= self.k_max:
            raise ValueError(
                f"k_min and k_max: expected 2 <= k_min <= k_max, got "
                f"k_min={self.k_min}, k_max={self.k_max}"
            )
        if self.criterion != "silhouette":
            raise ValueError(f"criterion: expected 'silhouette', got {self.criterion!r}")
        if self.vector_weight < 0:
            raise ValueError(f"vector_weight: expected >= 0, got {self.vector_weight}")


@dataclass(frozen=True)
class SegmentResult:
    """Segments of one run.

    Attributes:
        config: The config used.
        assignments: One row per customer, sorted by ``customer_id``: ``customer_id,
            segment`` (0-based, by descending mean spend), ``segment_id``
            (``SEG-<version>-<n>``, n = segment + 1) and ``score`` (confidence in
            [0, 1], see :func:`confidence`).
        profiles: One row per segment (see :func:`profile_segments`).
        k: Number of segments chosen.
        silhouette_by_k: Mean silhouette of each k tried.
        x: Feature matrix ``[num_customers, num_features]`` (float64), rows
            aligned with ``assignments``.
        behaviour: The raw behaviour features, indexed by customer id.
    """

    config: SegmentConfig
    assignments: pd.DataFrame
    profiles: pd.DataFrame
    k: int
    silhouette_by_k: dict[int, float]
    x: np.ndarray = field(repr=False)
    behaviour: pd.DataFrame = field(repr=False)

    @property
    def labels(self) -> pd.Series:
        """Segment number per customer id."""
        return self.assignments.set_index("customer_id")["segment"]


def discounted_spend(
    spend: np.ndarray, unit_price: np.ndarray, list_price: np.ndarray, threshold_pct: float
) -> np.ndarray:
    """Spend of each purchase line bought at a discount (0 for full-price lines).

    The estimator of price sensitivity is the spend-weighted share
    :math:`\\sum_l s_l [p_l \\le (1 - \\tau) p^{list}_l] / \\sum_l s_l`: the
    share of spend bought at least :math:`\\tau` below list price. Price-sensitive
    customers concentrate their buying in markdowns and promotions. Lines whose
    product has no list price count as full price.

    Returns:
        ``[num_lines]`` float64 array: ``spend`` where discounted, else 0.
    """
    is_discounted = np.nan_to_num(unit_price <= (1.0 - threshold_pct / 100.0) * list_price)
    return np.where(is_discounted.astype(bool), spend, 0.0)


def purchase_lines(store: GraphStore, config: SegmentConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Purchase and return lines with spend, product category and brand.

    Columns: ``customer_id, product_id, order_id, ts, unit_price, spend`` (qty x
    unit price) and, on purchases, ``discounted`` (see :func:`discounted_spend`),
    ``category`` (category path) and ``brand`` (brand name).
    """
    purchases, returns = _lines(store, "PURCHASED"), _lines(store, "RETURNED")
    catalog = product_table(store).set_index("id")
    product_ids = purchases["product_id"]
    purchases["discounted"] = discounted_spend(
        purchases["spend"].to_numpy(),
        purchases["unit_price"].to_numpy(),
        catalog["list_price"].astype(float).reindex(product_ids).to_numpy(),
        config.discount_threshold_pct,
    )
    purchases["category"] = catalog["category_path"].reindex(product_ids).to_numpy()
    purchases["brand"] = catalog["brand_name"].reindex(product_ids).to_numpy()
    return purchases, returns


def _lines(store: GraphStore, rel_type: str) -> pd.DataFrame:
    arrays = store.edge_arrays(rel_type)
    props, n = arrays.properties, arrays.num_edges
    qty = np.asarray(props.get("qty", np.zeros(n)), dtype=float)
    unit_price = np.asarray(props.get("unit_price", np.zeros(n)), dtype=float)
    return pd.DataFrame(
        {
            "customer_id": arrays.source_ids[arrays.edge_index[0]],
            "product_id": arrays.target_ids[arrays.edge_index[1]],
            "order_id": props.get("order_id", np.full(n, None)),
            "ts": pd.to_datetime(props.get("ts", np.full(n, None))),
            "unit_price": unit_price,
            "spend": qty * unit_price,
        }
    )


def behaviour_features(
    purchases: pd.DataFrame, returns: pd.DataFrame, customer_ids: np.ndarray
) -> pd.DataFrame:
    """Raw RFM and discount share per customer (columns :data:`BEHAVIOUR_COLUMNS`).

    Pure function of the lines of :func:`purchase_lines`. Extra column
    ``has_purchases`` (bool). See the module docstring for units and for
    customers without purchases.
    """
    stamps = [t for t in (purchases["ts"].max(), returns["ts"].max()) if pd.notna(t)]
    now = max(stamps) if stamps else pd.Timestamp(0)
    grouped = purchases.groupby("customer_id")
    frame = pd.DataFrame(index=pd.Index(customer_ids, name="customer_id"))
    last = grouped["ts"].max().reindex(frame.index)
    recency = (now - last).dt.total_seconds() / 86400.0
    frame["has_purchases"] = last.notna()
    frame["recency_days"] = recency.fillna(recency.max() + 1 if recency.notna().any() else 0.0)
    frame["frequency"] = grouped["order_id"].nunique().reindex(frame.index).fillna(0.0)
    gross = grouped["spend"].sum().reindex(frame.index).fillna(0.0)
    refunds = returns.groupby("customer_id")["spend"].sum().reindex(frame.index).fillna(0.0)
    frame["monetary"] = (gross - refunds).clip(lower=0.0)
    share = grouped["discounted"].sum() / grouped["spend"].sum().replace(0.0, np.nan)
    share = share.reindex(frame.index)
    frame["discount_share"] = share.fillna(share.median() if share.notna().any() else 0.0)
    return frame


def feature_matrix(
    behaviour: pd.DataFrame, vectors: np.ndarray | None, config: SegmentConfig
) -> np.ndarray:
    """Standardised behaviour features, then the weighted PCA of the vectors.

    Args:
        behaviour: Output of :func:`behaviour_features`.
        vectors: ``[num_customers, dim]`` float array aligned with ``behaviour``
            (rows of zeros where a customer has no vector), or ``None``.
        config: Gives ``vector_weight`` and ``vector_components``.

    Returns:
        ``[num_customers, 4 + components]`` float64.
    """
    raw = behaviour[list(BEHAVIOUR_COLUMNS)].to_numpy(dtype=float).copy()
    raw[:, :3] = np.log1p(raw[:, :3])
    x = StandardScaler().fit_transform(raw)
    if vectors is None or config.vector_weight == 0 or len(x) < 3:
        return x
    components = min(config.vector_components, vectors.shape[1], len(x) - 1)
    z = PCA(n_components=components, random_state=config.seed).fit_transform(vectors)
    block_variance = float(z.var(axis=0).sum())
    if block_variance <= 1e-12:
        return x
    target_variance = config.vector_weight * float(x.var(axis=0).sum())
    return np.hstack([x, z * np.sqrt(target_variance / block_variance)])


def confidence(x: np.ndarray, centers: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """``1 - d_own / d_next``: 1 at the own centre, 0 on the boundary to the next one.

    Returns:
        ``[num_customers]`` float64 in [0, 1].
    """
    distances = np.linalg.norm(x[:, None, :] - centers[None, :, :], axis=2)
    own = distances[np.arange(len(x)), labels]
    distances[np.arange(len(x)), labels] = np.inf
    nearest_other = distances.min(axis=1)
    return np.clip(1.0 - own / np.maximum(nearest_other, 1e-12), 0.0, 1.0)


def choose_k(
    x: np.ndarray, config: SegmentConfig, progress: Progress | None = None
) -> tuple[int, dict[int, float], KMeans]:
    """KMeans for each k in range; the k of highest silhouette (ties: smaller k).

    ``progress`` (optional) gets a task ``segments: KMeans k=a..b`` advanced per k.
    """
    sample = config.silhouette_sample if len(x) > config.silhouette_sample else None
    scores: dict[int, float] = {}
    best: tuple[float, int, KMeans] | None = None
    ks = range(config.k_min, min(config.k_max, len(x) - 1) + 1)
    task = None
    if progress is not None and len(ks):
        task = progress.add_task(f"segments: KMeans k={ks[0]}..{ks[-1]}", total=len(ks))
    for k in ks:
        if progress is not None and task is not None and k > ks[0]:
            progress.advance(task)
        model = KMeans(n_clusters=k, n_init=config.n_init, random_state=config.seed).fit(x)
        if len(np.unique(model.labels_)) < 2:
            continue
        score = float(
            silhouette_score(x, model.labels_, sample_size=sample, random_state=config.seed)
        )
        scores[k] = score
        if best is None or score > best[0] + 1e-12:
            best = (score, k, model)
    if progress is not None and task is not None:
        progress.update(task, completed=len(ks))
    if best is None:
        raise DataValidationError(
            f"segments: expected at least {config.k_min + 1} distinct customers to cluster, "
            f"got {len(x)} rows"
        )
    return best[1], scores, best[2]


def build_segments(
    store: GraphStore,
    vectors: VectorStore | None,
    collection: str | None,
    config: SegmentConfig,
    progress: Progress | None = None,
) -> SegmentResult:
    """Segment the customers of ``store``.

    Args:
        store: The graph (customers, purchases, returns, products).
        vectors: Vector store holding the customer vectors, or ``None`` (no vectors).
        collection: Name of the customers collection (ignored without ``vectors``).
        config: The run's settings.
        progress: A rich progress display to add the stages to (reading the features,
            one step per k tried; :class:`~pricegraph.progress.LinePrinter` in logs).

    Raises:
        DataValidationError: Too few customers for ``k_min`` segments.
        VectorStoreError: The collection or the ``using`` vector is missing.
    """
    reading = progress.add_task("segments: features", total=1) if progress else None
    customers = store.node_frame("Customer")
    if not config.include_anonymous and "is_anonymous" in customers:
        customers = customers[~customers["is_anonymous"].fillna(False).astype(bool)]
    customer_ids = customers["id"].astype(str).to_numpy()
    purchases, returns = purchase_lines(store, config)
    behaviour = behaviour_features(purchases, returns, customer_ids)
    matrix = None
    if vectors is not None and collection is not None and config.vector_weight > 0:
        found = vectors.vectors(collection, list(customer_ids), config.using)
        if found:
            dim = len(next(iter(found.values())))
            matrix = np.stack([found.get(c, np.zeros(dim, np.float32)) for c in customer_ids])
    x = feature_matrix(behaviour, matrix, config)
    if progress is not None and reading is not None:
        progress.update(reading, completed=1)
    k, scores, model = choose_k(x, config, progress)
    order = _canonical_order(model.labels_, behaviour, k)
    labels = order[model.labels_]
    centers = model.cluster_centers_[np.argsort(order)]
    assignments = pd.DataFrame(
        {
            "customer_id": customer_ids,
            "segment": labels.astype(np.int64),
            "segment_id": [segment_key(config.version, s) for s in labels],
            "score": confidence(x, centers, labels),
        }
    )
    profiles = profile_segments(purchases, assignments, behaviour, config.version)
    return SegmentResult(config, assignments, profiles, k, scores, x, behaviour)


def _canonical_order(raw_labels: np.ndarray, behaviour: pd.DataFrame, k: int) -> np.ndarray:
    """``new = order[old]``: clusters sorted by mean spend, frequency, recency (desc, desc, asc)."""
    stats = behaviour.assign(label=raw_labels).groupby("label")
    keys = pd.DataFrame(
        {
            "monetary": -stats["monetary"].mean(),
            "frequency": -stats["frequency"].mean(),
            "recency": stats["recency_days"].mean(),
            "size": -stats.size(),
        }
    ).reindex(range(k))
    ranked = keys.sort_values(list(keys.columns), kind="stable").index.to_numpy()
    order = np.empty(k, dtype=np.int64)
    order[ranked] = np.arange(k)
    return order


def write_segments(store: GraphStore, result: SegmentResult) -> tuple[UpsertResult, int]:
    """Store ``Segment`` nodes and ``IN_SEGMENT`` edges; returns (edge upserts, deleted).

    Edges of earlier runs of the same version that no longer hold (the customer
    moved, or k shrank) are deleted first, so re-running is idempotent. Segment
    nodes of a larger earlier k stay, without members (the store has no node delete).
    """
    version, profiles = result.config.version, result.profiles
    store.upsert_nodes(
        "Segment",
        pd.DataFrame(
            {
                "id": profiles["segment_id"],
                "name": profiles["name"],
                "description": profiles["description"],
                "version": version,
                "spend_mean": profiles["spend_mean"],
                "spend_median": profiles["spend_median"],
                "orders_mean": profiles["frequency_mean"],
                "recency_days_mean": profiles["recency_days_mean"],
                "discount_share": profiles["discount_share"],
                "price_sensitivity": profiles["price_sensitivity"],
                "top_categories": profiles["top_categories"],
                "top_brands": profiles["top_brands"],
            }
        ),
    )
    edges = result.assignments.rename(columns={"customer_id": "source", "segment_id": "target"})
    edges = edges[["source", "target", "score"]]
    existing = store.edge_arrays("IN_SEGMENT")
    old = pd.DataFrame(
        {
            "source": existing.source_ids[existing.edge_index[0]],
            "target": existing.target_ids[existing.edge_index[1]],
        }
    )
    old = old[old["target"].astype(str).str.startswith(f"SEG-{version}-")]
    current = set(zip(edges["source"], edges["target"], strict=True))
    stale = old[[pair not in current for pair in zip(old["source"], old["target"], strict=True)]]
    deleted = store.delete_edges("IN_SEGMENT", stale) if len(stale) else 0
    return store.upsert_edges("IN_SEGMENT", edges), deleted


def adjusted_rand(a: pd.Series, b: pd.Series) -> float:
    """Adjusted Rand index of two labelings (indexed by customer id) over common customers.

    Raises:
        ValueError: The labelings share no customer.
    """
    common = a.index.intersection(b.index)
    if common.empty:
        raise ValueError("adjusted_rand: expected labelings sharing customers, got none")
    return float(adjusted_rand_score(a.loc[common].to_numpy(), b.loc[common].to_numpy()))


__all__ = [
    "BEHAVIOUR_COLUMNS",
    "SegmentConfig",
    "SegmentResult",
    "adjusted_rand",
    "behaviour_features",
    "build_segments",
    "choose_k",
    "confidence",
    "discounted_spend",
    "feature_matrix",
    "profile_segments",
    "purchase_lines",
    "segment_key",
    "write_segments",
]
