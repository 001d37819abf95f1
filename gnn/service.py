"""Train, evaluate, checkpoint and publish the graph encoder: what ``train-gnn`` runs.

One run:

1. export the graph with product text vectors (from the vector store's ``text``
   vectors) as a :class:`~pricegraph.gnn.data.GraphSnapshot`;
2. unless ``evaluate`` is off: split by time, tune every recommender on the
   validation window only (the encoder and LightGCN by early stopping, the
   baselines' settings on a grid: random, popularity, popularity of the last 7
   days, item-kNN, text, recently viewed (where the graph has views or carts),
   recent neighbours, ALS, EASE^R, the encoder + EASE^R blend and the two
   re-rankers), refit each up to the test window and rank it
   once, with bootstrap
   intervals over the test customers (:mod:`pricegraph.gnn.recs_comparison`);
3. train the production encoder on everything (cut-off after the last event)
   for the tuned number of epochs; when another method won on validation, refit
   it on everything too and store its ranked lists (:mod:`pricegraph.gnn.serving`);
4. write every customer and product vector to the ``graph`` named vector of the
   vector store, and save the checkpoint (model version, snapshot id, metrics,
   verdicts, learning curves, settings, the serving record) and a learning-curve PNG.

Pricing reads the vectors back through :func:`graph_vectors`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pricegraph.embeddings.base import CollectionSpec, VectorPoint, VectorStore
from pricegraph.errors import ConfigError, VectorStoreError
from pricegraph.gnn.checkpoint import EncoderCheckpoint, make_checkpoint, save_checkpoint
from pricegraph.gnn.compare import CompareConfig
from pricegraph.gnn.data import PURCHASED, GraphSnapshot, export_hetero
from pricegraph.gnn.learning_curve import plot_learning_curves
from pricegraph.gnn.lightgcn import LightGCNConfig
from pricegraph.gnn.recs_comparison import ENCODER, Comparison, compare_recommenders
from pricegraph.gnn.serving import serving_record
from pricegraph.gnn.split import temporal_split
from pricegraph.gnn.train import EncoderConfig, train_encoder
from pricegraph.graph.base import GraphStore

ENCODER_METHOD = "encoder"
"""Row name of the shipped encoder in the metrics table."""
WRITE_BATCH = 512


@dataclass(frozen=True)
class GnnRunConfig:
    """What one ``train-gnn`` run does; saved in the checkpoint."""

    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    """Encoder and training settings."""
    evaluate: bool = True
    """Tune on validation and compare with the baselines on the test window."""
    lightgcn: LightGCNConfig = field(default_factory=LightGCNConfig)
    """Settings of the LightGCN baseline."""
    compare: CompareConfig = field(default_factory=CompareConfig)
    """The baselines' grids (tried on validation) and the bootstrap settings."""
    test_days: int = 28
    """Test window: the last days before the latest purchase."""
    val_days: int = 28
    """Validation window just before the test window (28 days: 14 gave early stopping
    too noisy to pick the epoch on Online Retail)."""
    k: int = 20
    """Cut-off of recall@k and NDCG@k."""


@dataclass
class GnnRunReport:
    """What a run produced."""

    checkpoint: EncoderCheckpoint
    checkpoint_path: Path
    metrics: pd.DataFrame
    plot_path: Path | None
    vectors_written: dict[str, int]
    best_epoch: int
    comparison: Comparison | None = None


def product_text_features(
    vectors: VectorStore, collection: str, keys: Sequence[str]
) -> dict[str, np.ndarray]:
    """The ``text`` vectors of ``keys`` in ``collection`` (missing keys are left out)."""
    if not keys:
        return {}
    try:
        return vectors.vectors(collection, list(keys), "text")
    except VectorStoreError:
        return {}  # no collection yet: the caller says to run ``pricegraph embed``


