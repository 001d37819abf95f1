"""Encoder checkpoints: weights plus everything needed to trust and reuse them.

A checkpoint is one ``torch.save`` file holding the model version, the data
snapshot it was trained on (``snapshot_id`` and cut-off), the config, the
metrics table of its evaluation run and its verdicts, the learning curves, the
(masked) settings, the node keys, and the weights. :func:`load_checkpoint` rebuilds the encoder
without the graph, so a new product's vector can be computed from its text alone
(:meth:`EncoderCheckpoint.product_from_text`).
"""

from __future__ import annotations

import hashlib
import io
import pickle
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from pricegraph.errors import ModelError
from pricegraph.gnn.features import NUM_CUSTOMER_FEATURES, NUM_PRODUCT_FEATURES, WINDOWS_DAYS
from pricegraph.gnn.hetero import GraphInputs, HeteroEncoder
from pricegraph.gnn.train import EncoderConfig, EncoderResult

FORMAT_VERSION = 2


@dataclass
class EncoderCheckpoint:
    """A trained encoder and its provenance.

    Attributes:
        model_version: ``encoder-<UTC yyyymmddHHMMSS>-<8 hex of the weights>``.
        snapshot_id: :attr:`~pricegraph.gnn.data.GraphSnapshot.snapshot_id` trained on.
        cutoff_s: Events before this second (UTC epoch) were seen.
        created_at: UTC ISO time of saving.
        config: :class:`~pricegraph.gnn.train.EncoderConfig` as a dict.
        metrics: Evaluation rows (``method``, ``recall@k``, ``ndcg@k``, ``customers``).
        history: Learning curves: ``tuning`` (validation run) and ``final`` rows.
        settings: The run's settings, secrets masked.
        node_ids: ``customer`` / ``product`` keys, index order of the vectors.
        metadata: ``(node_types, edge_types)`` the model was built for.
        num_nodes: Nodes per type.
        text_dim: Width of product text vectors.
        state_dict: The weights (CPU tensors).
        vectors: Output of the encoder at ``cutoff_s``: ``customer`` and ``product``
            float32 ``[num_nodes, d]`` and ``product_prior`` float32 ``[num_products]``
            (recommendations use them without re-running the model).
        serving: Which recommender won on validation and serves
            (:func:`~pricegraph.gnn.serving.serving_record`): ``method``, ``params``,
            ``val_recall``, ``val_ndcg`` and, when it is not the encoder, its
            ``top_products`` int32 / ``top_scores`` float32 ``[num_customers, n]``.
            Empty when the run did not evaluate: the encoder serves.
        verdicts: The comparison's verdicts (:meth:`~pricegraph.gnn.verdict.Verdict.to_dict`:
            ``first``, ``second``, ``differences`` per metric with ``mean``, ``low``,
            ``high``, ``level``, and ``text``). Empty when the run did not evaluate
            and in checkpoints written before verdicts were stored.
    """

    model_version: str
    snapshot_id: str
    cutoff_s: int
    created_at: str
    config: dict[str, Any]
    metrics: list[dict[str, Any]]
    history: dict[str, list[dict[str, float]]]
    settings: dict[str, Any]
    node_ids: dict[str, np.ndarray]
    metadata: tuple[list[str], list[tuple[str, str, str]]]
    num_nodes: dict[str, int]
    text_dim: int
    state_dict: dict[str, Tensor] = field(repr=False)
    vectors: dict[str, Tensor] = field(default_factory=dict, repr=False)
    serving: dict[str, Any] = field(default_factory=dict, repr=False)
    verdicts: list[dict[str, Any]] = field(default_factory=list, repr=False)

    @property
    def served_by(self) -> str:
        """Name of the recommender that serves customers (``encoder`` by default)."""
        return str(self.serving.get("method", "encoder"))

    def build_model(self) -> HeteroEncoder:
        """The encoder with the saved weights, on the CPU, in eval mode."""
        config = EncoderConfig(**self.config)
        model = HeteroEncoder(
            self.metadata,
            self.num_nodes,
            text_dim=self.text_dim,
            embedding_dim=config.embedding_dim,
            num_layers=config.num_layers,
            dropout=config.dropout,
            id_dropout=config.id_dropout,
            prior_hidden=config.prior_hidden,
        )
        with torch.no_grad():  # materialise the lazy layers before loading
            model(_empty_inputs(self.metadata, self.num_nodes, self.text_dim))
        model.load_state_dict(self.state_dict)
        return model.eval()

    def product_from_text(self) -> ProductFromText:
        """A function from text vectors ``[n, text_dim]`` to graph vectors ``[n, d]``.

        A new product has no purchases and no edges: its vector is what the
        encoder gives an isolated product with that text and no activity, which
        is exactly the vector it would get inside the graph.
        """
        model = self.build_model()
        return ProductFromText(model, self.metadata, self.text_dim)


class ProductFromText:
    """Graph vectors of isolated (new) products from their text vectors."""

    def __init__(
        self,
        model: HeteroEncoder,
        metadata: tuple[list[str], list[tuple[str, str, str]]],
        text_dim: int,
    ) -> None:
        self.model, self.metadata, self.text_dim = model, metadata, text_dim

    @torch.no_grad()
    def __call__(self, text_x: Tensor) -> Tensor:
        """float32 ``[n, text_dim]`` -> float32 ``[n, embedding_dim]``."""
        text_x = torch.as_tensor(text_x, dtype=torch.float32)
        if text_x.dim() != 2 or text_x.shape[1] != self.text_dim:
            raise ModelError(
                f"product_from_text: expected text vectors [n, {self.text_dim}], "
                f"got {list(text_x.shape)}"
            )
        num_nodes = {t: 0 for t in self.metadata[0]} | {"product": int(text_x.shape[0])}
        inputs = _empty_inputs(self.metadata, num_nodes, self.text_dim, product_x=text_x)
        return self.model.encode_new_products(
            inputs.product_x, inputs.product_activity, inputs.adj_t
        ).float()


def new_product_activity(num_products: int) -> Tensor:
    """Activity features of products never sold: float32 ``[num_products, 7]``."""
    activity = torch.zeros(num_products, NUM_PRODUCT_FEATURES)
    activity[:, len(WINDOWS_DAYS) :] = 1.0  # recency = MAX_DAYS (scaled 1), never sold
    return activity


def _empty_inputs(
    metadata: tuple[list[str], list[tuple[str, str, str]]],
    num_nodes: dict[str, int],
    text_dim: int,
    *,
    product_x: Tensor | None = None,
) -> GraphInputs:
    """Inputs with the given node counts and no edges (isolated nodes)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "sparse CSR is in beta"
        adj_t = {
            (src, rel, dst): torch.sparse_csr_tensor(
                torch.zeros(num_nodes[dst] + 1, dtype=torch.long),
                torch.zeros(0, dtype=torch.long),
                torch.zeros(0),
                size=(num_nodes[dst], num_nodes[src]),
            )
            for src, rel, dst in metadata[1]
        }
    products = num_nodes["product"]
    return GraphInputs(
        metadata,
        num_nodes,
        adj_t,
        product_x if product_x is not None else torch.zeros(products, text_dim),
        new_product_activity(products),
        torch.zeros(num_nodes["customer"], NUM_CUSTOMER_FEATURES),
        torch.zeros(products, dtype=torch.bool),
    )


def model_version(state_dict: dict[str, Tensor], created: datetime) -> str:
    """``encoder-<yyyymmddHHMMSS>-<8 hex>``: the time and a hash of the weights."""
    buffer = io.BytesIO()
    torch.save({k: v.detach().cpu() for k, v in sorted(state_dict.items())}, buffer)
    digest = hashlib.sha256(buffer.getvalue()).hexdigest()[:8]
    return f"encoder-{created:%Y%m%d%H%M%S}-{digest}"


def make_checkpoint(
    result: EncoderResult,
    *,
    snapshot_id: str,
    node_ids: dict[str, np.ndarray],
    metrics: list[dict[str, Any]] | None = None,
    history: dict[str, list[dict[str, float]]] | None = None,
    settings: dict[str, Any] | None = None,
    serving: dict[str, Any] | None = None,
    verdicts: list[dict[str, Any]] | None = None,
) -> EncoderCheckpoint:
    """Bundle a training result with its provenance (weights moved to the CPU)."""
    created = datetime.now(UTC)
    state = {k: v.detach().cpu() for k, v in result.model.state_dict().items()}
    return EncoderCheckpoint(
        model_version=model_version(state, created),
        snapshot_id=snapshot_id,
        cutoff_s=result.cutoff_s,
        created_at=created.isoformat(timespec="seconds"),
        config=dict(result.config),
        metrics=list(metrics or []),
        history=dict(history or {"final": result.history}),
        settings=dict(settings or {}),
        node_ids={k: np.asarray(v, dtype=object) for k, v in node_ids.items()},
        metadata=(list(result.inputs.metadata[0]), list(result.inputs.metadata[1])),
        num_nodes=dict(result.inputs.num_nodes),
        text_dim=result.model.text_dim,
        state_dict=state,
        vectors=result.embeddings(),
        serving=dict(serving or {}),
        verdicts=list(verdicts or []),
    )


def save_checkpoint(checkpoint: EncoderCheckpoint, path: Path) -> Path:
    """Write ``checkpoint`` to ``path`` (folders created); returns ``path``.

    The file holds only tensors and plain containers (dicts, lists, tuples, strings,
    numbers), so :func:`load_checkpoint` reads it with ``weights_only=True``.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format_version": FORMAT_VERSION, **checkpoint.__dict__}
    payload["node_ids"] = {k: v.tolist() for k, v in checkpoint.node_ids.items()}
    torch.save(payload, path)
    return path


def load_checkpoint(path: Path) -> EncoderCheckpoint:
    """Read a checkpoint written by :func:`save_checkpoint`.

    Only tensors and plain containers are unpickled (``weights_only=True``): a file
    holding any other object is refused, never executed.

    Raises:
        ModelError: The file is missing, unreadable, holds other objects or is of
            another format version.
    """
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(
            f"{path}: cannot read the encoder checkpoint: expected only tensors and plain "
            f"containers (weights_only), got {first_line}"
        ) from exc
    except (OSError, RuntimeError, EOFError) as exc:
        raise ModelError(f"{path}: cannot read the encoder checkpoint ({exc})") from exc
    if not isinstance(payload, dict) or payload.get("format_version") != FORMAT_VERSION:
        raise ModelError(
            f"{path}: expected an encoder checkpoint of format_version {FORMAT_VERSION}, got "
            f"{payload.get('format_version') if isinstance(payload, dict) else type(payload)} "
            "(format 2 adds the customers' price behaviour to the encoder's inputs): run "
            "`pricegraph train-gnn` again"
        )
    payload.pop("format_version")
    payload["node_ids"] = {k: np.asarray(v, dtype=object) for k, v in payload["node_ids"].items()}
    payload["metadata"] = (list(payload["metadata"][0]), [tuple(t) for t in payload["metadata"][1]])
    return EncoderCheckpoint(**payload)


__all__ = [
    "FORMAT_VERSION",
    "EncoderCheckpoint",
    "ProductFromText",
    "load_checkpoint",
    "make_checkpoint",
    "model_version",
    "new_product_activity",
    "save_checkpoint",
]