def evaluate_encoder(
    snapshot: GraphSnapshot,
    config: GnnRunConfig,
    on_epoch: Callable[[str, dict[str, float]], None] | None = None,
    on_method: Callable[[str], None] | None = None,
) -> Comparison:
    """Tune every recommender on the validation window, test each once on the test window.

    The protocol of :func:`~pricegraph.gnn.recs_comparison.compare_recommenders`
    on :func:`~pricegraph.gnn.split.temporal_split` with the run's windows.
    """
    split = temporal_split(snapshot, test_days=config.test_days, val_days=config.val_days)
    return compare_recommenders(
        snapshot,
        split,
        compare=replace(config.compare, k=config.k),
        lightgcn=config.lightgcn,
        encoder=config.encoder,
        on_epoch=on_epoch,
        on_method=on_method,
    )


def write_graph_vectors(
    vectors: VectorStore,
    spec: CollectionSpec,
    keys: np.ndarray,
    matrix: np.ndarray,
    model_version: str,
) -> int:
    """Set the ``graph`` named vector of every key in ``spec``'s collection.

    Points keep their other named vectors and payload (an upsert replaces a
    point whole, so they are read first); keys without a point get one with the
    ``graph`` vector alone. The payload records ``graph_model`` = the model version.

    Returns:
        Points written.
    """
    dim = spec.vector_sizes.get("graph")
    if dim != matrix.shape[1]:
        raise ConfigError(
            f"vectors.graph_dim={dim} but the encoder makes {matrix.shape[1]}-d vectors: "
            f"set PRICEGRAPH_VECTORS__GRAPH_DIM={matrix.shape[1]} or the encoder's "
            "embedding_dim to match (a new graph_dim needs the collections re-created)"
        )
    vectors.ensure_collection(spec)
    payloads = vectors.payloads(spec.name)
    written = 0
    for start in range(0, len(keys), WRITE_BATCH):
        batch = [str(k) for k in keys[start : start + WRITE_BATCH]]
        stored = [k for k in batch if k in payloads]
        others: dict[str, dict[str, np.ndarray]] = {}
        for name in spec.vector_sizes:
            if name != "graph" and stored:
                for key, vector in vectors.vectors(spec.name, stored, name).items():
                    others.setdefault(key, {})[name] = vector
        points = [
            VectorPoint(
                key,
                {**others.get(key, {}), "graph": matrix[start + offset].astype(np.float32)},
                {**payloads.get(key, {}), "graph_model": model_version},
            )
            for offset, key in enumerate(batch)
        ]
        vectors.upsert(spec.name, points)
        written += len(points)
    vectors.optimize(spec.name)
    return written


def publish_checkpoint(
    checkpoint: EncoderCheckpoint,
    vectors: VectorStore,
    specs: dict[str, CollectionSpec],
    out_dir: Path,
) -> tuple[Path, dict[str, int]]:
    """Serve ``checkpoint``: what ``train-gnn`` ends with and ``publish-encoder`` does.

    Writes the checkpoint's product and customer vectors to the ``graph`` named
    vector (:func:`write_graph_vectors`, payload ``graph_model`` = its model
    version), then the checkpoint as ``out_dir/<model_version>.pt`` and
    ``out_dir/latest.pt``, the file ``recommend`` and the API load. The vectors go
    first: a ``graph_dim`` that does not fit is refused before any file is written.

    Args:
        checkpoint: The encoder to serve, with its ``vectors`` and ``node_ids``.
        vectors: The vector store.
        specs: The ``products`` and ``customers`` collections
            (:func:`~pricegraph.embeddings.pipeline.collection_specs`).
        out_dir: The encoder folder.

    Returns:
        The versioned checkpoint path and the points written per collection.
    """
    written = {}
    for kind, node_type in (("products", "product"), ("customers", "customer")):
        written[kind] = write_graph_vectors(
            vectors,
            specs[kind],
            checkpoint.node_ids[node_type],
            checkpoint.vectors[node_type].numpy(),
            checkpoint.model_version,
        )
    path = save_checkpoint(checkpoint, out_dir / f"{checkpoint.model_version}.pt")
    save_checkpoint(checkpoint, out_dir / "latest.pt")
    return path, written


def graph_vectors(
    vectors: VectorStore, collection: str, keys: Sequence[str]
) -> dict[str, np.ndarray]:
    """The GNN vectors of ``keys``: key -> float32 ``[graph_dim]``.

    The one read function for pricing state: customers and products get the
    vectors of the latest ``train-gnn`` run. Keys without a vector are left out.

    Raises:
        VectorStoreError: ``collection`` is missing or has no ``graph`` vector.
    """
    return vectors.vectors(collection, list(keys), "graph")


def train_gnn(
    store: GraphStore,
    vectors: VectorStore,
    specs: dict[str, CollectionSpec],
    config: GnnRunConfig,
    *,
    out_dir: Path,
    settings: dict[str, Any] | None = None,
    on_epoch: Callable[[str, dict[str, float]], None] | None = None,
    on_method: Callable[[str], None] | None = None,
) -> GnnRunReport:
    """Run the whole pipeline of the module docstring.

    Args:
        store: The graph to learn from.
        vectors: Holds the product ``text`` vectors and receives the ``graph`` ones.
        specs: The collections (``products``, ``customers``) as made by
            :func:`~pricegraph.embeddings.pipeline.collection_specs`.
        config: The run's settings.
        out_dir: Checkpoints go to ``out_dir/<model_version>.pt`` and
            ``out_dir/latest.pt``, curves to ``out_dir/<model_version>.png``.
        settings: The application settings (secrets masked), saved as provenance.
        on_epoch: Called with ``(stage, row)`` after every epoch (progress).
        on_method: Called with each compared method's name before it runs.

    Raises:
        ConfigError: No product text vectors (run ``pricegraph embed`` first), or
            the vector store's ``graph_dim`` differs from the encoder's.
    """
    products = store.node_frame("Product")
    features = product_text_features(
        vectors, specs["products"].name, products["id"].astype(str).tolist()
    )
    if not features:
        raise ConfigError("no product text vectors: run 'pricegraph embed' before train-gnn")
    if specs["products"].vector_sizes.get("graph") != config.encoder.embedding_dim:
        raise ConfigError(
            f"vectors.graph_dim={specs['products'].vector_sizes.get('graph')} differs from "
            f"the encoder's embedding_dim={config.encoder.embedding_dim}"
        )
    dim = len(next(iter(features.values())))
    snapshot = export_hetero(store, product_features=features, feature_dim=dim)
    metrics = pd.DataFrame()
    curves: dict[str, list[dict[str, float]]] = {}
    epochs = config.encoder.max_epochs
    encoder = config.encoder
    comparison = None
    if config.evaluate:
        comparison = evaluate_encoder(snapshot, config, on_epoch, on_method)
        metrics, epochs, curves = comparison.table, comparison.encoder_epochs, comparison.curves
        chosen = comparison.run(ENCODER).params  # the setting validation chose
        encoder = replace(encoder, **{k: v for k, v in chosen.items() if k != "epochs"})
    last_s = int(snapshot.edge_time(PURCHASED).max()) if snapshot.edge_time().numel() else 0
    final = train_encoder(
        snapshot,
        encoder,
        cutoff_s=last_s + 1,
        epochs=epochs,
        on_epoch=None if on_epoch is None else (lambda row: on_epoch("final", row)),
    )
    curves["final"] = final.history
    serving = {}
    if comparison is not None:
        serving = serving_record(
            snapshot,
            comparison.run(comparison.winner),
            final,
            compare=config.compare,
            lightgcn=config.lightgcn,
        )
    checkpoint = make_checkpoint(
        final,
        snapshot_id=snapshot.snapshot_id,
        node_ids={k: snapshot.node_ids[k] for k in ("customer", "product")},
        metrics=[  # NaN (no cold-start buyer) is left out: JSON and GraphQL have no NaN
            {key: value for key, value in row.items() if value == value}
            for row in metrics.reset_index().to_dict("records")
        ],
        history=curves,
        settings=settings,
        serving=serving,
        verdicts=[] if comparison is None else [item.to_dict() for item in comparison.verdicts],
    )
    path, written = publish_checkpoint(checkpoint, vectors, specs, out_dir)
    plot = plot_learning_curves(curves, out_dir / f"{checkpoint.model_version}.png")
    return GnnRunReport(checkpoint, path, metrics, plot, written, epochs, comparison)


__all__ = [
    "ENCODER_METHOD",
    "GnnRunConfig",
    "GnnRunReport",
    "evaluate_encoder",
    "graph_vectors",
    "product_text_features",
    "publish_checkpoint",
    "train_gnn",
    "write_graph_vectors",
]
